"""Plain data for the planner and executor tests: a desired state and live states built by
hand, no AWS, no moto, no clock."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from vectora_release.aws.lambda_ import FunctionConfiguration
from vectora_release.build.manifest import ArtifactRecord, Manifest
from vectora_release.common.digest import code_sha256, sha256_hex
from vectora_release.deploy.desired import (
    BundleSpec,
    DesiredState,
    FunctionSpecD,
    LayerSpecD,
)
from vectora_release.deploy.live import FunctionLive, VersionState
from vectora_release.deploy.live_run import ALARM_FIELDS, MonitoringLive, RuleLive
from vectora_release.deploy.monitoring import AlarmD, MonitoringD, RuleD

LAYER_ARN = "arn:aws:lambda:eu-west-3:123456789012:layer:vectora-inbox-vectora-core-dev:7"
FUNCTIONS = ("ingest-v2", "newsletter-v2")
BUNDLE = {"canonical/scopes/a.yaml": b"a: 1\n", "clients/lai_weekly.yaml": b"client_id: x\n"}
ENV = (("ENV", "dev"), ("LOG_LEVEL", "INFO"), ("PROJECT_NAME", "vectora-inbox"))


def zip_bytes(name: str) -> bytes:
    return f"zip of {name}".encode()


def artifact(name: str, kind: str) -> ArtifactRecord:
    data = zip_bytes(name)
    return ArtifactRecord(
        name, kind, f"{name}-1.0.0.zip", len(data), sha256_hex(data), code_sha256(data), "t", 1
    )


def manifest() -> Manifest:
    names = [("vectora-core", "layer"), *((f, "function") for f in FUNCTIONS)]
    return Manifest(
        project="vectora-inbox",
        version="1.0.0",
        commit="ab" * 20,
        dirty=False,
        built_at="2026-11-30T00:00:00Z",
        source_date_epoch=315532800,
        runtime="python3.12",
        compatible_runtimes=("python3.11", "python3.12"),
        artifacts=tuple(artifact(n, k) for n, k in names),
    )


def configuration(env: tuple[tuple[str, str], ...] = ENV, layers=("vectora-core",)):
    return FunctionConfiguration("handler.main", "python3.12", 512, 300, tuple(layers), env)


def desired_state() -> DesiredState:
    m = manifest()
    layer = m.artifact("vectora-core")
    layers = (
        LayerSpecD(
            "vectora-core",
            "vectora-inbox-vectora-core-dev",
            layer.sha256,
            layer.code_sha256,
            f"vectora-release sha256={layer.sha256} release={m.release_id}",
        ),
    )
    functions = tuple(
        FunctionSpecD(
            function=fn,
            resource=f"vectora-inbox-{fn}-dev",
            role=f"vectora-inbox-{fn}-dev-role",
            sha256=m.artifact(fn).sha256,
            code_sha256=m.artifact(fn).code_sha256,
            config=configuration(),
            secret_keys=frozenset(),
            reserved_concurrency=None,
            tags={"ManagedBy": "vectora-release", "Version": "1.0.0"},
        )
        for fn in FUNCTIONS
    )
    bundle = BundleSpec("vectora-inbox-config-dev", "tree", dict(BUNDLE))
    artifacts = {a.name: zip_bytes(a.name) for a in m.artifacts}
    return DesiredState("dev", "eu-west-3", m, layers, functions, bundle, artifacts)


def live_as(desired: DesiredState, **changes: Any) -> dict[str, FunctionLive]:
    """Every function live and managed, its alias and $LATEST running exactly ``desired``.

    ``changes`` maps a function to a callable that edits its :class:`VersionState`.
    """
    out = {}
    for spec in desired.functions:
        state = VersionState(
            "3", spec.code_sha256, replace(spec.config, layers=(LAYER_ARN,)), "Active"
        )
        edit = changes.get(spec.function)
        state = edit(state) if edit else state
        out[spec.function] = FunctionLive(
            spec.resource,
            exists=True,
            managed=True,
            latest=replace(state, version="$LATEST"),
            alias=state,
            tags=dict(spec.tags),
        )
    return out


def bundle_digests() -> dict[str, str | None]:
    return {key: sha256_hex(data) for key, data in BUNDLE.items()}


ACCOUNT = "123456789012"
TOPIC_ARN = f"arn:aws:sns:eu-west-3:{ACCOUNT}:vectora-inbox-alerts-dev"


def alarm(name: str, threshold: float) -> AlarmD:
    params = {
        "AlarmName": f"vectora-inbox-{name}-dev",
        "AlarmDescription": f"vectora-release sha256={name}{threshold}",
        "ActionsEnabled": True,
        "AlarmActions": [TOPIC_ARN],
        "OKActions": [TOPIC_ARN],
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": threshold,
        "EvaluationPeriods": 1,
        "TreatMissingData": "notBreaching",
    }
    return AlarmD(params["AlarmName"], params, bake=True)


def monitoring_desired() -> MonitoringD:
    """dev's alerts topic, one weekly rule on ingest-v2's alias live, two alarms, a dashboard."""
    function = "vectora-inbox-ingest-v2-dev"
    rule = RuleD(
        name="vectora-inbox-weekly-dev",
        expression="cron(0 8 ? * MON *)",
        enabled=True,
        function=function,
        target_arn=f"arn:aws:lambda:eu-west-3:{ACCOUNT}:function:{function}:live",
        input='{"client_id": "lai_weekly", "period_days": 7, "then": []}',
        arn=f"arn:aws:events:eu-west-3:{ACCOUNT}:rule/vectora-inbox-weekly-dev",
    )
    return MonitoringD(
        env="dev",
        topic="vectora-inbox-alerts-dev",
        topic_arn=TOPIC_ARN,
        rules=(rule,),
        alarms=(alarm("errors", 5.0), alarm("duration", 240000.0)),
        dashboard="vectora-inbox-dashboard-dev",
        dashboard_body='{"widgets": []}',
        tags={"Project": "vectora-inbox", "Environment": "dev", "ManagedBy": "vectora-release"},
    )


def monitoring_live_as(desired: MonitoringD, **rules: RuleLive) -> MonitoringLive:
    """Everything of ``desired`` live and equal to it; ``rules`` replaces a rule's live state."""
    live_rules = {
        r.name: RuleLive(r.state, r.expression, ((r.target_arn, r.input),), True)
        for r in desired.rules
    }
    live_rules.update(rules)
    return MonitoringLive(
        topic_exists=True,
        rules=live_rules,
        alarms={a.name: {k: a.params.get(k) for k in ALARM_FIELDS} for a in desired.alarms},
        alarm_states={a.name: "OK" for a in desired.alarms},
        dashboard_body=desired.dashboard_body,
    )
