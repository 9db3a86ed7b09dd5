"""AWS clients inside `vercel-oidc exec` with the container-credentials endpoint: the AWS CLI and
boto3 against moto with request authentication on, the JavaScript SDK v3 against the same, and
botocore renewing its credentials from the endpoint while a long-running child works. Each proves
it took the endpoint's credentials (the key id the server handed out) and not another source.
"""

import json
import math
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from aws_moto import ACCOUNT
from conftest import NODE_MODULES, VENV_BIN, register_secret
from identities import isolated_aws

ROLE = "vercel-deploy"

BOTO3_CLIENT = """
import json, boto3
session = boto3.Session()
creds = session.get_credentials()
identity = session.client("sts").get_caller_identity()
print(json.dumps({"method": creds.method, "key": creds.get_frozen_credentials().access_key,
                  "arn": identity["Arn"]}))
"""

JS_CLIENT = """
const { STSClient, GetCallerIdentityCommand } = require("@aws-sdk/client-sts");
(async () => {
  const client = new STSClient({ region: "us-east-1" });
  const creds = await client.config.credentials();
  const identity = await client.send(new GetCallerIdentityCommand({}));
  console.log(JSON.stringify({ key: creds.accessKeyId, arn: identity.Arn }));
})().catch((e) => { console.error(String((e && e.message) || e)); process.exit(1); });
"""

# Reads its credentials every 0.2 s, as a long-running process would before each call, until it
# has been given `want` key ids (or `limit` seconds have passed), and prints the key ids it was
# given in order, with any error.
BOTO3_LONG_RUNNING = """
import json, sys, time
import botocore.session
creds = botocore.session.get_session().get_credentials()
want, keys, errors, end = int(sys.argv[1]), [], [], time.time() + float(sys.argv[2])
while len(keys) < want and time.time() < end:
    try:
        key = creds.get_frozen_credentials().access_key
        if not keys or keys[-1] != key:
            keys.append(key)
    except Exception as e:
        errors.append(str(e))
    time.sleep(0.2)
print(json.dumps({"method": creds.method, "keys": keys, "errors": errors}))
"""


def aws_env(sandbox, mint, moto):
    role_arn = moto.create_role(ROLE)
    sandbox.env.update(
        VERCEL_OIDC_TOKEN=mint(),
        AWS_ROLE_ARN=role_arn,
        AWS_ENDPOINT_URL=moto.url,
        AWS_DEFAULT_REGION="us-east-1",
        **isolated_aws(sandbox.path),
        VERCEL_OIDC_AWS_CREDENTIALS="endpoint",
    )
    moto.enforce_auth(1)  # the one unsigned AssumeRoleWithWebIdentity; everything else is signed


def issued_key(moto):
    sessions = moto.sessions()
    assert len(sessions) == 1, "one STS call for the whole run"
    return sessions[0]["access_key_id"]


def test_aws_cli_and_boto3_take_the_endpoints_credentials(sandbox, mint, moto):
    aws_env(sandbox, mint, moto)
    aws = os.path.join(VENV_BIN, "aws")
    python = os.path.join(VENV_BIN, "python")
    script = (f"env | grep -c '^AWS_ACCESS_KEY_ID=' > keys-in-env.out; "
              f"'{aws}' sts get-caller-identity --output json --debug 2> cli.err > cli.out && "
              f"'{python}' -c '{BOTO3_CLIENT}'")
    out = sandbox.run_bin("exec", "--", "sh", "-c", script)
    key = issued_key(moto)
    assert (sandbox.path / "keys-in-env.out").read_text() == "0\n", "no environment keys"
    arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE}/vercel-web-production"
    assert json.loads((sandbox.path / "cli.out").read_text())["Arn"] == arn
    # botocore tries each source in turn; the last it tried is the one that answered.
    tried = [line.rsplit(": ", 1)[1] for line in (sandbox.path / "cli.err").read_text().splitlines()
             if "Looking for credentials via: " in line]
    assert tried[-1] == "container-role", tried
    boto3 = json.loads(out.stdout)
    assert boto3 == {"method": "container-role", "key": key, "arn": arn}


def test_the_javascript_sdk_takes_the_endpoints_credentials(sandbox, mint, moto):
    aws_env(sandbox, mint, moto)
    script = f"NODE_PATH='{NODE_MODULES}' node -e '{JS_CLIENT}'"
    out = sandbox.run_bin("exec", "--", "sh", "-c", script)
    key = issued_key(moto)
    result = json.loads(out.stdout)
    assert result == {"key": key, "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE}/vercel-web-production"}


class ShortLivedSts:
    """An STS whose every answer has a new key id and expires `lifetime` seconds after it is
    made; records when each request came."""

    def __init__(self, lifetime):
        self.lifetime = lifetime
        self.calls = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                assert form["Action"] == ["AssumeRoleWithWebIdentity"]
                outer.calls.append(time.time())
                n = len(outer.calls)
                # Whole seconds, rounded up, so no answer lives shorter than `lifetime`.
                expires = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                        time.gmtime(math.ceil(time.time() + outer.lifetime)))
                secret = register_secret(f"shortLivedSecret{n:04d}xxxxxxxxxxxxxxxxxxxxx")
                session = register_secret(f"shortLivedSession{n:04d}")
                body = (
                    "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>"
                    f"<AccessKeyId>ASIASHORTLIVED{n:04d}</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey>"
                    f"<SessionToken>{session}</SessionToken><Expiration>{expires}</Expiration>"
                    "</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>"
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_botocore_takes_every_renewal_from_the_endpoint_and_no_extra_sts_call(sandbox, mint):
    # 900-second sessions are handed out while more than 14 minutes remain. These last 14
    # minutes and 3 seconds, so each is handed out for 3 seconds; botocore, seeing less than 15
    # minutes left, asks the endpoint again before every use.
    hold = 3
    with ShortLivedSts(14 * 60 + hold) as sts:
        sandbox.env.update(
            VERCEL_OIDC_TOKEN=mint(),
            AWS_ROLE_ARN=f"arn:aws:iam::{ACCOUNT}:role/{ROLE}",
            AWS_ENDPOINT_URL_STS=sts.url,
            AWS_DEFAULT_REGION="us-east-1",
            **isolated_aws(sandbox.path),
            VERCEL_OIDC_AWS_CREDENTIALS="endpoint",
        )
        python = os.path.join(VENV_BIN, "python")
        # The child runs until it has been handed three sessions (two renewals), however long
        # a loaded machine takes; the minute is a hang.
        out = sandbox.run_bin("exec", "--duration-seconds", "900", "--",
                              python, "-c", BOTO3_LONG_RUNNING, "3", "60")
        result = json.loads(out.stdout)
        assert result["method"] == "container-role"
        assert result["errors"] == []
        issued = [f"ASIASHORTLIVED{n:04d}" for n in range(1, len(sts.calls) + 1)]
        assert result["keys"] == issued == ["ASIASHORTLIVED0001", "ASIASHORTLIVED0002", "ASIASHORTLIVED0003"], \
            "every key STS issued reached the child, in order, and no other STS call was made"
        gaps = [b - a for a, b in zip(sts.calls, sts.calls[1:])]
        assert all(g >= hold - 0.3 for g in gaps), f"renewed only once each was spent: {gaps}"
        assert out.stderr == ""
