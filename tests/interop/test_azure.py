"""azure-identity for Python and @azure/identity for Node, pinned, reading the environment printed
by `vercel-oidc azure configure`, against a local HTTPS stand-in for Entra ID (azure_mock.py) that
hands out an access token only for the current Vercel token, received byte for byte.

The clients run in their own processes with only the sandbox's variables and those `configure`
printed, as they would after `eval "$(vercel-oidc azure configure)"`.
"""

import json
import os
import stat
import sys

import pytest

from azure_mock import AzureMock

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT = "11111111-2222-3333-4444-555555555555"
SCOPE = "https://management.azure.com/.default"

PYTHON_CLIENT = """
import json, sys
from azure.identity import DefaultAzureCredential, WorkloadIdentityCredential
kind, scope = sys.argv[1], sys.argv[2]
if kind == "workload":
    credential = WorkloadIdentityCredential()
else:
    credential = DefaultAzureCredential(exclude_interactive_browser_credential=True)
token = credential.get_token(scope)
print(json.dumps({"token": token.token, "expires_on": token.expires_on}))
"""

NODE_CLIENT = """
const { WorkloadIdentityCredential } = require("@azure/identity");
const credential = new WorkloadIdentityCredential({ disableInstanceDiscovery: true });
credential.getToken(process.env.SCOPE).then(
  (t) => console.log(JSON.stringify({ token: t.token, expires_on: t.expiresOnTimestamp })),
  (e) => { console.error(String(e && e.message || e)); process.exit(1); },
);
"""


@pytest.fixture
def authority(sandbox):
    with AzureMock(sandbox.path, TENANT, CLIENT) as mock:
        yield mock


def configure(sandbox, authority, token):
    """Runs `configure` with `token` and returns the variables it printed."""
    out = sandbox.run_bin(
        "azure", "configure", "--tenant-id", TENANT, "--client-id", CLIENT,
        "--authority-host", authority.url, "--format", "json",
        env={"VERCEL_OIDC_TOKEN": token},
    )
    variables = json.loads(out.stdout)
    # The SDKs' four, and Terraform's (a loopback authority is none of Azure's clouds: no
    # ARM_ENVIRONMENT).
    assert sorted(variables) == sorted(
        ["AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST",
         "ARM_USE_OIDC", "ARM_CLIENT_ID", "ARM_TENANT_ID", "ARM_OIDC_TOKEN_FILE_PATH"]
    )
    path = variables["AZURE_FEDERATED_TOKEN_FILE"]
    assert open(path, "rb").read() == token.encode(), "the file holds the token exactly, no newline"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    return variables


def run_python(sandbox, variables, authority, kind, check=True):
    env = dict(variables, REQUESTS_CA_BUNDLE=authority.ca_path)
    return sandbox.run([sys.executable, "-c", PYTHON_CLIENT, kind, SCOPE], env=env, check=check,
                       reveals=[AzureMock.issued_token])


def run_node(sandbox, variables, authority, check=True):
    env = dict(variables, NODE_EXTRA_CA_CERTS=authority.ca_path, SCOPE=SCOPE)
    return sandbox.node(NODE_CLIENT, env=env, check=check, reveals=[AzureMock.issued_token])


def assert_got_token_for(authority, proc, token):
    result = json.loads(proc.stdout)
    assert result["token"] == authority.issued[-1]
    last = authority.token_requests()[-1]
    assert last["form"]["client_assertion"] == [token], "the mock received the current token"
    assert last["form"]["client_id"] == [CLIENT]
    assert last["form"]["scope"] == [SCOPE]
    assert last["path"] == f"/{TENANT}/oauth2/v2.0/token"


@pytest.mark.parametrize("kind", ["workload", "default"])
def test_python_credentials_use_the_current_token(sandbox, mint, authority, kind):
    # Two rounds with two different tokens: after `configure` runs again, a new client process
    # sends the new token, read from the same file.
    files = set()
    for lifetime in (3600, 3000):
        token = mint(lifetime=lifetime)
        authority.expect(token)
        variables = configure(sandbox, authority, token)
        files.add(variables["AZURE_FEDERATED_TOKEN_FILE"])
        proc = run_python(sandbox, variables, authority, kind)
        assert_got_token_for(authority, proc, token)
    assert len(files) == 1
    assert len(authority.token_requests()) == 2


def test_python_client_with_a_stale_file_is_refused(sandbox, mint, authority):
    # The mock is not a rubber stamp: a file holding another token gets Entra's refusal.
    old = mint(lifetime=3600)
    variables = configure(sandbox, authority, old)
    authority.expect(mint(lifetime=3000))
    proc = run_python(sandbox, variables, authority, "workload", check=False)
    assert proc.returncode != 0
    assert "AADSTS70021" in proc.stderr
    assert authority.issued == []


def test_node_workload_identity_credential_uses_the_current_token(sandbox, mint, authority):
    for lifetime in (3600, 3000):
        token = mint(lifetime=lifetime)
        authority.expect(token)
        variables = configure(sandbox, authority, token)
        proc = run_node(sandbox, variables, authority)
        assert_got_token_for(authority, proc, token)
    paths = {r["path"] for r in authority.requests}
    assert paths == {f"/{TENANT}/v2.0/.well-known/openid-configuration", f"/{TENANT}/oauth2/v2.0/token"}


def test_access_token_command_against_the_same_authority(sandbox, mint, authority):
    # The binary's own exchange, through SSL_CERT_FILE, agrees with what the SDKs send.
    token = mint()
    authority.expect(token)
    out = sandbox.run_bin(
        "azure", "access-token", "--scope", SCOPE, "--json", "--tenant-id", TENANT, "--client-id", CLIENT,
        "--authority-host", authority.url,
        env={"VERCEL_OIDC_TOKEN": token, "SSL_CERT_FILE": authority.ca_path}, reveals=[AzureMock.issued_token],
    )
    result = json.loads(out.stdout)
    assert result["access_token"] == authority.issued[-1]
    form = authority.token_requests()[-1]["form"]
    assert form["client_assertion"] == [token]
    assert sorted(form) == sorted(["client_id", "scope", "grant_type", "client_assertion_type", "client_assertion"])
