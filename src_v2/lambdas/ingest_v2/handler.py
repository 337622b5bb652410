"""Lambda entry point for ingest-v2: fetch feeds and store ingested items."""

from __future__ import annotations

import logging
from typing import Any

from vectora_core.health import COMMON_ENV, health_check, is_healthcheck, require_env
from vectora_core.pipeline import run_ingest
from vectora_core.runtime import configure_logging, parse_event

FUNCTION = "ingest-v2"
REQUIRED_ENV: tuple[str, ...] = COMMON_ENV

log = logging.getLogger(FUNCTION)


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    """Answer ``{"healthcheck": true}`` or run the step for ``{"client_id", ...}``."""
    configure_logging()
    if is_healthcheck(event):
        return health_check(FUNCTION, REQUIRED_ENV)
    env = require_env(REQUIRED_ENV)
    request = parse_event(event)
    log.info("Run %s for %s on %s", FUNCTION, request.client_id, request.run_date)
    return {"status": "ok", "function": FUNCTION, **run_ingest(request, env)}
