"""The weekly run's chain and the app's metrics.

Chain: a scheduled event carries ``then``, the functions (alias ``live``) still to run. When a
step succeeds, its handler invokes the next one asynchronously with the same event, its
``run_date`` pinned, and the rest of the list; a failed step stops the chain (Lambda retries
an asynchronous invocation twice first). An event without ``then`` (validation, a manual run)
runs one step only.

Metrics: written as CloudWatch embedded metric format (one JSON log line), which CloudWatch
Logs turns into metrics: no API call, no extra permission, no latency added to the run.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from vectora_core import aws
from vectora_core.runtime import RunRequest

NAMESPACE = "VectoraInbox"


def continue_chain(event: Any, request: RunRequest) -> str | None:
    """Invoke the next function of ``event["then"]`` (asynchronously); its name, else None."""
    if not isinstance(event, dict) or not event.get("then"):
        return None
    then = [str(x) for x in event["then"]]
    payload = {**event, "run_date": request.run_date.isoformat(), "then": then[1:]}
    aws.client("lambda").invoke(
        FunctionName=then[0], InvocationType="Event", Payload=json.dumps(payload).encode()
    )
    return then[0]


def emit_metrics(values: dict[str, float], printer: Any = print) -> None:
    """One embedded-metric-format line with ``values`` under the Environment dimension."""
    if not values:
        return
    env = os.environ.get("ENV") or "unknown"
    document = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [["Environment"]],
                    "Metrics": [{"Name": name, "Unit": "Count"} for name in sorted(values)],
                }
            ],
        },
        "Environment": env,
        **values,
    }
    printer(json.dumps(document, sort_keys=True))
