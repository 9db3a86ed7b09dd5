"""A world in which the real Azure CLI (`az`) logs in with a Vercel token and never leaves the
machine: a stand-in for Entra ID and Azure Resource Manager over TLS, reached through a loopback
CONNECT proxy that sends Microsoft's host names (and only those) to it.

`az` cannot be pointed at a loopback authority: its cloud names the hosts (login.microsoftonline.com,
management.azure.com, ...), and MSAL checks any other authority host against login.microsoftonline.com.
So `az` keeps its own host names; HTTPS_PROXY sends every connection to `ConnectProxy`, which tunnels
the names in `HOSTS` to `EntraArm` and refuses (and records) everything else; `EntraArm`'s
certificate names those hosts and its CA is in REQUESTS_CA_BUNDLE, which az's HTTP stack (requests,
for MSAL and for the ARM SDK alike) trusts.

`EntraArm` answers, per host:
- on the login hosts: MSAL's instance discovery (`/common/discovery/instance`), the tenant's OpenID
  metadata, and the client-credential grant of `AzureMock` (an access token only for the expected
  client and the expected Vercel token byte for byte, AADSTS errors otherwise);
- on the ARM hosts: the tenant and subscription listings (`/tenants`, `/subscriptions`,
  `/subscriptions/<id>`), only to a bearer token this world issued.

`AzWorld` puts the two together; `az_env` is the environment of a process that runs az in it.
The `az_world` fixture (conftest.py) gives each test the session's world, reset.
"""

import os
import socket
import threading
import urllib.parse
from pathlib import Path

from azure_mock import AzureMock, aadsts_body

# The clouds whose hosts the world answers for: login host -> (cloud name, ARM host).
CLOUDS = {
    "login.microsoftonline.com": ("AzureCloud", "management.azure.com"),
    "login.microsoftonline.us": ("AzureUSGovernment", "management.usgovcloudapi.net"),
    "login.chinacloudapi.cn": ("AzureChinaCloud", "management.chinacloudapi.cn"),
}
LOGIN_HOSTS = frozenset(CLOUDS)
ARM_HOSTS = frozenset(arm for _, arm in CLOUDS.values())
HOSTS = LOGIN_HOSTS | ARM_HOSTS


def _processes_holding(needle):
    """The ids of the processes whose command line holds `needle`."""
    found = []
    data = needle.encode()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if data in f.read():
                        found.append(int(entry))
            except OSError:
                pass
    return found


