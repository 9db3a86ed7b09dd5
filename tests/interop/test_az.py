"""The real Azure CLI (Debian's azure-cli, `az`) logged in by hand with a Vercel token, as a build
step must do it today, in the world of az_world.py: az keeps its own Microsoft host names, and a
loopback CONNECT proxy sends them to a stand-in for Entra ID and Azure Resource Manager, which
hands out an access token only for the current Vercel token, byte for byte.

These tests prove the world (the ground `vercel-oidc exec`'s own login of az is tested on) and pin
the behaviour that feature relies on: az reads the token file once, at `az login`, keeps the token
in its config folder, and needs a new login once the token is renewed.
"""

import json
import os
import stat
import time

import pytest

from azure_mock import AzureMock
from conftest import BIN, spawn
from identities import AZURE_CLIENT, AZURE_TENANT

SUBSCRIPTION = "5f3c9b2e-8d41-4c7a-9e2b-7a1d3c5e9f80"
SUBSCRIPTION_NAME = "acme-production"
ARM = "https://management.azure.com/"
# az asks for a first access token at login (its own ARM resource id, with MSAL's `/.default`).
LOGIN_SCOPE = "https://management.core.windows.net//.default"
# What az reaches on its own in a config folder it has never used: a connectivity check before
# looking for a newer version (azure.cli.core.util.handle_version_update); refused by the proxy.
VERSION_CHECK = "CONNECT azure.microsoft.com:443"
REFUSED_LINE = "ERROR: AADSTS70021: No matching federated identity record found for presented assertion."


def write_token(sandbox, token):
    """Writes `token` as a file source holds it (no newline, 0600, replaced atomically)."""
    path = sandbox.path / "vercel-token"
    part = sandbox.path / "vercel-token.part"
    part.write_bytes(token.encode())
    part.chmod(0o600)
    os.replace(part, path)
    return path


def az(sandbox, world, config, *args, check=True, reveals=()):
    return sandbox.run(["az", *args], env=world.env(config), check=check, reveals=reveals)


def login(sandbox, world, config, token_file, check=True):
    return az(sandbox, world, config, "login", "--service-principal", "-u", AZURE_CLIENT, "-t", AZURE_TENANT,
              "--federated-token", f"@{token_file}", "--allow-no-subscriptions", "--output", "none", check=check)


def access_token(sandbox, world, config, check=True):
    """`az account get-access-token --resource <ARM>`: the access token alone on stdout."""
    return az(sandbox, world, config, "account", "get-access-token", "--resource", ARM, "--query", "accessToken",
              "--output", "tsv", check=check, reveals=[AzureMock.issued_token])


def account(sandbox, world, config):
    return json.loads(az(sandbox, world, config, "account", "show", "--output", "json").stdout)


def files_holding(folder, secret):
    """{path relative to `folder`: mode} of every file in `folder` that holds `secret`."""
    found = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                if secret.encode() in f.read():
                    found[os.path.relpath(path, folder)] = stat.S_IMODE(os.stat(path).st_mode)
    return found


def test_az_logs_in_with_a_vercel_token_file_and_gets_an_access_token_for_it(sandbox, mint, az_world):
    az_world.reset(subscriptions=[{"id": SUBSCRIPTION, "name": SUBSCRIPTION_NAME}])
    token = mint()
    az_world.expect(token)
    config = sandbox.path / "azure-config"
    token_file = write_token(sandbox, token)

    done = login(sandbox, az_world, config, token_file)
    assert (done.stdout, done.stderr) == ("", "")
    assert [r["form"]["client_assertion"] for r in az_world.token_requests()] == [[token]]
    assert az_world.token_requests()[0]["form"]["scope"] == [LOGIN_SCOPE]
    done = az(sandbox, az_world, config, "account", "set", "--subscription", SUBSCRIPTION)
    assert (done.stdout, done.stderr) == ("", "")

    printed = access_token(sandbox, az_world, config)
    assert printed.stdout == az_world.issued[-1] + "\n"
    last = az_world.token_requests()[-1]
    assert last["path"] == f"/{AZURE_TENANT}/oauth2/v2.0/token"
    assert (last["host"], last["form"]["client_id"], last["form"]["scope"], last["form"]["client_assertion"]) == (
        "login.microsoftonline.com", [AZURE_CLIENT], [f"{ARM}/.default"], [token])

    shown = account(sandbox, az_world, config)
    assert {k: shown[k] for k in ("id", "name", "tenantId", "environmentName", "isDefault", "user")} == {
        "id": SUBSCRIPTION, "name": SUBSCRIPTION_NAME, "tenantId": AZURE_TENANT, "environmentName": "AzureCloud",
        "isDefault": True, "user": {"name": AZURE_CLIENT, "type": "servicePrincipal"}}

    # Nothing left the machine; the token never was on a command line; az keeps it in one file of
    # the folder it was given, and never touched ~/.azure.
    assert set(az_world.proxy.tunnelled) == {"login.microsoftonline.com", "management.azure.com"}
    assert az_world.proxy.refused == [VERSION_CHECK]
    assert az_world.authority.argv_holders == [[], []]
    assert files_holding(config, token) == {"service_principal_entries.json": 0o600}
    assert not (sandbox.home / ".azure").exists()


