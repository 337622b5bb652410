"""The embedded AWS's stand-in for Lambda's presigned code URLs.

On real AWS, GetFunction and GetLayerVersion return ``Location``, an HTTPS URL of the zip. The
embedded AWS (moto) keeps the bytes but serves no such URL. This small HTTP server, on
127.0.0.1 beside the embedded AWS and in the same process, answers

    GET /function/<region>/<name>/<qualifier>    the zip of that function version
    GET /layer/<region>/<name>/<version>          the zip of that layer version

with the bytes moto holds, and :class:`LocalCodeFetcher` reaches it over HTTP as the default
fetcher reaches the real URL; the caller checks the bytes against ``CodeSha256`` either way.
"""

from __future__ import annotations

import threading
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ..aws.code import CodeRef

_lock = threading.Lock()
_server: CodeServer | None = None


def _code_bytes(kind: str, region: str, name: str, qualifier: str) -> bytes | None:
    from moto.awslambda.models import lambda_backends

    for account in list(lambda_backends):
        backend = lambda_backends[account][region]
        try:
            if kind == "function":
                return bytes(backend.get_function(name, qualifier).code_bytes)
            if kind == "layer":
                return bytes(backend._layers.get_layer_version(name, qualifier).code_bytes)
        except Exception:  # noqa: BLE001, S112 - not in this account: try the next one
            continue
    return None


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # the name http.server calls
        parts = [urllib.parse.unquote(p) for p in self.path.strip("/").split("/")]
        data = _code_bytes(*parts) if len(parts) == 4 else None
        if data is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: Any) -> None:  # no per-request access log
        return


class CodeServer:
    """The HTTP endpoint above, on a free port of 127.0.0.1, in a daemon thread."""

    def __init__(self) -> None:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> CodeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()


def code_server() -> CodeServer:
    """The process's code endpoint, started on first use (moto runs in this process)."""
    global _server
    with _lock:
        if _server is None:
            _server = CodeServer().start()
        return _server


def stop_code_server() -> None:
    """Stop the endpoint if it was started (tests and the embedded AWS call this)."""
    global _server
    with _lock:
        if _server is not None:
            _server.stop()
            _server = None


class LocalCodeFetcher:
    """Fetches code from the local endpoint, over HTTP like the presigned URL."""

    def __call__(self, ref: CodeRef) -> bytes:
        path = "/".join(
            urllib.parse.quote(part, safe="")
            for part in (ref.kind, ref.region, ref.name, ref.qualifier)
        )
        url = f"{code_server().endpoint}/{path}"
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - 127.0.0.1
            return bytes(response.read())
