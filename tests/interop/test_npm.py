"""The npm packages, as a project gets them: the tarballs of scripts/npm-pack.sh installed with
`npm install --offline` into a temporary project, with a fresh npm cache, so that nothing but
those tarballs can be used.

- what the tarballs hold: one version (Cargo.toml's) everywhere, no install script, the static
  binary itself;
- a Vercel build played here: `npm run build` running `vercel-oidc exec -- node build.js` with a
  build's environment, where build.js reaches AWS (moto, request authentication on), GCP and Azure
  (the local stand-ins) through their JavaScript SDKs;
- `npx vercel-oidc --version` and `npx vercel-oidc doctor --offline`;
- the launcher passes arguments, stdin/stdout/stderr, exit codes and signals through unchanged, in
  both directions, as when the binary runs directly (and a terminal's Ctrl-C arrives once);
- the missing-platform message (`--omit=optional`), the one for packages installed for another
  platform, the unsupported-platform one and Windows's;
- which binaries the launcher runs: its own user's, root's, or its own owner's (root running a
  project another user installed), and none that its group or others may write;
- `aws configure` and `gcp configure --source executable` write the native binary's path, so the
  AWS CLI and google-auth run it with no Node on PATH.

The tarballs come from VERCEL_OIDC_NPM_DIR and the binary they hold from VERCEL_OIDC_STATIC_BIN;
scripts/test.sh sets both.
"""

import fcntl
import json
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import sys
import tarfile
import termios
import time
from pathlib import Path

import pytest

from aws_moto import ACCOUNT
from azure_mock import AzureMock
from conftest import NODE_MODULES, VENV_BIN, register_secret, run, spawn
from gcp_mock import GoogleMock
from identities import (AZURE_CLIENT, AZURE_SCOPE, AZURE_TENANT, GCP_AUDIENCE, GCP_NUMBER, GCP_POOL,
                        GCP_PROVIDER, GCP_SA, GCP_SCOPE, isolated_aws)

ROOT = Path(__file__).resolve().parents[2]
NPM_DIR = os.environ.get("VERCEL_OIDC_NPM_DIR")
STATIC_BIN = os.environ.get("VERCEL_OIDC_STATIC_BIN")
pytestmark = pytest.mark.skipif(
    not (NPM_DIR and STATIC_BIN),
    reason="VERCEL_OIDC_NPM_DIR and VERCEL_OIDC_STATIC_BIN are not set: run scripts/test.sh, which packs the tarballs",
)

