"""A stand-in for Google STS and the IAM Service Account Credentials API, for the GCP interop tests.

Plain HTTP on 127.0.0.1 (google-auth for Python and Node accept a loopback http `token_url` and
impersonation URL). It serves:

- POST /v1/token: the RFC 8693 token exchange. It answers with a federated access token only when
  the form is a JWT-for-access-token exchange for the expected audience and `subject_token` is the
  expected Vercel token byte for byte; otherwise it answers as Google STS does (HTTP 400 with
  `invalid_grant` or `invalid_request`), so a client holding a stale token fails.
- POST /v1/projects/-/serviceAccounts/<EMAIL>:generateAccessToken: impersonation. It answers only
  for the expected service account, with `Authorization: Bearer <a token this mock issued>` and a
  JSON body `{"scope": [...], "lifetime": "<N>s"}`; otherwise 401, 403 or 400 as Google does.
- POST /v1/introspect: RFC 7662 token introspection, as gcloud calls it to name the account of
  federated (not impersonated) credentials. For a token its STS issued it answers `active` with
  the `principal://` of the Vercel token's subject as `username`; for any other, `active: false`.
- GET /storage/v1/b/<BUCKET>/o: a Cloud Storage JSON API object listing of the buckets given as
  `buckets` (name -> object names), answered only to `Authorization: Bearer <a token this mock
  issued>` (401 otherwise), for `gcloud storage` with CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE
  set to `storage_url`.

`access_token_lifetime` caps how long the access tokens it hands out live (STS's `expires_in`,
IAM's `expireTime`): gcloud refreshes a token with less than 5 minutes left before each command,
so a cap below that makes every gcloud command ask again.

Everything it received is kept in `requests`, in order; the tokens it handed out in `issued`. Use it
as a context manager: the server runs in a thread and stops on exit.
"""

import datetime
import json
import re
import secrets
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt

from conftest import register_secret

GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
JWT_TYPES = ("urn:ietf:params:oauth:token-type:jwt", "urn:ietf:params:oauth:token-type:id_token")
IAM_PATH = re.compile(r"^/v1/projects/-/serviceAccounts/([^/:]+):generateAccessToken$")
LISTING_PATH = re.compile(r"^/storage/v1/b/([^/]+)/o$")


def google_error(code, status, message):
    return {"error": {"code": code, "message": message, "status": status}}


