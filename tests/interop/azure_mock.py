"""A stand-in for Microsoft Entra ID over HTTPS, for the Azure interop tests.

It makes a throwaway CA and a certificate for 127.0.0.1 signed by it (clients trust the CA through
REQUESTS_CA_BUNDLE for Python and NODE_EXTRA_CA_CERTS for Node), then serves on 127.0.0.1:

- GET  /<tenant>/v2.0/.well-known/openid-configuration: the metadata MSAL (Node) reads first;
- POST /<tenant>/oauth2/v2.0/token (any query string): the client-credential grant. It answers
  with an access token only when the form is a federated client assertion for the expected client
  and `client_assertion` is the expected Vercel token byte for byte; otherwise it answers as Entra
  does (HTTP 400 or 401 with an AADSTS error), so a client holding a stale token fails.

Everything it received is kept in `requests`, in order. Use it as a context manager: the server
runs in a thread and stops on exit.
"""

import datetime
import ipaddress
import json
import secrets
import ssl
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conftest import register_secret

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
REQUIRED_FIELDS = ("client_id", "scope", "grant_type", "client_assertion_type", "client_assertion")


def make_pki(directory, dns_names=("localhost",)):
    """Writes ca.pem, server.pem and server-key.pem into `directory`; returns their paths. The
    server certificate is for 127.0.0.1 and `dns_names`."""
    directory = Path(directory)
    now = datetime.datetime.now(datetime.timezone.utc)
    validity = (now - datetime.timedelta(hours=1), now + datetime.timedelta(days=1))

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vercel-oidc interop test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), *map(x509.DNSName, dns_names)]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    paths = {name: directory / f"{name}.pem" for name in ("ca", "server", "server-key")}
    paths["ca"].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths["server"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["server-key"].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    paths["server-key"].chmod(0o600)
    return paths


def aadsts_body(error, code, text):
    return {
        "error": error,
        "error_description": f"AADSTS{code}: {text}\r\nTrace ID: mock-trace\r\nCorrelation ID: mock-corr\r\n"
        "Timestamp: 2026-01-01 00:00:00Z",
        "error_codes": [code],
        "trace_id": "mock-trace",
        "correlation_id": "mock-corr",
    }


class AzureMock:
    def __init__(self, directory, tenant_id, client_id, dns_names=("localhost",)):
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.expected_assertion = None
        self.access_lifetime = 3599  # the expires_in of the access tokens it hands out
        self.requests = []
        self.issued = []  # access tokens handed out, in order
        self._lock = threading.Lock()
        paths = make_pki(directory, dns_names)
        self.ca_path = str(paths["ca"])
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(paths["server"], paths["server-key"])
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._server.socket = self._context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self.origin = f"https://127.0.0.1:{self.port}"
        self.url = self.origin + "/"
        self._thread = None

    def expect(self, token):
        """From now on, only `token` is a valid client assertion."""
        self.expected_assertion = token

    def token_requests(self):
        with self._lock:
            return [r for r in self.requests if r["method"] == "POST"]

    def __enter__(self):
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def _metadata(self, origin=None):
        origin = origin or self.origin
        base = f"{origin}/{self.tenant_id}"
        return {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "issuer": f"{base}/v2.0",
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        }

    # What a client given a token of this mock may print: the access tokens it issued.
    @staticmethod
    def issued_token(value):
        return value.startswith("mock-access-")

    def _answer_token(self, form):
        """(status, body) for a token request with this form."""
        # MSAL adds telemetry fields (x-client-SKU, client-request-id, ...); Entra ignores them.
        missing = [name for name in REQUIRED_FIELDS if len(form.get(name, [])) != 1]
        if missing:
            return 400, aadsts_body("invalid_request", 900144, f"missing or repeated form fields {missing}")
        one = {name: form[name][0] for name in REQUIRED_FIELDS}
        if one["grant_type"] != "client_credentials" or one["client_assertion_type"] != ASSERTION_TYPE:
            return 400, aadsts_body("invalid_request", 900144, "not a federated client-credential request")
        if one["client_id"] != self.client_id:
            return 400, aadsts_body(
                "unauthorized_client", 700016, f"Application with identifier '{one['client_id']}' was not found."
            )
        if self.expected_assertion is None or one["client_assertion"] != self.expected_assertion:
            return 401, aadsts_body(
                "invalid_client", 70021, "No matching federated identity record found for presented assertion."
            )
        access = register_secret("mock-access-" + secrets.token_urlsafe(24))
        with self._lock:
            self.issued.append(access)
        lifetime = self.access_lifetime
        return 200, {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": access}

    def _handler_class(self):
        mock = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _record(self, body=b""):
                parsed = urllib.parse.urlsplit(self.path)
                entry = {
                    "method": self.command,
                    "path": parsed.path,
                    "query": parsed.query,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body,
                    "form": urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True),
                }
                with mock._lock:
                    mock.requests.append(entry)
                return entry

            def _send(self, status, obj):
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                entry = self._record()
                if entry["path"] == f"/{mock.tenant_id}/v2.0/.well-known/openid-configuration":
                    self._send(200, mock._metadata())
                else:
                    self._send(404, {"error": "not_found"})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                entry = self._record(self.rfile.read(length))
                if entry["path"] != f"/{mock.tenant_id}/oauth2/v2.0/token":
                    self._send(400, aadsts_body("invalid_request", 90002, f"Tenant not found at {entry['path']}."))
                    return
                status, body = mock._answer_token(entry["form"])
                self._send(status, body)

        return Handler
