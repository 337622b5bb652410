"""Lambda entry point for newsletter-v2: render and store the newsletter."""

from __future__ import annotations

from typing import Any

from vectora_core.health import COMMON_ENV, handle
from vectora_core.pipeline import run_newsletter

FUNCTION = "newsletter-v2"
REQUIRED_ENV: tuple[str, ...] = (*COMMON_ENV, "NEWSLETTERS_BUCKET")


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    """Answer ``{"healthcheck": true}`` or run the step for ``{"client_id", ...}``."""
    return handle(FUNCTION, REQUIRED_ENV, run_newsletter, event)
