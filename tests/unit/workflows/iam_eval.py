"""A small evaluator of IAM policy documents, for the tests that read the templates as data.

Explicit ``Deny`` wins over ``Allow``; ``Action``/``NotAction`` and ``Resource``/``NotResource``
match with IAM's wildcards (``*`` and ``?`` match any characters, ``/`` and ``:`` included);
conditions support the operators the templates use. A key absent from the request makes the
positive operators false and the negated ones true, as IAM does.
"""

from __future__ import annotations

import fnmatch
import json
import string
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
ACCOUNT, REGION, PROJECT = "123456789012", "eu-west-3", "vectora-inbox"
VALUES = {"Project": PROJECT, "Region": REGION, "Account": ACCOUNT, "Repo": "vectora/vectora-inbox"}


def render(name: str, **values: str) -> dict[str, Any]:
    """``iam/<name>`` rendered like bootstrap and iam/bootstrap.yaml render it."""
    text = (ROOT / "iam" / name).read_text(encoding="utf-8")
    return json.loads(string.Template(text).substitute(VALUES, **values))


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def boundary_arn(env: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:policy/{PROJECT}-function-boundary-{env}"


def as_list(value: Any) -> list[Any]:
    return [value] if isinstance(value, str) else list(value)


def _match(patterns: Any, value: str, case: bool = True) -> bool:
    if case:
        return any(fnmatch.fnmatchcase(value, p) for p in as_list(patterns))
    return any(fnmatch.fnmatchcase(value.lower(), p.lower()) for p in as_list(patterns))


def _test(operator: str, actual: str | None, expected: Any) -> bool:
    base = operator.removesuffix("IfExists")
    if base == "Null":
        return (actual is None) == (str(expected).lower() == "true")
    negated = "Not" in base
    if actual is None:
        return negated or operator.endswith("IfExists")
    if base in ("StringEquals", "StringNotEquals", "ArnEquals", "ArnNotEquals"):
        found = actual in as_list(expected)
    elif base in ("StringLike", "StringNotLike", "ArnLike", "ArnNotLike"):
        found = _match(expected, actual)
    else:
        raise AssertionError(f"operator {operator} not supported by the test evaluator")
    return found != negated


def conditions_hold(condition: dict[str, dict[str, Any]], context: dict[str, str]) -> bool:
    return all(
        _test(operator, context.get(key), expected)
        for operator, tests in condition.items()
        for key, expected in tests.items()
    )


def applies(statement: dict[str, Any], action: str, resource: str, context: dict[str, str]) -> bool:
    if "Action" in statement and not _match(statement["Action"], action, case=False):
        return False
    if "NotAction" in statement and _match(statement["NotAction"], action, case=False):
        return False
    if "Resource" in statement and not _match(statement["Resource"], resource):
        return False
    if "NotResource" in statement and _match(statement["NotResource"], resource):
        return False
    return conditions_hold(statement.get("Condition", {}), context)


def statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    found = policy["Statement"]
    return [found] if isinstance(found, dict) else found


def denies(policy: dict[str, Any], action: str, resource: str, context: dict[str, str]) -> bool:
    return any(
        s["Effect"] == "Deny" and applies(s, action, resource, context) for s in statements(policy)
    )


def grants(policy: dict[str, Any], action: str, resource: str, context: dict[str, str]) -> bool:
    return any(
        s["Effect"] == "Allow" and applies(s, action, resource, context) for s in statements(policy)
    )


def allowed(
    identity: list[dict[str, Any]],
    action: str,
    resource: str,
    context: dict[str, str] | None = None,
    *,
    boundary: dict[str, Any] | None = None,
    resource_policy: dict[str, Any] | None = None,
) -> bool:
    """Same-account decision: no explicit deny anywhere, an identity allow, within the boundary."""
    context = context or {}
    every = [
        *identity,
        *([boundary] if boundary else []),
        *([resource_policy] if resource_policy else []),
    ]
    if any(denies(p, action, resource, context) for p in every):
        return False
    if boundary is not None and not grants(boundary, action, resource, context):
        return False
    return any(grants(p, action, resource, context) for p in identity)
