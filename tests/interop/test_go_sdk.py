"""The AWS SDK for Go v2 as Debian ships it (golang-github-aws-aws-sdk-go-v2-dev, config 1.17,
built offline with golang-go), through `config.LoadDefaultConfig` as Terraform's AWS provider
calls it, against moto with request authentication on. The program (go/awsclient/main.go) prints
which provider the SDK's default chain chose, the key id it signed with and the ARN STS answered:
each test checks the provider, and that the key is the one moto issued for the Vercel token.

Three ways: a `credential_process` profile written by `vercel-oidc aws configure`; `vercel-oidc
exec` with its credentials endpoint (the default in local development); and `exec
--aws-credentials env`. The program is built once per session, into the session's temporary
folder, with Go's build cache under the target folder so that later sessions build in a second.
"""

import json
import os
import shutil
from pathlib import Path

import pytest

from aws_moto import ACCOUNT
from conftest import run
from identities import isolated_aws

HERE = Path(__file__).resolve().parent
SDK = Path("/usr/share/gocode/src/github.com/aws/aws-sdk-go-v2")
PATH = "/usr/local/bin:/usr/bin:/bin"
INSTALL = ("install them with `apt-get install golang-go golang-github-aws-aws-sdk-go-v2-dev` "
           "(scripts/test.sh does, as root)")

ROLE = "vercel-deploy"
PROFILE = "vercel"
ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE}/vercel-web-production"


def go_cache():
    """Go's build cache, beside cargo's output (CARGO_TARGET_DIR, else target/)."""
    target = os.environ.get("CARGO_TARGET_DIR") or str(HERE.parents[1] / "target")
    return Path(target) / "go-build-cache"


@pytest.fixture(scope="session")
def awsclient(tmp_path_factory):
    """The path of go/awsclient built against Debian's SDK sources, offline (GOPATH mode)."""
    go = shutil.which("go", path=PATH)
    if go is None:
        pytest.fail(f"the Go SDK tests need `go` on PATH ({PATH}): {INSTALL}")
    if not (SDK / "config" / "config.go").is_file():
        pytest.fail(f"the Go SDK tests need the AWS SDK for Go v2 sources in {SDK}: {INSTALL}")
    folder = tmp_path_factory.mktemp("go")
    out = folder / "awsclient"
    env = {
        "PATH": PATH,
        "HOME": str(folder),
        "GO111MODULE": "off",
        "GOPATH": f"{folder / 'gopath'}:/usr/share/gocode",
        "GOCACHE": str(go_cache()),
        "GOENV": "off",  # no user go.env, and GOFLAGS unset
        "CGO_ENABLED": "0",  # no C compiler needed
    }
    run([go, "build", "-o", str(out), "./go/awsclient"], env, HERE, helper=True, timeout=600)
    return str(out)


def aws_client(sandbox, awsclient, moto, check=True, env=None):
    """The Go program in the sandbox, outside exec; returns the completed run."""
    return sandbox.run([awsclient, moto.url], check=check, env=env)


def inside_exec(sandbox, awsclient, moto, *flags, script=None):
    """The Go program as exec's child (or `script`, a shell line naming it as $0 and the endpoint
    as $1); returns exec's run."""
    command = [awsclient, moto.url] if script is None else ["sh", "-c", script, awsclient, moto.url]
    return sandbox.run_bin("exec", *flags, "--", *command)


def the_issued_key(moto):
    sessions = moto.sessions()
    assert [(s["role_arn"], s["session_name"]) for s in sessions] == [
        (f"arn:aws:iam::{ACCOUNT}:role/{ROLE}", "vercel-web-production")], "one STS call"
    return sessions[0]["access_key_id"]


@pytest.fixture
def aws(sandbox, mint, moto):
    """A role in moto and the token in the environment; no AWS keys or config anywhere.
    Authentication is on after the one unsigned AssumeRoleWithWebIdentity."""
    role_arn = moto.create_role(ROLE)
    sandbox.env.update(VERCEL_OIDC_TOKEN=mint(), AWS_ENDPOINT_URL=moto.url, **isolated_aws(sandbox.path))
    moto.enforce_auth(1)
    return role_arn