class EntraArm(AzureMock):
    """`AzureMock` answering on Microsoft's host names (see the module's docstring). Besides
    `requests` (each with its `host`), it keeps `subscriptions` (what ARM lists; set by the test)
    and, for each token request, the processes whose argv held the client assertion while it was
    being answered (`argv_holders`)."""

    def __init__(self, directory, tenant_id, client_id):
        super().__init__(directory, tenant_id, client_id, dns_names=sorted(HOSTS))
        self.subscriptions = []  # [{"id": ..., "name": ...}]
        self.argv_holders = []
        self._scopes = {}  # issued access token -> the scope it was asked for

    def reset(self, subscriptions=(), access_lifetime=3599):
        with self._lock:
            self.expected_assertion = None
            self.access_lifetime = access_lifetime
            self.requests.clear()
            self.issued.clear()
            self.argv_holders.clear()
            self._scopes.clear()
            self.subscriptions = [dict(s) for s in subscriptions]

    def requests_to(self, host):
        with self._lock:
            return [r for r in self.requests if r["host"] == host]

    def _answer_token(self, form):
        assertion = (form.get("client_assertion") or [""])[0]
        if assertion:
            holders = _processes_holding(assertion)
            with self._lock:
                self.argv_holders.append(holders)
        status, body = super()._answer_token(form)
        if status == 200:
            with self._lock:
                self._scopes[body["access_token"]] = form["scope"][0]
        return status, body

    def _arm(self, path, authorization):
        """(status, body) for an ARM GET of `path` with this Authorization header."""
        token = authorization[len("Bearer "):] if authorization.startswith("Bearer ") else ""
        with self._lock:
            known = token in self._scopes
        if not known:
            return 401, {"error": {"code": "InvalidAuthenticationToken",
                                   "message": "The access token is invalid."}}
        tenant = self.tenant_id
        listed = [{
            "id": f"/subscriptions/{s['id']}",
            "authorizationSource": "RoleBased",
            "managedByTenants": [],
            "subscriptionId": s["id"],
            "tenantId": tenant,
            "displayName": s["name"],
            "state": "Enabled",
            "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01",
                                     "spendingLimit": "Off"},
        } for s in self.subscriptions]
        if path == "/subscriptions":
            return 200, {"count": {"type": "Total", "value": len(listed)}, "value": listed}
        if path == "/tenants":
            return 200, {"value": [{"id": f"/tenants/{tenant}", "tenantId": tenant, "tenantCategory": "Home",
                                    "countryCode": "US", "displayName": "Acme", "domains": ["acme.example"],
                                    "defaultDomain": "acme.example", "tenantType": "AAD"}]}
        for s in listed:
            if path.lower() == s["id"].lower():
                return 200, s
        if path.startswith("/subscriptions/"):
            sub = path.split("/")[2]
            return 404, {"error": {"code": "SubscriptionNotFound",
                                   "message": f"The subscription '{sub}' could not be found."}}
        return 404, {"error": {"code": "NotFound", "message": f"No route for {path} in this stand-in."}}

    def _handler_class(self):
        mock = self
        entra = super()._handler_class()

        class Handler(entra):
            def _record(self, body=b""):
                entry = super()._record(body)
                entry["host"] = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
                return entry

            def _discovery(self, entry):
                query = urllib.parse.parse_qs(entry["query"])
                endpoint = urllib.parse.urlsplit((query.get("authorization_endpoint") or [""])[0])
                host = endpoint.hostname or entry["host"]
                tenant = (endpoint.path.split("/") + ["", ""])[1] or "common"
                return 200, {
                    "tenant_discovery_endpoint": f"https://{host}/{tenant}/v2.0/.well-known/openid-configuration",
                    "api-version": "1.1",
                    "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
                }

            def do_GET(self):
                entry = self._record()
                host, path = entry["host"], entry["path"]
                if host in LOGIN_HOSTS:
                    if path == "/common/discovery/instance":
                        self._send(*self._discovery(entry))
                    elif path == f"/{mock.tenant_id}/v2.0/.well-known/openid-configuration":
                        self._send(200, mock._metadata(f"https://{host}"))
                    else:
                        self._send(400, aadsts_body("invalid_tenant", 90002, f"Tenant not found at {path}."))
                elif host in ARM_HOSTS:
                    self._send(*mock._arm(path, self.headers.get("Authorization") or ""))
                else:
                    self._send(421, {"error": f"this stand-in does not answer for {host!r}"})

            def do_POST(self):
                if (self.headers.get("Host") or "").rsplit(":", 1)[0].lower() in LOGIN_HOSTS:
                    super().do_POST()
                    return
                length = int(self.headers.get("Content-Length") or 0)
                self._record(self.rfile.read(length))
                self._send(405, {"error": {"code": "MethodNotAllowed", "message": "This stand-in only reads."}})

        return Handler


