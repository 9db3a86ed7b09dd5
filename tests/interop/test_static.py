"""The binary that ships (scripts/build-static.sh) runs in an empty root: a folder holding only
the binary, `/etc/hosts` and a temporary folder, entered with chroot. There it resolves names
through `/etc/hosts` alone, exchanges a token with a loopback STS stand-in, writes its cache and
prints credentials. Anything it needed from outside that folder (a dynamic loader, a shared
library, an NSS module, a CA file) would make it fail.

Needs root for chroot (CI runs as root); the binary comes from VERCEL_OIDC_STATIC_BIN, which
scripts/test.sh sets after building it.
"""

import json
import os
import shutil
import ssl
import stat
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from azure_mock import make_pki
from conftest import register_secret, run

STATIC_BIN = os.environ.get("VERCEL_OIDC_STATIC_BIN")
CHROOT = shutil.which("chroot", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin") or "chroot"
pytestmark = [
    pytest.mark.skipif(not STATIC_BIN, reason="VERCEL_OIDC_STATIC_BIN is not set: run scripts/test.sh, which builds the static binary"),
    pytest.mark.skipif(os.geteuid() != 0, reason="chroot needs root (CI runs as root)"),
]

ROLE_ARN = "arn:aws:iam::123456789012:role/vercel-static"
KEY_ID = "ASIASTATICROOT000001"
SECRET = "staticRootSecretAccessKey/0123456789abcdefgh"
SESSION = "staticRootSessionToken+0123456789"
# Only /etc/hosts in the empty root can resolve this name.
HOSTS_ONLY_NAME = "sts.vercel-oidc.test"
HOSTS = f"127.0.0.1 localhost\n127.0.0.1 {HOSTS_ONLY_NAME}\n"


class StsStandIn:
    """AssumeRoleWithWebIdentity on 127.0.0.1 with fixed credentials; records every request.
    With `tls_dir`, over HTTPS with a certificate for HOSTS_ONLY_NAME from a throwaway CA, whose
    certificate it writes to `tls_dir/ca.pem`."""

    def __init__(self, tls_dir=None):
        self.requests = []
        self.expiration = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                stand_in.requests.append({"host": self.headers.get("Host"),
                                          "form": {k: v[0] for k, v in parse_qs(body).items()}})
                register_secret(SECRET)
                register_secret(SESSION)
                data = stand_in.success().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        if tls_dir is not None:
            paths = make_pki(tls_dir, dns_names=[HOSTS_ONLY_NAME])
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(paths["server"], paths["server-key"])
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]

    def success(self):
        return f"""<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials><AccessKeyId>{KEY_ID}</AccessKeyId><SecretAccessKey>{SECRET}</SecretAccessKey>
      <SessionToken>{SESSION}</SessionToken><Expiration>{self.expiration}</Expiration></Credentials>
    <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/vercel-static/s</Arn></AssumedRoleUser>
  </AssumeRoleWithWebIdentityResult>
</AssumeRoleWithWebIdentityResponse>"""

    def __enter__(self):
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def sts():
    with StsStandIn() as stand_in:
        yield stand_in


