"""moto's server as the AWS account for the interop tests and scripts/demo.sh.

moto answers AssumeRoleWithWebIdentity with temporary credentials it remembers, and with request
authentication turned on it accepts a signed request only when the signature was made with one of
those credentials and the role's policies allow the action. So once `enforce_auth` has been
called, an AWS client that gets through must have used what STS really issued.

How moto 5.2.5 does it (moto/core/authorization.py, moto/moto_api/_internal/responses.py):
`POST /moto-api/reset-auth` with a plain number N as the body lets the next N requests through
unchecked and checks every request after them. The STS call is unsigned, so it must be among those
N: create the role first, then allow exactly as many requests as STS calls are expected.

As a script, for the demo:
    python aws_moto.py setup URL ROLE ALLOWANCE   wait for moto, create ROLE, then turn on
                                                  authentication; prints the role ARN
    python aws_moto.py sessions URL               prints one line per AssumeRoleWithWebIdentity
                                                  session moto issued: role ARN, session name
"""

import json
import re
import shutil
import socket
import sys
import threading
import time
from pathlib import Path

import boto3
import requests

ACCOUNT = "123456789012"
REGION = "us-east-1"

# Any key works while authentication is off; these are the documented example keys.
_SETUP_KEYS = {"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE",
               "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}

_ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def trust_policy(issuer_host_path="oidc.vercel.com/acme"):
    """The trust policy Vercel's AWS guide has users write (moto does not evaluate it)."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{issuer_host_path}"},
            "Action": "sts:AssumeRoleWithWebIdentity",
        }],
    }


def moto_server_command(port):
    """The command line of moto's server on loopback, from the venv this Python runs in."""
    exe = Path(sys.executable).parent / "moto_server"
    if not exe.exists():
        exe = Path(shutil.which("moto_server") or "moto_server")
    return [str(exe), "-H", "127.0.0.1", "-p", str(port)]


class Moto:
    """A running moto server at `url` (http://127.0.0.1:PORT)."""

    def __init__(self, url):
        self.url = url.rstrip("/")

    def wait_ready(self, timeout=30.0, proc=None):
        deadline = time.monotonic() + timeout
        while True:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"moto_server exited early with code {proc.returncode}")
            try:
                requests.get(self.url + "/moto-api/data.json", timeout=1).raise_for_status()
                return
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"moto did not answer at {self.url} within {timeout}s")
                time.sleep(0.1)

    def reset(self):
        """Forgets every resource and turns authentication off again."""
        self._post("/moto-api/reset-auth", "inf")
        self._post("/moto-api/reset", "")

    def create_role(self, name):
        """Creates role `name` with the Vercel trust policy and an allow-all inline policy (what the
        temporary credentials are checked against); returns its ARN. Call before `enforce_auth`."""
        iam = boto3.client("iam", endpoint_url=self.url, region_name=REGION, **_SETUP_KEYS)
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust_policy()))
        iam.put_role_policy(RoleName=name, PolicyName="allow-all", PolicyDocument=json.dumps(_ALLOW_ALL))
        return role["Role"]["Arn"]

    def enforce_auth(self, unsigned_allowance):
        """Lets the next `unsigned_allowance` requests through unchecked, then checks every one."""
        self._post("/moto-api/reset-auth", str(int(unsigned_allowance)))

    def sessions(self):
        """The AssumeRoleWithWebIdentity sessions moto has issued, oldest first: role ARN, session
        name, account, access key id (the key id is not a secret; the secret key stays out)."""
        data = requests.get(self.url + "/moto-api/data.json", timeout=10).json()
        return [
            {k: r[k] for k in ("role_arn", "session_name", "account_id", "access_key_id")}
            for r in data.get("sts", {}).get("AssumedRole", [])
        ]

    def issued_credentials(self):
        """The temporary credentials moto has issued, oldest first, secrets included: for
        secret-leak checks and for forging near-misses."""
        data = requests.get(self.url + "/moto-api/data.json", timeout=10).json()
        return [
            {k: r[k] for k in ("access_key_id", "secret_access_key", "session_token")}
            for r in data.get("sts", {}).get("AssumedRole", [])
        ]

    def _post(self, path, body):
        response = requests.post(self.url + path, data=body, timeout=10)
        response.raise_for_status()


class Relay:
    """A TCP relay on 127.0.0.1 (its `port`) to `target_port`: each connection is two threads of
    `_pump(source, sink, toward_target)`, which a subclass writes to look at what passes."""

    def __init__(self, target_port):
        self.target_port = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self._listener.close()

    def _accept(self):
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source, sink, toward_target):
        raise NotImplementedError


class IssuingRelay(Relay):
    """A relay in front of moto that hands every secret key and session token in moto's answers
    to `on_secret` before the answer goes on: so a test registers the credentials moto issues as
    they are issued, before any client or the binary can print them. Bytes pass unchanged both
    ways (a request's signature covers its Host header, which the relay keeps)."""

    # Where moto's answers carry a secret: STS's XML, or a JSON body naming the same fields.
    _SECRET = re.compile(rb"<(SecretAccessKey|SessionToken)>([^<]*)</\1>"
                         rb"|\"(SecretAccessKey|SessionToken)\"\s*:\s*\"([^\"]*)\"")
    _OPENINGS = (b"<SecretAccessKey>", b"<SessionToken>", b'"SecretAccessKey"', b'"SessionToken"')

    def __init__(self, target_port, on_secret):
        self.on_secret = on_secret
        super().__init__(target_port)

    def _held_back(self, pending):
        """How many bytes at the end of `pending` may still be part of a secret not yet whole."""
        start = len(pending)
        for opening in self._OPENINGS:
            at = pending.rfind(opening)
            if at >= 0 and not self._SECRET.search(pending, at):
                start = min(start, at)
            for n in range(1, len(opening)):  # an opening cut short at the end
                if pending.endswith(opening[:n]):
                    start = min(start, len(pending) - n)
        return len(pending) - start

    def _pump(self, source, sink, toward_target):
        answers = not toward_target
        pending = b""
        try:
            while data := source.recv(65536):
                if not answers:
                    sink.sendall(data)
                    continue
                pending += data
                for m in self._SECRET.finditer(pending):
                    secret = (m.group(2) if m.group(2) is not None else m.group(4)).decode("utf-8", "replace")
                    self.on_secret(secret)
                keep = self._held_back(pending)
                sink.sendall(pending[:len(pending) - keep])
                pending = pending[len(pending) - keep:]
            sink.sendall(pending)
        except OSError:
            pass
        finally:
            # A client done sending may still wait for its answer; moto done answering ends it.
            ends = [(sink, socket.SHUT_WR)] if not answers else [(source, socket.SHUT_RDWR),
                                                                 (sink, socket.SHUT_RDWR)]
            for sock, how in ends:
                try:
                    sock.shutdown(how)
                except OSError:
                    pass


def _main(argv):
    if len(argv) == 4 and argv[0] == "setup":
        moto = Moto(argv[1])
        moto.wait_ready()
        arn = moto.create_role(argv[2])
        moto.enforce_auth(int(argv[3]))
        print(arn)
        return 0
    if len(argv) == 2 and argv[0] == "sessions":
        for session in Moto(argv[1]).sessions():
            print(session["role_arn"], session["session_name"])
        return 0
    print(__doc__.split("As a script, for the demo:\n", 1)[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