VERSION = re.search(r'^\[package\][^\[]*?^version = "([^"]+)"', (ROOT / "Cargo.toml").read_text(), re.M | re.S)[1]
PLATFORMS = json.loads((ROOT / "npm" / "platforms.json").read_text())
NODE_CPU = {"x86_64": "x64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
HERE = next((p for p in PLATFORMS if p["os"] == "linux" and p["cpu"] == NODE_CPU), None)
PLATFORM_PACKAGE = HERE["package"] if HERE else None
MAIN_TGZ = f"vercel-oidc-{VERSION}.tgz"
PLATFORM_TGZ = f"vercel-oidc-linux-{NODE_CPU}-{VERSION}.tgz"

ROLE = "vercel-build"
# `exec` with Azure configured wires it without calling anyone: a cheap way to run a child.
AZURE_ONLY = {"AZURE_TENANT_ID": AZURE_TENANT, "AZURE_CLIENT_ID": AZURE_CLIENT}
FORWARDED = ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"]


def npm_env(sandbox):
    """The sandbox's environment for npm: a private, empty cache and no registry; and an npm
    token, as a CI job that publishes has one, which nothing run here may show."""
    return dict(
        sandbox.env,
        NODE_AUTH_TOKEN=register_secret("npm_" + secrets.token_hex(18)),
        npm_config_cache=str(sandbox.path / "npm-cache"),
        npm_config_offline="true",
        npm_config_update_notifier="false",
        npm_config_fund="false",
        npm_config_audit="false",
    )


def make_project(directory, env, dependencies, scripts=None, omit_optional=False):
    """A project whose devDependencies are `dependencies` (tarball file names in NPM_DIR),
    installed with `npm install --offline`."""
    directory.mkdir(parents=True, exist_ok=True)
    manifest = {
        "name": "vercel-site",
        "private": True,
        "scripts": scripts or {},
        "devDependencies": {name: f"file:{Path(NPM_DIR) / tgz}" for name, tgz in dependencies.items()},
    }
    (directory / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
    args = ["npm", "install", "--offline"] + (["--omit=optional"] if omit_optional else [])
    run(args, env, directory, helper=True)
    return directory


@pytest.fixture
def project(sandbox):
    """A project with both tarballs installed (the main package and this machine's platform)."""
    return make_project(sandbox.path / "site", npm_env(sandbox),
                        {"vercel-oidc": MAIN_TGZ, PLATFORM_PACKAGE: PLATFORM_TGZ})


def launcher(project):
    return str(project / "node_modules" / ".bin" / "vercel-oidc")


def native(project):
    return os.path.realpath(project / "node_modules" / PLATFORM_PACKAGE / "bin" / "vercel-oidc")


def manifest_of(tgz):
    with tarfile.open(Path(NPM_DIR) / tgz) as t:
        return json.load(t.extractfile("package/package.json"))


def test_pack_wrote_the_main_and_this_platforms_tarball_with_cargos_version():
    assert sorted(os.listdir(NPM_DIR)) == sorted([MAIN_TGZ, PLATFORM_TGZ])
    main = manifest_of(MAIN_TGZ)
    assert (main["name"], main["version"], main["bin"]) == ("vercel-oidc", VERSION, {"vercel-oidc": "bin/vercel-oidc"})
    assert main["optionalDependencies"] == {p["package"]: VERSION for p in PLATFORMS}
    assert set(main["optionalDependencies"]) == {"@vercel-oidc/linux-x64", "@vercel-oidc/linux-arm64",
                                                 "@vercel-oidc/darwin-x64", "@vercel-oidc/darwin-arm64"}
    plat = manifest_of(PLATFORM_TGZ)
    assert (plat["name"], plat["version"], plat["os"], plat["cpu"]) == (PLATFORM_PACKAGE, VERSION, ["linux"], [NODE_CPU])
    assert "libc" not in plat, "a static binary runs on glibc and musl alike"
    for m in (main, plat):
        assert "scripts" not in m, "no install script, nothing downloaded"
    repository = re.search(r'^repository = "([^"]+)"$', (ROOT / "Cargo.toml").read_text(), re.M)[1]
    for m in (main, plat):
        assert m["repository"] == {"type": "git", "url": f"git+{repository}.git"}, "npm's provenance checks it"
    with tarfile.open(Path(NPM_DIR) / PLATFORM_TGZ) as t:
        assert sorted(t.getnames()) == ["package/LICENSE-APACHE", "package/LICENSE-MIT", "package/README.md",
                                        "package/THIRD-PARTY-LICENSES.txt", "package/bin/vercel-oidc",
                                        "package/package.json"]
        member = t.getmember("package/bin/vercel-oidc")
        assert member.mode & 0o777 == 0o755
        assert t.extractfile(member).read() == Path(STATIC_BIN).read_bytes()
        for name in ("LICENSE-MIT", "LICENSE-APACHE"):
            assert t.extractfile(f"package/{name}").read() == (ROOT / name).read_bytes()
    with tarfile.open(Path(NPM_DIR) / MAIN_TGZ) as t:
        assert sorted(t.getnames()) == ["package/LICENSE-APACHE", "package/LICENSE-MIT", "package/README.md",
                                        "package/bin/vercel-oidc", "package/package.json"]


def test_the_platform_package_lists_the_licenses_of_every_crate_in_its_binary():
    """THIRD-PARTY-LICENSES.txt names every crate cargo compiles into the binary for this target,
    each with its declared license, and carries the license files they ship."""
    triple = next(p["triple"] for p in PLATFORMS if p["package"] == PLATFORM_PACKAGE)
    with tarfile.open(Path(NPM_DIR) / PLATFORM_TGZ) as t:
        text = t.extractfile("package/THIRD-PARTY-LICENSES.txt").read().decode()
    tree = run(["cargo", "tree", "--locked", "--offline", "-e", "normal", "--target", triple,
                "--prefix", "none", "--format", "{p}|{l}"], dict(os.environ), ROOT, helper=True).stdout
    crates = {tuple(line.replace(" (*)", "").split("|")) for line in tree.splitlines()}
    crates = {(p.split(" (")[0], lic) for p, lic in crates if not p.startswith("vercel-oidc ")}
    assert len(crates) > 100
    header, _, rest = text.partition("\n\n" + "-" * 100 + "\n")
    listed = set()
    for line in header.splitlines()[8:]:
        name_version, license_ = re.match(r"^(\S+ \S+)\s+(.+?)(?:  +\S+)?$", line).groups()
        listed.add((name_version.replace(" ", " v"), license_.strip()))
    assert listed == crates
    assert text.startswith(f"Third-party software in the vercel-oidc binary for {triple}\n\n")
    blocks = {}
    for block in ("-" * 100 + "\n" + rest).split("\n\n" + "-" * 100 + "\n"):
        owners, _, body = block.removeprefix("-" * 100 + "\n").partition("\n\n")
        blocks[owners] = body
    bare = [k for k in blocks if k.startswith("No license file in the crate")]
    shipped = {o.rsplit(" (", 1)[0] for k in blocks if k.startswith("Shipped by: ")
               for o in k.removeprefix("Shipped by: ").split(", ")}
    without = set(bare[0].split(": ", 1)[1].strip().split(", ")) if bare else set()
    assert shipped | without == {nv.replace(" v", " ", 1) for nv, _ in crates}
    # The Apache-2.0 text that serde ships (the one at the root of this repository) is there whole.
    apache = next(body for k, body in blocks.items() if "serde " in k and "(LICENSE-APACHE)" in k)
    assert apache.strip() == "\n".join(line.rstrip() for line in (ROOT / "LICENSE-APACHE").read_text().splitlines()).strip()
    assert "/root/" not in text and str(ROOT) not in text, "no path of the machine that made it"


def test_installs_offline_with_only_this_platforms_binary(project):
    assert os.readlink(launcher(project)) == "../vercel-oidc/bin/vercel-oidc"
    assert sorted(os.listdir(project / "node_modules" / "@vercel-oidc")) == [PLATFORM_PACKAGE.split("/")[1]]
    assert Path(native(project)).read_bytes() == Path(STATIC_BIN).read_bytes()
    assert os.access(native(project), os.X_OK)


def test_npx_vercel_oidc_version(sandbox, project):
    proc = run(["npx", "vercel-oidc", "--version"], npm_env(sandbox), project)
    assert (proc.stdout, proc.stderr) == (f"vercel-oidc {VERSION}\n", "")


def test_npx_vercel_oidc_doctor_offline(sandbox, project, mint):
    env = dict(npm_env(sandbox), VERCEL="1", VERCEL_OIDC_TOKEN=mint(),
               AWS_ROLE_ARN=f"arn:aws:iam::{ACCOUNT}:role/{ROLE}", **AZURE_ONLY)
    through_npx = run(["npx", "vercel-oidc", "doctor", "--offline"], env, project)
    direct = run([native(project), "doctor", "--offline"], env, project)
    # Seconds pass between the two runs; the rest is the same, byte for byte.
    left = re.compile(r"\(in \d+m \d+s\)")
    assert left.sub("(in …)", through_npx.stdout) == left.sub("(in …)", direct.stdout)
    assert through_npx.stderr == direct.stderr == ""
    assert "  configured   AWS, Azure\n" in through_npx.stdout
    assert through_npx.stdout.endswith(
        "Result: offline, nothing was called; the settings of 2 clouds are valid, and the trust each needs is shown above\n")


def both_ways(project, args, env, **kwargs):
    """(exit code, stdout, stderr) through the launcher and of the binary run directly."""
    results = []
    for program in (launcher(project), native(project)):
        proc = run([program, *args], env, project, check=False, **kwargs)
        results.append((proc.returncode, proc.stdout, proc.stderr))
    return results


@pytest.mark.parametrize("args, stdin, extra, expected_code, expected_stdout, expected_stderr", [
    (["--version"], None, {}, 0, f"vercel-oidc {VERSION}\n", ""),
    (["exec", "--", "sh", "-c", "cat; echo to-stderr >&2; exit 7"], "from stdin\n", AZURE_ONLY, 7,
     "from stdin\n", "to-stderr\n"),
    (["exec", "--", "printf", "[%s]", "two words", "ü", "", "--flag", "$HOME"], None, AZURE_ONLY, 0,
     "[two words][ü][][--flag][$HOME]", ""),
    (["exec", "--", "sh", "-c", "exit 255"], None, AZURE_ONLY, 255, "", ""),
    (["--no-such-flag"], None, {}, 2, "", None),
    (["token"], None, {}, 1, "", None),
])
def test_launcher_passes_arguments_stdio_and_exit_codes(sandbox, project, mint, args, stdin, extra,
                                                        expected_code, expected_stdout, expected_stderr):
    env = dict(npm_env(sandbox), **extra)
    if extra:
        env["VERCEL_OIDC_TOKEN"] = mint()
    through, direct = both_ways(project, args, env, input=stdin)
    assert through == direct
    code, stdout, stderr = through
    assert (code, stdout) == (expected_code, expected_stdout)
    if expected_stderr is not None:
        assert stderr == expected_stderr
    else:
        assert stderr.startswith("error: "), stderr


def no_core_dumps():
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT", "SIGHUP", "SIGKILL", "SIGSEGV", "SIGPIPE", "SIGUSR1"])
def test_a_signal_that_ends_the_command_ends_the_launcher(sandbox, project, mint, sig):
    env = dict(npm_env(sandbox), VERCEL_OIDC_TOKEN=mint(), **AZURE_ONLY)
    through, direct = both_ways(project, ["exec", "--", "sh", "-c", f"kill -{sig[3:]} $$"], env,
                                preexec_fn=no_core_dumps)
    assert through == direct == (-getattr(signal, sig), "", "")


# The command behind `exec`: notes every forwarded signal it gets, says when it is ready (writing
# its parent's pid, exec's, to the ready file), and exits 40 a moment after the first (so that a
# second copy of the signal would be seen).
TRAP = """
import os, signal, sys, time
got = []
for name in %r:
    signal.signal(getattr(signal, name), lambda n, f: got.append(signal.Signals(n).name))
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(os.getppid()))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
deadline = time.monotonic() + 20
while not got and time.monotonic() < deadline:
    time.sleep(0.01)
time.sleep(0.5)
open(sys.argv[2], "w").write(",".join(got))
sys.exit(40)
""" % (FORWARDED,)


def start_trap(sandbox, program, env, sig, **spawning):
    """Starts `program exec -- python TRAP` and waits until the trap is set and exec (which sets
    up its forwarding just after it starts the command) catches `sig`."""
    (sandbox.path / "trap.py").write_text(TRAP)
    ready, result = sandbox.path / "ready", sandbox.path / "result"
    for f in (ready, result):
        if f.exists():
            f.unlink()
    proc = spawn([program, "exec", "--", sys.executable, str(sandbox.path / "trap.py"), str(ready), str(result)],
                 env, sandbox.path, **spawning)
    deadline = time.monotonic() + 20
    while not ready.exists():
        assert proc.poll() is None, f"exited {proc.poll()} before the command was ready"
        assert time.monotonic() < deadline, "the command never got ready"
        time.sleep(0.02)
    proc.wait_until_catching(int(ready.read_text()), getattr(signal, sig))
    return proc, result


@pytest.mark.parametrize("sig", FORWARDED)
def test_signals_sent_to_the_launcher_reach_the_command_once(sandbox, project, mint, sig):
    env = dict(npm_env(sandbox), VERCEL_OIDC_TOKEN=mint(), **AZURE_ONLY)
    outcomes = []
    for program in (launcher(project), native(project)):
        proc, result = start_trap(sandbox, program, env, sig)
        os.kill(proc.pid, getattr(signal, sig))
        code, stdout, stderr = proc.wait(timeout=30)
        outcomes.append((code, result.read_text(), stdout, stderr))
    assert outcomes[0] == outcomes[1] == (40, sig, "", "")


def test_ctrl_c_in_a_terminal_reaches_the_command_once(sandbox, project, mint):
    """In a terminal, Ctrl-C goes to the whole foreground process group: launcher, binary and
    command each get it from the terminal, and neither the launcher nor `exec` passes it on."""
    env = dict(npm_env(sandbox), VERCEL_OIDC_TOKEN=mint(), **AZURE_ONLY)
    outcomes = []
    for program in (launcher(project), native(project)):
        def in_terminal():
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        proc, result = start_trap(sandbox, program, env, "SIGINT", terminal=True, preexec_fn=in_terminal)
        os.write(proc.terminal, b"\x03")
        code, _, shown = proc.wait(timeout=30)
        outcomes.append((code, result.read_text(), shown))
    # The terminal shows what it echoed of the Ctrl-C, and nothing else.
    assert outcomes[0] == outcomes[1] == (40, "SIGINT", "^C")


MISSING = (
    "error: no vercel-oidc binary for this platform (linux-{cpu}): the package `@vercel-oidc/linux-{cpu}` is not installed\n"
    "  npm installs it with vercel-oidc unless optional dependencies are left out: install again without\n"
    "  --omit=optional (or --no-optional, or omit=optional in .npmrc),\n"
    "  or build vercel-oidc from source with ./install.sh from its repository (needs Rust) and set"
    " VERCEL_OIDC_BINARY_PATH to that binary\n"
)


def test_without_optional_dependencies_the_launcher_says_what_is_missing(sandbox):
    env = npm_env(sandbox)
    site = make_project(sandbox.path / "site", env, {"vercel-oidc": MAIN_TGZ}, omit_optional=True)
    assert not (site / "node_modules" / "@vercel-oidc").exists()
    proc = run(["npx", "vercel-oidc", "--version"], env, site, check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", MISSING.format(cpu=NODE_CPU))

    # The way out it names: a binary built elsewhere, through VERCEL_OIDC_BINARY_PATH.
    proc = run(["npx", "vercel-oidc", "--version"], dict(env, VERCEL_OIDC_BINARY_PATH=STATIC_BIN), site)
    assert (proc.stdout, proc.stderr) == (f"vercel-oidc {VERSION}\n", "")
    missing = str(sandbox.path / "no-such-binary")
    proc = run(["npx", "vercel-oidc", "--version"], dict(env, VERCEL_OIDC_BINARY_PATH=missing), site, check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", (
        f"error: cannot run `{missing}` (from VERCEL_OIDC_BINARY_PATH): spawn {missing} ENOENT\n"
        "  install vercel-oidc again (npm install), or check VERCEL_OIDC_BINARY_PATH\n"))


def test_a_platform_package_planted_in_a_parent_folder_is_never_run(sandbox):
    env = npm_env(sandbox)
    site = make_project(sandbox.path / "shared" / "site", env, {"vercel-oidc": MAIN_TGZ}, omit_optional=True)
    # Another user's node_modules in a parent folder, with a "binary" of the right version.
    planted = sandbox.path / "shared" / "node_modules" / PLATFORM_PACKAGE
    (planted / "bin").mkdir(parents=True)
    (planted / "package.json").write_text(json.dumps({"name": PLATFORM_PACKAGE, "version": VERSION}))
    marker = sandbox.path / "planted-ran"
    (planted / "bin" / "vercel-oidc").write_text(f"#!/bin/sh\ntouch '{marker}'\n")
    (planted / "bin" / "vercel-oidc").chmod(0o755)
    proc = run(["npx", "vercel-oidc", "--version"], env, site, check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", MISSING.format(cpu=NODE_CPU))
    assert not marker.exists()


def test_packages_installed_for_another_platform_are_named(sandbox):
    """A node_modules copied from a Mac into a Linux image, or a package-lock.json from an npm
    before 11.3 that recorded only the Mac's package: another platform's package is there and
    ours is not."""
    env = npm_env(sandbox)
    site = make_project(sandbox.path / "site", env, {"vercel-oidc": MAIN_TGZ}, omit_optional=True)
    other = site / "node_modules" / "@vercel-oidc" / "darwin-arm64"
    (other / "bin").mkdir(parents=True)
    (other / "package.json").write_text(json.dumps({"name": "@vercel-oidc/darwin-arm64", "version": VERSION}))
    (other / "bin" / "vercel-oidc").write_bytes(b"\xcf\xfa\xed\xfe")
    proc = run(["npx", "vercel-oidc", "--version"], env, site, check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", (
        f"error: no vercel-oidc binary for this platform (linux-{NODE_CPU}): the package `@vercel-oidc/linux-{NODE_CPU}`"
        " is not installed, but `@vercel-oidc/darwin-arm64` is\n"
        "  these packages were installed for another platform: a node_modules copied from another machine\n"
        "  (install inside the image or machine that runs it instead), or a package-lock.json written by an\n"
        "  npm older than 11.3, which records only the optional packages of the platform it ran on: delete\n"
        "  node_modules and package-lock.json, run npm install with npm 11.3 or later, and commit the new lockfile\n"))

    # A folder without the binary (as Yarn's pnpm linker leaves for other platforms) is no sign.
    (other / "bin" / "vercel-oidc").unlink()
    proc = run(["npx", "vercel-oidc", "--version"], env, site, check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", MISSING.format(cpu=NODE_CPU))


def test_windows_is_named_with_wsl_as_the_way(sandbox, project):
    fake = sandbox.path / "win32.js"
    fake.write_text('Object.defineProperty(process, "platform", { value: "win32" });\n')
    proc = run([launcher(project), "--version"], dict(npm_env(sandbox), NODE_OPTIONS=f"--require {fake}"), project,
               check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", (
        "error: vercel-oidc does not run on Windows: it is built for Unix only (Linux and macOS), and cannot be built\n"
        "  from source there either; run it in WSL (Windows Subsystem for Linux): install the project's\n"
        "  packages inside WSL, where vercel-oidc gets its Linux binary\n"))


def chown_tree(top, uid):
    for folder, dirs, files in os.walk(top):
        for name in [folder, *(os.path.join(folder, f) for f in dirs + files)]:
            os.lchown(name, uid, uid)


@pytest.mark.skipif(os.geteuid() != 0, reason="changing owners needs root (CI runs as root)")
def test_root_runs_a_project_installed_by_another_user(sandbox, project):
    """`sudo npx`, or an image installed as `node` and run as root: the binary belongs to the user
    who installed it, who also owns the launcher, and is run; a third user's, or one its group or
    everyone may write, is not."""
    env = npm_env(sandbox)
    chown_tree(project / "node_modules", 4242)
    proc = run([launcher(project), "--version"], env, project)
    assert (proc.stdout, proc.stderr) == (f"vercel-oidc {VERSION}\n", "")

    binary = native(project)
    refusal = (f"error: will not run `{binary}` from `{PLATFORM_PACKAGE}`: {{}}, so another user could have"
               " replaced it\n"
               "  install vercel-oidc again (npm install) in a folder only you can write to, or set\n"
               "  VERCEL_OIDC_BINARY_PATH to a vercel-oidc binary you trust\n")
    os.chown(binary, 4343, 4242)
    proc = run([launcher(project), "--version"], env, project, check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", refusal.format(
        "it belongs to uid 4343, who is neither you (uid 0), root, nor the owner of this launcher"))

    os.chown(binary, 4242, 4242)
    for mode, who in ((0o775, "its group"), (0o757, "every user")):
        os.chmod(binary, mode)
        proc = run([launcher(project), "--version"], env, project, check=False)
        assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", refusal.format(
            f"{who} may write to it (mode 0{mode:o})"))

    # A folder above the binary that others may write to could hold a link to any program.
    os.chmod(binary, 0o755)
    folder = os.path.dirname(binary)
    os.chmod(folder, 0o777)
    proc = run([launcher(project), "--version"], env, project, check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", refusal.format(
        f"every user may write to the folder `{folder}` above it (mode 0777)"))
    os.chmod(folder, 0o1777)  # sticky, as /tmp: no one may replace another's file there
    proc = run([launcher(project), "--version"], env, project)
    assert (proc.stdout, proc.stderr) == (f"vercel-oidc {VERSION}\n", "")