@pytest.fixture
def empty_root(tmp_path):
    """The root: /vercel-oidc, /etc/hosts and /tmp, nothing else."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "hosts").write_text(HOSTS)
    (root / "tmp").mkdir(mode=0o1777)
    os.chmod(root / "tmp", 0o1777)
    shutil.copy2(STATIC_BIN, root / "vercel-oidc")
    assert listing(root) == ["etc", "etc/hosts", "tmp", "vercel-oidc"]
    return root


def listing(root, skip="tmp/"):
    """Every path under `root`, sorted, without what is inside its temporary folder."""
    paths = (str(p.relative_to(root)) for p in root.rglob("*"))
    return sorted(p for p in paths if not p.startswith(skip))


def in_root(root, program, *args, env):
    """Runs `program` (a path inside the root) there with only `env`, checked for secrets as
    every run is; it may print the credentials of the STS stand-in."""
    return run([CHROOT, str(root), program, *args], env, root, check=False, timeout=60,
               reveals=[SECRET, SESSION], helper=program != "/vercel-oidc")


def root_env(token, endpoint):
    return {"HOME": "/tmp", "PATH": "/", "VERCEL_OIDC_TOKEN": token, "AWS_ENDPOINT_URL_STS": endpoint}


def test_static_binary_exchanges_caches_and_prints_in_an_empty_root(empty_root, sts, mint):
    token = mint()
    env = root_env(token, f"http://localhost:{sts.port}")
    expected = json.dumps({"Version": 1, "AccessKeyId": KEY_ID, "SecretAccessKey": SECRET,
                           "SessionToken": SESSION, "Expiration": sts.expiration},
                          separators=(",", ":")) + "\n"

    first = in_root(empty_root, "/vercel-oidc", "aws", "credential-process", "--role-arn", ROLE_ARN, env=env)
    assert (first.returncode, first.stdout, first.stderr) == (0, expected, "")
    assert len(sts.requests) == 1
    assert sts.requests[0]["host"] == f"localhost:{sts.port}"
    form = sts.requests[0]["form"]
    assert (form["Action"], form["RoleArn"], form["WebIdentityToken"]) == ("AssumeRoleWithWebIdentity", ROLE_ARN, token)

    # The cache, private, inside the root's temporary folder (HOME=/tmp): the only place written.
    cache = empty_root / "tmp" / ".cache" / "vercel-oidc"
    entries = [p for p in cache.iterdir() if p.suffix == ".json"]
    assert len(entries) == 1
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert stat.S_IMODE(entries[0].stat().st_mode) == 0o600
    assert SESSION in entries[0].read_text()
    assert listing(empty_root) == ["etc", "etc/hosts", "tmp", "vercel-oidc"], "nothing written outside /tmp"

    # A second run is answered from that cache.
    second = in_root(empty_root, "/vercel-oidc", "aws", "credential-process", "--role-arn", ROLE_ARN, env=env)
    assert (second.returncode, second.stdout, second.stderr) == (0, expected, "")
    assert len(sts.requests) == 1, "the second run was a cache hit"


def test_static_binary_resolves_names_from_the_roots_etc_hosts(empty_root, mint):
    """A name only the root's /etc/hosts knows, over HTTPS with a CA from SSL_CERT_FILE (inside
    the root's temporary folder): the resolver reads that file itself, and rustls needs no system
    CA store."""
    with StsStandIn(tls_dir=empty_root / "tmp") as sts:
        env = dict(root_env(mint(), f"https://{HOSTS_ONLY_NAME}:{sts.port}"), SSL_CERT_FILE="/tmp/ca.pem")
        proc = in_root(empty_root, "/vercel-oidc", "aws", "credential-process", "--role-arn", ROLE_ARN,
                       "--no-cache", env=env)
        assert (proc.returncode, proc.stderr) == (0, "")
        assert json.loads(proc.stdout)["AccessKeyId"] == KEY_ID
        assert [r["host"] for r in sts.requests] == [f"{HOSTS_ONLY_NAME}:{sts.port}"]


def test_without_etc_hosts_localhost_does_not_resolve(empty_root, sts, mint):
    """The control for the lookups: the same run with the root's /etc/hosts removed reaches
    nothing (the resolver then asks DNS on 127.0.0.1:53, where nothing answers, until the 5 s
    budget is spent), so the names above came from that file and from nowhere outside the root."""
    (empty_root / "etc" / "hosts").unlink()
    env = root_env(mint(), f"http://localhost:{sts.port}")
    proc = in_root(empty_root, "/vercel-oidc", "aws", "credential-process", "--role-arn", ROLE_ARN,
                   "--no-cache", env=env)
    assert (proc.returncode, proc.stdout) == (1, "")
    assert sts.requests == []
    assert proc.stderr.startswith(f"error: cannot reach STS at `http://localhost:{sts.port}`: "), proc.stderr


def test_the_empty_root_has_no_dynamic_loader(empty_root, mint):
    """The control: a dynamically linked program (this machine's `true`) cannot even start there."""
    shutil.copy2(shutil.which("true"), empty_root / "true")
    proc = in_root(empty_root, "/true", env={"PATH": "/"})
    assert (proc.returncode, proc.stdout) == (127, "")
    assert "No such file or directory" in proc.stderr, "exec finds no dynamic loader"
    static = in_root(empty_root, "/vercel-oidc", "--version", env={"PATH": "/", "VERCEL_OIDC_TOKEN": mint()})
    assert (static.returncode, static.stderr) == (0, "")
    assert static.stdout.startswith("vercel-oidc ")
