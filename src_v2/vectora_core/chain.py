"""The weekly run's chain and the app's metrics.

Chain: a scheduled event carries ``then``, the functions (alias ``live``) still to run. When a
step succeeds, its handler invokes the next one asynchronously with the same event, its
``run_date`` pinned, and the rest of the list; a failed step stops the chain (Lambda retries
an asynchronous invocation twice first). An event without ``then`` (validation, a manual run)
runs one step only.

Metrics: written as CloudWatch embedded metric format (one JSON log line), which CloudWatch
Logs turns into metrics: no API call, no extra permission, no latency added to the run.
``NewslettersProduced`` is written by the newsletter step; ``BedrockCalls`` (HTTP attempts) and
``BedrockThrottles`` (attempts answered "throttled") by hooks on every Bedrock client
(``watch_bedrock``), one line per API call, retries included, so the alarm's ratio is at most
100 %.
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


THROTTLED = frozenset({"ThrottlingException", "TooManyRequestsException", "Throttling"})
_TALLY = "vectora_bedrock_attempts"  # key of the per-call tally in botocore's request context


def watch_bedrock(client: Any, printer: Any = print) -> Any:
    """Count ``client``'s attempts and throttled attempts; one metrics line per API call."""
    events = client.meta.events

    def attempt(response: Any = None, request_dict: Any = None, **_: Any) -> None:
        context = (request_dict or {}).get("context")
        if context is None:
            return
        tally = context.setdefault(_TALLY, [0, 0])
        tally[0] += 1
        tally[1] += int(_throttled(response))

    def done(context: Any = None, **_: Any) -> None:
        calls, throttles = (context or {}).pop(_TALLY, None) or (1, 0)
        emit_metrics({"BedrockCalls": calls, "BedrockThrottles": throttles}, printer)

    events.register("needs-retry.bedrock-runtime", attempt)
    events.register("after-call.bedrock-runtime", done)
    events.register("after-call-error.bedrock-runtime", done)
    return client


def _throttled(response: Any) -> bool:
    """Whether an attempt's ``(http_response, parsed)`` says the call was throttled."""
    if not response:
        return False
    http, parsed = response
    code = ((parsed or {}).get("Error") or {}).get("Code")
    return code in THROTTLED or getattr(http, "status_code", None) == 429


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
