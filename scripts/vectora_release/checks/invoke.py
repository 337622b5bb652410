"""Invoke a function's alias ``live``: Lambda's Invoke, or the runner the target was given.

On the embedded AWS (moto runs no code without Docker) the CLI gives targets the local
runner, which runs the deployed bytes; ``checks`` never imports it.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from typing import Any

from ..aws.lambda_ import ALIAS
from ..build.manifest import Manifest
from ..deploy.target import Target
from .findings import FunctionView, view_function


@dataclass
class Invocation:
    """The outcome of invoking a function (locally or on Lambda)."""

    function: str
    ok: bool
    payload: Any = None
    error: dict[str, Any] | None = None
    duration_ms: int = 0
    via: str = "local-runner"
    logs: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


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
    if target.runner is not None:
        return target.runner(target, view, event, manifest)
    started = time.monotonic()
    response = target.lam.invoke(
        FunctionName=view.resource,
        Qualifier=ALIAS,
        Payload=json.dumps(event).encode(),
        LogType="Tail",  # the last 4 KB of the run's log: checked for ERROR lines
    )
    payload = json.loads(response["Payload"].read() or b"null")
    duration = int((time.monotonic() - started) * 1000)
    tail = base64.b64decode(response.get("LogResult") or b"").decode("utf-8", "replace")
    logs = tail.splitlines()
    if response.get("FunctionError"):
        return Invocation(
            view.resource, False, error=payload, duration_ms=duration, via="lambda", logs=logs
        )
    return Invocation(view.resource, True, payload, duration_ms=duration, via="lambda", logs=logs)
