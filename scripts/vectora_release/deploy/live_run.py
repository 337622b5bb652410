"""Read the live schedules, alarms, alerts topic and dashboard of an environment (reads only).

Batched: one ListTopics, one ListRules, one DescribeAlarms and one GetDashboard per
environment, plus ListTargetsByRule and GetPolicy per declared schedule.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..aws.clients import ClientError, error_code
from ..aws.lambda_ import ALIAS
from .monitoring import MonitoringD

Clients = Callable[[str], Any]  # service name → client of the environment's region
ALARM_FIELDS = (
    "AlarmDescription",
    "ActionsEnabled",
    "AlarmActions",
    "OKActions",
    "ComparisonOperator",
    "Threshold",
    "EvaluationPeriods",
    "TreatMissingData",
)


@dataclass(frozen=True)
class RuleLive:
    state: str
    expression: str | None
    targets: tuple[tuple[str, str], ...]  # (Arn, Input)
    permitted: bool  # alias live lets this rule invoke it


@dataclass(frozen=True)
class MonitoringLive:
    topic_exists: bool
    rules: Mapping[str, RuleLive] = field(default_factory=dict)
    alarms: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # name → ALARM_FIELDS
    alarm_states: Mapping[str, str] = field(default_factory=dict)
    dashboard_body: str | None = None


def _missing(exc: ClientError) -> bool:
    return error_code(exc) in ("ResourceNotFoundException", "ResourceNotFound", "NotFound")


def read_monitoring(clients: Clients, desired: MonitoringD) -> MonitoringLive:
    """What exists of ``desired``: its topic, rules (targets, permission), alarms, dashboard."""
    sns = clients("sns")
    topics = {
        t["TopicArn"]
        for page in sns.get_paginator("list_topics").paginate()
        for t in page.get("Topics", [])
    }
    rules = _read_rules(clients, desired)
    alarms, states = read_alarms(clients("cloudwatch"), [a.name for a in desired.alarms])
    try:
        body = clients("cloudwatch").get_dashboard(DashboardName=desired.dashboard)
        dashboard = body.get("DashboardBody")
    except ClientError as exc:
        if not _missing(exc):
            raise
        dashboard = None
    return MonitoringLive(desired.topic_arn in topics, rules, alarms, states, dashboard)


def read_alarms(cloudwatch: Any, names: list[str]) -> tuple[dict[str, dict], dict[str, str]]:
    """The compared fields and the state of each alarm of ``names`` that exists (one call)."""
    if not names:
        return {}, {}
    found: dict[str, dict] = {}
    states: dict[str, str] = {}
    for page in cloudwatch.get_paginator("describe_alarms").paginate(
        AlarmNames=names, AlarmTypes=["MetricAlarm"]
    ):
        for alarm in page.get("MetricAlarms", []):
            name = alarm["AlarmName"]
            found[name] = {k: alarm.get(k) for k in ALARM_FIELDS}
            states[name] = alarm.get("StateValue", "INSUFFICIENT_DATA")
    return found, states


def _read_rules(clients: Clients, desired: MonitoringD) -> dict[str, RuleLive]:
    if not desired.rules:
        return {}
    events, lam = clients("events"), clients("lambda")
    names = [rule.name for rule in desired.rules]
    prefix = next(
        (
            names[0][:i]
            for i in range(len(names[0]), 0, -1)
            if all(n.startswith(names[0][:i]) for n in names)
        ),
        "",
    )
    listed: dict[str, dict] = {}
    token: str | None = None
    while True:
        page = events.list_rules(NamePrefix=prefix, **({"NextToken": token} if token else {}))
        listed.update({r["Name"]: r for r in page.get("Rules", [])})
        token = page.get("NextToken")
        if not token:
            break
    out = {}
    for rule in desired.rules:
        if rule.name not in listed:
            continue
        targets = events.list_targets_by_rule(Rule=rule.name).get("Targets", [])
        out[rule.name] = RuleLive(
            state=listed[rule.name].get("State", ""),
            expression=listed[rule.name].get("ScheduleExpression"),
            targets=tuple((t["Arn"], t.get("Input", "")) for t in targets),
            permitted=_permitted(lam, rule.function, rule.name, rule.arn),
        )
    return out


def _permitted(lam: Any, function: str, statement: str, source_arn: str) -> bool:
    """Whether alias live of ``function`` has statement ``statement`` for ``source_arn``."""
    try:
        policy = json.loads(lam.get_policy(FunctionName=function, Qualifier=ALIAS)["Policy"])
    except ClientError as exc:
        if _missing(exc):
            return False
        raise
    for item in policy.get("Statement", []):
        if item.get("Sid") == statement:
            return source_arn in json.dumps(item.get("Condition", {}))
    return False
