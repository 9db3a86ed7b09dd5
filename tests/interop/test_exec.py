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