def test_the_binary_override_must_be_an_absolute_path_to_another_program(sandbox, project):
    env = npm_env(sandbox)
    proc = run([launcher(project), "--version"], dict(env, VERCEL_OIDC_BINARY_PATH="vercel-oidc"), project,
               check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", (
        "error: VERCEL_OIDC_BINARY_PATH must be an absolute path, not `vercel-oidc`\n"
        "  set it to the binary built with ./install.sh, such as ~/.local/bin/vercel-oidc written out in full\n"))
    itself = launcher(project)
    proc = run([itself, "--version"], dict(env, VERCEL_OIDC_BINARY_PATH=itself), project, check=False, timeout=20)
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", (
        f"error: VERCEL_OIDC_BINARY_PATH names this launcher (`{itself}`), not a vercel-oidc binary\n"
        "  set it to the native binary, such as one built with ./install.sh\n"))


def test_a_platform_without_a_binary_is_named(sandbox, project):
    fake = sandbox.path / "freebsd.js"
    fake.write_text('Object.defineProperty(process, "platform", { value: "freebsd" });\n')
    proc = run([launcher(project), "--version"], dict(npm_env(sandbox), NODE_OPTIONS=f"--require {fake}"), project,
               check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", (
        f"error: no prebuilt vercel-oidc binary for this platform (freebsd-{NODE_CPU}); there are binaries for"
        " linux-x64, linux-arm64, darwin-x64 and darwin-arm64\n"
        "  build vercel-oidc from source with ./install.sh from its repository (needs Rust) and set"
        " VERCEL_OIDC_BINARY_PATH to that binary\n"))


