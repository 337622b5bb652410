"""Promotion gates from the operators' own rules: how long a release has run, validated, upstream.

``environments.<dest>.min_soak`` is the time the release must have run, validated, in the
environment it is promoted from, counted from the end of its first successful, validated
deployment there (``finished_at``) to the target's clock; ``min_checks`` is the number of
validation checks it must have passed there (every check passed). ``--skip-soak --reason``
overrides both; the override is recorded in the ledger and shown in the job summary. A release
the destination already runs is not gated again (promoting it again changes nothing).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..common.clock import iso
from ..common.errors import InputError, PromotionError
from ..deploy.target import Target
from ..store.ledger import SUCCEEDED, DeploymentRecord


def soak_gate(
    source: Target, dest: Target, record: DeploymentRecord, skip_reason: str | None
) -> dict[str, Any] | None:
    """What the gate found (for the record and the summary), or None when ``dest`` sets none.

    Raises PromotionError (exit 2) when the release has not soaked long enough or passed too
    few checks, unless ``skip_reason`` is given.
    """
    spec = dest.spec
    if skip_reason is not None and not skip_reason.strip():
        raise InputError("--skip-soak needs a --reason", "say why, e.g. --reason 'hotfix for …'")
    if spec.min_soak_seconds <= 0 and spec.min_checks <= 0:
        return None
    current = dest.ledger.current()
    if current is not None and current.manifest_sha256 == record.manifest_sha256:
        return None  # already there: the gate was passed (or overridden) when it went there
    since = _soak_start(source, record)
    now = dest.clock()
    # A clock behind the record (simulated time after a bake) counts as no soak, never less.
    soaked = max(0, int((now - since).total_seconds())) if since else 0
    passed = sum(c.get("result") == "pass" for c in (record.validation or {}).get("checks", []))
    found = {
        "from_env": source.name,
        "required_seconds": spec.min_soak_seconds,
        "soaked_seconds": soaked,
        "since": iso(since) if since else None,
        "min_checks": spec.min_checks,
        "checks_passed": passed,
        "skipped": skip_reason is not None,
        "reason": skip_reason,
    }
    problems = []
    if soaked < spec.min_soak_seconds:
        problems.append(
            f"it has run validated in {source.name} for {_human(soaked)}, "
            f"{dest.name} requires {_human(spec.min_soak_seconds)} (min_soak)"
        )
    if passed < spec.min_checks:
        problems.append(
            f"it passed {passed} validation checks, {dest.name} requires {spec.min_checks}"
        )
    if problems and skip_reason is None:
        raise PromotionError(
            f"release {record.release_id} cannot go to {dest.name} yet: " + "; ".join(problems),
            "wait, or override with --skip-soak --reason TEXT (recorded in the ledger)",
        )
    return found


def _soak_start(source: Target, record: DeploymentRecord) -> dt.datetime | None:
    """When the release first finished a successful, validated deployment in ``source``."""
    starts = [
        r.finished_at
        for r in source.ledger.history()
        if r.manifest_sha256 == record.manifest_sha256
        and r.outcome == SUCCEEDED
        and r.validated
        and r.finished_at
    ]
    if not starts:
        return None
    return dt.datetime.fromisoformat(min(starts).replace("Z", "+00:00"))


def _human(seconds: int) -> str:
    days, rest = divmod(max(seconds, 0), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {minutes}m" if hours else f"{minutes}m"
