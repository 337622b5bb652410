"""Desired state vs live state → a :class:`~.steps.Plan` (pure: no AWS call, no clock).

Aliases move last, all together, so a failure before that point leaves every alias where it
was. A function the tool did not create (no ``ManagedBy`` tag) is never planned over.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace

from ..aws.lambda_ import FunctionConfiguration
from ..common.errors import InputError
from .desired import DesiredState, FunctionSpecD
from .live import FunctionLive, VersionState
from .live_run import MonitoringLive
from .monitoring import MonitoringD
from .steps import (
    AddPermission,
    CreateFunction,
    CreateTopic,
    DeleteAlarms,
    DeleteObject,
    DeleteRule,
    LayerRef,
    MonitorStep,
    Plan,
    PublishLayerVersion,
    PublishVersion,
    PutDashboard,
    PutFunctionConcurrency,
    PutMetricAlarm,
    PutObject,
    PutRule,
    PutTargets,
    RemovePermission,
    RemoveTargets,
    Step,
    TagResource,
    UpdateAlias,
    UpdateFunctionCode,
    UpdateFunctionConfiguration,
)


def make_plan(
    desired: DesiredState,
    functions: Mapping[str, FunctionLive],
    layer_arns: Mapping[str, str | None],
    bundle_live: Mapping[str, str | None],
    config_prefix: str,
) -> Plan:
    """Order the steps that take the environment from ``functions``/… to ``desired``.

    ``layer_arns`` maps each layer to a live version holding its content (None: publish);
    ``bundle_live`` is what lies under ``config_prefix`` (relative key → sha256).
    """
    steps: list[Step] = []
    refs: dict[str, str | LayerRef] = {}
    for layer in desired.layers:
        arn = layer_arns.get(layer.layer)
        if arn is None:
            steps.append(PublishLayerVersion(layer))
            refs[layer.layer] = LayerRef(layer.layer)
        else:
            refs[layer.layer] = arn

    wanted = desired.bundle.digests()
    for key in sorted(wanted):
        if bundle_live.get(key) != wanted[key]:
            steps.append(PutObject(desired.bundle.bucket, config_prefix, key, wanted[key]))
    for key in sorted(set(bundle_live) - set(wanted)):
        steps.append(DeleteObject(desired.bundle.bucket, config_prefix + key))

    switches: list[UpdateAlias] = []
    previous: dict[str, str | None] = {}
    for spec in desired.functions:
        live = functions[spec.function]
        previous[spec.function] = live.alias.version if live.alias else None
        layers = tuple(refs[name] for name in spec.config.layers)
        fn_steps, switch = _function_steps(spec, live, layers)
        steps.extend(fn_steps)
        if switch is not None:
            switches.append(switch)
    steps.extend(switches)
    reused = {name: ref for name, ref in refs.items() if isinstance(ref, str)}
    return Plan(
        desired.env, desired.manifest.release_id, config_prefix, tuple(steps), previous, reused
    )


def _function_steps(
    spec: FunctionSpecD, live: FunctionLive, layers: tuple[str | LayerRef, ...]
) -> tuple[list[Step], UpdateAlias | None]:
    wanted = replace(spec.config, layers=tuple(str(x) for x in layers))
    steps: list[Step] = []
    if not live.exists:
        steps.append(CreateFunction(spec, layers))
        steps.extend(_concurrency(spec, None))
        steps.append(PublishVersion(spec.function, spec.resource))
        return steps, UpdateAlias(spec.function, spec.resource, None, None)
    if not live.managed:
        raise InputError(
            f"function {spec.resource} exists but is not managed by vectora-release "
            "(no ManagedBy tag)",
            "the tool never modifies resources it did not create: rename or remove it",
        )
    steps.extend(_concurrency(spec, live.reserved_concurrency))
    pending = any(isinstance(x, LayerRef) for x in layers)
    alias = live.alias
    unchanged = alias is not None and alias.code_sha256 == spec.code_sha256
    latest = live.latest
    assert latest is not None
    if unchanged and not pending and alias.config == wanted:
        return steps + _reset_latest(spec, latest, layers, wanted), None
    if latest.code_sha256 != spec.code_sha256:
        steps.append(UpdateFunctionCode(spec))
    changes = latest.config.changes(wanted, skip="layers" if pending else None)
    if pending:  # a layer version is yet to be published: the layers will change
        changes = ("layers", *changes)
    if changes:
        steps.append(UpdateFunctionConfiguration(spec, layers, changes))
    if dict(live.tags) != {**live.tags, **spec.tags}:
        steps.append(TagResource(spec.resource, spec.tags))
    steps.append(PublishVersion(spec.function, spec.resource))
    previous = live.alias.version if live.alias else None
    return steps, UpdateAlias(spec.function, spec.resource, None, previous)


def _reset_latest(
    spec: FunctionSpecD,
    latest: VersionState,
    layers: tuple[str | LayerRef, ...],
    wanted: FunctionConfiguration,
) -> list[Step]:
    """Put ``$LATEST`` back on what alias ``live`` runs (edited by hand, or left by a flip).

    A bare-name invoke runs ``$LATEST``: it must run the release. No version is published and
    the alias stays where it is.
    """
    steps: list[Step] = []
    if latest.code_sha256 != spec.code_sha256:
        steps.append(UpdateFunctionCode(spec))
    changes = latest.config.changes(wanted)
    if changes:
        steps.append(UpdateFunctionConfiguration(spec, layers, changes))
    return steps


def _concurrency(spec: FunctionSpecD, current: int | None) -> list[Step]:
    wanted = spec.reserved_concurrency
    if wanted is None or wanted == current:
        return []
    return [PutFunctionConcurrency(spec.resource, wanted)]


def monitoring_steps(desired: MonitoringD, live: MonitoringLive) -> list[MonitorStep]:
    """Steps taking the topic, rules, alarms and dashboard to ``desired`` (none when equal).

    Run after the aliases move: a rule's target and permission name alias ``live``.
    """
    steps: list[MonitorStep] = []
    if not live.topic_exists:
        steps.append(CreateTopic(desired.topic, desired.tags))
    for rule in desired.rules:
        now = live.rules.get(rule.name)
        if now is None:
            steps.append(PutRule(rule, desired.tags, "new"))
        elif (now.state, now.expression) != (rule.state, rule.expression):
            steps.append(PutRule(rule, desired.tags, f"was {now.state} {now.expression}"))
        if now is None or now.targets != ((rule.target_arn, rule.input),):
            steps.append(PutTargets(rule))
        if now is None or not now.permitted:
            steps.append(AddPermission(rule))
    for alarm in desired.alarms:
        current = live.alarms.get(alarm.name)
        wanted = {k: alarm.params.get(k) for k in current or {}}
        if current is None:
            steps.append(PutMetricAlarm(alarm, desired.tags, "new"))
        elif current != wanted:
            changed = sorted(k for k in wanted if current.get(k) != wanted[k])
            steps.append(PutMetricAlarm(alarm, desired.tags, "changed: " + ", ".join(changed)))
    if live.dashboard_body is None or _json(live.dashboard_body) != _json(desired.dashboard_body):
        steps.append(PutDashboard(desired.dashboard, desired.dashboard_body))
    return steps + removal_steps(live)


def removal_steps(live: MonitoringLive) -> list[MonitorStep]:
    """Remove the rules and alarms the tool made that release.yaml no longer declares.

    A rule loses its targets, then the invoke permission it had on each function's alias, then
    goes: each step is safe to repeat, and a rule is deleted last, so a run interrupted
    anywhere is finished by the next one (which still finds the rule).
    """
    steps: list[MonitorStep] = []
    for name, targets in sorted(live.undeclared_rules.items()):
        if targets:
            steps.append(RemoveTargets(name, tuple(target_id for target_id, _ in targets)))
        for _, arn in targets:
            function, _, qualifier = arn.partition(":function:")[2].partition(":")
            if function:
                steps.append(RemovePermission(function, qualifier, name))
        steps.append(DeleteRule(name))
    if live.undeclared_alarms:
        steps.append(DeleteAlarms(tuple(live.undeclared_alarms)))
    return steps


def _json(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return text
