"""Lambda entry point for ingest-v2: fetch feeds and store ingested items."""

from __future__ import annotations

from typing import Any

from vectora_core.health import COMMON_ENV, handle
from vectora_core.pipeline import run_ingest

FUNCTION = "ingest-v2"
REQUIRED_ENV: tuple[str, ...] = COMMON_ENV


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    """Answer ``{"healthcheck": true}`` or run the step for ``{"client_id", ...}``."""
    return handle(FUNCTION, REQUIRED_ENV, run_ingest, event)
