"""Handler plumbing: logging set-up and validation of the run event."""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

_CLIENT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# A namespace starts with "_", a client id never does: a namespaced run owns none of its keys.
_NAMESPACE_RE = re.compile(r"^_[a-z0-9_-]{1,63}$")
SCORING_MODES = ("auto", "rules")
# Chatty libraries (request signing, wire dumps) stay at WARNING or above whatever LOG_LEVEL says.
QUIET_LOGGERS = ("boto3", "botocore", "s3transfer", "urllib3")
MAX_PERIOD_DAYS = 366


class EventError(ValueError):
    """The invocation event is malformed; the message says which field."""


@dataclass(frozen=True)
class RunRequest:
    """A validated pipeline event."""

    client_id: str
    run_date: date
    period_days: int | None = None
    sources: tuple[str, ...] | None = None
    scoring: str = "auto"
    namespace: str | None = None  # every S3 key of the run under "<namespace>/" (storage)


def configure_logging() -> None:
    """Set the root level from ``LOG_LEVEL`` (default INFO), adding a handler if none exists.

    The AWS SDK loggers are held at WARNING or above so DEBUG never dumps signed requests.
    """
    level_name = os.environ.get("LOG_LEVEL", "INFO").strip().upper() or "INFO"
    level = logging.getLevelName(level_name)
    if not isinstance(level, int):
        level = logging.INFO
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="%(levelname)s %(name)s %(message)s")
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


def today_utc() -> date:
    """Today's date in UTC."""
    return datetime.now(UTC).date()


def parse_event(event: Any) -> RunRequest:
    """Validate ``{"client_id", "period_days"?, "run_date"?, "sources"?, "scoring"?,
    "namespace"?}``."""
    if not isinstance(event, dict):
        raise EventError("event must be a JSON object")
    client_id = event.get("client_id")
    if not isinstance(client_id, str) or not _CLIENT_RE.match(client_id):
        raise EventError("client_id is required: lower-case letters, digits, '_' or '-'")

    raw_date = event.get("run_date")
    if raw_date is None:
        run_date = today_utc()
    else:
        try:
            run_date = date.fromisoformat(str(raw_date))
        except ValueError as exc:
            raise EventError(f"run_date must be YYYY-MM-DD, got {raw_date!r}") from exc

    period = event.get("period_days")
    if period is not None and (
        isinstance(period, bool) or not isinstance(period, int) or not 0 < period <= MAX_PERIOD_DAYS
    ):
        raise EventError(f"period_days must be an integer in 1..{MAX_PERIOD_DAYS}")

    sources = event.get("sources")
    if sources is not None and (
        not isinstance(sources, list) or not all(isinstance(s, str) and s for s in sources)
    ):
        raise EventError("sources must be a list of URL strings")

    scoring = event.get("scoring", "auto")
    if scoring not in SCORING_MODES:
        raise EventError(f"scoring must be one of {', '.join(SCORING_MODES)}")

    namespace = event.get("namespace")
    if namespace is not None and (
        not isinstance(namespace, str) or not _NAMESPACE_RE.match(namespace)
    ):
        raise EventError("namespace must start with '_': lower-case letters, digits, '_' or '-'")

    return RunRequest(
        namespace=namespace,
        client_id=client_id,
        run_date=run_date,
        period_days=period,
        sources=tuple(sources) if sources is not None else None,
        scoring=scoring,
    )