class GoogleMock:
    def __init__(self, audience, service_account=None, buckets=None, access_token_lifetime=None):
        self.audience = audience
        self.service_account = service_account
        self.buckets = dict(buckets or {})
        self.access_token_lifetime = access_token_lifetime
        self.expected_token = None
        self.requests = []
        self.issued = []  # (kind, token), kind "sts" or "sa", in order
        self._sts_tokens = {}  # token -> the principal:// of the subject token it was issued for
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.token_url = self.url + "/v1/token"
        self.introspect_url = self.url + "/v1/introspect"
        self.storage_url = self.url + "/storage/v1/"
        self._thread = None

    def expect(self, token):
        """From now on, only `token` is a valid subject token."""
        self.expected_token = token

    def posts(self, kind):
        """The recorded requests to STS (`sts`), to IAM Credentials (`iam`), to introspection
        (`introspect`) or to Cloud Storage (`storage`)."""
        with self._lock:
            if kind == "sts":
                return [r for r in self.requests if r["path"] == "/v1/token"]
            if kind == "introspect":
                return [r for r in self.requests if r["path"] == "/v1/introspect"]
            if kind == "storage":
                return [r for r in self.requests if r["path"].startswith("/storage/")]
            return [r for r in self.requests if IAM_PATH.match(r["path"])]

    def principal(self, subject):
        """The `principal://` of a Vercel token's `sub` in this mock's workload identity pool."""
        pool = self.audience[len("//"):].rsplit("/providers/", 1)[0]
        return f"principal://{pool}/subject/{subject}"

    def last_issued(self):
        with self._lock:
            return self.issued[-1][1] if self.issued else None

    def __enter__(self):
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    # What a client given a token of this mock may print: the tokens it issued.
    @staticmethod
    def issued_token(value):
        return value.startswith("ya29.mock-")

    def _issue(self, kind, principal=None):
        token = register_secret(f"ya29.mock-{kind}-" + secrets.token_urlsafe(24))
        with self._lock:
            self.issued.append((kind, token))
            if kind == "sts":
                self._sts_tokens[token] = principal
        return token

    def _lifetime(self, asked):
        return min(asked, self.access_token_lifetime or asked)

    def _bearer(self, entry):
        """The token of the request's `Authorization: Bearer`, when this mock issued it."""
        auth = entry["headers"].get("authorization", "")
        bearer = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
        with self._lock:
            return bearer if any(bearer == token for _, token in self.issued) else None

    def _answer_sts(self, entry):
        form = entry["form"]
        one = {k: v[0] for k, v in form.items() if len(v) == 1}
        if one.get("grant_type") != GRANT or one.get("requested_token_type") != ACCESS_TOKEN_TYPE:
            return 400, {"error": "invalid_request", "error_description": "Invalid grant_type or requested_token_type."}
        if one.get("subject_token_type") not in JWT_TYPES:
            return 400, {"error": "invalid_request", "error_description": "Invalid subject_token_type."}
        if one.get("audience") != self.audience:
            return 400, {
                "error": "invalid_request",
                "error_description": 'Invalid value for "audience". This value should be the full resource '
                "name of the Identity Provider.",
            }
        if not one.get("scope"):
            return 400, {"error": "invalid_scope", "error_description": "Missing scope."}
        if self.expected_token is None or one.get("subject_token") != self.expected_token:
            return 400, {
                "error": "invalid_grant",
                "error_description": "The given subject token is not the one this test expects.",
            }
        subject = jwt.decode(self.expected_token, options={"verify_signature": False})["sub"]
        return 200, {
            "access_token": self._issue("sts", self.principal(subject)),
            "issued_token_type": ACCESS_TOKEN_TYPE,
            "token_type": "Bearer",
            "expires_in": self._lifetime(3600),
        }

    def _answer_introspect(self, entry):
        form = {k: v[0] for k, v in entry["form"].items() if len(v) == 1}
        with self._lock:
            principal = self._sts_tokens.get(form.get("token"))
        if principal is None:
            return 200, {"active": False}
        return 200, {"active": True, "username": principal, "token_type": "Bearer",
                     "iss": "https://sts.googleapis.com", "scope": "https://www.googleapis.com/auth/cloud-platform"}

    def _answer_listing(self, entry, bucket):
        if self._bearer(entry) is None:
            return 401, google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        if bucket not in self.buckets:
            return 404, google_error(404, "NOT_FOUND", "The specified bucket does not exist.")
        items = [{"kind": "storage#object", "id": f"{bucket}/{name}/1", "name": name, "bucket": bucket,
                  "generation": "1", "metageneration": "1", "size": "0",
                  "timeCreated": "2026-01-01T00:00:00.000Z", "updated": "2026-01-01T00:00:00.000Z"}
                 for name in self.buckets[bucket]]
        return 200, {"kind": "storage#objects", "items": items}

    def _answer_iam(self, entry, email):
        auth = entry["headers"].get("authorization", "")
        bearer = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
        with self._lock:
            known = bearer in self._sts_tokens
        if not known:
            return 401, google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        if email != self.service_account:
            return 403, google_error(
                403, "PERMISSION_DENIED",
                "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).",
            )
        try:
            body = json.loads(entry["body"])
        except ValueError:
            return 400, google_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        scope = body.get("scope")
        lifetime = body.get("lifetime", "3600s")
        match = re.fullmatch(r"(\d+)s", lifetime) if isinstance(lifetime, str) else None
        if not scope or not isinstance(scope, list) or match is None:
            return 400, google_error(400, "INVALID_ARGUMENT", "Invalid scope or lifetime.")
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        expires = now + datetime.timedelta(seconds=self._lifetime(int(match.group(1))))
        return 200, {"accessToken": self._issue("sa"), "expireTime": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}

    def _handler_class(self):
        mock = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(self, status, obj):
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace")
                parsed = urllib.parse.urlsplit(self.path)
                entry = {
                    "method": "POST",
                    "path": urllib.parse.unquote(parsed.path),
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body,
                    "form": urllib.parse.parse_qs(body, keep_blank_values=True),
                }
                with mock._lock:
                    mock.requests.append(entry)
                iam = IAM_PATH.match(entry["path"])
                if entry["path"] == "/v1/token":
                    self._send(*mock._answer_sts(entry))
                elif entry["path"] == "/v1/introspect":
                    self._send(*mock._answer_introspect(entry))
                elif iam:
                    self._send(*mock._answer_iam(entry, iam.group(1)))
                else:
                    self._send(404, google_error(404, "NOT_FOUND", f"no such path {entry['path']}"))

            def do_GET(self):
                parsed = urllib.parse.urlsplit(self.path)
                entry = {
                    "method": "GET",
                    "path": urllib.parse.unquote(parsed.path),
                    "query": urllib.parse.parse_qs(parsed.query, keep_blank_values=True),
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": "",
                    "form": {},
                }
                with mock._lock:
                    mock.requests.append(entry)
                listing = LISTING_PATH.match(entry["path"])
                if listing:
                    self._send(*mock._answer_listing(entry, listing.group(1)))
                else:
                    self._send(404, google_error(404, "NOT_FOUND", f"no such path {entry['path']}"))

        return Handler
