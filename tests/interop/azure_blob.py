"""A stand-in for one storage account's blob service (`<account>.blob.core.windows.net`) over TLS,
for Terraform's `azurerm` backend with `use_azuread_auth`: it answers only requests bearing an
access token the test accepts (one the Entra stand-in issued), and keeps blobs in memory.

It implements what the backend calls, from the Blob service REST API: list a container's blobs
(`GET /<container>?restype=container&comp=list`), read a blob (`GET`) and its properties and
metadata (`HEAD`), write a block blob (`PUT`), set its metadata (`PUT ?comp=metadata`), take and
give back an infinite lease (`PUT ?comp=lease`, `x-ms-lease-action: acquire|release`), and delete
it (`DELETE`). A blob under lease is written only with its lease id, as Azure does. Anything else
is answered 400 and recorded in `unhandled`; every request is in `requests` (method, path, query,
the bearer token), in order.

Use it as a context manager: the server runs in a thread and stops on exit. Its certificate is
for the account's blob host, signed by a CA of its own (`ca_path`).
"""

import email.utils
import ssl
import threading
import urllib.parse
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

from azure_mock import make_pki

BLOB_SUFFIX = "blob.core.windows.net"


@dataclass
class Blob:
    data: bytes
    content_type: str
    metadata: dict
    etag: str = field(default_factory=lambda: _new_etag())
    modified: str = field(default_factory=lambda: email.utils.formatdate(usegmt=True))
    lease: str = None  # the lease id while leased


