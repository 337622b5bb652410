"""Invoke a function's alias: ``lambda invoke`` on real AWS, the local runner on embedded AWS."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from urllib.parse import urlparse

from .build.deps import default_cache_dir
from .live import ALIAS
from .manifest import Manifest
from .observe import FunctionView, view_function
from .runner import Invocation, LocalRunner
from .target import Target

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def uses_local_runner() -> bool:
    """True on the embedded AWS (moto cannot run code without Docker) or when asked to."""
    choice = os.environ.get("VECTORA_RELEASE_INVOKER", "auto")
    if choice in ("local", "lambda"):
        return choice == "local"
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    return bool(endpoint) and urlparse(endpoint).hostname in LOOPBACK


def invoke(
    target: Target,
    function: str,
    event: object,
    manifest: Manifest,
    view: FunctionView | None = None,
) -> Invocation:
    """Invoke alias ``live`` of ``function`` with ``event``."""
    view = view or view_function(target, function)
    if view.configuration is None:
        return Invocation(
            view.resource,
            False,
            error={"errorType": "NoAlias", "errorMessage": f"{view.resource} has no alias {ALIAS}"},
        )
    if uses_local_runner():
        cache = default_cache_dir(target.config.root) / "runner"
        runner = LocalRunner(manifest, target.store.fetch, Path(cache))
        layers = [(arn, code or "") for arn, code in view.layers]
        return runner.run(view.resource, view.configuration, layers, event)
    started = time.monotonic()
    response = target.lam.invoke(
        FunctionName=view.resource, Qualifier=ALIAS, Payload=json.dumps(event).encode()
    )
    payload = json.loads(response["Payload"].read() or b"null")
    duration = int((time.monotonic() - started) * 1000)
    if response.get("FunctionError"):
        return Invocation(view.resource, False, error=payload, duration_ms=duration, via="lambda")
    return Invocation(view.resource, True, payload, duration_ms=duration, via="lambda")
