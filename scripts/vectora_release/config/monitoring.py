"""The weekly run and its watch in ``release.yaml``: schedules, the chain, alarms, the bake.

Top-level ``schedules:`` and ``alarms:`` give every environment's defaults; an environment's
own ``schedules:``/``alarms:`` override them key by key (``enabled: false`` in dev…). The four
alarms the operators asked for exist by default (``DEFAULT_ALARMS``); release.yaml overrides
their thresholds, periods… or disables them. See README "Schedules, alarms and the bake".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .schema import Reader

# What each alarm may watch: a name → how deploy/monitoring.py builds its CloudWatch query.
METRICS = ("error_rate_pct", "bedrock_throttle_pct", "duration_max_ms", "newsletters_produced")
STATISTICS = ("Sum", "Average", "Maximum", "Minimum", "SampleCount")
COMPARISONS = {
    ">": "GreaterThanThreshold",
    ">=": "GreaterThanOrEqualToThreshold",
    "<": "LessThanThreshold",
    "<=": "LessThanOrEqualToThreshold",
}
MISSING_DATA = ("missing", "notBreaching", "breaching", "ignore")
ALARM_KEYS = {
    "metric",
    "statistic",
    "threshold",
    "comparison",
    "period",
    "evaluation_periods",
    "treat_missing_data",
    "enabled",
    "bake",
}
SCHEDULE_KEYS = {"expression", "target", "input", "enabled"}
# The four alarms of the deployment plan. ``bake``: whether a deploy's bake watches it (a
# 24-hour window says nothing about the minutes after a deploy).
DEFAULT_ALARMS: dict[str, dict[str, Any]] = {
    "errors": {"metric": "error_rate_pct", "threshold": 5, "comparison": ">", "period": 300},
    "bedrock-throttles": {
        "metric": "bedrock_throttle_pct",
        "threshold": 10,
        "comparison": ">",
        "period": 300,
    },
    "duration": {
        "metric": "duration_max_ms",
        "statistic": "Maximum",
        "threshold": 240000,
        "comparison": ">",
        "period": 60,
    },
    "newsletter-missing": {
        "metric": "newsletters_produced",
        "statistic": "Sum",
        "threshold": 1,
        "comparison": "<",
        "period": 86400,
        "treat_missing_data": "breaching",
        "bake": False,
    },
}
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*?,/\-#L W]+$")
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")


@dataclass(frozen=True)
class ScheduleSpec:
    """One EventBridge rule: ``expression`` runs ``target`` (alias live) with ``input``."""

    name: str
    expression: str
    target: str
    input: str  # canonical JSON (sorted keys)
    enabled: bool


@dataclass(frozen=True)
class AlarmSpec:
    """One CloudWatch alarm of an environment."""

    name: str
    metric: str
    statistic: str
    threshold: float
    comparison: str  # CloudWatch's ComparisonOperator
    period: int
    evaluation_periods: int
    treat_missing_data: str
    bake: bool


@dataclass(frozen=True)
class Monitoring:
    """What an environment runs on its own and how it is watched."""

    schedules: tuple[ScheduleSpec, ...]
    alarms: tuple[AlarmSpec, ...]
    chain: tuple[str, ...]
    bake_minutes: int


def check_expression(r: Reader, where: str, text: str) -> None:
    """An EventBridge ``cron(m h dom mon dow year)`` or ``rate(N unit)``, else ConfigError."""
    rate = _RATE.match(text)
    if rate:
        count, unit = int(rate.group(1)), rate.group(2)
        if count < 1 or (count == 1) != (not unit.endswith("s")):
            raise r.fail(where, f"bad rate {text!r} (rate(1 day), rate(5 minutes)…)")
        return
    if not (text.startswith("cron(") and text.endswith(")")):
        raise r.fail(where, f"expected cron(...) or rate(...), got {text!r}")
    fields = text[5:-1].split()
    if len(fields) != 6 or not all(_CRON_FIELD.match(f) for f in fields):
        raise r.fail(where, f"a cron has 6 fields (min hour day month weekday year): {text!r}")
    if (fields[2] == "?") == (fields[4] == "?"):
        raise r.fail(where, f"exactly one of day-of-month and day-of-week must be '?': {text!r}")
    for value, low, high, label in ((fields[0], 0, 59, "minute"), (fields[1], 0, 23, "hour")):
        for number in re.findall(r"\d+", value):
            if not low <= int(number) <= high:
                raise r.fail(where, f"{label} {number} out of {low}..{high}: {text!r}")


def parse_monitoring(
    r: Reader,
    top: dict[str, Any],
    env_body: dict[str, Any],
    env: str,
    functions: tuple[str, ...],
) -> Monitoring:
    """The schedules, chain, alarms and bake of environment ``env`` (top level + its overrides)."""
    chain = r.str_list(top, "chain", "(top level)") or ()
    for i, name in enumerate(chain):
        if name not in functions:
            raise r.fail(f"chain[{i}]", f"unknown function {name!r}")
    if len(set(chain)) != len(chain):
        raise r.fail("chain", "a function appears twice")
    where = f"environments.{env}"
    schedules = _merged(r, top, env_body, "schedules", where, SCHEDULE_KEYS, {})
    alarms = _merged(r, top, env_body, "alarms", where, ALARM_KEYS, DEFAULT_ALARMS)
    bake = r.get(env_body, "bake_minutes", int, where, default=0)
    if not 0 <= bake <= 180:
        raise r.fail(f"{where}.bake_minutes", "must be between 0 and 180")
    return Monitoring(
        schedules=tuple(
            _schedule(r, name, body, where, functions, chain) for name, body in schedules.items()
        ),
        alarms=tuple(
            alarm
            for name, body in alarms.items()
            if (alarm := _alarm(r, name, body, where)) is not None
        ),
        chain=chain,
        bake_minutes=bake,
    )


def _merged(
    r: Reader,
    top: dict[str, Any],
    env_body: dict[str, Any],
    key: str,
    where: str,
    allowed: set[str],
    defaults: dict[str, dict[str, Any]],
) -> dict[str, dict[str, Any]]:
    """Defaults ← top-level ``key`` ← the environment's ``key``, merged per entry."""
    merged = {name: dict(body) for name, body in defaults.items()}
    for source, label in ((top, key), (env_body, f"{where}.{key}")):
        section = r.mapping(r.get(source, key, dict, label.rsplit(".", 1)[0], default={}), label)
        for name, body in section.items():
            if not isinstance(name, str) or not _NAME.match(name):
                raise r.fail(f"{label}.{name}", "names are lower-case letters, digits and '-'")
            merged.setdefault(name, {}).update(r.mapping(body, f"{label}.{name}", allowed))
    return merged


