"""Desired schedules, alarms, alerts topic and dashboard of an environment (pure data).

Built from ``release.yaml`` alone (they do not change with the release), so a rollback plans
none of them: the schedule targets alias ``live``, and moving the alias changes what it runs.
Their tags leave out ``Version`` and ``Commit`` for the same reason.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..aws.lambda_ import ALIAS
from ..common.digest import sha256_hex
from ..config.model import EnvironmentSpec, ReleaseConfig
from ..config.monitoring import AlarmSpec
from .desired import MANAGED_BY

NAMESPACE = "VectoraInbox"  # the app's own metrics (embedded metric format, see docs)
MARK = f"{MANAGED_BY} sha256="  # alarm and rule descriptions record what was declared


@dataclass(frozen=True)
class RuleD:
    """An EventBridge rule running alias ``live`` of ``function`` with ``input``."""

    name: str
    expression: str
    enabled: bool
    function: str  # resource name of the chain's first function
    target_arn: str  # its alias live
    input: str
    arn: str

    @property
    def state(self) -> str:
        return "ENABLED" if self.enabled else "DISABLED"


@dataclass(frozen=True)
class AlarmD:
    name: str
    params: Mapping[str, Any]  # PutMetricAlarm's arguments, tags left out
    bake: bool


@dataclass(frozen=True)
class MonitoringD:
    """Everything watching and running an environment on its own."""

    env: str
    topic: str
    topic_arn: str
    rules: tuple[RuleD, ...]
    alarms: tuple[AlarmD, ...]
    dashboard: str
    dashboard_body: str
    tags: Mapping[str, str]

    def alarm_names(self, baked_only: bool = False) -> list[str]:
        return [a.name for a in self.alarms if a.bake or not baked_only]


def monitoring_tags(config: ReleaseConfig, env: str) -> dict[str, str]:
    return {"Project": config.project, "Environment": env, "ManagedBy": MANAGED_BY}


def desired_monitoring(config: ReleaseConfig, env: EnvironmentSpec, account: str) -> MonitoringD:
    """The environment's topic, rules, alarms and dashboard, with their ARNs in ``account``."""
    region, name = env.region, env.name
    topic = config.alerts_topic(name)
    topic_arn = f"arn:aws:sns:{region}:{account}:{topic}"
    spec = env.monitoring
    resources = [config.function_resource(fn, name) for fn in sorted(config.functions)]
    rules = []
    for schedule in spec.schedules:
        resource = config.function_resource(schedule.target, name)
        chain = spec.chain[spec.chain.index(schedule.target) + 1 :] if spec.chain else ()
        payload = {
            **json.loads(schedule.input),
            "then": [f"{config.function_resource(fn, name)}:{ALIAS}" for fn in chain],
        }
        rule = config.monitor_resource(schedule.name, name)
        rules.append(
            RuleD(
                name=rule,
                expression=schedule.expression,
                enabled=schedule.enabled,
                function=resource,
                target_arn=f"arn:aws:lambda:{region}:{account}:function:{resource}:{ALIAS}",
                input=json.dumps(payload, sort_keys=True),
                arn=f"arn:aws:events:{region}:{account}:rule/{rule}",
            )
        )
    alarms = tuple(
        AlarmD(
            config.monitor_resource(a.name, name),
            _alarm_params(config.monitor_resource(a.name, name), a, resources, name, topic_arn),
            a.bake,
        )
        for a in spec.alarms
    )
    dashboard = config.monitor_resource("dashboard", name)
    return MonitoringD(
        env=name,
        topic=topic,
        topic_arn=topic_arn,
        rules=tuple(rules),
        alarms=alarms,
        dashboard=dashboard,
        dashboard_body=_dashboard(
            region,
            resources,
            name,
            [f"arn:aws:cloudwatch:{region}:{account}:alarm:{a.name}" for a in alarms],
        ),
        tags=monitoring_tags(config, name),
    )


