"""The AWS CLI and boto3, pinned, using a profile written by `vercel-oidc aws configure`, against
moto's server as STS and S3 with request authentication on: a call gets through only when it was
signed with the temporary credentials STS issued for the Vercel token.

Only environment variables reach a credential_process, so everything vercel-oidc needs (the token,
the STS endpoint, the cache location) is set in the environment of the client, as on Vercel.
"""

import json
import os

import pytest

from aws_moto import ACCOUNT
from conftest import VENV_BIN

PROFILE = "vercel"
ROLE = "vercel-deploy"
BUCKET = "vercel-oidc-interop"
DEFAULT_SESSION = "vercel-web-production"  # from the minted token: project `web`, production

# What a user already has in ~/.aws/config; configure must leave all of it as it is.
EXISTING_CONFIG = """\
# my settings, keep them
[default]
region = eu-central-1
output = text

[profile other]
; a comment inside a profile
region = eu-west-1
"""


@pytest.fixture
def aws(sandbox, mint, moto):
    """The sandbox set up as on Vercel: a token in VERCEL_OIDC_TOKEN, an AWS config file, and
    the AWS endpoints pointed at moto. No AWS keys anywhere."""
    config = sandbox.path / "aws" / "config"
    config.parent.mkdir()
    sandbox.env.update(
        VERCEL_OIDC_TOKEN=mint(),
        AWS_CONFIG_FILE=str(config),
        AWS_SHARED_CREDENTIALS_FILE=str(sandbox.path / "aws" / "credentials"),
        AWS_ENDPOINT_URL=moto.url,
        AWS_EC2_METADATA_DISABLED="true",
    )
    return config


def configure(sandbox, role_arn, *extra):
    return sandbox.run_bin("aws", "configure", "--profile", PROFILE, "--role-arn", role_arn,
                           "--region", "us-east-1", *extra)


def aws_cli(sandbox, *args, check=True, env=None):
    return sandbox.run([os.path.join(VENV_BIN, "aws"), *args], check=check, env=env)


def assumed_role_arn(session):
    return f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE}/{session}"


def test_aws_cli_through_configured_profile(sandbox, aws, moto):
    aws.write_text(EXISTING_CONFIG)
    role_arn = moto.create_role(ROLE)
    moto.enforce_auth(1)  # exactly one unsigned request: the first AssumeRoleWithWebIdentity

    out = configure(sandbox, role_arn)
    assert f"added profile `{PROFILE}` in `{aws}`" in out.stderr
    written = aws.read_text()
    assert written.startswith(EXISTING_CONFIG), "the user's lines, comments and profiles are kept"
    assert aws_cli(sandbox, "configure", "get", "region", "--profile", "other").stdout.strip() == "eu-west-1"
    again = configure(sandbox, role_arn)
    assert "already up to date" in again.stderr
    assert aws.read_text() == written

    identity = json.loads(aws_cli(sandbox, "sts", "get-caller-identity", "--profile", PROFILE,
                                  "--output", "json").stdout)
    assert identity["Arn"] == assumed_role_arn(DEFAULT_SESSION)
    assert identity["Account"] == ACCOUNT
    made = aws_cli(sandbox, "s3", "mb", f"s3://{BUCKET}", "--profile", PROFILE)
    assert made.stdout.strip() == f"make_bucket: {BUCKET}"
    listing = aws_cli(sandbox, "s3", "ls", "--profile", PROFILE)
    assert listing.stdout.split()[-1] == BUCKET

    sessions = moto.sessions()
    assert [(s["role_arn"], s["session_name"]) for s in sessions] == [(role_arn, DEFAULT_SESSION)], \
        "three AWS CLI commands, one STS call: the second and third came from the cache"
    issued = moto.issued_credentials()

    # Authentication really is on: unknown keys are refused, and so are the issued key and
    # session token signed with anything but the issued secret.
    forged = aws_cli(sandbox, "s3", "ls", "--region", "us-east-1", check=False, env={
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    })
    assert forged.returncode != 0
    assert "InvalidAccessKeyId" in forged.stderr
    wrong_secret = aws_cli(sandbox, "s3", "ls", "--region", "us-east-1", check=False, env={
        "AWS_ACCESS_KEY_ID": issued[0]["access_key_id"],
        "AWS_SECRET_ACCESS_KEY": "x" * 40,
        "AWS_SESSION_TOKEN": issued[0]["session_token"],
    })
    assert wrong_secret.returncode != 0
    assert "SignatureDoesNotMatch" in wrong_secret.stderr


# Runs in its own Python so that botocore starts the credential_process with the sandbox's
# environment, as it would on Vercel. Prints what the test checks as JSON.
BOTO3_SCRIPT = """
import datetime, json, logging, sys
import boto3

class Refreshes(logging.Handler):
    # botocore logs each credential_process re-run it used, and warns when one failed.
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.used = 0
        self.failed = 0
    def emit(self, record):
        if record.levelno >= logging.WARNING:
            self.failed += 1
        elif record.getMessage().startswith("Retrieved credentials will expire at"):
            self.used += 1

log = logging.getLogger("botocore.credentials")
log.setLevel(logging.DEBUG)
refreshes = Refreshes()
log.addHandler(refreshes)

session = boto3.Session(profile_name=sys.argv[1])
sts, s3 = session.client("sts"), session.client("s3")
arn = sts.get_caller_identity()["Arn"]
s3.create_bucket(Bucket=sys.argv[2])
s3.put_object(Bucket=sys.argv[2], Key="hello.txt", Body=b"hi")
buckets = [b["Name"] for b in s3.list_buckets()["Buckets"]]
keys = [o["Key"] for o in s3.list_objects_v2(Bucket=sys.argv[2])["Contents"]]
creds = session.get_credentials()
left = (creds._expiry_time - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
print(json.dumps({"arn": arn, "buckets": buckets, "keys": keys, "method": creds.method,
                  "seconds_left": left, "refresh_needed": creds.refresh_needed(),
                  "reruns_used": refreshes.used, "reruns_failed": refreshes.failed}))
"""