class BlobStandIn:
    def __init__(self, directory, account, accepts):
        """`accepts(token)` says whether a bearer token is one the test issued."""
        self.host = f"{account}.{BLOB_SUFFIX}"
        self.accepts = accepts
        self.containers = {}  # name -> {blob name -> Blob}
        self.requests = []
        self.unhandled = []
        self._lock = threading.Lock()
        folder = Path(directory) / "blob-pki"
        folder.mkdir(parents=True, exist_ok=True)
        paths = make_pki(folder, (self.host,))
        self.ca_path = str(paths["ca"])
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(paths["server"], paths["server-key"])
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self._thread = None

    def create_container(self, name):
        with self._lock:
            self.containers.setdefault(name, {})

    def blob(self, container, name):
        with self._lock:
            return self.containers.get(container, {}).get(name)

    def bearer_tokens(self):
        with self._lock:
            return [r["token"] for r in self.requests]

    def __enter__(self):
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    # Each operation returns (status, headers, body) and runs under the lock.

    def _list(self, blobs, query):
        prefix = query.get("prefix", [""])[0]
        items = "".join(
            f"<Blob><Name>{escape(name)}</Name><Properties><Content-Length>{len(b.data)}</Content-Length>"
            f"<Content-Type>{escape(b.content_type)}</Content-Type><BlobType>BlockBlob</BlobType>"
            f"<LeaseStatus>{'locked' if b.lease else 'unlocked'}</LeaseStatus></Properties></Blob>"
            for name, b in sorted(blobs.items()) if name.startswith(prefix))
        body = (f'<?xml version="1.0" encoding="utf-8"?><EnumerationResults><Prefix>{escape(prefix)}</Prefix>'
                f"<Blobs>{items}</Blobs><NextMarker /></EnumerationResults>")
        return 200, {"Content-Type": "application/xml"}, body.encode()

    @staticmethod
    def _properties(blob):
        headers = {"Content-Length": str(len(blob.data)), "Content-Type": blob.content_type, "ETag": blob.etag,
                   "Last-Modified": blob.modified, "x-ms-blob-type": "BlockBlob",
                   "x-ms-lease-status": "locked" if blob.lease else "unlocked",
                   "x-ms-lease-state": "leased" if blob.lease else "available"}
        if blob.lease:
            headers["x-ms-lease-duration"] = "infinite"
        headers.update({f"x-ms-meta-{k}": v for k, v in blob.metadata.items()})
        return headers

    @staticmethod
    def _lease_refusal(blob, headers):
        """Azure's answer to a write of `blob` with these request headers, when its lease forbids it."""
        given = headers.get("x-ms-lease-id")
        if blob is not None and blob.lease and given is None:
            return _error(412, "LeaseIdMissing", "There is currently a lease on the blob and no lease ID was "
                                                 "specified in the request.")
        if blob is not None and given is not None and given != blob.lease:
            return _error(412, "LeaseIdMismatchWithBlobOperation", "The lease ID specified did not match the "
                                                                   "lease ID for the blob.")
        return None

    def _lease(self, blobs, name, headers):
        blob = blobs.get(name)
        if blob is None:
            return _error(404, "BlobNotFound", "The specified blob does not exist.")
        action = headers.get("x-ms-lease-action", "")
        if action == "acquire":
            if blob.lease:
                return _error(409, "LeaseAlreadyPresent", "There is already a lease present.")
            blob.lease = headers.get("x-ms-proposed-lease-id") or str(uuid.uuid4())
            return 201, {"x-ms-lease-id": blob.lease, "ETag": blob.etag}, b""
        if action == "release":
            if headers.get("x-ms-lease-id") != blob.lease:
                return _error(409, "LeaseIdMismatchWithLeaseOperation", "The lease ID specified did not match "
                                                                        "the lease ID for the blob.")
            blob.lease = None
            return 200, {"ETag": blob.etag}, b""
        return None

    def _operate(self, method, container, name, query, headers, body):
        blobs = self.containers.get(container)
        if blobs is None:
            return _error(404, "ContainerNotFound", "The specified container does not exist.")
        comp = query.get("comp", [""])[0]
        if not name:
            if method == "GET" and query.get("restype") == ["container"] and comp == "list":
                return self._list(blobs, query)
            return None
        blob = blobs.get(name)
        if method in ("GET", "HEAD") and not comp:
            if blob is None:
                return _error(404, "BlobNotFound", "The specified blob does not exist.")
            return 200, self._properties(blob), blob.data if method == "GET" else b""
        if method == "PUT" and comp == "lease":
            return self._lease(blobs, name, headers)
        refusal = self._lease_refusal(blob, headers) if method in ("PUT", "DELETE") else None
        if refusal:
            return refusal
        if method == "PUT" and comp == "metadata" and blob is not None:
            blob.metadata = _metadata(headers)
            blob.etag = _new_etag()
            return 200, {"ETag": blob.etag}, b""
        if method == "PUT" and not comp and headers.get("x-ms-blob-type") == "BlockBlob":
            lease = blob.lease if blob else None
            blobs[name] = Blob(body, headers.get("content-type", "application/octet-stream"), _metadata(headers),
                               lease=lease)
            return 201, {"ETag": blobs[name].etag}, b""
        if method == "DELETE" and not comp:
            if blobs.pop(name, None) is None:
                return _error(404, "BlobNotFound", "The specified blob does not exist.")
            return 202, {}, b""
        return None

    def _handler_class(self):
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parsed = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
                authorization = self.headers.get("Authorization") or ""
                token = authorization[len("Bearer "):] if authorization.startswith("Bearer ") else None
                headers = {k.lower(): v for k, v in self.headers.items()}
                container, _, name = urllib.parse.unquote(parsed.path).lstrip("/").partition("/")
                entry = {"method": self.command, "path": parsed.path, "query": parsed.query, "token": token}
                with stand_in._lock:
                    stand_in.requests.append(entry)
                    if token is None or not stand_in.accepts(token):
                        answer = _error(401, "InvalidAuthenticationInfo", "Server failed to authenticate the "
                                                                          "request.")
                    else:
                        answer = stand_in._operate(self.command, container, name, query, headers, body)
                    if answer is None:
                        stand_in.unhandled.append(f"{self.command} {self.path}")
                        answer = _error(400, "UnsupportedHttpVerb", "This stand-in does not do that.")
                self._send(*answer)

            def _send(self, status, headers, body):
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.send_header("x-ms-request-id", str(uuid.uuid4()))
                self.send_header("x-ms-version", "2023-11-03")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_HEAD = do_PUT = do_DELETE = do_POST = _handle

        return Handler


def _new_etag():
    return f'"0x{uuid.uuid4().hex[:15].upper()}"'


def _metadata(headers):
    return {k[len("x-ms-meta-"):]: v for k, v in headers.items() if k.startswith("x-ms-meta-")}


def _error(status, code, message):
    body = (f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code>'
            f"<Message>{escape(message)}</Message></Error>").encode()
    return status, {"Content-Type": "application/xml", "x-ms-error-code": code}, body