class ConnectProxy:
    """An HTTP proxy on 127.0.0.1 that tunnels CONNECTs to `routes` (host name -> local port, port
    443 only) and refuses everything else with 403, recording it in `refused` ("METHOD target");
    `tunnelled` lists the host names it let through, in order."""

    def __init__(self, routes):
        self.routes = {host.lower(): port for host, port in routes.items()}
        self.tunnelled = []
        self.refused = []
        self._lock = threading.Lock()
        self._open = set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept(); close() alone does not
        except OSError:
            pass
        self._listener.close()
        self._thread.join(timeout=10)
        with self._lock:
            for sock in list(self._open):
                _close(sock)

    def reset(self):
        with self._lock:
            self.tunnelled.clear()
            self.refused.clear()

    def _accept(self):
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self._track(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _track(self, sock):
        with self._lock:
            self._open.add(sock)

    def _serve(self, client):
        try:
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 65536:
                chunk = client.recv(4096)
                if not chunk:
                    return
                head += chunk
            line = head.split(b"\r\n", 1)[0].decode("latin-1")
            method, target = (line.split(" ") + ["", ""])[:2]
            host, _, port = target.rpartition(":")
            upstream_port = self.routes.get(host.lower()) if method == "CONNECT" and port == "443" else None
            if upstream_port is None:
                with self._lock:
                    self.refused.append(f"{method} {target}")
                client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            upstream = socket.create_connection(("127.0.0.1", upstream_port))
            self._track(upstream)
            with self._lock:
                self.tunnelled.append(host.lower())
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            rest = head.split(b"\r\n\r\n", 1)[1]
            if rest:
                upstream.sendall(rest)
            back = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
            back.start()
            _pipe(client, upstream)
            back.join()
            self._close(upstream)
        except OSError:
            pass
        finally:
            self._close(client)

    def _close(self, sock):
        with self._lock:
            self._open.discard(sock)
        _close(sock)


def _pipe(source, sink):
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        pass
    try:
        sink.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def _close(sock):
    try:
        sock.close()
    except OSError:
        pass


class AzWorld:
    """The stand-in and the proxy, started together (a context manager). `reset` makes it new for
    a test; `env` gives the environment of a process that runs az in it."""

    def __init__(self, directory, tenant_id, client_id):
        self.directory = Path(directory)
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.authority = EntraArm(self.directory, tenant_id, client_id)
        self.proxy = ConnectProxy({host: self.authority.port for host in HOSTS})
        self.ca_path = self.authority.ca_path

    def __enter__(self):
        self.authority.__enter__()
        try:
            self.proxy.__enter__()
        except BaseException:
            self.authority.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        try:
            self.proxy.__exit__(*exc)
        finally:
            self.authority.__exit__(*exc)

    def reset(self, subscriptions=(), access_lifetime=3599):
        """Forgets every request, token and refusal; from now on ARM lists `subscriptions`
        ([{"id", "name"}]), the stand-in expects no token until `expect`, and hands out access
        tokens that live `access_lifetime` seconds (MSAL asks again for one with less than 5
        minutes left, so 299 or less makes every az command ask for a new one)."""
        self.authority.reset(subscriptions, access_lifetime)
        self.proxy.reset()

    def expect(self, token):
        """From now on, only `token` is a valid client assertion."""
        self.authority.expect(token)

    @property
    def issued(self):
        return self.authority.issued

    def token_requests(self):
        return self.authority.token_requests()

    def env(self, config_dir=None):
        return az_env(self, config_dir)


def az_env(world, config_dir=None):
    """The variables a process running az in `world` needs: every HTTPS connection through the
    world's proxy, its CA trusted (REQUESTS_CA_BUNDLE for az; SSL_CERT_FILE for vercel-oidc, which
    then reaches the same stand-in at Microsoft's own host names, loopback being always direct for
    it), az's telemetry off (it would otherwise post to dc.services.visualstudio.com after the
    command), and AZURE_CONFIG_DIR when `config_dir` is given (otherwise az uses ~/.azure)."""
    env = {
        "HTTPS_PROXY": world.proxy.url,
        "HTTP_PROXY": world.proxy.url,
        "REQUESTS_CA_BUNDLE": world.ca_path,
        "SSL_CERT_FILE": world.ca_path,
        "AZURE_CORE_COLLECT_TELEMETRY": "false",
    }
    if config_dir is not None:
        env["AZURE_CONFIG_DIR"] = str(config_dir)
    return env
