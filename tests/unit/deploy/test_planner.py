"""The planner on plain data: which steps, in which order, for which difference."""

from __future__ import annotations

from dataclasses import replace

import pytest
from plans import LAYER_ARN, bundle_digests, live_as
from vectora_release.common.errors import InputError
from vectora_release.deploy.desired import DesiredState
from vectora_release.deploy.live import FunctionLive
from vectora_release.deploy.planner import make_plan
from vectora_release.deploy.steps import (
    CreateFunction,
    LayerRef,
    PublishLayerVersion,
    PublishVersion,
    PutObject,
    UpdateAlias,
    UpdateFunctionCode,
    UpdateFunctionConfiguration,
)

PREFIX = "releases/1.0.0+ababab/"


def kinds(plan) -> list[str]:
    return [type(step).__name__ for step in plan.steps]


def test_a_fresh_deploy_publishes_uploads_creates_then_moves_every_alias_last(
    desired: DesiredState,
) -> None:
    absent = {s.function: FunctionLive(s.resource, exists=False) for s in desired.functions}

    plan = make_plan(desired, absent, {"vectora-core": None}, {}, PREFIX)

    assert kinds(plan) == [
        "PublishLayerVersion",
        "PutObject",
        "PutObject",
        "CreateFunction",
        "PublishVersion",
        "CreateFunction",
        "PublishVersion",
        "UpdateAlias",
        "UpdateAlias",
    ]
    created = [s for s in plan.steps if isinstance(s, CreateFunction)]
    assert all(s.layers == (LayerRef("vectora-core"),) for s in created)
    assert [s.key for s in plan.steps if isinstance(s, PutObject)] == [
        PREFIX + "canonical/scopes/a.yaml",
        PREFIX + "clients/lai_weekly.yaml",
    ]
    aliases = [s for s in plan.steps if isinstance(s, UpdateAlias)]
    assert [(a.version, a.previous) for a in aliases] == [(None, None), (None, None)]
    assert plan.describe()[-1].startswith("CreateAlias vectora-inbox-newsletter-v2-dev:live")
    assert plan.previous_versions == {"ingest-v2": None, "newsletter-v2": None}


def test_an_unchanged_environment_plans_nothing(desired: DesiredState) -> None:
    plan = make_plan(
        desired, live_as(desired), {"vectora-core": LAYER_ARN}, bundle_digests(), PREFIX
    )

    assert plan.empty and plan.steps == ()
    assert plan.previous_versions == {"ingest-v2": "3", "newsletter-v2": "3"}
    assert plan.layer_arns == {"vectora-core": LAYER_ARN}


def test_a_change_to_one_function_touches_only_that_function(desired: DesiredState) -> None:
    live = live_as(desired, **{"newsletter-v2": lambda v: replace(v, code_sha256="old")})

    plan = make_plan(desired, live, {"vectora-core": LAYER_ARN}, bundle_digests(), PREFIX)

    assert kinds(plan) == ["UpdateFunctionCode", "PublishVersion", "UpdateAlias"]
    assert {step.function.function for step in plan.steps[:1]} == {"newsletter-v2"}
    alias = plan.steps[-1]
    assert isinstance(alias, UpdateAlias)
    assert (alias.resource, alias.version, alias.previous) == (
        "vectora-inbox-newsletter-v2-dev",
        None,
        "3",
    )


def test_a_release_that_differs_only_in_one_env_var_updates_the_configuration(
    desired: DesiredState,
) -> None:
    def debug(version):
        env = tuple((k, "DEBUG" if k == "LOG_LEVEL" else v) for k, v in version.config.env)
        return replace(version, config=replace(version.config, env=env))

    live = live_as(desired, **{"ingest-v2": debug})

    plan = make_plan(desired, live, {"vectora-core": LAYER_ARN}, bundle_digests(), PREFIX)

    assert kinds(plan) == ["UpdateFunctionConfiguration", "PublishVersion", "UpdateAlias"]
    step = plan.steps[0]
    assert isinstance(step, UpdateFunctionConfiguration)
    assert step.function.function == "ingest-v2"
    assert step.changes == ("env LOG_LEVEL",)
    assert "DEBUG" not in step.describe() and "INFO" not in step.describe(), "values never shown"
    assert not any(isinstance(s, UpdateFunctionCode) for s in plan.steps)


def test_a_new_layer_version_changes_every_function_that_uses_it(
    desired: DesiredState,
) -> None:
    plan = make_plan(desired, live_as(desired), {"vectora-core": None}, bundle_digests(), PREFIX)

    assert isinstance(plan.steps[0], PublishLayerVersion)
    updates = [s for s in plan.steps if isinstance(s, UpdateFunctionConfiguration)]
    assert [u.function.function for u in updates] == ["ingest-v2", "newsletter-v2"]
    assert all(
        u.changes == ("layers",) and u.layers == (LayerRef("vectora-core"),) for u in updates
    )
    assert kinds(plan)[-2:] == ["UpdateAlias", "UpdateAlias"]
    assert sum(isinstance(s, PublishVersion) for s in plan.steps) == 2


def test_config_objects_not_in_the_release_are_deleted_under_its_prefix(
    desired: DesiredState,
) -> None:
    live_bundle = {**bundle_digests(), "canonical/prompts/lai_prompt.yaml": "legacy"}

    plan = make_plan(desired, live_as(desired), {"vectora-core": LAYER_ARN}, live_bundle, PREFIX)

    assert plan.describe() == [
        f"DeleteObject s3://vectora-inbox-config-dev/{PREFIX}canonical/prompts/lai_prompt.yaml"
        " (not part of the release)"
    ]


def test_a_function_the_tool_did_not_create_is_refused(desired: DesiredState) -> None:
    live = live_as(desired)
    live["ingest-v2"] = replace(live["ingest-v2"], managed=False)

    with pytest.raises(InputError, match="not managed by vectora-release"):
        make_plan(desired, live, {"vectora-core": LAYER_ARN}, bundle_digests(), PREFIX)


def test_an_edited_latest_is_reset_without_a_version_or_an_alias_move(
    desired: DesiredState,
) -> None:
    """A console edit changes $LATEST only; the alias already runs the release."""
    live = live_as(desired)
    edited = live["ingest-v2"]
    assert edited.latest is not None
    env = tuple((k, v) for k, v in edited.latest.config.env if k != "LOG_LEVEL")
    latest = replace(
        edited.latest,
        code_sha256="console",
        config=replace(edited.latest.config, env=env, memory=2048),
    )
    live["ingest-v2"] = replace(edited, latest=latest)

    plan = make_plan(desired, live, {"vectora-core": LAYER_ARN}, bundle_digests(), PREFIX)

    assert kinds(plan) == ["UpdateFunctionCode", "UpdateFunctionConfiguration"]
    step = plan.steps[1]
    assert isinstance(step, UpdateFunctionConfiguration)
    assert step.function.function == "ingest-v2"
    assert step.changes == ("memory", "env LOG_LEVEL")
    assert step.layers == (LAYER_ARN,)