def test_az_keeps_the_token_of_its_login_until_it_logs_in_again(sandbox, mint, az_world):
    # Access tokens of 4 minutes: under MSAL's 5-minute margin, so every az command asks Entra
    # for a new one with the token it holds, as it would an hour after its login.
    az_world.reset(subscriptions=[{"id": SUBSCRIPTION, "name": SUBSCRIPTION_NAME}], access_lifetime=240)
    config = sandbox.path / "azure-config"
    old = mint(lifetime=3600)
    az_world.expect(old)
    token_file = write_token(sandbox, old)
    login(sandbox, az_world, config, token_file)
    az(sandbox, az_world, config, "account", "set", "--subscription", SUBSCRIPTION)
    assert access_token(sandbox, az_world, config).stdout == az_world.issued[-1] + "\n"

    # The token is renewed in the file; az still sends the one it stored at login, and is refused.
    new = mint(lifetime=3000)
    write_token(sandbox, new)
    az_world.expect(new)
    issued = len(az_world.issued)
    refused = access_token(sandbox, az_world, config, check=False)
    assert (refused.returncode, refused.stdout, refused.stderr.splitlines()[0]) == (1, "", REFUSED_LINE)
    assert az_world.token_requests()[-1]["form"]["client_assertion"] == [old]
    assert len(az_world.issued) == issued

    # The same login again reads the file anew, and az works again with the new token.
    login(sandbox, az_world, config, token_file)
    az(sandbox, az_world, config, "account", "set", "--subscription", SUBSCRIPTION)
    assert access_token(sandbox, az_world, config).stdout == az_world.issued[-1] + "\n"
    assert az_world.token_requests()[-1]["form"]["client_assertion"] == [new]
    assert account(sandbox, az_world, config)["id"] == SUBSCRIPTION
    assert files_holding(config, old) == {}
    assert files_holding(config, new) == {"service_principal_entries.json": 0o600}


def test_a_token_given_on_the_command_line_shows_in_az_argv(sandbox, mint, az_world):
    # The other side of the argv check above: `--federated-token TOKEN` puts the token in az's
    # argv, where any process on the machine can read it, and the stand-in sees it there.
    token = mint()
    az_world.expect(token)
    done = az(sandbox, az_world, sandbox.path / "azure-config", "login", "--service-principal", "-u", AZURE_CLIENT,
              "-t", AZURE_TENANT, "--federated-token", token, "--allow-no-subscriptions", "--output", "none")
    assert (done.stdout, done.stderr) == ("", "")
    assert [len(holders) for holders in az_world.authority.argv_holders] == [1]


@pytest.mark.parametrize("cloud, login_host, arm_host", [
    ("AzureUSGovernment", "login.microsoftonline.us", "management.usgovcloudapi.net"),
])
def test_a_cloud_named_in_the_config_file_is_the_one_az_logs_in_to(sandbox, mint, az_world, cloud, login_host,
                                                                    arm_host):
    # No `az cloud set`: the name in AZURE_CONFIG_DIR/config is enough.
    az_world.reset(subscriptions=[{"id": SUBSCRIPTION, "name": SUBSCRIPTION_NAME}])
    token = mint()
    az_world.expect(token)
    config = sandbox.path / "azure-config"
    config.mkdir()
    (config / "config").write_text(f"[cloud]\nname = {cloud}\n")
    login(sandbox, az_world, config, write_token(sandbox, token))
    shown = account(sandbox, az_world, config)
    assert (shown["environmentName"], shown["id"]) == (cloud, SUBSCRIPTION)
    assert {r["host"] for r in az_world.authority.requests} == {login_host, arm_host}
    assert az_world.token_requests()[-1]["form"]["client_assertion"] == [token]
    assert az_world.proxy.refused == [VERSION_CHECK]


def test_vercel_oidc_reaches_the_same_world_at_microsofts_own_host(sandbox, mint, az_world):
    # The binary, given no authority host, exchanges at login.microsoftonline.com: through the
    # world's proxy to the same stand-in, so `exec` and the az it runs share one Entra.
    token = mint()
    az_world.expect(token)
    out = sandbox.run_bin("azure", "access-token", "--scope", f"{ARM}.default", "--tenant-id", AZURE_TENANT,
                          "--client-id", AZURE_CLIENT, "--json", env=dict(az_world.env(), VERCEL_OIDC_TOKEN=token),
                          reveals=[AzureMock.issued_token])
    assert json.loads(out.stdout)["access_token"] == az_world.issued[-1]
    assert [(r["host"], r["form"]["client_assertion"]) for r in az_world.token_requests()] == [
        ("login.microsoftonline.com", [token])]
    assert (az_world.proxy.tunnelled, az_world.proxy.refused) == (["login.microsoftonline.com"], [])


