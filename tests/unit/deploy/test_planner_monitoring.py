"""The planner's monitoring steps on plain data: only what differs is written."""

from __future__ import annotations

from dataclasses import replace

from plans import alarm, monitoring_desired, monitoring_live_as
from vectora_release.deploy.live_run import MonitoringLive, RuleLive
from vectora_release.deploy.planner import monitoring_steps
from vectora_release.deploy.steps import PutMetricAlarm, PutRule


def kinds(steps) -> list[str]:
    return [type(step).__name__ for step in steps]


def test_unchanged_monitoring_plans_no_step() -> None:
    desired = monitoring_desired()
    assert monitoring_steps(desired, monitoring_live_as(desired)) == []


def test_nothing_live_plans_everything_once() -> None:
    desired = monitoring_desired()
    steps = monitoring_steps(desired, MonitoringLive(topic_exists=False))
    assert kinds(steps) == [
        "CreateTopic",
        "PutRule",
        "PutTargets",
        "AddPermission",
        "PutMetricAlarm",
        "PutMetricAlarm",
        "PutDashboard",
    ]


def test_a_rule_disabled_by_hand_is_enabled_again_with_put_rule_only() -> None:
    desired = monitoring_desired()
    (rule,) = desired.rules
    disabled = RuleLive("DISABLED", rule.expression, ((rule.target_arn, rule.input),), True)
    steps = monitoring_steps(desired, monitoring_live_as(desired, **{rule.name: disabled}))
    (step,) = steps
    assert isinstance(step, PutRule) and step.rule.state == "ENABLED"
    assert "was DISABLED" in step.describe()


def test_a_retargeted_rule_gets_its_targets_back_only() -> None:
    desired = monitoring_desired()
    (rule,) = desired.rules
    elsewhere = RuleLive(rule.state, rule.expression, (("arn:other", rule.input),), True)
    steps = monitoring_steps(desired, monitoring_live_as(desired, **{rule.name: elsewhere}))
    assert kinds(steps) == ["PutTargets"]


def test_a_changed_threshold_rewrites_that_alarm_only() -> None:
    desired = monitoring_desired()
    live = monitoring_live_as(desired)
    errors, duration = desired.alarms
    changed = replace(desired, alarms=(alarm("errors", 2.5), duration))
    (step,) = monitoring_steps(changed, live)
    assert isinstance(step, PutMetricAlarm)
    assert step.alarm.name == errors.name and step.alarm.params["Threshold"] == 2.5
    assert "Threshold" in step.why


def test_a_dashboard_differing_only_in_layout_of_its_json_is_unchanged() -> None:
    desired = monitoring_desired()
    live = replace(monitoring_live_as(desired), dashboard_body='{ "widgets" : [ ] }')
    assert monitoring_steps(desired, live) == []
    edited = replace(live, dashboard_body='{"widgets": [{"type": "text"}]}')
    assert kinds(monitoring_steps(desired, edited)) == ["PutDashboard"]


def test_what_is_no_longer_declared_is_detached_then_deleted() -> None:
    desired = monitoring_desired()
    fn = "arn:aws:lambda:eu-west-3:123456789012:function:vectora-inbox-ingest-v2-dev:live"
    live = replace(
        monitoring_live_as(desired),
        undeclared_rules={"vectora-inbox-old-dev": (("live", fn),), "vectora-inbox-bare-dev": ()},
        undeclared_alarms=("vectora-inbox-old-dev",),
    )
    steps = monitoring_steps(desired, live)
    assert [s.describe() for s in steps] == [
        "DeleteRule vectora-inbox-bare-dev: no longer declared",
        "RemoveTargets vectora-inbox-old-dev (live): no longer declared",
        "RemovePermission vectora-inbox-ingest-v2-dev:live for events rule vectora-inbox-old-dev",
        "DeleteRule vectora-inbox-old-dev: no longer declared",
        "DeleteAlarms vectora-inbox-old-dev: no longer declared",
    ]
