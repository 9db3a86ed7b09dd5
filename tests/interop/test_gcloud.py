"""gcloud (the Google Cloud CLI, Cloud SDK 528 on these machines) against the Google stand-in of
gcp_mock.py: STS, IAM Credentials, STS's token introspection and a Cloud Storage bucket listing,
each answering only for the current Vercel token or for an access token the stand-in issued for
it. Each test proves gcloud's credential came from our exchange: the access token gcloud shows or
sends to storage is the one the stand-in issued, and STS received the minted token byte for byte.

How gcloud 528 uses an `external_account` file (googlecloudsdk/core/credentials/store.py,
creds.py, introspect.py): it caches access tokens in `$CLOUDSDK_CONFIG/access_tokens.db` under
the account's name and refreshes one with less than 5 minutes left before each command. The
account of impersonated credentials is the service account; that of direct credentials is found
by introspecting a fresh access token at the file's `token_info_url` (else at
sts.googleapis.com, whatever `token_url` says), with `auth login --cred-file` once, and with
CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE (what `exec` sets) on every command: so introspection
requests reaching the stand-in show gcloud read `token_info_url`. No test sets the
auth/token_introspection_endpoint property, which would win over the file.

Every gcloud run gets a private CLOUDSDK_CONFIG, prompts and the metadata-server probe off, and
CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE pointing `gcloud storage` at the stand-in.
"""

import json
import os
import shutil

import pytest

from gcp_mock import GoogleMock
from identities import GCP_AUDIENCE, GCP_NUMBER, GCP_POOL, GCP_PROVIDER, GCP_SA

PROJECT = "my-project"  # gcloud 528 refuses a project number where it takes a project id
BUCKET = "vercel-bucket"
OBJECTS = ["hello.txt", "notes.txt"]
LISTING = "".join(f"gs://{BUCKET}/{name}\n" for name in OBJECTS)
SUBJECT = "owner:acme:project:web:environment:production"  # the minted token's `sub`
PRINCIPAL = (f"principal://iam.googleapis.com/projects/{GCP_NUMBER}/locations/global/"
             f"workloadIdentityPools/{GCP_POOL}/subject/{SUBJECT}")

INSTALL = ("gcloud (the Google Cloud CLI) is needed on PATH for these tests and is not in Debian's "
           "archive: install the package google-cloud-cli from Google's apt repository "
           "(https://cloud.google.com/sdk/docs/install#deb), as these machines have it at /usr/bin/gcloud")


@pytest.fixture
def gcloud(sandbox):
    """gcloud's path, with the sandbox set up for it: a private config folder and no prompt, no
    metadata-server probe, no update check."""
    path = shutil.which("gcloud", path=sandbox.env["PATH"])
    if path is None:
        pytest.fail(INSTALL)
    sandbox.env.update(
        CLOUDSDK_CONFIG=str(sandbox.path / "gcloud-config"),
        CLOUDSDK_CORE_DISABLE_PROMPTS="1",
        CLOUDSDK_CORE_CHECK_GCE_METADATA="false",
        CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK="1",
    )
    return path


def google_mock(sandbox, **options):
    mock = GoogleMock(GCP_AUDIENCE, GCP_SA, buckets={BUCKET: OBJECTS}, **options)
    sandbox.env["CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE"] = mock.storage_url
    return mock


@pytest.fixture
def google(sandbox, gcloud):
    with google_mock(sandbox) as mock:
        yield mock


def settings(google, impersonate):
    """The GCP settings, as environment variables, `exec` and `gcp configure` read."""
    env = {
        "GCP_PROJECT_NUMBER": GCP_NUMBER,
        "GCP_WORKLOAD_IDENTITY_POOL_ID": GCP_POOL,
        "GCP_WORKLOAD_IDENTITY_POOL_PROVIDER_ID": GCP_PROVIDER,
        "GCP_PROJECT_ID": PROJECT,
        "VERCEL_OIDC_GCP_TOKEN_URL": google.token_url,
    }
    if impersonate:
        env.update(GCP_SERVICE_ACCOUNT_EMAIL=GCP_SA, VERCEL_OIDC_GCP_IMPERSONATION_URL=google.url)
    return env


def subject_tokens(google, **names):
    """The subject token of each STS request, in order, by its name in `names` (so that a failure
    shows no token)."""
    known = {token: name for name, token in names.items()}
    return [known.get(r["form"]["subject_token"][0], "another token") for r in google.posts("sts")]


def which(google, access_token):
    """Which of the stand-in's access tokens `access_token` is: its kind (`sts` or `sa`) and its
    place among all it issued, from 1; or None (a failure shows no token)."""
    places = {token: (kind, n) for n, (kind, token) in enumerate(google.issued, 1)}
    return places.get(access_token)


def assert_exchanged_only(google, token):
    """Every STS request carried `token`, and was answered."""
    sts = google.posts("sts")
    assert sts, "gcloud made no exchange"
    assert subject_tokens(google, minted=token) == ["minted"] * len(sts)
    assert [r["form"]["audience"] for r in sts] == [[GCP_AUDIENCE]] * len(sts)
    assert len([kind for kind, _ in google.issued if kind == "sts"]) == len(sts)


