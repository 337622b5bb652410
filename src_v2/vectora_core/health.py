"""Environment checks and the ``{"healthcheck": true}`` answer shared by the handlers.

A variable counts as missing when it is unset or blank, except those in ``MAY_BE_EMPTY``
(``BEDROCK_MODEL_ID``: blank means "rules scoring only", but it must still be defined).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from typing import Any

from vectora_core import build_info, chain, parameters
from vectora_core.config import config_prefix
from vectora_core.runtime import configure_logging, parse_event

COMMON_ENV: tuple[str, ...] = ("ENV", "LOG_LEVEL", "PROJECT_NAME", "CONFIG_BUCKET", "DATA_BUCKET")
MAY_BE_EMPTY: frozenset[str] = frozenset({"BEDROCK_MODEL_ID"})


class MissingEnvError(RuntimeError):
    """Required environment variables are missing; ``names`` lists them."""

    def __init__(self, names: list[str]) -> None:
        super().__init__("missing required environment variable(s): " + ", ".join(names))
        self.names = names


def missing_env(required: Iterable[str]) -> list[str]:
    """Sorted names from ``required`` that are unset (or blank when blank is not allowed)."""
    missing = set()
    for name in required:
        value = os.environ.get(name)
        if value is None or (not value.strip() and name not in MAY_BE_EMPTY):
            missing.add(name)
    return sorted(missing)


def require_env(required: Iterable[str]) -> dict[str, str]:
    """Return the required variables' values; raise :class:`MissingEnvError` if any is missing."""
    names = list(required)
    missing = missing_env(names)
    if missing:
        raise MissingEnvError(missing)
    return {name: os.environ[name].strip() for name in names}


def is_bedrock_check(event: Any) -> bool:
    """True for an event ``{"check": "bedrock"}``."""
    return isinstance(event, dict) and event.get("check") == "bedrock"


def bedrock_check(function: str) -> dict[str, Any]:
    """A minimal Bedrock call with this function's role, model and region (``bedrock.ping``)."""
    from vectora_core import bedrock  # lazy: only this check and scoring call Bedrock

    model_id = os.environ.get("BEDROCK_MODEL_ID", "").strip()
    region = os.environ.get("BEDROCK_REGION", "").strip() or None
    return {"function": function, **bedrock.ping(model_id, region)}


def is_healthcheck(event: Any) -> bool:
    """True for an event ``{"healthcheck": true}``."""
    return isinstance(event, dict) and event.get("healthcheck") is True


def health_check(function: str, required: Iterable[str]) -> dict[str, Any]:
    """Report build and configuration state without calling any other service."""
    info = build_info()
    missing = missing_env(required)
    return {
        "status": "error" if missing else "ok",
        "function": function,
        "core_version": info["version"],
        "commit": info["commit"],
        "env": os.environ.get("ENV") or None,
        "missing_env": missing,
        "config_prefix": config_prefix(),
    }


def handle(
    function: str,
    required: tuple[str, ...],
    step: Callable[[Any, dict[str, str]], dict[str, Any]],
    event: Any,
) -> dict[str, Any]:
    """What every handler does: answer a health check, or check env and run its step.

    The step gets the required variables with their ``ssm:`` references resolved; other code
    reads a secret through ``parameters.env_value``. A health check calls no other service,
    so it resolves nothing.
    """
    configure_logging()
    if is_healthcheck(event):
        return health_check(function, required)
    if is_bedrock_check(event):
        return bedrock_check(function)
    env = require_env(required)
    request = parse_event(event)
    env = parameters.resolve_env(env)  # ssm: references → values, cached per container
    for key, reference in parameters.references().items():  # every one must resolve: fail early
        parameters.resolve(key, reference)
    logging.getLogger(function).info(
        "Run %s for %s on %s", function, request.client_id, request.run_date
    )
    result = {"status": "ok", "function": function, **step(request, env)}
    if function == "newsletter-v2":
        chain.emit_metrics({"NewslettersProduced": 1})
    following = chain.continue_chain(event, request)
    if following:
        result["then_invoked"] = following
    return result
