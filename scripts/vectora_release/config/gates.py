"""What validation and promotion demand, from ``release.yaml``: the e2e run and soak times."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .schema import Reader, kind_of


@dataclass(frozen=True)
class E2eSpec:
    """The fixture run of the pipeline used by ``validate --e2e``."""

    client_id: str
    period_days: int
    run_date: str
    fixtures: str
    min_dated_pct: float
    namespace: str = "_release_check"  # every key the run reads or writes lies under it
    min_items: int = 11  # items the newsletter must select
    scoring: str = "bedrock"  # the scoring the run must go through
    fallback: str | None = "rules"  # declared fallback: reported, and a failure when used


E2E_KEYS = (
    "client_id",
    "period_days",
    "run_date",
    "fixtures",
    "min_dated_pct",
    "namespace",
    "min_items",
    "scoring",
    "fallback",
)
_NAMESPACE = re.compile(r"^_[a-z0-9_-]{1,63}$")
_DURATION = re.compile(r"^(\d+)([smhdw]?)$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(r: Reader, value: Any, where: str) -> int:
    """``14d``, ``36h``, ``90m``, ``30s`` or a number of seconds → seconds."""
    match = _DURATION.match(str(value).strip()) if not isinstance(value, bool) else None
    if match is None:
        raise r.fail(where, f"expected a duration like 14d, 36h or 90m, got {kind_of(value)}")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def parse_e2e(r: Reader, data: dict[str, Any]) -> E2eSpec:
    where = "validation.e2e"
    body = r.mapping(data, where, set(E2E_KEYS))
    namespace = r.get(body, "namespace", str, where, default="_release_check")
    if not _NAMESPACE.match(namespace):
        raise r.fail(f"{where}.namespace", "must start with '_' (a client id never does)")
    scoring = r.get(body, "scoring", str, where, default="bedrock")
    fallback = r.get(body, "fallback", str, where, default="rules")
    for key, value in (("scoring", scoring), ("fallback", fallback)):
        if value not in ("bedrock", "rules"):
            raise r.fail(f"{where}.{key}", f"expected bedrock or rules, got {value!r}")
    return E2eSpec(
        namespace=namespace,
        min_items=r.get(body, "min_items", int, where, default=11),
        scoring=scoring,
        fallback=None if fallback == scoring else fallback,
        client_id=r.get(body, "client_id", str, where),
        period_days=r.get(body, "period_days", int, where),
        run_date=str(r.get(body, "run_date", str, where)),
        fixtures=r.get(body, "fixtures", str, where),
        min_dated_pct=float(r.get(body, "min_dated_pct", (int, float), where, default=90)),
    )
