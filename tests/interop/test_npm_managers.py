"""The npm packages under the package managers whose layouts differ from npm's: Yarn 4 with
Plug'n'Play (its default: no node_modules, the platform package unplugged into .yarn/unplugged),
Yarn 4 with `nodeLinker: pnpm`, and pnpm 10 (isolated: a store under node_modules/.pnpm). Each
installs `vercel-oidc@VERSION` by name, as a project does, from a registry on 127.0.0.1 serving the
five tarballs of the release (npm_registry.py; the other platforms' packages hold stand-in
binaries and are never installed here), so the main package's optional dependencies are resolved
as from npm's registry, and nothing leaves this machine. Through each: `vercel-oidc --version`,
`vercel-oidc exec` running a command, and `aws configure` writing the path of the native binary
the launcher found inside that layout.

Yarn and pnpm come pinned from tests/interop/node (`@yarnpkg/cli-dist`, `pnpm`);
VERCEL_OIDC_RELEASE_DIR (set by scripts/test.sh) holds the tarballs.
"""

import glob
import json
import os
import re
from pathlib import Path

import pytest

from conftest import NODE_MODULES, run
from identities import AZURE_CLIENT, AZURE_TENANT
from npm_registry import NpmRegistry

ROOT = Path(__file__).resolve().parents[2]
RELEASE_DIR = os.environ.get("VERCEL_OIDC_RELEASE_DIR")
STATIC_BIN = os.environ.get("VERCEL_OIDC_STATIC_BIN")
pytestmark = pytest.mark.skipif(
    not (RELEASE_DIR and STATIC_BIN),
    reason="VERCEL_OIDC_RELEASE_DIR and VERCEL_OIDC_STATIC_BIN are not set: run scripts/test.sh",
)

VERSION = re.search(r'^\[package\][^\[]*?^version = "([^"]+)"', (ROOT / "Cargo.toml").read_text(), re.M | re.S)[1]
YARN = [os.path.join(NODE_MODULES, "@yarnpkg", "cli-dist", "bin", "yarn.js")]
PNPM = [os.path.join(NODE_MODULES, "pnpm", "bin", "pnpm.cjs")]
ROLE_ARN = "arn:aws:iam::123456789012:role/vercel-build"

# Where each layout keeps the platform package's binary, relative to the project.
NATIVE = {
    "yarn-pnp": ".yarn/unplugged/@vercel-oidc-linux-x64-npm-{v}-*/node_modules/@vercel-oidc/linux-x64/bin/vercel-oidc",
    "yarn-pnpm": "node_modules/.store/@vercel-oidc-linux-x64-npm-{v}-*/package/bin/vercel-oidc",
    "pnpm": "node_modules/.pnpm/@vercel-oidc+linux-x64@{v}/node_modules/@vercel-oidc/linux-x64/bin/vercel-oidc",
}


@pytest.fixture(scope="module")
def registry():
    with NpmRegistry(RELEASE_DIR) as r:
        yield r


def install(manager, sandbox, registry):
    """A project depending on vercel-oidc, installed by `manager`; returns (project, how to run a
    bin of the project)."""
    site = sandbox.path / "site"
    site.mkdir()
    (site / "package.json").write_text(json.dumps(
        {"name": "site", "private": True, "dependencies": {"vercel-oidc": VERSION}}, indent=2) + "\n")
    env = dict(sandbox.env, npm_config_update_notifier="false")
    if manager.startswith("yarn"):
        (site / ".yarnrc.yml").write_text("\n".join([
            f"nodeLinker: {manager.split('-')[1]}",
            f'npmRegistryServer: "{registry.url.rstrip("/")}"',
            'unsafeHttpWhitelist: ["127.0.0.1"]',
            # Yarn holds back versions younger than a day; ours were packed a minute ago.
            "npmMinimalAgeGate: 0",
            "enableTelemetry: false",
            "enableGlobalCache: false",
            "enableMirror: false",
            "enableImmutableInstalls: false",
            f'cacheFolder: "{sandbox.path / "yarn-cache"}"',
        ]) + "\n")
        (site / "yarn.lock").write_text("")
        run(["node", *YARN, "install"], env, site, timeout=180, helper=True)
        return site, lambda *args: ["node", *YARN, "vercel-oidc", *args]
    run(["node", *PNPM, "install", "--registry", registry.url, "--store-dir", str(sandbox.path / "pnpm-store"),
         "--config.minimum-release-age=0"], env, site, timeout=180, helper=True)
    return site, lambda *args: ["node", *PNPM, "exec", "vercel-oidc", *args]


@pytest.mark.parametrize("manager", ["yarn-pnp", "yarn-pnpm", "pnpm"])
def test_the_launcher_finds_the_binary_in_each_layout(sandbox, registry, mint, manager):
    token = mint()
    site, vercel_oidc = install(manager, sandbox, registry)
    if manager == "yarn-pnp":
        assert not (site / "node_modules").exists() and (site / ".pnp.cjs").is_file()
    natives = glob.glob(str(site / NATIVE[manager].format(v=VERSION)))
    assert len(natives) == 1, natives
    native = natives[0]
    assert Path(native).read_bytes() == Path(STATIC_BIN).read_bytes()

    env = dict(sandbox.env, npm_config_update_notifier="false", VERCEL_OIDC_TOKEN=token)
    proc = run(vercel_oidc("--version"), env, site)
    assert (proc.stdout, proc.stderr) == (f"vercel-oidc {VERSION}\n", "")

    # exec runs the command with the wiring, and its exit code comes back through the launcher.
    exec_env = dict(env, AZURE_TENANT_ID=AZURE_TENANT, AZURE_CLIENT_ID=AZURE_CLIENT)
    proc = run(vercel_oidc("exec", "--", "sh", "-c", 'echo "client $AZURE_CLIENT_ID"; exit 3'), exec_env, site,
               check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (3, f"client {AZURE_CLIENT}\n", "")

    # The binary the launcher ran is the one in the layout: configure writes its own path.
    aws_config = sandbox.path / "aws-config"
    run(vercel_oidc("aws", "configure", "--profile", "vercel", "--role-arn", ROLE_ARN, "--region", "us-east-1"),
        dict(exec_env, AWS_CONFIG_FILE=str(aws_config)), site)
    assert aws_config.read_text() == (
        "[profile vercel]\n"
        f"credential_process = {os.path.realpath(native)} aws credential-process --role-arn {ROLE_ARN} --region us-east-1\n"
        "region = us-east-1\n")
