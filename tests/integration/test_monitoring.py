"""Schedules, alarms, alerts topic, dashboard and the bake against the embedded AWS."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from vectora_release.checks.drift import diff, monitoring_findings
from vectora_release.common.errors import DeployFailedError
from vectora_release.config.model import load_config
from vectora_release.deploy.pipeline import deploy_release
from vectora_release.ops.gc import gc
from vectora_release.store.ledger import ROLLED_BACK, SUCCEEDED

if TYPE_CHECKING:
    from conftest import Released


@dataclass
class Passed:
    """A validation that passes (the bake is what these tests watch)."""

    passed: bool = True
    checks: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"status": "passed", "checks": []}

    def failures(self) -> list[str]:
        return []


def passes(*_: Any) -> Passed:
    return Passed()


@pytest.mark.parametrize("env", ["dev", "stage", "prod"])
def test_every_environment_gets_its_schedule_on_live_alarms_topic_and_dashboard(
    released: Released, env: str
) -> None:
    target = released.target(env)
    deploy_release(target, released.r1.manifest)
    events, cloudwatch = target.client("events"), target.client("cloudwatch")
    rule = events.describe_rule(Name=f"vectora-inbox-weekly-{env}")
    assert rule["ScheduleExpression"] == "cron(0 8 ? * MON *)"
    assert rule["State"] == ("DISABLED" if env == "dev" else "ENABLED")
    (tgt,) = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    ingest = released.resource("ingest-v2", env)
    assert tgt["Arn"].endswith(f":function:{ingest}:live")
    payload = json.loads(tgt["Input"])
    assert payload["client_id"] == "lai_weekly" and payload["period_days"] == 7
    assert payload["then"] == [
        f"{released.resource('normalize-score-v2', env)}:live",
        f"{released.resource('newsletter-v2', env)}:live",
    ]
    policy = json.loads(target.lam.get_policy(FunctionName=ingest, Qualifier="live")["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == [rule["Name"]]
    alarms = cloudwatch.describe_alarms(AlarmNamePrefix="vectora-inbox-")["MetricAlarms"]
    names = sorted(a["AlarmName"] for a in alarms)
    expected = ["bedrock-throttles", "duration", "errors"] + (
        ["newsletter-missing"] * (env == "prod")
    )
    assert names == sorted(f"vectora-inbox-{n}-{env}" for n in expected)
    topic = f"vectora-inbox-alerts-{env}"
    assert all(a["AlarmActions"][0].endswith(f":{topic}") for a in alarms)
    arns = [t["TopicArn"] for t in target.client("sns").list_topics()["Topics"]]
    tags = target.client("sns").list_tags_for_resource(ResourceArn=arns[0])["Tags"]
    assert {"Key": "ManagedBy", "Value": "vectora-release"} in tags
    assert cloudwatch.get_dashboard(DashboardName=f"vectora-inbox-dashboard-{env}")


def test_an_unchanged_redeploy_reads_monitoring_in_a_few_calls_and_changes_nothing(
    released: Released,
) -> None:
    deploy_release(released.target("stage"), released.r1.manifest)
    stage = released.target("stage")
    calls = released.counter(stage)
    assert deploy_release(stage, released.r1.manifest).outcome == "up_to_date"
    assert calls.mutating == []
    reads = calls.summary()["by_operation"]
    for operation in ("ListTopics", "ListRules", "DescribeAlarms", "GetDashboard"):
        assert reads[operation] == 1, operation  # batched, with two planning passes at most


def test_a_rollback_changes_what_the_schedule_runs_through_the_alias(released: Released) -> None:
    deploy_release(released.target("dev"), released.r1.manifest)
    r2 = released.second_release()
    deploy_release(released.target("dev"), r2.manifest)
    dev = released.target("dev")
    (tgt,) = dev.client("events").list_targets_by_rule(Rule="vectora-inbox-weekly-dev")["Targets"]
    calls = released.counter(dev)
    report = deploy_release(dev, released.r1.manifest, kind="rollback")
    assert not [s for s in report.plan if "Rule" in s or "Alarm" in s or "Permission" in s]
    name, alias = tgt["Arn"].split(":function:")[1].split(":")
    version = dev.lam.get_alias(FunctionName=name, Name=alias)["FunctionVersion"]
    assert version == "1"  # the schedule's target, alias live, runs R1 again
    assert "PutTargets" not in calls.calls


def test_a_schedule_disabled_or_an_alarm_changed_by_hand_is_drift_and_redeploy_repairs_it(
    released: Released,
) -> None:
    deploy_release(released.target("prod"), released.r1.manifest)
    prod = released.target("prod")
    assert monitoring_findings(prod) == []
    prod.client("events").disable_rule(Name="vectora-inbox-weekly-prod")
    prod.client("cloudwatch").delete_alarms(AlarmNames=["vectora-inbox-errors-prod"])
    found = {f.subject: f for f in monitoring_findings(prod)}
    assert found["vectora-inbox-weekly-prod"].actual == "DISABLED cron(0 8 ? * MON *)"
    assert found["vectora-inbox-errors-prod"].actual is None
    deploy_release(released.target("prod"), released.r1.manifest)
    assert monitoring_findings(released.target("prod")) == []


def test_an_alarm_firing_during_the_bake_rolls_back(released: Released) -> None:
    deploy_release(released.target("stage"), released.r1.manifest)
    before = released.aliases(released.target("stage"))
    r2 = released.second_release()
    stage = released.target("stage")
    stage.client("cloudwatch").set_alarm_state(
        AlarmName="vectora-inbox-errors-stage", StateValue="ALARM", StateReason="test"
    )
    with pytest.raises(DeployFailedError, match="vectora-inbox-errors-stage") as failed:
        deploy_release(stage, r2.manifest, validator=passes, bake_minutes=5)
    assert failed.value.report["bake"]["status"] == "alarm"
    assert released.aliases(released.target("stage")) == before
    record = stage.ledger.history()[0]
    assert record.outcome == ROLLED_BACK
    assert record.bake["alarm"] == "vectora-inbox-errors-stage"
    assert "vectora-inbox-errors-stage" in (record.error or "")


def test_a_quiet_bake_polls_until_its_end_without_waiting(released: Released) -> None:
    stage = released.target("stage")
    report = deploy_release(stage, released.r1.manifest, validator=passes, bake_minutes=5)
    assert report.bake["status"] == "passed"
    assert report.bake["polls"] == 11  # every 30 s for 5 minutes, then the last look
    assert "vectora-inbox-newsletter-missing-stage" not in report.bake["alarms"]
    assert stage.ledger.history()[0].outcome == SUCCEEDED


def test_status_shows_each_environments_next_scheduled_run(released: Released, cli) -> None:
    deploy_release(released.target("stage"), released.r1.manifest)
    tuesday = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)

    machine = cli("--json", "status", clock=lambda: tuesday)

    rows = {row["env"]: row for row in machine.json()}
    assert rows["stage"]["next_run"] == "2026-12-07T08:00:00Z"  # Monday 08:00 UTC
    (weekly,) = rows["stage"]["schedules"]
    assert weekly == {
        "name": "weekly",
        "rule": "vectora-inbox-weekly-stage",
        "expression": "cron(0 8 ? * MON *)",
        "state": "ENABLED",
        "next_run": "2026-12-07T08:00:00Z",
    }
    assert rows["prod"]["next_run"] is None and rows["prod"]["schedules"][0]["state"] == "missing"
    assert rows["stage"]["outcome"] == "succeeded"  # the ledger's fields are still there
    assert machine.calls.mutating == []
    human = cli("status", clock=lambda: tuesday).err
    assert "next run" in human and "2026-12-07T08:00:00Z (weekly)" in human
    assert "weekly missing" in human

    released.target("stage").client("events").disable_rule(Name="vectora-inbox-weekly-stage")
    row = cli("--json", "status", "--env", "stage", clock=lambda: tuesday).json()[0]
    assert row["next_run"] is None and row["schedules"][0]["state"] == "DISABLED"


def with_legacy(text: str) -> str:
    """R1's release.yaml plus a schedule and an alarm that a later release.yaml drops."""
    text = text.replace(
        "schedules:\n  weekly:",
        'schedules:\n  legacy: {expression: "rate(1 day)", target: ingest-v2}\n  weekly:',
    )
    return text.replace(
        "alarms: {}\n", "alarms: {legacy: {metric: error_rate_pct, threshold: 50}}\n"
    )