def test_go_sdk_through_a_credential_process_profile(sandbox, awsclient, moto, aws):
    config = sandbox.path / "aws-config"
    sandbox.env["AWS_CONFIG_FILE"] = str(config)
    sandbox.run_bin("aws", "configure", "--profile", PROFILE, "--role-arn", aws, "--region", "eu-west-1")

    out = aws_client(sandbox, awsclient, moto, env={"AWS_PROFILE": PROFILE})

    assert json.loads(out.stdout) == {"source": "ProcessProvider", "key": the_issued_key(moto),
                                      "region": "eu-west-1", "arn": ARN}
    assert out.stderr == ""


def test_go_sdk_through_execs_endpoint_the_default_in_local_development(sandbox, awsclient, moto, aws):
    # A linked project, where a fresh token can be had: exec serves the endpoint by default.
    (sandbox.path / ".vercel").mkdir()
    (sandbox.path / ".vercel" / "project.json").write_text(
        json.dumps({"projectId": "prj_web123", "orgId": "team_acme123"}))
    sandbox.env.update(AWS_ROLE_ARN=aws, AWS_REGION="us-east-1")

    out = inside_exec(sandbox, awsclient, moto)

    assert json.loads(out.stdout) == {"source": "CredentialsEndpointProvider", "key": the_issued_key(moto),
                                      "region": "us-east-1", "arn": ARN}


def test_go_sdk_shows_why_execs_endpoint_refused(sandbox, awsclient, moto, aws):
    # This SDK reads AWS_CONTAINER_AUTHORIZATION_TOKEN (not ..._FILE): without it the endpoint
    # answers 401, with another token 403; either way the SDK must show the endpoint's reason.
    sandbox.env.update(AWS_ROLE_ARN=aws, AWS_REGION="us-east-1")
    script = ('env -u AWS_CONTAINER_AUTHORIZATION_TOKEN "$0" "$1"; echo "exit $?"; '
              'AWS_CONTAINER_AUTHORIZATION_TOKEN=not-the-token "$0" "$1"; echo "exit $?"')

    out = inside_exec(sandbox, awsclient, moto, "--aws-credentials", "endpoint", script=script)

    assert out.stdout == "exit 1\nexit 1\n"
    failed = "awsclient: retrieving credentials: failed to refresh cached credentials, failed to load credentials, "
    assert out.stderr.splitlines() == [
        failed + "Unauthorized: the request has no Authorization header: send the token of "
        "AWS_CONTAINER_AUTHORIZATION_TOKEN or AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        failed + "AccessDenied: the Authorization header is not this endpoint's token: it answers only the "
        "command vercel-oidc exec started",
    ]


def test_go_sdk_through_execs_environment_keys(sandbox, awsclient, moto, aws):
    sandbox.env.update(AWS_ROLE_ARN=aws, AWS_REGION="us-east-1")

    out = inside_exec(sandbox, awsclient, moto, "--aws-credentials", "env")

    key = the_issued_key(moto)
    assert json.loads(out.stdout) == {"source": "EnvConfigCredentials", "key": key,
                                      "region": "us-east-1", "arn": ARN}

    # moto checks the signature of this call: the issued key and session token with another
    # secret are refused, so the call above was signed with the secret STS issued.
    [issued] = moto.issued_credentials()
    forged = aws_client(sandbox, awsclient, moto, check=False, env={
        "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": "x" * 40,
        "AWS_SESSION_TOKEN": issued["session_token"], "AWS_REGION": "us-east-1"})
    assert forged.returncode == 1
    assert forged.stderr.startswith("awsclient: GetCallerIdentity: operation error STS: GetCallerIdentity, "
                                    "https response error StatusCode: 403"), forged.stderr
