"""google-auth for Python and google-auth-library for Node, pinned, loading the credential file
written by `vercel-oidc gcp configure`, against a local stand-in for Google STS and IAM Credentials
(gcp_mock.py) that hands out access tokens only for the current Vercel token, received byte for
byte.

The clients run in their own processes with only the sandbox's variables and those `configure`
printed, as they would after `eval "$(vercel-oidc gcp configure)"`. For the executable source
they run vercel-oidc themselves, passing it their environment.
"""

import json
import os
import stat
import sys

import pytest

from gcp_mock import GoogleMock

NUMBER = "123456789012"
POOL = "vercel"
PROVIDER = "vercel-acme"
AUDIENCE = f"//iam.googleapis.com/projects/{NUMBER}/locations/global/workloadIdentityPools/{POOL}/providers/{PROVIDER}"
SA = "deploy@my-project.iam.gserviceaccount.com"
PROJECT = "my-project"
SCOPE = "https://www.googleapis.com/auth/devstorage.read_only"
LIFETIME = 1800

# Loaded WITHOUT scopes (scopes= would make google-auth look the project up at
# cloudresourcemanager.googleapis.com), then scoped and refreshed.
PYTHON_CLIENT = """
import json, os, sys
import google.auth
from google.auth.transport.requests import Request
scope = sys.argv[1]
credentials, _ = google.auth.load_credentials_from_file(os.environ["GOOGLE_APPLICATION_CREDENTIALS"])
scoped = credentials.with_scopes([scope])
scoped.refresh(Request())
_, project = google.auth.default()
print(json.dumps({
    "token": scoped.token,
    "expiry": scoped.expiry.isoformat() if scoped.expiry else None,
    "project": project,
    "class": type(credentials).__module__ + "." + type(credentials).__name__,
}))
"""

# GOOGLE_CLOUD_PROJECT is set, so getProjectId() runs neither gcloud nor a metadata probe.
NODE_CLIENT = """
const { GoogleAuth } = require("google-auth-library");
const auth = new GoogleAuth({ keyFile: process.env.GOOGLE_APPLICATION_CREDENTIALS, scopes: [process.env.SCOPE] });
(async () => {
  const client = await auth.getClient();
  const { token } = await client.getAccessToken();
  const project = await auth.getProjectId();
  console.log(JSON.stringify({ token, project, class: client.constructor.name }));
})().catch((e) => { console.error(String((e && e.message) || e)); process.exit(1); });
"""


@pytest.fixture
def google():
    with GoogleMock(AUDIENCE, SA) as mock:
        yield mock


