"""Read the live schedules, alarms, alerts topic and dashboard of an environment (reads only).

Batched: one ListTopics, one ListRules, one DescribeAlarms and one GetDashboard per
environment, plus ListTargetsByRule and GetPolicy per declared schedule. Rules and alarms
named like the environment's (``<project>-…-<env>``) but no longer declared are read too, with
their tags (one call each, only for those): the ones the tool made (``ManagedBy``, this
``Environment``) are what a deploy removes; the others are never touched.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..aws.clients import ClientError, error_code
from ..aws.lambda_ import ALIAS, policy_statements
from .desired import MANAGED_BY
from .monitoring import MonitoringD
from .steps import PutMetricAlarm, PutRule, PutTargets

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
    # Made by the tool for this environment, no longer declared: rule → its targets (Id, Arn).
    undeclared_rules: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    undeclared_alarms: tuple[str, ...] = ()
    alarm_arns: Mapping[str, str] = field(default_factory=dict)  # declared ones that exist


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
    rules, old_rules = _read_rules(clients, desired)
    alarms, states, old_alarms, alarm_arns = _read_alarms(clients("cloudwatch"), desired)
    try:
        body = clients("cloudwatch").get_dashboard(DashboardName=desired.dashboard)
        dashboard = body.get("DashboardBody")
    except ClientError as exc:
        if not _missing(exc):
            raise
        dashboard = None
    return MonitoringLive(
        desired.topic_arn in topics,
        rules,
        alarms,
        states,
        dashboard,
        old_rules,
        old_alarms,
        alarm_arns,
    )


def _prefix_suffix(desired: MonitoringD) -> tuple[str, str]:
    """What every rule and alarm name of the environment starts and ends with."""
    return f"{desired.tags['Project']}-", f"-{desired.env}"


def _made_here(tags: list[dict[str, str]], env: str) -> bool:
    """Tagged by the tool for ``env`` (a resource made by hand has no ``ManagedBy``)."""
    found = {t["Key"]: t["Value"] for t in tags}
    return found.get("ManagedBy") == MANAGED_BY and found.get("Environment") == env


def _read_alarms(
    cloudwatch: Any, desired: MonitoringD
) -> tuple[dict[str, dict], dict[str, str], tuple[str, ...], dict[str, str]]:
    """Declared alarms' compared fields, states and ARNs, and the undeclared ones the tool
    made."""
    prefix, suffix = _prefix_suffix(desired)
    declared = {a.name for a in desired.alarms}
    found: dict[str, dict] = {}
    states: dict[str, str] = {}
    arns: dict[str, str] = {}
    undeclared = []
    for page in cloudwatch.get_paginator("describe_alarms").paginate(
        AlarmNamePrefix=prefix, AlarmTypes=["MetricAlarm"]
    ):
        for alarm in page.get("MetricAlarms", []):
            name = alarm["AlarmName"]
            if name in declared:
                found[name] = {k: alarm.get(k) for k in ALARM_FIELDS}
                states[name] = alarm.get("StateValue", "INSUFFICIENT_DATA")
                arns[name] = alarm["AlarmArn"]
            elif name.endswith(suffix):
                tags = cloudwatch.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])
                if _made_here(tags.get("Tags", []), desired.env):
                    undeclared.append(name)
    return found, states, tuple(sorted(undeclared)), arns


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


def _read_rules(
    clients: Clients, desired: MonitoringD
) -> tuple[dict[str, RuleLive], dict[str, tuple[tuple[str, str], ...]]]:
    """Declared rules as they are live, and the undeclared ones the tool made (their targets)."""
    events, lam = clients("events"), clients("lambda")
    prefix, suffix = _prefix_suffix(desired)
    listed: dict[str, dict] = {}
    token: str | None = None
    while True:
        page = events.list_rules(NamePrefix=prefix, **({"NextToken": token} if token else {}))
        listed.update({r["Name"]: r for r in page.get("Rules", []) if r["Name"].endswith(suffix)})
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
    declared = {rule.name for rule in desired.rules}
    undeclared = {}
    for name in sorted(set(listed) - declared):
        tags = events.list_tags_for_resource(ResourceARN=listed[name]["Arn"]).get("Tags", [])
        if _made_here(tags, desired.env):
            targets = events.list_targets_by_rule(Rule=name).get("Targets", [])
            undeclared[name] = tuple((t["Id"], t["Arn"]) for t in targets)
    return out, undeclared


def _permitted(lam: Any, function: str, statement: str, source_arn: str) -> bool:
    """Whether alias live of ``function`` has statement ``statement`` for ``source_arn``."""
    for item in policy_statements(lam, function, ALIAS):
        if item.get("Sid") == statement:
            return source_arn in json.dumps(item.get("Condition", {}))
    return False


def not_made_here(
    clients: Clients, desired: MonitoringD, live: MonitoringLive, steps: Sequence[object]
) -> list[str]:
    """The declared rules and alarms that ``steps`` would write over although they exist and
    the tool did not make them for this environment (made by hand, no ``ManagedBy`` tag).

    Their tags are read only for a resource a step would change, so an unchanged deploy
    reads nothing more. A deploy refuses them as it refuses a function it did not create.
    """
    rules = {
        step.rule.name: step.rule.arn
        for step in steps
        if isinstance(step, PutRule | PutTargets) and step.rule.name in live.rules
    }
    alarms = {
        step.alarm.name: live.alarm_arns[step.alarm.name]
        for step in steps
        if isinstance(step, PutMetricAlarm) and step.alarm.name in live.alarm_arns
    }
    found = []
    for kind, service, named in (("rule", "events", rules), ("alarm", "cloudwatch", alarms)):
        for name, arn in sorted(named.items()):
            tags = clients(service).list_tags_for_resource(ResourceARN=arn).get("Tags", [])
            if not _made_here(tags, desired.env):
                found.append(f"{kind} {name}")
    return found
