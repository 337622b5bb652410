"""The embedded AWS's stand-in for Lambda's presigned code URLs.

On real AWS, GetFunction and GetLayerVersion return ``Location``, an HTTPS URL of the zip. The
embedded AWS (moto) keeps the bytes but serves no such URL. :func:`with_code_endpoint` wraps
the embedded AWS's web application, so that the same server on 127.0.0.1 also answers

    GET /vectora-code/function/<region>/<name>/<qualifier>    that function version's zip
    GET /vectora-code/layer/<region>/<name>/<version>          that layer version's zip

with the bytes moto holds in that process; :class:`LocalCodeFetcher` reaches it over HTTP as
the default fetcher reaches the real URL, and the caller checks the bytes against
``CodeSha256`` either way. Everything else goes to moto unchanged.
"""

from __future__ import annotations

import os
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any

from ..aws.code import CodeRef

PREFIX = "/vectora-code/"
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


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


def with_code_endpoint(app: WsgiApp) -> WsgiApp:
    """``app`` (moto's) that also serves the code endpoint above."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX):
            return app(environ, start_response)
        parts = [urllib.parse.unquote(p) for p in path[len(PREFIX) :].split("/")]
        data = _code_bytes(*parts) if len(parts) == 4 else None
        if data is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"no such code\n"]
        headers = [("Content-Type", "application/zip"), ("Content-Length", str(len(data)))]
        start_response("200 OK", headers)
        return [data]

    return wrapped


class LocalCodeFetcher:
    """Fetches code from the embedded AWS's code endpoint, over HTTP like the presigned URL.

    ``endpoint``: the embedded AWS's URL (default: ``AWS_ENDPOINT_URL`` when called).
    """

    def __init__(self, endpoint: str | None = None) -> None:
        self.endpoint = endpoint

    def __call__(self, ref: CodeRef) -> bytes:
        endpoint = (self.endpoint or os.environ.get("AWS_ENDPOINT_URL", "")).rstrip("/")
        path = "/".join(
            urllib.parse.quote(part, safe="")
            for part in (ref.kind, ref.region, ref.name, ref.qualifier)
        )
        with urllib.request.urlopen(f"{endpoint}{PREFIX}{path}", timeout=60) as response:  # noqa: S310
            return bytes(response.read())
