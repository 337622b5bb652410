"""Bucket policies on the embedded AWS: only the statements moto can evaluate apply.

moto checks an object request against the bucket policy without the request's context: it
knows no condition key (``s3:if-none-match``, ``aws:PrincipalArn``) and treats every condition
as met, so a conditional ``Deny`` would refuse every request, the legitimate ones included. The
embedded AWS therefore applies the unconditional statements (``Resource`` + ``Action``, no
``Condition`` nor ``Not*`` element) and leaves the others to AWS; tests read those as data
(see docs/security.md).
"""

from __future__ import annotations

import json
from typing import Any

UNEVALUATED = frozenset({"Condition", "NotResource", "NotAction", "NotPrincipal"})


def evaluable(policy: dict[str, Any]) -> dict[str, Any]:
    """``policy`` without the statements moto cannot evaluate faithfully."""
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    kept = [s for s in statements if not UNEVALUATED & set(s)]
    return {**policy, "Statement": kept}


def install() -> None:
    """Make moto's S3 check object requests against the evaluable statements only (once)."""
    from moto.iam.access_control import IAMPolicy
    from moto.s3.models import FakeBucket

    original = FakeBucket.get_permission
    if getattr(original, "evaluable_only", False):
        return

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return original(self, action, resource)
        policy = evaluable(json.loads(self.policy))
        return IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource)

    get_permission.evaluable_only = True  # type: ignore[attr-defined]
    FakeBucket.get_permission = get_permission
