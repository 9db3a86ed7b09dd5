"""Shared fixtures for the interop tests: real clients against local stand-ins of the clouds.

Every test gets a sandbox (a private HOME, cache and working directory), a token minted with a
throwaway RSA key, and a world: the secrets the test has issued, each registered as it is issued
(the minted tokens, what the stand-ins hand out, moto's credentials as they pass the relay in
front of it). Every process a test starts goes through `run` or `spawn` here (`Sandbox.run`,
`Sandbox.run_bin`, `Sandbox.node` included), which check its stdout and stderr against every
registered secret, raw, URL-encoded and JSON-escaped; a secret may show on stdout only where the
run was asked to print it (`reveals`), and a run in a test that issued no secret at all fails.
test_harness.py tests this and keeps the test files off `subprocess`.
"""

import base64
import json
import re
import os
import pty
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

BIN = os.environ.get("VERCEL_OIDC_BIN") or str(Path(__file__).resolve().parents[2] / "target/debug/vercel-oidc")
NODE_MODULES = os.environ.get("VERCEL_OIDC_NODE_MODULES") or str(Path(__file__).resolve().parent / "node/node_modules")
VENV_BIN = str(Path(sys.executable).parent)

# How long a run may take before it counts as hung, unless the test says otherwise.
HANG = 120


class World:
    """The secrets one test has issued."""

    def __init__(self):
        self.secrets = []


_LOCK = threading.Lock()
_WORLD = World()  # the running test's; the `world` fixture gives each test a new one
_EVERY = []  # every secret of the session, checked as well


def register_secret(value):
    """Marks `value` as issued in this test's world: from now on no run may show it, in any form,
    unless asked to. Returns it."""
    if value:
        with _LOCK:
            if value not in _WORLD.secrets:
                _WORLD.secrets.append(value)
            if value not in _EVERY:
                _EVERY.append(value)
    return value


@pytest.fixture(autouse=True)
def world():
    """A new world for each test."""
    global _WORLD
    _WORLD = World()
    yield _WORLD


def forms(secret):
    """`secret` in every form a leak could take: as it is, URL-encoded (as a form value, and
    percent-encoded with upper- or lower-case hex), JSON-escaped (with or without `\\/`) and
    base64-encoded (standard and URL-safe); for a JWT, also its signature alone, which is what makes
    it a credential."""
    percent = urllib.parse.quote(secret, safe="-._~")
    lower = "%".join(part if i == 0 else part[:2].lower() + part[2:] for i, part in enumerate(percent.split("%")))
    escaped = json.dumps(secret)[1:-1]
    raw = secret.encode()
    found = {secret, urllib.parse.quote_plus(secret, safe="-._~"), percent, lower, escaped,
             escaped.replace("/", "\\/"), base64.b64encode(raw).decode(),
             base64.urlsafe_b64encode(raw).decode().rstrip("=")}
    parts = secret.split(".")
    if len(parts) == 3 and len(parts[2]) >= 16 and all(re.fullmatch(r"[A-Za-z0-9_-]+", p) for p in parts):
        found.add(parts[2])
    return sorted(found)


def check_run(what, stdout, stderr, reveals=(), helper=False):
    """Fails the test when a registered secret shows in `stderr`, or in `stdout` unless `reveals`
    (secrets, or rules that pick secrets out) says the run was asked for it; or, unless `helper`
    (a process that neither is nor runs the binary), when this test has issued no secret."""
    with _LOCK:
        issued = list(_WORLD.secrets)
        every = issued + [s for s in _EVERY if s not in issued]
    assert helper or issued, (
        f"{what}: this test has issued no secret, so the leak check of its output proves nothing; "
        "give the run something it must keep to itself (a token from mint(), or register_secret())")

    def revealed(secret):
        return any(r(secret) if callable(r) else r == secret for r in reveals)

    for secret in every:
        for form in forms(secret):
            assert form not in (stderr or ""), f"{what}: a secret leaked into stderr as {form!r}:\n{stderr}"
            assert revealed(secret) or form not in (stdout or ""), (
                f"{what}: a secret it was not asked for leaked into stdout as {form!r}:\n{stdout}")