def boto3_run(sandbox):
    proc = sandbox.run([os.path.join(VENV_BIN, "python"), "-c", BOTO3_SCRIPT, PROFILE, BUCKET])
    return json.loads(proc.stdout)


def test_boto3_session_through_configured_profile(sandbox, aws, moto):
    role_arn = moto.create_role(ROLE)
    moto.enforce_auth(1)
    configure(sandbox, role_arn, "--session-name", "ci-boto3")

    got = boto3_run(sandbox)

    assert got["method"] == "custom-process"
    assert got["arn"] == assumed_role_arn("ci-boto3")
    assert got["buckets"] == [BUCKET]
    assert got["keys"] == ["hello.txt"]
    assert 3000 < got["seconds_left"] <= 3600
    assert got["refresh_needed"] is False, "an hour's credentials need no refresh"
    assert [s["session_name"] for s in moto.sessions()] == ["ci-boto3"]


def test_boto3_accepts_short_lived_credentials_from_the_cache(sandbox, aws, moto):
    """With 900 s credentials botocore is always inside its 15-minute advisory window, so it runs
    the credential_process again before every call. Each re-run must be answered from the cache
    (one STS call in all) with credentials botocore accepts (more than its 10-minute minimum)."""
    role_arn = moto.create_role(ROLE)
    moto.enforce_auth(1)
    configure(sandbox, role_arn, "--duration-seconds", "900")

    got = boto3_run(sandbox)

    assert got["arn"] == assumed_role_arn(DEFAULT_SESSION)
    assert got["buckets"] == [BUCKET] and got["keys"] == ["hello.txt"]
    assert 600 < got["seconds_left"] <= 900
    assert got["refresh_needed"] is True, "botocore re-runs the process for credentials this short"
    assert got["reruns_used"] >= 4, "one re-run per call after the first"
    assert got["reruns_failed"] == 0
    assert len(moto.sessions()) == 1, "every re-run was served from the cache"


def test_no_cache_env_var_makes_every_cli_command_ask_sts(sandbox, aws, moto):
    """VERCEL_OIDC_NO_CACHE=1, as README documents it, reaches the credential_process through
    the environment and turns the cache off."""
    role_arn = moto.create_role(ROLE)
    configure(sandbox, role_arn)

    for _ in range(2):
        moto.enforce_auth(1)  # moto counts every request against the allowance: renew it
        identity = aws_cli(sandbox, "sts", "get-caller-identity", "--profile", PROFILE, "--output", "json",
                           env={"VERCEL_OIDC_NO_CACHE": "1"})
        assert json.loads(identity.stdout)["Arn"] == assumed_role_arn(DEFAULT_SESSION)

    assert len(moto.sessions()) == 2
    cache = sandbox.path / "cache" / "vercel-oidc"
    assert not cache.exists() or not any(cache.glob("aws-*.json"))


@pytest.mark.parametrize("audience", [
    "https://vercel.com/acme",  # AWS CLI v1 fetches a bare https:// value of a parameter
    "https://vercel.com/a,https://evil.example",
    '["https://vercel.com/acme","https://evil.example"]',  # a bare value starting with [ is JSON
    "file:///etc/hostname",  # a bare file:// value is replaced by the file's content
])
def test_doctors_provider_command_registers_exactly_the_tokens_audience(sandbox, mint, moto, audience):
    """The `aws iam create-open-id-connect-provider` command that doctor prints, pasted into a
    shell with the pinned AWS CLI, registers the token's audience as the one client id, as it
    is: not split, not parsed as JSON, not loaded from a file, not fetched."""
    sandbox.env.update(VERCEL_OIDC_TOKEN=mint(aud=audience), AWS_ROLE_ARN=f"arn:aws:iam::{ACCOUNT}:role/{ROLE}")
    report = sandbox.json_bin("doctor", "--offline", "--json", "--aws", check=False)
    command = report["aws"]["trust"]["commands"][0]
    assert command.startswith("aws iam create-open-id-connect-provider --url https://oidc.vercel.com/acme "), command
    keys = {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "example",
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": moto.url,
            "AWS_CONFIG_FILE": str(sandbox.path / "none"), "AWS_EC2_METADATA_DISABLED": "true"}
    sandbox.run(["sh", "-c", command], env=keys)
    listed = aws_cli(sandbox, "iam", "get-open-id-connect-provider", "--open-id-connect-provider-arn",
                     f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.vercel.com/acme", "--output", "json", env=keys)
    assert json.loads(listed.stdout)["ClientIDList"] == [audience]
