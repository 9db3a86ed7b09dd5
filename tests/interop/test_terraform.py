"""Terraform itself inside `vercel-oidc exec`, with no step of its own and no credential in its
configuration: `init`, `apply` of a configuration with one `terraform_data` resource, then
`output`, each in its own `exec` as build steps would run them, with the state in

- the `s3` backend, against moto with request authentication on, through exec's credentials
  endpoint and through environment keys;
- the `azurerm` backend with `use_azuread_auth`, through exec's `ARM_*` variables, against the
  Entra stand-in of az_world.py and a blob service stand-in (azure_blob.py), both on Microsoft's
  own host names behind a loopback CONNECT proxy that refuses every other host.

The backends and the `terraform_data` resource are built into the Terraform binary, so nothing
is downloaded. Terraform is in neither Debian's archive nor PyPI or npm: these tests expect it at
/usr/local/bin/terraform (or where TERRAFORM says) and fail, saying so, when it is missing.
"""

import json
import os
import re
import socket
import threading
from pathlib import Path

import boto3
import pytest

from aws_moto import REGION, Relay
from az_world import ConnectProxy
from azure_blob import BlobStandIn
from identities import AZURE_CLIENT, AZURE_TENANT, isolated_aws

TERRAFORM = os.environ.get("TERRAFORM") or "/usr/local/bin/terraform"
MARKER = "made inside vercel-oidc exec"

# One resource of Terraform's built-in provider, so that apply writes a state with something in
# it and no provider is downloaded.
RESOURCES = f"""
resource "terraform_data" "marker" {{
  input = "{MARKER}"
}}

output "marker" {{
  value = terraform_data.marker.output
}}
"""

INIT_OUT = """Initializing the backend...

Successfully configured the backend "{backend}"! Terraform will automatically
use this backend unless the backend configuration changes.
Initializing provider plugins...
- terraform.io/builtin/terraform is built in to Terraform

Terraform has been successfully initialized!
"""

APPLY_OUT = f"""
Terraform used the selected providers to generate the following execution
plan. Resource actions are indicated with the following symbols:
  + create

Terraform will perform the following actions:

  # terraform_data.marker will be created
  + resource "terraform_data" "marker" {{
      + id     = (known after apply)
      + input  = "{MARKER}"
      + output = (known after apply)
    }}

Plan: 1 to add, 0 to change, 0 to destroy.

Changes to Outputs:
  + marker = (known after apply)
terraform_data.marker: Creating...
terraform_data.marker: Creation complete after Ns [id=ID]

Apply complete! Resources: 1 added, 0 changed, 0 destroyed.

Outputs:

marker = "{MARKER}"
"""


def terraform_path():
    if not os.access(TERRAFORM, os.X_OK):
        pytest.fail(f"Terraform is needed at {TERRAFORM} (or set TERRAFORM to it): it is in neither Debian's "
                    "archive nor PyPI or npm; install it from https://releases.hashicorp.com/terraform/",
                    pytrace=False)
    return TERRAFORM


def terraform_env(folder):
    """What each terraform run gets besides the sandbox's environment: a CLI configuration of its
    own (an empty file), a data folder of its own, no prompt, no call home."""
    folder.mkdir(parents=True, exist_ok=True)
    cli_config = folder / "terraformrc"
    cli_config.write_text("")
    return {
        "TF_CLI_CONFIG_FILE": str(cli_config),
        "TF_DATA_DIR": str(folder / "data"),
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",
    }


def init_apply_output(sandbox, exec_args, backend):
    """Writes a configuration with `backend` into a folder of its own, then runs `terraform init`,
    `apply -auto-approve` and `output -raw marker` there, each in its own `vercel-oidc exec
    EXEC_ARGS --`, as a build's steps would; checks what each printed, and returns the names of the
    AWS_ and ARM_ variables terraform was given (the last run's)."""
    terraform = terraform_path()
    folder = sandbox.path / "infra"
    folder.mkdir()
    (folder / "main.tf").write_text(f"terraform {{\n{backend}\n}}\n{RESOURCES}")
    env = terraform_env(sandbox.path / "terraform")
    names = sandbox.path / "cloud-variables"
    # The child records the names (never the values) of its AWS_ and ARM_ variables, then is terraform.
    record = 'env | grep -oE "^(AWS|ARM)_[A-Z0-9_]*=" | tr -d = | sort > "$0"; exec "$@"'
    outputs = [sandbox.run_bin("exec", *exec_args, "--", "sh", "-c", record, str(names), terraform,
                               f"-chdir={folder}", *command, "-no-color", env=env)
               for command in (["init"], ["apply", "-auto-approve"], ["output", "-raw", "marker"])]
    init, apply, output = outputs
    backend_name = re.search(r'backend "(\w+)"', backend).group(1)
    assert (init.stdout, init.stderr) == (INIT_OUT.format(backend=backend_name), "")
    shown = re.sub(r"after \d+s \[id=[0-9a-f-]{36}\]", "after Ns [id=ID]", apply.stdout)
    assert (shown, apply.stderr) == (APPLY_OUT, "")
    assert (output.stdout, output.stderr) == (MARKER, ""), "the next run read the state back"
    return set(names.read_text().split())


