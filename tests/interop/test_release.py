"""The way from a tag to the registry, as the release workflow's publish job takes it:
scripts/publish.sh, which checks the release and runs `npm publish` on every tarball, here with
--dry-run against a registry on 127.0.0.1 (npm_registry.py) that records what npm asked it.

- the five tarballs of scripts/release-dry-run.sh (VERCEL_OIDC_RELEASE_DIR, set by
  scripts/test.sh) publish in the release order, from the relative folder name the workflow
  passes;
- a prerelease goes under the dist-tag `next`, never `latest`;
- a version without a CHANGELOG.md entry, a tag that is not v<version>, and a repository other than
  the one the workflow runs in are refused before anything is published; a package already on the
  registry is skipped (a rerun after a partial failure), and a registry that cannot answer stops
  the run.

The refusals run on a copy of the repository's release files (Cargo.toml, CHANGELOG.md, npm/,
scripts/) with tarballs made here, so that any version can be tried.
"""

import io
import json
import os
import re
import shutil
import tarfile
from pathlib import Path

import pytest

from conftest import run
from npm_registry import NpmRegistry

ROOT = Path(__file__).resolve().parents[2]
RELEASE_DIR = os.environ.get("VERCEL_OIDC_RELEASE_DIR")
VERSION = re.search(r'^\[package\][^\[]*?^version = "([^"]+)"', (ROOT / "Cargo.toml").read_text(), re.M | re.S)[1]
REPOSITORY = re.search(r'^repository = "([^"]+)"$', (ROOT / "Cargo.toml").read_text(), re.M)[1]
PLATFORMS = json.loads((ROOT / "npm" / "platforms.json").read_text())
ORDER = [p["package"] for p in PLATFORMS] + ["vercel-oidc"]


def publish_env(tmp_path, registry, **extra):
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path / "home"),
        "LANG": "C.UTF-8",
        "npm_config_registry": registry.url,
        "npm_config_cache": str(tmp_path / "npm-cache"),
        "npm_config_update_notifier": "false",
    }
    env.update(extra)
    return env


def publish(root, folder, cwd, env):
    """The publish script, a dry run: npm, not the binary, so nothing it says is checked against a
    token of this test's."""
    return run([str(root / "scripts" / "publish.sh"), "--dry-run", folder], env, cwd, check=False, timeout=300,
               helper=True)


def said(stderr):
    """The script's own lines (`==> …` and `error: …`), without npm's notices."""
    return [line for line in stderr.splitlines() if line.startswith(("==> ", "error: "))]


def views(registry):
    return [path for method, path in registry.requests if method == "GET"]


@pytest.mark.skipif(not RELEASE_DIR, reason="VERCEL_OIDC_RELEASE_DIR is not set: run scripts/test.sh")
def test_every_tarball_of_the_release_publishes_platforms_first(tmp_path):
    (tmp_path / "home").mkdir()
    work = tmp_path / "checkout"
    shutil.copytree(RELEASE_DIR, work / "dist")
    with NpmRegistry(tmp_path / "empty") as registry:
        proc = publish(ROOT, "dist", work, publish_env(tmp_path, registry))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "".join(f"+ {name}@{VERSION}\n" for name in ORDER)
    tarballs = {name: work / "dist" / f"{name.replace('@', '').replace('/', '-')}-{VERSION}.tgz" for name in ORDER}
    assert said(proc.stderr) == [f"==> publishing {VERSION} under the dist-tag `latest` (dry run)"] + [
        f"==> npm publish {tarballs[name]} --access public --tag latest --provenance --dry-run" for name in ORDER]
    # The registry was asked about each (`npm view`, and npm publish itself), in order; nothing was
    # sent (a dry run PUTs nothing).
    assert [(m, p) for m, p in registry.requests if m != "GET"] == []
    asked = [re.sub(r"^/(@[^/%]+)%2[fF]", r"/\1/", p) for p in views(registry)]
    assert list(dict.fromkeys(asked)) == [f"/{name}" for name in ORDER]


def fake_release(tmp_path, version, changelog=None, repository=REPOSITORY, main_repository=None):
    """A copy of the release files at `version`, and a `dist` of five minimal tarballs."""
    root = tmp_path / "repo"
    for folder in ("npm", "scripts"):
        shutil.copytree(ROOT / folder, root / folder)
    for file in ("LICENSE-MIT", "LICENSE-APACHE"):
        shutil.copy(ROOT / file, root / file)
    cargo = (ROOT / "Cargo.toml").read_text()
    cargo = re.sub(r'^version = "[^"]+"$', f'version = "{version}"', cargo, count=1, flags=re.M)
    cargo = re.sub(r'^repository = "[^"]+"$', f'repository = "{repository}"', cargo, count=1, flags=re.M)
    (root / "Cargo.toml").write_text(cargo)
    (root / "CHANGELOG.md").write_text(changelog if changelog is not None else
                                       f"# Changelog\n\n## {version} - 2027-01-31\n\nSomething changed.\n\n## 0.1.0\n\nFirst.\n")
    dist = root / "dist"
    dist.mkdir()
    for name in ORDER:
        files = {"LICENSE-MIT": b"mit\n", "LICENSE-APACHE": b"apache\n", "README.md": b"# readme\n"}
        repo = main_repository if (name == "vercel-oidc" and main_repository) else repository
        files["package.json"] = json.dumps({"name": name, "version": version, "license": "MIT OR Apache-2.0",
                                            "repository": {"type": "git", "url": f"git+{repo}.git"}}).encode()
        if name != "vercel-oidc":
            files["THIRD-PARTY-LICENSES.txt"] = b"crates\n"
        with tarfile.open(dist / f"{name.replace('@', '').replace('/', '-')}-{version}.tgz", "w:gz") as t:
            for file, data in files.items():
                info = tarfile.TarInfo(f"package/{file}")
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
    (tmp_path / "home").mkdir()
    return root


