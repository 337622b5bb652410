"""Env-var values in ``release.yaml``: valid names, secrets kept out (``ssm:`` references).

A value whose name looks secret, or that looks like an access key, must be an ``ssm:``
reference that the function resolves at run time; reports show such values as ``MASK``.
"""

from __future__ import annotations

import re
from typing import Any

from ..common.errors import ConfigError
from .schema import Reader, kind_of

SSM_PREFIX = "ssm:"
MASK = "****"  # what reports show in place of a secret value
# "token" but not "tokens": BEDROCK_MAX_TOKENS is a count, API_TOKEN a secret.
_SECRET_KEY = re.compile(r"(passw(or)?d|secret|token(?!s)|api_?key|private_?key|credential)", re.I)
_ENV_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]+$")  # what Lambda accepts as a variable name
_SECRET_VALUE = re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")


def is_secret_key(key: str) -> bool:
    """Whether an env-var name looks like it holds a secret (its value is then masked)."""
    return bool(_SECRET_KEY.search(key))


def parse_variables(r: Reader, data: dict[str, Any], where: str) -> dict[str, str]:
    """Env-var names and values of ``where``; a literal that looks like a secret is refused."""
    values: dict[str, str] = {}
    for key, value in r.mapping(data, where).items():
        path = f"{where}.{key}"
        if not isinstance(key, str) or not _ENV_KEY.match(key):
            raise r.fail(path, "env-var names are a letter then letters, digits or '_'")
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise r.fail(path, f"expected a string, got {kind_of(value)}")
        text = str(value)
        if not text.startswith(SSM_PREFIX) and (
            _SECRET_VALUE.search(text) or (_SECRET_KEY.search(str(key)) and text)
        ):
            raise ConfigError(
                f"{r.source}: {path}: looks like a secret written as a literal value",
                f"store it in SSM Parameter Store and write 'ssm:/<project>/<env>/{key.lower()}'",
            )
        values[str(key)] = text
    return values