def test_what_release_yaml_no_longer_declares_is_drift_then_removed_if_the_tool_made_it(
    released: Released,
) -> None:
    legacy = load_config(released.variant("legacy", with_legacy))
    deploy_release(released.target("dev", config=legacy), released.r1.manifest)
    dev = released.target("dev")
    events, cloudwatch = dev.client("events"), dev.client("cloudwatch")
    events.put_rule(Name="vectora-inbox-handmade-dev", ScheduleExpression="rate(1 hour)")
    cloudwatch.put_metric_alarm(
        AlarmName="vectora-inbox-handmade-dev", MetricName="Errors", Namespace="AWS/Lambda",
        Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )  # fmt: skip

    found = [(f.subject, f.field, f.expected) for f in monitoring_findings(dev)]
    assert found == [
        ("vectora-inbox-legacy-dev", "schedule", "not declared"),
        ("vectora-inbox-legacy-dev", "alarm", "not declared"),
    ]
    ingest = released.resource("ingest-v2", "dev")
    report = deploy_release(dev, released.r1.manifest)

    assert [s.split(" ")[0] for s in report.plan] == [
        "PutDashboard", "RemoveTargets", "RemovePermission", "DeleteRule", "DeleteAlarms",
    ]  # fmt: skip
    rules = [r["Name"] for r in events.list_rules(NamePrefix="vectora-inbox-")["Rules"]]
    assert "vectora-inbox-legacy-dev" not in rules and "vectora-inbox-handmade-dev" in rules
    alarms = [a["AlarmName"] for a in cloudwatch.describe_alarms()["MetricAlarms"]]
    assert "vectora-inbox-legacy-dev" not in alarms and "vectora-inbox-handmade-dev" in alarms
    policy = json.loads(dev.lam.get_policy(FunctionName=ingest, Qualifier="live")["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["vectora-inbox-weekly-dev"]
    assert monitoring_findings(released.target("dev")) == []
    calls = released.counter(dev)
    assert deploy_release(dev, released.r1.manifest).outcome == "up_to_date"
    assert calls.mutating == []


def test_gc_keeps_what_the_schedules_and_alarms_use(released: Released) -> None:
    deploy_release(released.target("dev"), released.r1.manifest)
    deploy_release(released.target("dev"), released.second_release().manifest)
    deploy_release(released.target("dev"), released.release_changing("ingest_v2").manifest)
    dev = released.target("dev")
    report = gc(dev, keep=1)
    assert report.deleted  # versions nothing refers to went
    assert monitoring_findings(dev) == []  # rules, targets, permissions, alarms untouched
    (tgt,) = dev.client("events").list_targets_by_rule(Rule="vectora-inbox-weekly-dev")["Targets"]
    name, alias = tgt["Arn"].split(":function:")[1].split(":")
    version = dev.lam.get_alias(FunctionName=name, Name=alias)["FunctionVersion"]
    assert dev.lam.get_function(FunctionName=name, Qualifier=version)  # what the schedule runs


def test_diff_shows_schedules_and_alarms_side_by_side_each_as_its_environment_declares(
    released: Released,
) -> None:
    for env in ("dev", "stage"):
        deploy_release(released.target(env), released.r1.manifest)
    report = diff(released.target("dev"), released.target("stage"))
    rows = {row[0]: row for row in report.rows}
    assert rows["schedule weekly"] == (
        "schedule weekly", "DISABLED cron(0 8 ? * MON *)", "ENABLED cron(0 8 ? * MON *)", True,
    )  # fmt: skip
    assert rows["alarm errors"][1:] == ("GreaterThanThreshold 5", "GreaterThanThreshold 5", True)
    assert not report.differs  # the same release, each environment as it declares

    released.target("stage").client("events").disable_rule(Name="vectora-inbox-weekly-stage")
    report = diff(released.target("dev"), released.target("stage"))
    weekly = next(row for row in report.rows if row[0] == "schedule weekly")
    assert weekly[2] == "DISABLED cron(0 8 ? * MON *) (declared: ENABLED cron(0 8 ? * MON *))"
    assert weekly[3] is False and report.differs


def _hand_made_rule(target: Any) -> dict[str, Any]:
    """The operators' own weekly rule, named as release.yaml names dev's, on ``$LATEST``."""
    events = target.client("events")
    events.put_rule(Name="vectora-inbox-weekly-dev", ScheduleExpression="cron(0 7 ? * MON *)")
    arn = f"arn:aws:lambda:{target.spec.region}:123456789012:function:ingest-by-hand"
    events.put_targets(Rule="vectora-inbox-weekly-dev", Targets=[{"Id": "by-hand", "Arn": arn}])
    return _rule_state(target)


def _rule_state(target: Any) -> dict[str, Any]:
    events = target.client("events")
    rule = events.describe_rule(Name="vectora-inbox-weekly-dev")
    return {
        "expression": rule["ScheduleExpression"],
        "targets": events.list_targets_by_rule(Rule=rule["Name"])["Targets"],
        "tags": events.list_tags_for_resource(ResourceARN=rule["Arn"])["Tags"],
    }


def _hand_made_alarm(target: Any) -> dict[str, Any]:
    """An alarm of the operators', named as release.yaml names dev's errors alarm."""
    target.client("cloudwatch").put_metric_alarm(
        AlarmName="vectora-inbox-errors-dev",
        MetricName="Errors",
        Namespace="AWS/Lambda",
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    return _alarm_state(target)


def _alarm_state(target: Any) -> dict[str, Any]:
    cloudwatch = target.client("cloudwatch")
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=["vectora-inbox-errors-dev"])["MetricAlarms"]
    tags = cloudwatch.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
    return {k: alarm[k] for k in ("Threshold", "MetricName", "AlarmActions")} | {"tags": tags}


@pytest.mark.parametrize(
    ("make", "state", "named"),
    [
        (_hand_made_rule, _rule_state, "rule vectora-inbox-weekly-dev"),
        (_hand_made_alarm, _alarm_state, "alarm vectora-inbox-errors-dev"),
    ],
    ids=["rule", "alarm"],
)
def test_a_hand_made_rule_or_alarm_of_a_declared_name_is_refused_and_left_as_it_is(
    released: Released, cli, make, state, named: str
) -> None:
    target = released.target("dev")
    before = make(target)

    result = cli("deploy", "--env", "dev", "--version", released.r1.version)

    assert result.code == 2, result.err
    (line,) = [x for x in result.err.splitlines() if x.startswith("error:")]
    assert line.startswith(f"error: dev: {named} already exists and was not made by")
    assert "rename the schedule or alarm in release.yaml" in line
    assert result.calls.mutating == []
    assert state(target) == before
    assert target.ledger.history() == [] and target.ledger.read_lock() is None


def test_the_tools_own_rule_changed_by_hand_is_still_repaired(released: Released) -> None:
    """The tags are what tells them apart: a redeploy puts back the rule the tool made."""
    target = released.target("dev")
    deploy_release(target, released.r1.manifest)
    events = target.client("events")
    events.put_rule(Name="vectora-inbox-weekly-dev", ScheduleExpression="cron(0 7 ? * MON *)")

    deploy_release(released.target("dev"), released.r1.manifest)

    rule = events.describe_rule(Name="vectora-inbox-weekly-dev")
    assert rule["ScheduleExpression"] == "cron(0 8 ? * MON *)"