def assert_state(data):
    """`data` is the state the apply wrote: its resource and its output."""
    state = json.loads(data)
    value = {"value": MARKER, "type": "string"}
    assert state["outputs"] == {"marker": value}
    assert [(r["type"], r["name"], r["instances"][0]["attributes"]["output"]) for r in state["resources"]] == [
        ("terraform_data", "marker", value)]


# ------------------------------------------------------------------------------------------------
# The s3 backend

ROLE = "vercel-deploy"
BUCKET = "vercel-oidc-tfstate"
STATE_KEY = "web/terraform.tfstate"


class KeyRecordingRelay(Relay):
    """A relay in front of moto that records the access key id of every SigV4 signature passing
    through it toward moto (`Credential=<key id>/...`), bytes passing unchanged both ways."""

    _CREDENTIAL = re.compile(rb"Credential=([A-Z0-9]{16,128})(?:/|%2F)")

    def __init__(self, target_port):
        self.keys = []
        self._lock = threading.Lock()
        super().__init__(target_port)
        self.url = f"http://127.0.0.1:{self.port}"

    def _pump(self, source, sink, requests):  # requests: toward moto
        tail = b""  # the end of what came before, where a signature may have been cut in two
        try:
            while data := source.recv(65536):
                if requests:
                    seen = tail + data
                    found = [m.group(1).decode() for m in self._CREDENTIAL.finditer(seen) if m.end() > len(tail)]
                    with self._lock:
                        self.keys.extend(found)
                    tail = seen[-160:]
                sink.sendall(data)
        except OSError:
            pass
        finally:
            try:
                sink.shutdown(socket.SHUT_WR)
            except OSError:
                pass


@pytest.fixture
def signed_moto(moto):
    """moto, and a relay in front of it that records the key id of every signed request."""
    relay = KeyRecordingRelay(int(moto.url.rsplit(":", 1)[1]))
    try:
        yield moto, relay
    finally:
        relay.close()


def s3_backend(url):
    """The backend with moto as S3, STS and IAM, and no credential."""
    return f"""
  backend "s3" {{
    bucket         = "{BUCKET}"
    key            = "{STATE_KEY}"
    region         = "{REGION}"
    use_path_style = true
    use_lockfile   = true
    endpoints = {{
      s3  = "{url}"
      sts = "{url}"
      iam = "{url}"
    }}
  }}"""


def bucket_with_reader(moto):
    """Creates the bucket, and an IAM user with every right whose keys read it: made while
    authentication is still off, so the test can read the bucket once it is on."""
    iam = boto3.client("iam", endpoint_url=moto.url, region_name=REGION,
                       aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="setup")
    iam.create_user(UserName="state-reader")
    iam.put_user_policy(UserName="state-reader", PolicyName="all", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="state-reader")["AccessKey"]
    s3 = boto3.client("s3", endpoint_url=moto.url, region_name=REGION, aws_access_key_id=key["AccessKeyId"],
                      aws_secret_access_key=key["SecretAccessKey"])
    s3.create_bucket(Bucket=BUCKET)
    return s3