def assert_introspected_at_the_stand_in(google, impersonate):
    """Direct credentials were introspected at the file's token_info_url (the stand-in), with a
    token its STS issued; impersonated ones were not introspected at all."""
    introspected = google.posts("introspect")
    if impersonate:
        assert introspected == []
        return
    assert introspected, "gcloud did not introspect at token_info_url"
    sts_tokens = [token for kind, token in google.issued if kind == "sts"]
    assert all(r["form"]["token"][0] in sts_tokens for r in introspected), "introspected a token STS issued"


def storage_bearer(google):
    """The token of the one storage request, which the stand-in answered."""
    [listing] = google.posts("storage")
    assert listing["path"] == f"/storage/v1/b/{BUCKET}/o"
    return listing["headers"]["authorization"].removeprefix("Bearer ")


IMPERSONATION = [pytest.param(False, id="direct"), pytest.param(True, id="impersonated")]


@pytest.mark.parametrize("impersonate", IMPERSONATION)
def test_gcloud_inside_exec(sandbox, mint, gcloud, google, impersonate):
    token = mint()
    google.expect(token)
    sandbox.env.update(VERCEL_OIDC_TOKEN=token, **settings(google, impersonate))
    script = f"'{gcloud}' auth print-access-token && '{gcloud}' storage ls gs://{BUCKET}"

    out = sandbox.run_bin("exec", "--gcp", "--", "sh", "-c", script, reveals=[GoogleMock.issued_token])

    printed, listing = out.stdout.split("\n", 1)
    assert listing == LISTING
    kind = "sa" if impersonate else "sts"
    assert (which(google, printed) or ("not issued",))[0] == kind, "a token the stand-in issued"
    assert (which(google, storage_bearer(google)) or ("not issued",))[0] == kind
    assert_exchanged_only(google, token)
    assert_introspected_at_the_stand_in(google, impersonate)
    assert len(google.posts("iam")) == (len(google.posts("sts")) if impersonate else 0)


def configure(sandbox, google, token, source, impersonate):
    """`vercel-oidc gcp configure` with `token`; returns the credential file's path."""
    out = sandbox.run_bin("gcp", "configure", "--source", source, "--format", "json",
                          env=dict(settings(google, impersonate), VERCEL_OIDC_TOKEN=token))
    path = json.loads(out.stdout)["GOOGLE_APPLICATION_CREDENTIALS"]
    with open(path) as f:
        written = json.load(f)
    assert written.get("token_info_url") == google.introspect_url, "the same STS base as token_url"
    return path


def login(sandbox, gcloud, path, env=None):
    """`gcloud auth login --cred-file=PATH`; returns the account gcloud says it authenticated."""
    out = sandbox.run([gcloud, "auth", "login", f"--cred-file={path}"], env=env)
    first = out.stderr.strip().splitlines()[0]
    prefix, suffix = "Authenticated with external account credentials for: [", "]."
    assert first.startswith(prefix) and first.endswith(suffix), out.stderr
    return first[len(prefix):-len(suffix)]


SOURCES = [pytest.param(source, impersonate, id=f"{source}-{'impersonated' if impersonate else 'direct'}")
           for source in ("file", "executable") for impersonate in (False, True)]


@pytest.mark.parametrize("source,impersonate", SOURCES)
def test_gcloud_auth_login_with_a_configured_file(sandbox, mint, gcloud, google, source, impersonate):
    token = mint()
    google.expect(token)
    path = configure(sandbox, google, token, source, impersonate)
    # What gcloud runs the executable with: the token in its environment, and the permission.
    env = {"VERCEL_OIDC_TOKEN": token, "GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES": "1"} \
        if source == "executable" else {}

    account = login(sandbox, gcloud, path, env=env)
    listing = sandbox.run([gcloud, "storage", "ls", f"gs://{BUCKET}"], env=env)

    assert account == (GCP_SA if impersonate else PRINCIPAL)
    assert listing.stdout == LISTING
    assert which(google, storage_bearer(google)) == ("sa" if impersonate else "sts", len(google.issued))
    assert_exchanged_only(google, token)
    assert_introspected_at_the_stand_in(google, impersonate)


def test_gcloud_executable_source_picks_up_a_renewed_token(sandbox, mint, gcloud):
    # The stand-in's access tokens live 4 minutes: gcloud, which refreshes any with less than 5
    # left, exchanges again at each command, running the executable, which reads the token file
    # as it is then. The file is renewed between the two commands, as `exec` renews its own.
    with google_mock(sandbox, access_token_lifetime=240) as google:
        token_file = sandbox.path / "vercel-token"
        first, renewed = mint(), mint(lifetime=3000)
        token_file.write_text(first)
        token_file.chmod(0o600)
        env = {"VERCEL_OIDC_TOKEN_FILE": str(token_file), "GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES": "1"}
        google.expect(first)
        path = configure(sandbox, google, first, "executable", False)

        assert login(sandbox, gcloud, path, env=env) == PRINCIPAL
        assert subject_tokens(google, first=first) == ["first"]

        renewing = token_file.with_suffix(".new")
        renewing.write_text(renewed)
        renewing.chmod(0o600)
        os.replace(renewing, token_file)
        google.expect(renewed)
        out = sandbox.run([gcloud, "auth", "print-access-token"], env=env, reveals=[GoogleMock.issued_token])

        assert subject_tokens(google, first=first, renewed=renewed) == ["first", "renewed"]
        printed, end = out.stdout[:-1], out.stdout[-1:]
        assert (which(google, printed), end) == (("sts", 2), "\n"), "the token issued for the renewed one"
