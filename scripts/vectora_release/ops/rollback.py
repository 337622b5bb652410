"""Restore an earlier release: flip aliases back when the versions exist, else redeploy.

A record with no release manifest (``adopt``, ``restore``: it names a snapshot instead) is
returned to by an alias flip to its recorded versions, which its own run published, and
checked against what it recorded (``checks.recorded``): see :func:`_rollback_to_recorded`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..aws.lambda_ import FunctionConfiguration, alias_version, if_exists
from ..checks.findings import manifest_of
from ..checks.validate import make_validator
from ..common.errors import InputError
from ..deploy.desired import DesiredState, FunctionSpecD
from ..deploy.executor import Executor
from ..deploy.pipeline import DeployReport, execute, executor_for
from ..deploy.release import release_planner
from ..deploy.steps import (
    Plan,
    Step,
    UpdateAlias,
    UpdateFunctionCode,
    UpdateFunctionConfiguration,
)
from ..deploy.target import Target
from ..store.ledger import SUCCEEDED, DeploymentRecord, FunctionState
from .recorded import run_recorded


def choose_target(
    target: Target, to_version: str | None
) -> tuple[DeploymentRecord, DeploymentRecord | None]:
    """(the record to restore, the current record it undoes)."""
    ledger = target.ledger
    current = ledger.current()
    if current is not None and to_version in (current.version, current.release_id):
        return current, current  # already live: nothing to restore (run again, it converges)
    for record in ledger.history():
        if record.outcome != SUCCEEDED or not record.functions:
            continue  # a cleanup, or a restore of layers and objects only: not a state to run
        if current is not None and record.manifest_sha256 == current.manifest_sha256:
            continue
        if to_version is None and not record.validated:
            continue
        if to_version is None or to_version in (record.version, record.release_id):
            return record, current
    if to_version:
        raise InputError(
            f"{target.name} never ran release {to_version} successfully",
            f"see: vectora-release history --env {target.name}",
        )
    again = f"--commit {current.commit}" if current else "…"
    raise InputError(
        f"{target.name} has no earlier validated release to roll back to",
        f"to restore the recorded one: vectora-release deploy --env {target.name} {again}",
    )


def rollback(
    target: Target,
    to_version: str | None = None,
    reason: str | None = None,
    validate: bool = True,
    executor: Executor | None = None,
) -> DeployReport:
    """Put ``target`` back on an earlier release and record it as a rollback."""
    chosen, current = choose_target(target, to_version)
    if chosen.snapshot is not None:
        return _rollback_to_recorded(target, chosen, current, reason, executor)
    manifest = manifest_of(target, chosen)
    artifacts = target.store.artifacts(manifest)
    recorded_env = {fn: state.env for fn, state in chosen.functions.items()}
    full = release_planner(target, manifest, artifacts, recorded_env)

    def planner() -> tuple[DesiredState, Plan]:
        desired, plan = full()
        flip = _alias_flip(target, chosen, plan, desired)
        return desired, flip or plan

    return execute(
        target,
        manifest,
        planner,
        executor or executor_for(target),
        kind="rollback",
        validator=make_validator(e2e=True) if validate else None,
        reason=reason,
        undoes=current.id if current else None,
    )


def _alias_flip(
    target: Target, record: DeploymentRecord, plan: Plan, desired: DesiredState
) -> Plan | None:
    """When every recorded version still exists with its code, moving aliases is enough.

    ``$LATEST`` is put back on each restored version's code and configuration first (a
    bare-name invoke must run the release that is live); aliases move last, all together.
    """
    specs = {spec.function: spec for spec in desired.functions}
    latest_steps: list[Step] = []
    steps: list[Step] = []
    for fn, state in record.functions.items():
        if state.version is None or fn not in specs:
            return None
        conf = if_exists(
            target.lam.get_function_configuration, FunctionName=state.name, Qualifier=state.version
        )
        if conf is None or conf["CodeSha256"] != state.code_sha256:
            return None
        latest_steps += _latest_to(target, specs[fn], conf)
        previous = plan.previous_versions.get(fn)
        if previous != state.version:
            steps.append(UpdateAlias(fn, state.name, state.version, previous))
    prefix = record.config_prefix or plan.config_prefix
    steps = latest_steps + steps
    if not steps:
        return replace(plan, config_prefix=prefix, steps=())
    layers = {name: layer.arn for name, layer in record.layers.items()}
    return replace(plan, config_prefix=prefix, steps=tuple(steps), layer_arns=layers)


def _check_recorded_versions_exist(target: Target, chosen: DeploymentRecord) -> None:
    """An adopted or restored state is only its versions: gone, the way back is its snapshot."""
    missing = [
        f"{s.name}:{s.version}"
        for s in chosen.functions.values()
        if s.version is None
        or if_exists(
            target.lam.get_function_configuration, FunctionName=s.name, Qualifier=s.version
        )
        is None
    ]
    if missing:
        raise InputError(
            f"{target.name}: versions recorded by {chosen.id} no longer exist: "
            + ", ".join(missing),
            f"restore its snapshot: vectora-release restore --env {target.name} "
            f"--snapshot {chosen.snapshot}",
        )


def _rollback_to_recorded(
    target: Target,
    chosen: DeploymentRecord,
    current: DeploymentRecord | None,
    reason: str | None,
    executor: Executor | None,
) -> DeployReport:
    """Every alias back on the versions ``chosen`` recorded (an adopted or restored state)."""
    report = DeployReport(
        target.name, chosen.release_id, chosen.version, chosen.commit, "planned", "rollback"
    )
    executor = executor or executor_for(target)
    _check_recorded_versions_exist(target, chosen)

    def prepare() -> tuple[Plan, dict]:
        steps, functions = [], {}
        for fn, state in sorted(chosen.functions.items()):
            previous = alias_version(target.lam, state.name)
            functions[fn] = FunctionState(state.name, None, None, previous)
            if previous != state.version:
                steps.append(UpdateAlias(fn, state.name, state.version, previous))
        plan = Plan(target.name, chosen.release_id, "", tuple(steps), {})
        report.plan = plan.describe()
        fields = {
            "kind": "rollback",
            "version": chosen.version,
            "commit": chosen.commit,
            "release_id": chosen.release_id,
            "manifest_sha256": chosen.manifest_sha256,
            "artifact_bucket": chosen.artifact_bucket,
            "snapshot": chosen.snapshot,
            "reason": reason,
            "undoes": current.id if current else None,
            "functions": functions,
        }
        return plan, fields

    def fill(record: DeploymentRecord, _result: object) -> None:
        for fn, state in record.functions.items():
            kept = chosen.functions[fn]
            state.version, state.code_sha256 = kept.version, kept.code_sha256
            state.config, state.env = kept.config, kept.env
        record.layers = dict(chosen.layers)

    if not executor.writes:
        executor.run(prepare()[0], None)
        return report
    record = run_recorded(target, f"rollback to {chosen.id}", prepare, fill, executor)
    report.outcome, report.record_id, report.validation = "succeeded", record.id, record.validation
    return report


def _latest_to(target: Target, spec: FunctionSpecD, conf: dict[str, Any]) -> list[Step]:
    """Steps that give ``$LATEST`` the code and configuration of version ``conf``."""
    latest = target.lam.get_function_configuration(FunctionName=spec.resource)
    version_config = FunctionConfiguration.from_lambda(conf)
    spec = replace(spec, config=version_config)
    steps: list[Step] = []
    if latest["CodeSha256"] != conf["CodeSha256"]:
        steps.append(UpdateFunctionCode(spec))
    changes = FunctionConfiguration.from_lambda(latest).changes(version_config)
    if changes:
        steps.append(UpdateFunctionConfiguration(spec, version_config.layers, changes))
    return steps
