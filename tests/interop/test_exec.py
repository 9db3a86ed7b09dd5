"""Real clients run inside `vercel-oidc exec`, as a build command would run them: the AWS CLI
against moto with request authentication on, google-auth against the Google stand-in, and
azure-identity against the HTTPS Entra stand-in. Nothing is configured but environment variables;
every client finds its credentials through its own native mechanism.
"""

import json
import os
import sys

from aws_moto import ACCOUNT
from azure_mock import AzureMock
from conftest import VENV_BIN
from gcp_mock import GoogleMock
from identities import (AZURE_CLIENT, AZURE_SCOPE, AZURE_TENANT, GCP_AUDIENCE, GCP_NUMBER, GCP_POOL,
                        GCP_PROVIDER, GCP_SA, GCP_SCOPE, isolated_aws)

ROLE = "vercel-deploy"

GOOGLE_CLIENT = """
import json, os, sys
import google.auth
from google.auth.transport.requests import Request
credentials, _ = google.auth.load_credentials_from_file(os.environ["GOOGLE_APPLICATION_CREDENTIALS"])
scoped = credentials.with_scopes([sys.argv[1]])
scoped.refresh(Request())
print(json.dumps({"token": scoped.token, "project": os.environ.get("GOOGLE_CLOUD_PROJECT")}))
"""

AZURE_CLIENT_SCRIPT = """
import json, sys
from azure.identity import DefaultAzureCredential
token = DefaultAzureCredential(exclude_interactive_browser_credential=True).get_token(sys.argv[1])
print(json.dumps({"token": token.token}))
"""


def exec_child(sandbox, *command, env=None, reveals=()):
    """`vercel-oidc exec -- command...`, with the child's stdout returned; it may print `reveals`."""
    return sandbox.run_bin("exec", "--", *command, env=env, reveals=reveals)