def assert_no_secrets(text):
    """Fails the test when a registered secret shows in `text`, in any form."""
    check_run("this text", "", text)


def _text(data):
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else (data or "")


def run(args, env, cwd, check=True, timeout=HANG, reveals=(), helper=False, **kwargs):
    """Runs `args` to the end (at most `timeout` seconds) with only `env`, in `cwd`, its stdout
    and stderr captured and checked for secrets; with `check`, fails the test on a non-zero exit."""
    if "input" not in kwargs:
        kwargs.setdefault("stdin", subprocess.DEVNULL)
    proc = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, **kwargs)
    check_run(f"`{args[0]}`", proc.stdout, proc.stderr, reveals, helper)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args[0]} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


class Running:
    """A process started by `spawn`. Its output is checked for secrets when it is waited for, or
    when the test ends (the `running` fixture ends any left running)."""

    def __init__(self, args, env, cwd, reveals, terminal, **popen):
        self.what, self.reveals, self.terminal = f"`{args[0]}`", reveals, None
        if terminal:
            self.terminal, secondary = pty.openpty()
            popen.update(stdin=secondary, stdout=secondary, stderr=secondary)
        else:
            popen.setdefault("stdin", subprocess.DEVNULL)
            popen.update(stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.proc = subprocess.Popen(args, env=env, cwd=cwd, **popen)
        if terminal:
            os.close(secondary)
        self.result = None
        _RUNNING.append(self)

    @property
    def pid(self):
        return self.proc.pid

    def poll(self):
        return self.proc.poll()

    def wait_until_catching(self, pid, sig, timeout=HANG):
        """Waits until process `pid` (this one, or one it started) has a handler for `sig`, so
        that `sig` sent now is handled rather than ending it."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                with open(f"/proc/{pid}/status") as f:
                    mask = next(int(line.split()[1], 16) for line in f if line.startswith("SigCgt:"))
                if mask & (1 << (int(sig) - 1)):
                    return
            except (OSError, StopIteration):
                pass
            assert time.monotonic() < deadline, f"process {pid} does not catch {sig} after {timeout}s"
            time.sleep(0.01)

    def wait(self, timeout=HANG):
        """Waits for it to end and checks its output; returns (exit code, stdout, stderr), stdout
        and stderr being what the terminal showed for a run in one."""
        if self.result is None:
            try:
                out, err = self.proc.communicate(timeout=timeout) if self.terminal is None else (b"", b"")
                if self.terminal is not None:
                    self.proc.wait(timeout=timeout)
                    err = self._drain_terminal()
            finally:
                if self.proc.poll() is None:
                    self.proc.kill()
                    self.proc.communicate()
            self.result = (self.proc.returncode, _text(out), _text(err))
            check_run(self.what, self.result[1], self.result[2], self.reveals)
        return self.result

    def _drain_terminal(self):
        data = b""
        try:
            while chunk := os.read(self.terminal, 4096):
                data += chunk
        except OSError:
            pass  # EIO once every holder of the other side has closed it
        os.close(self.terminal)
        return data


_RUNNING = []


def spawn(args, env, cwd, reveals=(), terminal=False, **popen):
    """Starts `args` with only `env`, in `cwd`, its stdout and stderr captured (or, with
    `terminal`, a pseudo-terminal as stdin, stdout and stderr, whose primary side is
    `Running.terminal`); see `Running`."""
    return Running(args, env, cwd, reveals, terminal, **popen)


@pytest.fixture(autouse=True)
def running():
    """Ends and checks whatever a test left running."""
    _RUNNING.clear()
    yield
    left = [r for r in _RUNNING if r.result is None]
    _RUNNING.clear()
    for r in left:
        if r.proc.poll() is None:
            r.proc.kill()
        r.wait()


@pytest.fixture(scope="session")
def signing_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def signing_key_pem(signing_key):
    return signing_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def vercel_claims(lifetime=3600, **overrides):
    now = int(time.time())
    claims = {
        "iss": "https://oidc.vercel.com/acme",
        "sub": "owner:acme:project:web:environment:production",
        "scope": "owner:acme:project:web:environment:production",
        "aud": "https://vercel.com/acme",
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "owner": "acme",
        "owner_id": "team_acme123",
        "project": "web",
        "project_id": "prj_web123",
        "environment": "production",
    }
    claims.update(overrides)
    return claims


@pytest.fixture
def mint(signing_key_pem):
    """mint(**claim_overrides) -> a Vercel-shaped RS256 token, registered as a secret."""

    def _mint(lifetime=3600, **overrides):
        token = jwt.encode(vercel_claims(lifetime, **overrides), signing_key_pem, algorithm="RS256",
                           headers={"kid": "test-key"})
        return register_secret(token)

    return _mint


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc=None, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited early with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


@pytest.fixture
def sandbox(tmp_path):
    """A clean environment: private HOME and cache, the venv's tools first on PATH, and none of
    the machine's cloud settings."""
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "HOME": str(home),
        "PATH": VENV_BIN + os.pathsep + "/usr/local/bin:/usr/bin:/bin",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "LANG": "C.UTF-8",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    return Sandbox(tmp_path, env)


class Sandbox:
    def __init__(self, path, env):
        self.path = path
        self.env = env

    @property
    def home(self):
        return Path(self.env["HOME"])

    def run(self, args, check=True, env=None, **kwargs):
        """Runs any command in the sandbox, checked as `run` checks it."""
        return run(args, dict(self.env, **(env or {})), self.path, check=check, **kwargs)

    def run_bin(self, *args, **kwargs):
        return self.run([BIN, *args], **kwargs)

    def node(self, script, check=True, env=None, **kwargs):
        """Runs a Node.js script (given as text) with the pinned npm packages importable."""
        node_env = dict(env or {}, NODE_PATH=NODE_MODULES)
        return self.run(["node", "-e", script], check=check, env=node_env, **kwargs)

    def json_bin(self, *args, **kwargs):
        return json.loads(self.run_bin(*args, **kwargs).stdout)


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory):
    """moto's server on loopback for the whole session (see aws_moto.py), reached through a relay
    that registers the credentials it issues as they pass."""
    from aws_moto import IssuingRelay, Moto, moto_server_command

    log_dir = tmp_path_factory.mktemp("moto")
    port = free_port()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(log_dir), "LANG": "C.UTF-8"}
    with open(log_dir / "moto.log", "wb") as log:
        proc = subprocess.Popen(moto_server_command(port), stdout=log, stderr=subprocess.STDOUT, env=env)
    relay = None
    try:
        Moto(f"http://127.0.0.1:{port}").wait_ready(proc=proc)
        relay = IssuingRelay(port, register_secret)
        yield Moto(f"http://127.0.0.1:{relay.port}")
    finally:
        if relay is not None:
            relay.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def moto(moto_server):
    """moto with no resources and authentication off; each test creates what it needs."""
    moto_server.reset()
    return moto_server


@pytest.fixture(scope="session")
def az_world_session(tmp_path_factory):
    """The Azure CLI's world for the whole session (see az_world.py): the Entra and ARM stand-in
    behind a CONNECT proxy that lets only Microsoft's host names through."""
    from az_world import AzWorld
    from identities import AZURE_CLIENT, AZURE_TENANT

    with AzWorld(tmp_path_factory.mktemp("az-world"), AZURE_TENANT, AZURE_CLIENT) as az_world:
        yield az_world


@pytest.fixture
def az_world(az_world_session):
    """The session's Azure CLI world, reset: no request, refusal or issued token yet, no
    subscription, no token expected."""
    az_world_session.reset()
    return az_world_session
