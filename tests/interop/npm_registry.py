"""A read-only npm registry on 127.0.0.1 that serves the packages of a folder of `npm pack`
tarballs, so that npm, pnpm and Yarn install them by name and version, as from the registry, with
no network: the main package's optional dependencies are resolved as a project's would be.

    with NpmRegistry(folder) as registry:      # every *.tgz in folder (none: every name is a 404)
        registry.url                           # http://127.0.0.1:PORT/
        registry.requests                      # [(method, path)] in the order they came

It answers:

    GET /<name>                 the package's document (scoped names as `@scope%2fname`, however
                                the slash is written): every version found, `latest` the highest
                                release, `next` the highest prerelease when it is newer; each
                                version's publish time is its tarball's modification time
    GET /-/tarballs/<file>.tgz  the tarball itself

and 404 `{"error": "not found"}` to anything else, as the registry does for a name it does not
know. It accepts no publish.
"""

import base64
import hashlib
import json
import tarfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote


def _version_key(version):
    release, _, pre = version.partition("-")
    return tuple(int(x) for x in release.split(".")), pre == "", pre


def read_packages(folder):
    """{name: {version: (manifest, tarball path)}} for every tarball in folder."""
    packages = {}
    for tgz in sorted(Path(folder).glob("*.tgz")):
        with tarfile.open(tgz) as t:
            manifest = json.load(t.extractfile("package/package.json"))
        packages.setdefault(manifest["name"], {})[manifest["version"]] = (manifest, tgz)
    return packages


class NpmRegistry:
    def __init__(self, folder):
        self.packages = read_packages(folder)
        self.requests = []
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                registry.requests.append(("GET", self.path))
                path = unquote(self.path.split("?", 1)[0])
                if path.startswith("/-/tarballs/"):
                    file = path[len("/-/tarballs/"):]
                    for versions in registry.packages.values():
                        for _, tgz in versions.values():
                            if tgz.name == file:
                                return self._send(200, tgz.read_bytes(), "application/octet-stream")
                    return self._not_found()
                name = path.lstrip("/")
                if name in registry.packages:
                    body = json.dumps(registry.document(name)).encode()
                    return self._send(200, body, "application/json")
                return self._not_found()

            def do_PUT(self):
                registry.requests.append(("PUT", self.path))
                self._send(405, b'{"error": "this registry accepts no publish"}', "application/json")

            def _not_found(self):
                self._send(404, b'{"error": "not found"}', "application/json")

            def _send(self, status, body, content_type):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def document(self, name):
        versions, published = {}, {}
        for version, (manifest, tgz) in self.packages[name].items():
            published[version] = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(tgz.stat().st_mtime))
            data = tgz.read_bytes()
            versions[version] = dict(manifest, dist={
                "tarball": f"{self.url}-/tarballs/{tgz.name}",
                "shasum": hashlib.sha1(data).hexdigest(),
                "integrity": "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode(),
            })
        ordered = sorted(versions, key=_version_key)
        releases = [v for v in ordered if "-" not in v]
        tags = {"latest": releases[-1] if releases else ordered[-1]}
        if ordered[-1] != tags["latest"]:
            tags["next"] = ordered[-1]
        published["created"] = published["modified"] = max(published.values())
        return {"name": name, "dist-tags": tags, "versions": versions, "time": published}

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