def test_a_platform_package_of_another_version_is_refused(sandbox, project):
    manifest = project / "node_modules" / PLATFORM_PACKAGE / "package.json"
    data = json.loads(manifest.read_text())
    data["version"] = "0.0.1"
    manifest.write_text(json.dumps(data))
    proc = run([launcher(project), "--version"], npm_env(sandbox), project, check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", (
        f"error: `{PLATFORM_PACKAGE}` is version 0.0.1 but vercel-oidc is {VERSION}\n"
        "  install again so that they match (npm install)\n"))


GOOGLE_CLIENT = """
import json, os, sys
import google.auth
from google.auth.transport.requests import Request
credentials, _ = google.auth.load_credentials_from_file(os.environ["GOOGLE_APPLICATION_CREDENTIALS"])
scoped = credentials.with_scopes([sys.argv[1]])
scoped.refresh(Request())
print(json.dumps({"token": scoped.token}))
"""


def test_configure_writes_the_native_binary_so_no_node_starts(sandbox, project, mint, moto):
    token = mint()
    env = dict(npm_env(sandbox), VERCEL_OIDC_TOKEN=token, AWS_CONFIG_FILE=str(sandbox.path / "aws-config"),
               AWS_SHARED_CREDENTIALS_FILE=str(sandbox.path / "no-credentials"), AWS_EC2_METADATA_DISABLED="true",
               AWS_ENDPOINT_URL=moto.url)
    role_arn = moto.create_role(ROLE)
    run(["npx", "vercel-oidc", "aws", "configure", "--profile", "vercel", "--role-arn", role_arn,
         "--region", "us-east-1"], env, project)
    assert (sandbox.path / "aws-config").read_text() == (
        "[profile vercel]\n"
        f"credential_process = {native(project)} aws credential-process --role-arn {role_arn} --region us-east-1\n"
        "region = us-east-1\n")

    # The AWS CLI with nothing but its own folder on PATH: no node to start, and none needed.
    no_node = dict(env, PATH=VENV_BIN)
    assert shutil.which("node", path=VENV_BIN) is None
    moto.enforce_auth(1)
    proc = run([os.path.join(VENV_BIN, "aws"), "sts", "get-caller-identity", "--profile", "vercel",
                "--output", "json"], no_node, sandbox.path)
    assert json.loads(proc.stdout)["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE}/vercel-web-production"

    with GoogleMock(GCP_AUDIENCE, GCP_SA) as google:
        google.expect(token)
        credfile = sandbox.path / "gcp.json"
        run(["npx", "vercel-oidc", "gcp", "configure", "--source", "executable", "--output", str(credfile),
             "--project-number", GCP_NUMBER, "--pool", GCP_POOL, "--provider", GCP_PROVIDER,
             "--service-account", GCP_SA, "--token-url", google.token_url, "--impersonation-url", google.url],
            env, project)
        source = json.loads(credfile.read_text())["credential_source"]["executable"]
        assert source["command"] == f"{native(project)} gcp executable-source"
        proc = run([sys.executable, "-c", GOOGLE_CLIENT, GCP_SCOPE],
                   dict(no_node, GOOGLE_APPLICATION_CREDENTIALS=str(credfile),
                        GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES="1"), sandbox.path,
                   reveals=[GoogleMock.issued_token])
        assert json.loads(proc.stdout)["token"] == google.last_issued()


BUILD_JS = """
const fs = require("fs");
const { STSClient, GetCallerIdentityCommand } = require("@aws-sdk/client-sts");
const { GoogleAuth } = require("google-auth-library");
const { WorkloadIdentityCredential } = require("@azure/identity");

(async () => {
  const identity = await new STSClient({}).send(new GetCallerIdentityCommand({}));
  const auth = new GoogleAuth({ keyFile: process.env.GOOGLE_APPLICATION_CREDENTIALS, scopes: [%(gcp_scope)r] });
  const google = await (await auth.getClient()).getAccessToken();
  const azure = await new WorkloadIdentityCredential({ disableInstanceDiscovery: true }).getToken(%(azure_scope)r);
  fs.mkdirSync("dist", { recursive: true });
  fs.writeFileSync("dist/clouds.json", JSON.stringify({
    aws: identity.Arn, gcp: google.token, gcpProject: await auth.getProjectId(), azure: azure.token,
  }));
  console.log("built with AWS, GCP and Azure");
})().catch((e) => { console.error(`build failed: ${e && e.message}`); process.exit(1); });
""" % {"gcp_scope": GCP_SCOPE, "azure_scope": AZURE_SCOPE}


def test_a_vercel_build(sandbox, mint, moto):
    """What a Vercel build does with the README's recipe: vercel-oidc from npm, vercel-oidc.toml
    committed, `"build": "vercel-oidc exec -- node build.js"`, and only the build's environment."""
    token = mint()
    role_arn = moto.create_role(ROLE)
    site = sandbox.path / "site"
    site.mkdir()
    (site / "build.js").write_text(BUILD_JS)
    with GoogleMock(GCP_AUDIENCE, GCP_SA) as google, AzureMock(sandbox.path, AZURE_TENANT, AZURE_CLIENT) as entra:
        google.expect(token)
        entra.expect(token)
        (site / "vercel-oidc.toml").write_text(f"""
[aws]
role_arn = "{role_arn}"
region = "us-east-1"

[gcp]
project_number = {GCP_NUMBER}
pool = "{GCP_POOL}"
provider = "{GCP_PROVIDER}"
service_account = "{GCP_SA}"
project_id = "my-project"
token_url = "{google.token_url}"
impersonation_url = "{google.url}"

[azure]
tenant_id = "{AZURE_TENANT}"
client_id = "{AZURE_CLIENT}"
authority_host = "{entra.url}"
""")
        fresh_home = sandbox.path / "build-home"
        fresh_home.mkdir()
        env = dict(
            npm_env(sandbox),
            HOME=str(fresh_home),
            VERCEL="1", CI="1", VERCEL_ENV="production", VERCEL_OIDC_TOKEN=token,
            # The stand-ins: moto as AWS, the test CA for the Entra stand-in, the JS SDKs.
            AWS_ENDPOINT_URL=moto.url, **isolated_aws(sandbox.path),
            NODE_EXTRA_CA_CERTS=entra.ca_path, NODE_PATH=NODE_MODULES,
        )
        env.pop("XDG_CACHE_HOME")
        make_project(site, env, {"vercel-oidc": MAIN_TGZ, PLATFORM_PACKAGE: PLATFORM_TGZ},
                     scripts={"build": "vercel-oidc exec -- node build.js"})
        moto.enforce_auth(1)  # the one unsigned AssumeRoleWithWebIdentity; the SDK's call is signed
        build = run(["npm", "run", "build"], env, site)
        assert build.stdout.splitlines()[-1] == "built with AWS, GCP and Azure"
        clouds = json.loads((site / "dist" / "clouds.json").read_text())
        assert clouds == {
            "aws": f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE}/vercel-web-production",
            "gcp": google.last_issued(),
            "gcpProject": "my-project",
            "azure": entra.issued[-1],
        }
        assert len(moto.sessions()) == 1
        assert google.posts("sts")[-1]["form"]["subject_token"] == [token]
        assert entra.token_requests()[-1]["form"]["client_assertion"] == [token]
        assert (fresh_home / ".cache" / "vercel-oidc").is_dir(), "the build's cache starts in its fresh HOME"