def _schedule(
    r: Reader,
    name: str,
    body: dict[str, Any],
    where: str,
    functions: tuple[str, ...],
    chain: tuple[str, ...],
) -> ScheduleSpec:
    path = f"{where}.schedules.{name}"
    expression = r.get(body, "expression", str, path)
    check_expression(r, f"{path}.expression", expression)
    target = r.get(body, "target", str, path)
    if target not in functions:
        raise r.fail(f"{path}.target", f"unknown function {target!r}")
    if chain and target not in chain:
        raise r.fail(f"{path}.target", f"{target!r} is not in the chain ({', '.join(chain)})")
    payload = r.get(body, "input", dict, path, default={})
    if "then" in payload:
        raise r.fail(f"{path}.input.then", "set by the deploy from 'chain'")
    return ScheduleSpec(
        name=name,
        expression=expression,
        target=target,
        input=json.dumps(payload, sort_keys=True),
        enabled=r.get(body, "enabled", bool, path, default=True),
    )


def _alarm(r: Reader, name: str, body: dict[str, Any], where: str) -> AlarmSpec | None:
    path = f"{where}.alarms.{name}"
    if not r.get(body, "enabled", bool, path, default=True):
        return None
    metric = r.get(body, "metric", str, path)
    if metric not in METRICS:
        raise r.fail(f"{path}.metric", f"unknown metric {metric!r} (one of {', '.join(METRICS)})")
    statistic = r.get(body, "statistic", str, path, default="Sum")
    if statistic not in STATISTICS:
        raise r.fail(f"{path}.statistic", f"one of {', '.join(STATISTICS)}")
    threshold = r.get(body, "threshold", (int, float), path)
    if isinstance(threshold, bool) or threshold < 0:
        raise r.fail(f"{path}.threshold", f"must be a number ≥ 0, got {threshold!r}")
    if metric.endswith("_pct") and threshold > 100:
        raise r.fail(f"{path}.threshold", f"a percentage is at most 100, got {threshold!r}")
    comparison = r.get(body, "comparison", str, path, default=">")
    if comparison not in COMPARISONS:
        raise r.fail(f"{path}.comparison", f"one of {' '.join(COMPARISONS)}")
    period = r.get(body, "period", int, path, default=300)
    if period not in (10, 30) and (period % 60 or not 60 <= period <= 86400):
        raise r.fail(f"{path}.period", "10, 30 or a multiple of 60 up to 86400 seconds")
    evaluations = r.get(body, "evaluation_periods", int, path, default=1)
    if evaluations < 1 or evaluations * period > 7 * 86400:
        raise r.fail(f"{path}.evaluation_periods", "at least 1, covering at most 7 days")
    missing = r.get(body, "treat_missing_data", str, path, default="notBreaching")
    if missing not in MISSING_DATA:
        raise r.fail(f"{path}.treat_missing_data", f"one of {', '.join(MISSING_DATA)}")
    return AlarmSpec(
        name=name,
        metric=metric,
        statistic=statistic,
        threshold=float(threshold),
        comparison=COMPARISONS[comparison],
        period=period,
        evaluation_periods=evaluations,
        treat_missing_data=missing,
        bake=r.get(body, "bake", bool, path, default=True),
    )