def test_aws_cli_inside_exec(sandbox, mint, moto):
    role_arn = moto.create_role(ROLE)
    sandbox.env.update(
        VERCEL_OIDC_TOKEN=mint(),
        AWS_ROLE_ARN=role_arn,
        AWS_ENDPOINT_URL=moto.url,
        AWS_DEFAULT_REGION="us-east-1",
        **isolated_aws(sandbox.path),
        AWS_PROFILE="does-not-exist",  # exec must remove it, or the CLI would fail on it
    )
    moto.enforce_auth(1)  # the one unsigned AssumeRoleWithWebIdentity; everything else is signed
    aws = os.path.join(VENV_BIN, "aws")
    script = (f"'{aws}' sts get-caller-identity --output json && "
              f"'{aws}' s3 mb s3://vercel-oidc-exec && '{aws}' s3 ls")
    out = exec_child(sandbox, "sh", "-c", script)
    identity = json.loads(out.stdout[: out.stdout.index("}") + 1])
    assert identity["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE}/vercel-web-production"
    assert "vercel-oidc-exec" in out.stdout
    assert len(moto.sessions()) == 1

    # The same CLI outside exec has no credentials moto accepts.
    outside = sandbox.run([aws, "sts", "get-caller-identity"], check=False,
                          env={"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "x",
                               "AWS_PROFILE": ""})
    assert outside.returncode != 0


def test_google_auth_inside_exec(sandbox, mint):
    token = mint()
    with GoogleMock(GCP_AUDIENCE, GCP_SA) as google:
        google.expect(token)
        sandbox.env.update(
            VERCEL_OIDC_TOKEN=token,
            GCP_PROJECT_NUMBER=GCP_NUMBER,
            GCP_WORKLOAD_IDENTITY_POOL_ID=GCP_POOL,
            GCP_WORKLOAD_IDENTITY_POOL_PROVIDER_ID=GCP_PROVIDER,
            GCP_SERVICE_ACCOUNT_EMAIL=GCP_SA,
            GCP_PROJECT_ID="my-project",
            VERCEL_OIDC_GCP_TOKEN_URL=google.token_url,
            VERCEL_OIDC_GCP_IMPERSONATION_URL=google.url,
        )
        out = exec_child(sandbox, sys.executable, "-c", GOOGLE_CLIENT, GCP_SCOPE,
                         reveals=[GoogleMock.issued_token])
        result = json.loads(out.stdout)
        assert result["token"] == google.last_issued()
        assert result["project"] == "my-project"
        sts = google.posts("sts")
        assert sts[-1]["form"]["subject_token"] == [token], "the mock received the current token"
        assert len(google.posts("iam")) == 1, "impersonation went through IAM Credentials"


def test_azure_identity_inside_exec(sandbox, mint):
    token = mint()
    with AzureMock(sandbox.path, AZURE_TENANT, AZURE_CLIENT) as authority:
        authority.expect(token)
        sandbox.env.update(
            VERCEL_OIDC_TOKEN=token,
            AZURE_TENANT_ID=AZURE_TENANT,
            AZURE_CLIENT_ID=AZURE_CLIENT,
            AZURE_AUTHORITY_HOST=authority.url,
            REQUESTS_CA_BUNDLE=authority.ca_path,
        )
        out = exec_child(sandbox, sys.executable, "-c", AZURE_CLIENT_SCRIPT, AZURE_SCOPE,
                         reveals=[AzureMock.issued_token])
        result = json.loads(out.stdout)
        assert result["token"] == authority.issued[-1]
        last = authority.token_requests()[-1]
        assert last["form"]["client_assertion"] == [token], "the mock received the current token"
        assert last["form"]["client_id"] == [AZURE_CLIENT]


# What Terraform's azurerm and azuread providers read for OIDC with a token file (their
# documentation's names), and the client-credential grant they then make with those values. The
# providers cannot be installed here (no registry access), so a script plays them: it reads only
# these variables, the token file once, as the providers do, and the stand-in's authority (a
# loopback authority is no Azure cloud, so exec leaves ARM_ENVIRONMENT to the providers).
AZURERM_VARIABLES = ["ARM_CLIENT_ID", "ARM_OIDC_TOKEN_FILE_PATH", "ARM_SUBSCRIPTION_ID", "ARM_TENANT_ID",
                     "ARM_USE_OIDC"]
AZURERM_CLIENT_SCRIPT = """
import json, os, sys, urllib.parse, urllib.request
arm = {k: v for k, v in os.environ.items() if k.startswith("ARM_")}
assertion = open(arm["ARM_OIDC_TOKEN_FILE_PATH"]).read().strip()
form = urllib.parse.urlencode({
    "client_id": arm["ARM_CLIENT_ID"],
    "scope": "https://management.azure.com/.default",
    "grant_type": "client_credentials",
    "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    "client_assertion": assertion,
}).encode()
url = sys.argv[1] + arm["ARM_TENANT_ID"] + "/oauth2/v2.0/token"
import ssl
context = ssl.create_default_context(cafile=os.environ["REQUESTS_CA_BUNDLE"])
with urllib.request.urlopen(urllib.request.Request(url, data=form), context=context) as r:
    token = json.load(r)["access_token"]
print(json.dumps({"names": sorted(arm), "use_oidc": arm["ARM_USE_OIDC"],
                  "subscription": arm["ARM_SUBSCRIPTION_ID"], "token": token}))
"""


def test_what_terraform_azurerm_reads_inside_exec_makes_a_grant(sandbox, mint):
    token = mint()
    subscription = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
    with AzureMock(sandbox.path, AZURE_TENANT, AZURE_CLIENT) as authority:
        authority.expect(token)
        sandbox.env.update(
            VERCEL_OIDC_TOKEN=token,
            AZURE_TENANT_ID=AZURE_TENANT,
            AZURE_CLIENT_ID=AZURE_CLIENT,
            AZURE_SUBSCRIPTION_ID=subscription,
            AZURE_AUTHORITY_HOST=authority.url,
            REQUESTS_CA_BUNDLE=authority.ca_path,
            ARM_CLIENT_SECRET="stale-secret-that-would-win",
        )
        out = exec_child(sandbox, sys.executable, "-c", AZURERM_CLIENT_SCRIPT, authority.url,
                         reveals=[AzureMock.issued_token])
        result = json.loads(out.stdout)
        assert result == {"names": AZURERM_VARIABLES, "use_oidc": "true", "subscription": subscription,
                          "token": authority.issued[-1]}
        last = authority.token_requests()[-1]
        assert last["form"]["client_assertion"] == [token], "the stand-in received the current token"
        assert last["form"]["client_id"] == [AZURE_CLIENT]