@pytest.mark.parametrize("mode, wired, left_out", [
    ("endpoint", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_ACCESS_KEY_ID"),
    ("env", "AWS_ACCESS_KEY_ID", "AWS_CONTAINER_CREDENTIALS_FULL_URI"),
])
def test_s3_backend_inside_exec(sandbox, mint, signed_moto, mode, wired, left_out):
    moto, relay = signed_moto
    role_arn = moto.create_role(ROLE)
    reader = bucket_with_reader(moto)
    sandbox.env.update(VERCEL_OIDC_TOKEN=mint(), AWS_ROLE_ARN=role_arn, AWS_ENDPOINT_URL_STS=moto.url,
                       AWS_REGION=REGION, **isolated_aws(sandbox.path))
    moto.enforce_auth(1)  # exec's AssumeRoleWithWebIdentity; every request after it must be signed

    names = init_apply_output(sandbox, ["--aws", "--aws-credentials", mode], s3_backend(relay.url))

    assert wired in names and left_out not in names, names
    sessions = moto.sessions()
    assert [s["role_arn"] for s in sessions] == [role_arn], "one STS call for the three runs"
    key = sessions[0]["access_key_id"]
    assert relay.keys and set(relay.keys) == {key}, "every request terraform signed, with the key STS issued"
    assert_state(reader.get_object(Bucket=BUCKET, Key=STATE_KEY)["Body"].read())
    listed = [o["Key"] for o in reader.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert listed == [STATE_KEY], "the state alone: the lock file was taken and given back"


# ------------------------------------------------------------------------------------------------
# The azurerm backend

STORAGE_ACCOUNT = "acmetfstate"
CONTAINER = "tfstate"
AZURE_STATE_KEY = "web.tfstate"
SUBSCRIPTION = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
LOGIN_HOST = "login.microsoftonline.com"
STORAGE_SCOPE = "https://storage.azure.com/.default"

# The backend as the README shows it, less the resource group (which only the account key's and
# the blob endpoint's look-ups through Resource Manager need): no client, tenant or token, and not
# even use_oidc, which ARM_USE_OIDC from exec turns on.
AZURERM_BACKEND = f"""
  backend "azurerm" {{
    storage_account_name = "{STORAGE_ACCOUNT}"
    container_name       = "{CONTAINER}"
    key                  = "{AZURE_STATE_KEY}"
    use_azuread_auth     = true
  }}"""


def test_azurerm_backend_inside_exec(sandbox, mint, az_world):
    token = mint()
    az_world.expect(token)
    entra = az_world.authority
    with BlobStandIn(sandbox.path, STORAGE_ACCOUNT, lambda bearer: bearer in entra.issued) as blob, \
            ConnectProxy({LOGIN_HOST: entra.port, blob.host: blob.port}) as proxy:
        blob.create_container(CONTAINER)
        cas = sandbox.path / "stand-in-cas.pem"
        cas.write_text(Path(entra.ca_path).read_text() + Path(blob.ca_path).read_text())
        # Microsoft's public cloud (exec's default authority, so ARM_ENVIRONMENT=public), reached
        # through the proxy, whose stand-ins terraform trusts through SSL_CERT_FILE.
        sandbox.env.update(VERCEL_OIDC_TOKEN=token, AZURE_TENANT_ID=AZURE_TENANT, AZURE_CLIENT_ID=AZURE_CLIENT,
                           AZURE_SUBSCRIPTION_ID=SUBSCRIPTION, HTTPS_PROXY=proxy.url, SSL_CERT_FILE=str(cas))

        names = init_apply_output(sandbox, ["--azure"], AZURERM_BACKEND)

        # Each terraform run got an access token for the blob service from Entra with the current
        # Vercel token, and presented those tokens and no other to the blob service.
        grants = [(r["host"], r["path"], r["form"]["client_id"], r["form"]["scope"], r["form"]["client_assertion"])
                  for r in entra.token_requests()]
        assert grants == [(LOGIN_HOST, f"/{AZURE_TENANT}/oauth2/v2.0/token", [AZURE_CLIENT], [STORAGE_SCOPE],
                           [token])] * 3
        assert blob.unhandled == []
        assert sorted(set(blob.bearer_tokens())) == sorted(entra.issued)
        assert set(proxy.tunnelled) == {LOGIN_HOST, blob.host} and proxy.refused == []

        assert names == {"ARM_CLIENT_ID", "ARM_ENVIRONMENT", "ARM_OIDC_TOKEN_FILE_PATH", "ARM_SUBSCRIPTION_ID",
                         "ARM_TENANT_ID", "ARM_USE_OIDC"}
        state = blob.blob(CONTAINER, AZURE_STATE_KEY)
        assert_state(state.data)
        assert (state.content_type, state.lease, state.metadata) == ("application/json", None, {}), \
            "the lock was taken and given back"
