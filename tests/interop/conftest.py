"""Shared fixtures for the interop tests: real clients against local stand-ins of the clouds.

Every test gets a sandbox (a private HOME, cache and working directory) and a token minted with a
throwaway RSA key. Every run of the binary made through `run_bin` checks that no test secret
reached its stderr.
"""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

BIN = os.environ.get("VERCEL_OIDC_BIN") or str(Path(__file__).resolve().parents[2] / "target/debug/vercel-oidc")
NODE_MODULES = os.environ.get("VERCEL_OIDC_NODE_MODULES") or str(Path(__file__).resolve().parent / "node/node_modules")
VENV_BIN = str(Path(sys.executable).parent)

_SECRETS = []


def register_secret(value):
    """Marks a string that must never appear on any stderr we capture."""
    if value:
        _SECRETS.append(value)
    return value


def register_issued_secrets(moto):
    """Registers the secret key and session token of every credential moto has issued, and
    returns them (see `Moto.issued_credentials`)."""
    issued = moto.issued_credentials()
    for creds in issued:
        register_secret(creds["secret_access_key"])
        register_secret(creds["session_token"])
    return issued


def assert_no_secrets(text):
    for s in _SECRETS:
        assert s not in text, "a test secret leaked into stderr:\n" + text


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
        """Runs any command in the sandbox; stderr is checked for secrets."""
        full_env = dict(self.env, **(env or {}))
        proc = subprocess.run(args, env=full_env, cwd=self.path, capture_output=True, text=True, **kwargs)
        assert_no_secrets(proc.stderr)
        if check and proc.returncode != 0:
            raise AssertionError(
                f"{args[0]} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
            )
        return proc

    def run_bin(self, *args, **kwargs):
        return self.run([BIN, *args], **kwargs)

    def node(self, script, check=True, env=None):
        """Runs a Node.js script (given as text) with the pinned npm packages importable."""
        node_env = dict(env or {}, NODE_PATH=NODE_MODULES)
        return self.run(["node", "-e", script], check=check, env=node_env)

    def json_bin(self, *args, **kwargs):
        return json.loads(self.run_bin(*args, **kwargs).stdout)


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory):
    """moto's server on loopback for the whole session (see aws_moto.py)."""
    from aws_moto import Moto, moto_server_command

    log_dir = tmp_path_factory.mktemp("moto")
    port = free_port()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(log_dir), "LANG": "C.UTF-8"}
    with open(log_dir / "moto.log", "wb") as log:
        proc = subprocess.Popen(moto_server_command(port), stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        moto = Moto(f"http://127.0.0.1:{port}")
        moto.wait_ready(proc=proc)
        yield moto
    finally:
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
