"""A local STS that answers AssumeRoleWithWebIdentity and counts the requests it gets.

For scripts/bench.sh: it answers at once, so a measurement shows the client's own cost. It issues
made-up credentials (they open nothing) and checks the request only as far as STS would refuse it
for missing fields.

    python sts_stub.py --port-file PATH [--port N]

listens on 127.0.0.1 (a free port unless --port), writes the port to PATH once it accepts
connections, and serves until killed. Besides `POST /` (the STS query API) it has:

    GET  /_stub/count   {"AssumeRoleWithWebIdentity": n, "other": m}
    POST /_stub/reset   sets the counts to zero
"""

import argparse
import json
import os
import secrets
import string
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

NS = "https://sts.amazonaws.com/doc/2011-06-15/"
ACTION = "AssumeRoleWithWebIdentity"
REQUIRED = ("RoleArn", "RoleSessionName", "WebIdentityToken")


class Counts:
    def __init__(self):
        self._lock = threading.Lock()
        self._counts = {ACTION: 0, "other": 0}

    def add(self, name):
        with self._lock:
            self._counts[name] += 1

    def snapshot(self):
        with self._lock:
            return dict(self._counts)

    def reset(self):
        with self._lock:
            for k in self._counts:
                self._counts[k] = 0


def _random(alphabet, n):
    return "".join(secrets.choice(alphabet) for _ in range(n))


def success_xml(form):
    duration = int(form.get("DurationSeconds", "3600"))
    expiration = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + duration))
    role_arn = form["RoleArn"]
    account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else "123456789012"
    role_name = role_arn.rsplit("/", 1)[-1]
    session = form["RoleSessionName"]
    return f"""<AssumeRoleWithWebIdentityResponse xmlns="{NS}">
  <AssumeRoleWithWebIdentityResult>
    <Credentials>
      <AccessKeyId>ASIA{_random(string.ascii_uppercase + string.digits, 16)}</AccessKeyId>
      <SecretAccessKey>{_random(string.ascii_letters + string.digits + "+/", 40)}</SecretAccessKey>
      <SessionToken>{_random(string.ascii_letters + string.digits + "+/", 356)}</SessionToken>
      <Expiration>{expiration}</Expiration>
    </Credentials>
    <AssumedRoleUser>
      <AssumedRoleId>AROASTUBSTUBSTUBSTUB:{escape(session)}</AssumedRoleId>
      <Arn>arn:aws:sts::{escape(account)}:assumed-role/{escape(role_name)}/{escape(session)}</Arn>
    </AssumedRoleUser>
    <Audience>stub</Audience>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>{secrets.token_hex(16)}</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>
"""


def error_xml(code, message):
    return f"""<ErrorResponse xmlns="{NS}">
  <Error><Type>Sender</Type><Code>{code}</Code><Message>{escape(message)}</Message></Error>
  <RequestId>{secrets.token_hex(16)}</RequestId>
</ErrorResponse>
"""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    counts: Counts  # set on the subclass made by serve()

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass  # the bodies hold tokens; the request lines say nothing useful here

    def _send(self, status, body, content_type="text/xml"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/_stub/count":
            self._send(200, json.dumps(self.counts.snapshot()), "application/json")
        else:
            self._send(404, "not found\n", "text/plain")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        if self.path == "/_stub/reset":
            self.counts.reset()
            self._send(200, "{}", "application/json")
            return
        form = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
        if form.get("Action") != ACTION:
            self.counts.add("other")
            self._send(400, error_xml("InvalidAction", f"this stub answers only {ACTION}"))
            return
        self.counts.add(ACTION)
        if not self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            self._send(400, error_xml("ValidationError", "expected a form-encoded body"))
            return
        missing = [f for f in REQUIRED if not form.get(f)]
        if missing or form.get("Version") != "2011-06-15":
            self._send(400, error_xml("ValidationError", f"missing or wrong: {missing or ['Version']}"))
            return
        self._send(200, success_xml(form))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # a benchmark's 64 clients may connect at once


def serve(port=0):
    """Starts the stub in a background thread; returns (server, counts). `server.server_address`
    has the port; `server.shutdown()` stops it."""
    counts = Counts()
    handler = type("StubHandler", (Handler,), {"counts": counts})
    server = _Server(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", required=True)
    args = parser.parse_args()
    server, _ = serve(args.port)
    staged = args.port_file + ".tmp"
    with open(staged, "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(staged, args.port_file)
    threading.Event().wait()


if __name__ == "__main__":
    main()