# --- `vercel-oidc exec` logs az in: no login step in the build ---

# The child: an access token for ARM and the account az is on, with nothing done before.
EXEC_CHILD = (f"az account get-access-token --resource {ARM} --query accessToken --output tsv && "
              "az account show --query id --output tsv && echo \"$AZURE_CONFIG_DIR\" > config-dir.out")


def exec_env(world, token, **extra):
    """The sandbox's build environment for `exec` in `world`: Azure configured by its variables,
    as a Vercel project sets them, and nothing about az."""
    return dict(world.env(), VERCEL_OIDC_TOKEN=token, AZURE_TENANT_ID=AZURE_TENANT,
                AZURE_CLIENT_ID=AZURE_CLIENT, **extra)


def test_exec_logs_az_in_before_the_commands_first_az(sandbox, mint, az_world):
    az_world.reset(subscriptions=[{"id": "11111111-0000-0000-0000-000000000000", "name": "other"},
                                  {"id": SUBSCRIPTION, "name": SUBSCRIPTION_NAME}])
    token = mint()
    az_world.expect(token)
    out = sandbox.run_bin("exec", "--", "sh", "-c", EXEC_CHILD,
                          env=exec_env(az_world, token, AZURE_SUBSCRIPTION_ID=SUBSCRIPTION),
                          reveals=[AzureMock.issued_token])
    assert (out.stdout, out.stderr) == (f"{az_world.issued[-1]}\n{SUBSCRIPTION}\n", "")
    assert [r["form"]["client_assertion"] for r in az_world.token_requests()] == [[token], [token]]
    assert az_world.authority.argv_holders == [[], []], "the token never was on a command line"
    config = (sandbox.path / "config-dir.out").read_text().strip()
    assert config.endswith("/azure-cli/config") and not os.path.exists(config), "gone with the run"
    assert not (sandbox.home / ".azure").exists(), "the user's own az folder is left alone"
    assert az_world.proxy.refused == [VERSION_CHECK]


def test_exec_logs_az_in_again_once_the_token_file_is_renewed(sandbox, mint, az_world):
    # Access tokens of 4 minutes, so that every az command asks Entra with the token it holds.
    az_world.reset(subscriptions=[{"id": SUBSCRIPTION, "name": SUBSCRIPTION_NAME}], access_lifetime=240)
    old, new = mint(lifetime=3600), mint(lifetime=3000)
    az_world.expect(old)
    # The run's token file is replaced as exec replaces it when it renews the token; the test
    # then makes the stand-in expect the new token only, and lets the child go on.
    renew = ("printf %s \"$NEW_TOKEN\" > \"$VERCEL_OIDC_TOKEN_FILE.new\" && "
             "mv \"$VERCEL_OIDC_TOKEN_FILE.new\" \"$VERCEL_OIDC_TOKEN_FILE\" && touch renewed && "
             "while [ ! -e go ]; do sleep 0.05; done")
    get = f"az account get-access-token --resource {ARM} --query accessToken --output tsv"
    child = spawn([BIN, "exec", "--", "sh", "-c", f"{get} && {renew} && {get}"],
                  dict(sandbox.env, **exec_env(az_world, old, NEW_TOKEN=new)), sandbox.path,
                  reveals=[AzureMock.issued_token])
    deadline = time.monotonic() + 60
    while not (sandbox.path / "renewed").exists():
        assert child.poll() is None and time.monotonic() < deadline, child.wait()
        time.sleep(0.05)
    az_world.expect(new)
    (sandbox.path / "go").touch()
    code, stdout, stderr = child.wait()
    assert (code, stderr) == (0, "")
    # Every request was granted (one access token each); those for ARM are what the child printed.
    requests = az_world.token_requests()
    assert len(requests) == len(az_world.issued)
    for_arm = [issued for r, issued in zip(requests, az_world.issued) if r["form"]["scope"] == [f"{ARM}/.default"]]
    assert stdout == "".join(f"{t}\n" for t in for_arm) and len(for_arm) == 2
    # The old token until the renewal, the new one after: az logged in again in between.
    sent = [r["form"]["client_assertion"][0] for r in requests]
    assert sent == sorted(sent, key=lambda t: t == new) and sent[0] == old and sent[-1] == new


def test_exec_leaves_az_alone_when_told(sandbox, mint, az_world):
    token = mint()
    az_world.expect(token)
    out = sandbox.run_bin("exec", "--azure-cli-login", "off", "--", "sh", "-c",
                          f"az account get-access-token --resource {ARM} --output none", check=False,
                          env=exec_env(az_world, token))
    assert out.returncode == 1
    assert "Please run 'az login' to setup account." in out.stderr
    assert az_world.token_requests() == []
