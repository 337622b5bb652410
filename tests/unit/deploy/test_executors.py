"""The executors on plain data: the AWS executor makes the calls its steps name; the
display-only executor (``--dry-run``) makes none."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from plans import LAYER_ARN, bundle_digests, live_as
from vectora_release.config.model import load_config
from vectora_release.deploy.desired import DesiredState
from vectora_release.deploy.executor import (
    ApplyError,
    AwsExecutor,
    DisplayOnlyExecutor,
)
from vectora_release.deploy.live import FunctionLive
from vectora_release.deploy.pipeline import execute
from vectora_release.deploy.planner import make_plan
from vectora_release.deploy.target import Target

PREFIX = "releases/1.0.0+ababab/"
ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Recorder:
    """A client that records each call and answers what the executor reads from it."""

    service: str
    answers: dict[str, Any]
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    fail_on: str | None = None

    def __getattr__(self, operation: str) -> Any:
        if operation.startswith("__"):
            raise AttributeError(operation)

        def call(**kwargs: Any) -> Any:
            self.calls.append((operation, kwargs))
            if operation == self.fail_on:
                raise RuntimeError(f"{operation} refused (injected)")
            answer = self.answers.get(operation, {})
            return answer(kwargs) if callable(answer) else answer

        return call

    def get_waiter(self, name: str) -> Any:
        recorder = self

        class Waiter:
            def wait(self, **kwargs: Any) -> None:
                recorder.calls.append((f"wait:{name}", kwargs))

        return Waiter()

    @property
    def operations(self) -> list[str]:
        return [name for name, _ in self.calls]


def lambda_recorder(desired: DesiredState, fail_on: str | None = None) -> Recorder:
    layer = desired.layers[0]
    codes = {spec.resource: spec.code_sha256 for spec in desired.functions}
    return Recorder(
        "lambda",
        {
            "publish_layer_version": {
                "LayerVersionArn": LAYER_ARN,
                "Content": {"CodeSha256": layer.code_sha256},
            },
            "create_function": lambda kw: {"CodeSha256": codes[kw["FunctionName"]]},
            "update_function_code": lambda kw: {"CodeSha256": codes[kw["FunctionName"]]},
            "publish_version": {"Version": "4"},
        },
        fail_on=fail_on,
    )


def executor(desired: DesiredState, fail_on: str | None = None) -> AwsExecutor:
    iam = Recorder("iam", {"get_role": {"Role": {"Arn": "arn:aws:iam::1:role/r"}}})
    return AwsExecutor(lambda_recorder(desired, fail_on), Recorder("s3", {}), lambda: iam)


def fresh_plan(desired: DesiredState):
    absent = {s.function: FunctionLive(s.resource, exists=False) for s in desired.functions}
    return make_plan(desired, absent, {"vectora-core": None}, {}, PREFIX)


def test_the_aws_executor_makes_the_call_each_step_names(desired: DesiredState) -> None:
    run = executor(desired)

    result = run.run(fresh_plan(desired), desired)

    assert run.lam.operations == [
        "publish_layer_version",
        "create_function",
        "wait:function_active_v2",
        "publish_version",
        "create_function",
        "wait:function_active_v2",
        "publish_version",
        "create_alias",
        "create_alias",
    ]
    created = dict(run.lam.calls)["create_function"]
    assert created["Layers"] == [LAYER_ARN], "the layer published earlier in the plan"
    assert created["Environment"] == {"Variables": dict(desired.functions[1].config.env)}
    assert [c[1]["Key"] for c in run.s3.calls] == [
        PREFIX + "canonical/scopes/a.yaml",
        PREFIX + "clients/lai_weekly.yaml",
    ]
    assert result.versions == {"ingest-v2": "4", "newsletter-v2": "4"}
    assert result.aliases_moved == [
        ("vectora-inbox-ingest-v2-dev", None),
        ("vectora-inbox-newsletter-v2-dev", None),
    ]


def test_a_failed_step_says_what_was_done_before_it(desired: DesiredState) -> None:
    run = executor(desired, fail_on="create_alias")

    with pytest.raises(ApplyError) as caught:
        run.run(fresh_plan(desired), desired)

    assert caught.value.step.describe().startswith("CreateAlias vectora-inbox-ingest-v2-dev")
    assert caught.value.result.aliases_moved == []
    assert len(caught.value.result.steps_done) == 7


def test_the_display_only_executor_shows_the_plan_and_makes_no_call(
    desired: DesiredState,
) -> None:
    plan = fresh_plan(desired)
    shown = DisplayOnlyExecutor()

    result = shown.run(plan, desired)

    assert shown.shown == plan.describe() and len(shown.shown) == 9
    assert result.versions == {} and result.aliases_moved == [] and result.steps_done == []


class NoAws:
    """A client factory that fails the test if anything asks it for a client."""

    def client(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"a dry run asked for a {args[0] if args else ''} client")

    s3 = lambda_ = iam = ssm = sts = client


def test_a_dry_run_through_the_pipeline_takes_no_lock_and_reaches_no_client(
    desired: DesiredState,
) -> None:
    config = load_config(ROOT / "release.yaml")
    target = Target(config, config.env("dev"), NoAws())  # type: ignore[arg-type]
    plan = fresh_plan(desired)

    report = execute(target, desired.manifest, lambda: (desired, plan), DisplayOnlyExecutor())

    assert report.outcome == "planned" and report.record_id is None
    assert report.plan == plan.describe()


def test_an_unchanged_plan_runs_no_step(desired: DesiredState) -> None:
    run = executor(desired)
    plan = make_plan(
        desired, live_as(desired), {"vectora-core": LAYER_ARN}, bundle_digests(), PREFIX
    )

    run.run(plan, desired)

    assert run.lam.calls == [] and run.s3.calls == [] and run.iam().calls == []
