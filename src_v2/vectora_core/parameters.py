"""Secrets stay in SSM: env vars hold ``ssm:/name`` references, resolved here at run time.

The release tool writes the reference, never the value, into the function's configuration.
A run resolves each reference with the function's own role (``ssm:GetParameter`` with
decryption on its environment's parameters) the first time it is needed; the value is cached
for the life of the container and is never logged, put back in ``os.environ`` or put in an
error message (errors name the variable and the parameter, not the value).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from vectora_core import aws

SSM_PREFIX = "ssm:"
_cache: dict[str, str] = {}  # parameter name → value, for the life of the container


class ParameterError(RuntimeError):
    """A ``ssm:`` reference cannot be resolved; the message names it (never a value)."""


def is_reference(value: str | None) -> bool:
    return bool(value) and str(value).startswith(SSM_PREFIX)


def resolve(key: str, value: str, ssm: Any | None = None) -> str:
    """``value`` itself, or the parameter it refers to (``ssm:/name``), decrypted and cached."""
    if not is_reference(value):
        return value
    name = value[len(SSM_PREFIX) :]
    if name not in _cache:
        try:
            client = ssm or aws.client("ssm")
            response = client.get_parameter(Name=name, WithDecryption=True)
        except aws.errors() as exc:
            raise ParameterError(f"{key}: cannot read SSM parameter {name}: {_why(exc)}") from None
        _cache[name] = response["Parameter"]["Value"]
    return _cache[name]


def resolve_env(values: Mapping[str, str], ssm: Any | None = None) -> dict[str, str]:
    """``values`` with every ``ssm:`` reference resolved (a new dict; ``os.environ`` unchanged)."""
    return {key: resolve(key, value, ssm) for key, value in values.items()}


def env_value(key: str, ssm: Any | None = None) -> str | None:
    """Env var ``key`` with its reference resolved (None when unset)."""
    value = os.environ.get(key)
    return None if value is None else resolve(key, value, ssm)


def references() -> dict[str, str]:
    """Env vars of this process that hold references (the references, not the values)."""
    return {key: value for key, value in os.environ.items() if is_reference(value)}


def clear_cache() -> None:
    """Forget every resolved value (a new container; tests)."""
    _cache.clear()


def _why(exc: Exception) -> str:
    """The error code of an AWS error (its message may quote the request), else its type."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if code:
            return str(code)
    return type(exc).__name__