def test_a_prerelease_is_published_under_next_not_latest(tmp_path):
    root = fake_release(tmp_path, "0.2.0-rc.1")
    with NpmRegistry(tmp_path / "empty") as registry:
        proc = publish(root, "dist", root, publish_env(tmp_path, registry))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "".join(f"+ {name}@0.2.0-rc.1\n" for name in ORDER)
    assert said(proc.stderr)[0] == "==> publishing 0.2.0-rc.1 under the dist-tag `next` (dry run)"
    assert all("--tag next" in line for line in said(proc.stderr)[1:])
    # npm's own account of what it would do.
    assert proc.stderr.count(f"Publishing to {registry.url} with tag next and public access (dry-run)") == 5
    assert "with tag latest" not in proc.stderr


@pytest.mark.parametrize("version, changelog, extra, message", [
    ("0.2.0", "# Changelog\n\n## 0.1.0\n\nFirst.\n", {},
     "error: CHANGELOG.md has no entry for 0.2.0: add a `## 0.2.0` section saying what changed, above the"
     " previous release's"),
    ("0.2.0", "# Changelog\n\n## 0.2.0\n\n## 0.1.0\n\nFirst.\n", {},
     "error: CHANGELOG.md has no entry for 0.2.0: add a `## 0.2.0` section saying what changed, above the"
     " previous release's"),
    ("0.2.0", None, {"GITHUB_ACTIONS": "true", "GITHUB_REF_NAME": "v0.2.1", "GITHUB_REPOSITORY": "vercel-oidc/vercel-oidc"},
     "error: the tag is `v0.2.1`, but Cargo.toml's version is 0.2.0: tag the commit v0.2.0"),
    ("0.2.0", None, {"GITHUB_ACTIONS": "true", "GITHUB_REF_NAME": "v0.2.0", "GITHUB_REPOSITORY": "someone/fork"},
     f"error: Cargo.toml's repository is `{REPOSITORY}`, but this workflow runs in https://github.com/someone/fork;"
     " npm's provenance refuses a package whose repository differs: set repository in Cargo.toml's [package]"),
])
def test_a_release_that_cannot_be_published_is_refused_before_anything_is(tmp_path, version, changelog, extra,
                                                                          message):
    root = fake_release(tmp_path, version, changelog=changelog)
    with NpmRegistry(tmp_path / "empty") as registry:
        proc = publish(root, "dist", root, publish_env(tmp_path, registry, **extra))
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", message + "\n")
    assert registry.requests == []


def test_a_tarball_packed_with_another_repository_is_refused(tmp_path):
    root = fake_release(tmp_path, "0.2.0", main_repository="https://github.com/someone/fork")
    with NpmRegistry(tmp_path / "empty") as registry:
        proc = publish(root, "dist", root, publish_env(tmp_path, registry))
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", (
        "error: `vercel-oidc-0.2.0.tgz` names the repository"
        ' {"type":"git","url":"git+https://github.com/someone/fork.git"},'
        f" Cargo.toml git+{REPOSITORY}.git: pack it again\n"))


def test_a_rerun_skips_what_the_registry_already_has(tmp_path):
    root = fake_release(tmp_path, "0.2.0")
    published = tmp_path / "published"
    published.mkdir()
    for name in ORDER[:2]:  # the first two went out before the run failed
        file = f"{name.replace('@', '').replace('/', '-')}-0.2.0.tgz"
        shutil.copy(root / "dist" / file, published / file)
    with NpmRegistry(published) as registry:
        proc = publish(root, "dist", root, publish_env(tmp_path, registry))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "".join(f"+ {name}@0.2.0\n" for name in ORDER[2:])
    assert said(proc.stderr)[1:3] == [f"==> {name}@0.2.0 is already on the registry: skipped" for name in ORDER[:2]]


def test_a_registry_that_cannot_answer_stops_the_run(tmp_path):
    root = fake_release(tmp_path, "0.2.0")
    with NpmRegistry(tmp_path / "empty") as registry:
        url = registry.url
    # Nothing listens there any more: neither "published" nor "not found".
    env = publish_env(tmp_path, registry, npm_config_registry=url, npm_config_fetch_retries="0")
    proc = publish(root, "dist", root, env)
    assert (proc.returncode, proc.stdout) == (1, "")
    first = proc.stderr.splitlines()
    assert first[0] == "==> publishing 0.2.0 under the dist-tag `latest` (dry run)"
    assert first[1] == f"error: could not ask the registry whether {ORDER[0]}@0.2.0 is published (npm view {ORDER[0]}@0.2.0):"
    assert "ECONNREFUSED" in proc.stderr
    assert "npm publish" not in proc.stderr