def _alarm_params(
    name: str, alarm: AlarmSpec, resources: list[str], env: str, topic_arn: str
) -> dict[str, Any]:
    """PutMetricAlarm's arguments; the description records their digest (drift compares it)."""
    params: dict[str, Any] = {
        "AlarmName": name,
        "ActionsEnabled": True,
        "AlarmActions": [topic_arn],
        "OKActions": [topic_arn],
        "ComparisonOperator": alarm.comparison,
        "Threshold": alarm.threshold,
        "EvaluationPeriods": alarm.evaluation_periods,
        "TreatMissingData": alarm.treat_missing_data,
    }
    if alarm.metric == "newsletters_produced":
        params.update(
            Namespace=NAMESPACE,
            MetricName="NewslettersProduced",
            Dimensions=[{"Name": "Environment", "Value": env}],
            Statistic=alarm.statistic,
            Period=alarm.period,
        )
    else:
        params["Metrics"] = _queries(alarm, resources, env)
    digest = sha256_hex(json.dumps(params, sort_keys=True).encode())
    params["AlarmDescription"] = f"{MARK}{digest} metric={alarm.metric}"
    return params


def _queries(alarm: AlarmSpec, resources: list[str], env: str) -> list[dict[str, Any]]:
    """Metric math over the aliases' metrics (or the app's own), one expression returned."""

    def stat(id_: str, namespace: str, metric: str, dims: dict[str, str], how: str) -> dict:
        dimensions = [{"Name": k, "Value": v} for k, v in dims.items()]
        return {
            "Id": id_,
            "ReturnData": False,
            "MetricStat": {
                "Metric": {"Namespace": namespace, "MetricName": metric, "Dimensions": dimensions},
                "Period": alarm.period,
                "Stat": how,
            },
        }

    def alias(res: str) -> dict[str, str]:
        return {"FunctionName": res, "Resource": f"{res}:{ALIAS}"}

    if alarm.metric == "bedrock_throttle_pct":
        dims = {"Environment": env}
        inputs = [
            stat("t", NAMESPACE, "BedrockThrottles", dims, "Sum"),
            stat("c", NAMESPACE, "BedrockCalls", dims, "Sum"),
        ]
        expression = "100 * t / c"
    elif alarm.metric == "duration_max_ms":
        inputs = [
            stat(f"d{i}", "AWS/Lambda", "Duration", alias(r), "Maximum")
            for i, r in enumerate(resources)
        ]
        expression = f"MAX([{', '.join(q['Id'] for q in inputs)}])"
    else:  # error_rate_pct
        errors = [
            stat(f"e{i}", "AWS/Lambda", "Errors", alias(r), "Sum") for i, r in enumerate(resources)
        ]
        calls = [
            stat(f"n{i}", "AWS/Lambda", "Invocations", alias(r), "Sum")
            for i, r in enumerate(resources)
        ]
        inputs = errors + calls
        e, n = (", ".join(q["Id"] for q in group) for group in (errors, calls))
        expression = f"100 * SUM([{e}]) / SUM([{n}])"
    result = {"Id": "result", "Expression": expression, "ReturnData": True}
    return [*inputs, {**result, "Label": alarm.metric}]


def _dashboard(region: str, resources: list[str], env: str, alarms: list[str]) -> str:
    """One dashboard: the aliases' invocations, errors and durations, app metrics, alarms."""

    def widget(title: str, metrics: list[list[Any]], y: int, x: int = 0) -> dict[str, Any]:
        props = {"title": title, "region": region, "metrics": metrics, "stat": "Sum"}
        return {"type": "metric", "x": x, "y": y, "width": 12, "height": 6, "properties": props}

    def per_alias(metric: str) -> list[list[Any]]:
        return [
            ["AWS/Lambda", metric, "FunctionName", r, "Resource", f"{r}:{ALIAS}"] for r in resources
        ]

    app = [[NAMESPACE, m, "Environment", env] for m in ("NewslettersProduced", "BedrockCalls")]
    app.append([NAMESPACE, "BedrockThrottles", "Environment", env])
    widgets = [
        widget("Invocations (alias live)", per_alias("Invocations"), 0),
        widget("Errors (alias live)", per_alias("Errors"), 0, 12),
        widget("Duration max (alias live)", per_alias("Duration"), 6),
        widget("Newsletters and Bedrock", app, 6, 12),
    ]
    if alarms:
        widgets.append(
            {
                "type": "alarm",
                "x": 0,
                "y": 12,
                "width": 24,
                "height": 3,
                "properties": {"title": f"Alarms of {env}", "alarms": alarms},
            }
        )
    return json.dumps({"widgets": widgets}, sort_keys=True)
