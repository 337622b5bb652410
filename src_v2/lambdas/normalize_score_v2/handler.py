"""Lambda entry point for normalize-score-v2: normalise, date and score items."""

from __future__ import annotations

from typing import Any

from vectora_core.health import COMMON_ENV, handle
from vectora_core.pipeline import run_normalize_score

FUNCTION = "normalize-score-v2"
REQUIRED_ENV: tuple[str, ...] = (*COMMON_ENV, "BEDROCK_MODEL_ID", "BEDROCK_REGION")


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    """Answer ``{"healthcheck": true}`` or run the step for ``{"client_id", ...}``."""
    return handle(FUNCTION, REQUIRED_ENV, run_normalize_score, event)