def configure(sandbox, google, token, source, impersonate):
    """Runs `configure` with `token`; returns the variables it printed and the file's JSON."""
    args = [
        "gcp", "configure", "--source", source, "--format", "json",
        "--project-number", NUMBER, "--pool", POOL, "--provider", PROVIDER,
        "--project-id", PROJECT, "--token-url", google.token_url,
    ]
    if impersonate:
        args += ["--service-account", SA, "--token-lifetime-seconds", str(LIFETIME),
                 "--impersonation-url", google.url]
    out = sandbox.run_bin(*args, env={"VERCEL_OIDC_TOKEN": token})
    variables = json.loads(out.stdout)
    expected = ["GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE",
                "GOOGLE_CLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT"]
    if source == "executable":
        expected.append("GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES")
    assert sorted(variables) == sorted(expected)
    path = variables["GOOGLE_APPLICATION_CREDENTIALS"]
    assert os.path.isabs(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    with open(path) as f:
        config = json.load(f)
    if source == "file":
        token_file = config["credential_source"]["file"]
        assert os.path.isabs(token_file)
        assert open(token_file, "rb").read() == token.encode(), "the token exactly, no newline"
        assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    return variables, config


# Set for every client: the clients parse the executable's stdout and stderr together, so its
# diagnostics must stay quiet even when asked for.
QUIET_EVEN_SO = {"VERCEL_OIDC_VERBOSE": "2"}


def run_python(sandbox, variables, check=True, env=None):
    env = dict(variables, **QUIET_EVEN_SO, **(env or {}))
    return sandbox.run([sys.executable, "-c", PYTHON_CLIENT, SCOPE], env=env, check=check,
                       reveals=[GoogleMock.issued_token])


def run_node(sandbox, variables, check=True, env=None):
    return sandbox.node(NODE_CLIENT, env=dict(variables, SCOPE=SCOPE, **QUIET_EVEN_SO, **(env or {})), check=check,
                        reveals=[GoogleMock.issued_token])


def assert_exchanged(google, proc, token, impersonate, sts_before, iam_before):
    """The client got the mock's last token, and the mock received `token` once, byte for byte."""
    result = json.loads(proc.stdout)
    assert result["token"] == google.last_issued()
    assert result["project"] == PROJECT
    sts = google.posts("sts")
    assert len(sts) == sts_before + 1
    assert sts[-1]["form"]["subject_token"] == [token], "the mock received the current token"
    assert sts[-1]["form"]["audience"] == [AUDIENCE]
    iam = google.posts("iam")
    if impersonate:
        assert google.issued[-1][0] == "sa"
        assert len(iam) == iam_before + 1
        body = json.loads(iam[-1]["body"])
        assert body["scope"] == [SCOPE]
        assert body["lifetime"] == f"{LIFETIME}s", "token_lifetime_seconds was read as a number"
    else:
        assert google.issued[-1][0] == "sts"
        assert sts[-1]["form"]["scope"] == [SCOPE]
        assert len(iam) == iam_before
    return result


CASES = [
    pytest.param(source, impersonate, id=f"{source}-{'impersonated' if impersonate else 'direct'}")
    for source in ("file", "executable")
    for impersonate in (False, True)
]


@pytest.mark.parametrize("source,impersonate", CASES)
def test_python_google_auth(sandbox, mint, google, source, impersonate):
    # Two rounds with two different tokens. The file source needs `configure` again after a new
    # token; the executable source reads whatever token the client's environment holds now.
    first = mint(lifetime=3600)
    variables, _ = configure(sandbox, google, first, source, impersonate)
    for token in (first, mint(lifetime=3000)):
        if source == "file" and token != first:
            variables, _ = configure(sandbox, google, token, source, impersonate)
        google.expect(token)
        sts_before, iam_before = len(google.posts("sts")), len(google.posts("iam"))
        proc = run_python(sandbox, variables, env={"VERCEL_OIDC_TOKEN": token})
        result = assert_exchanged(google, proc, token, impersonate, sts_before, iam_before)
        module = "pluggable" if source == "executable" else "identity_pool"
        assert result["class"] == f"google.auth.{module}.Credentials"
        assert result["expiry"]


@pytest.mark.parametrize("source,impersonate", CASES)
def test_node_google_auth_library(sandbox, mint, google, source, impersonate):
    first = mint(lifetime=3600)
    variables, _ = configure(sandbox, google, first, source, impersonate)
    for token in (first, mint(lifetime=3000)):
        if source == "file" and token != first:
            variables, _ = configure(sandbox, google, token, source, impersonate)
        google.expect(token)
        sts_before, iam_before = len(google.posts("sts")), len(google.posts("iam"))
        proc = run_node(sandbox, variables, env={"VERCEL_OIDC_TOKEN": token})
        result = assert_exchanged(google, proc, token, impersonate, sts_before, iam_before)
        assert result["class"] == ("PluggableAuthClient" if source == "executable" else "IdentityPoolClient")


def test_a_stale_token_file_is_refused(sandbox, mint, google):
    # The mock is not a rubber stamp: a file holding another token gets STS's refusal.
    old = mint(lifetime=3600)
    variables, _ = configure(sandbox, google, old, "file", False)
    google.expect(mint(lifetime=3000))
    proc = run_python(sandbox, variables, check=False)
    assert proc.returncode != 0
    assert "invalid_grant" in proc.stderr
    assert google.issued == []


def test_executable_failure_reaches_the_client(sandbox, mint, google):
    # No token in the client's environment: the client reports the executable's own message.
    variables, _ = configure(sandbox, google, mint(), "executable", False)
    for run in (run_python, run_node):
        proc = run(sandbox, variables, check=False)
        assert proc.returncode != 0
        assert "TOKEN_NOT_FOUND" in proc.stderr
        assert "no Vercel OIDC token found" in proc.stderr
    assert google.requests == []


def test_python_reuses_the_executable_output_file(sandbox, mint, google):
    # With `output_file` in the credential file, the executable leaves its response there (0600)
    # and the next client process reads it instead of running the executable.
    token = mint()
    variables, config = configure(sandbox, google, token, "executable", False)
    output_file = sandbox.path / "gcp-cache" / "executable-response.json"
    config["credential_source"]["executable"]["output_file"] = str(output_file)
    with open(variables["GOOGLE_APPLICATION_CREDENTIALS"], "w") as f:
        json.dump(config, f)
    google.expect(token)
    assert_exchanged(google, run_python(sandbox, variables, env={"VERCEL_OIDC_TOKEN": token}), token, False, 0, 0)
    response = json.loads(output_file.read_text())
    assert response["success"] is True and response["id_token"] == token
    assert stat.S_IMODE(os.stat(output_file).st_mode) == 0o600
    # No token in the environment now: only the output file can supply it.
    assert_exchanged(google, run_python(sandbox, variables), token, False, 1, 0)
    assert_exchanged(google, run_node(sandbox, variables), token, False, 2, 0)
