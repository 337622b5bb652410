"""Restore an earlier release: flip aliases back when the versions exist, else redeploy."""

from __future__ import annotations

from .aws import ClientError, error_code
from .deploy import DeployReport, execute, release_planner
from .errors import InputError
from .ledger import SUCCEEDED, DeploymentRecord
from .observe import manifest_of
from .plan import Plan, UpdateAlias
from .target import Target
from .validate import make_validator


def choose_target(
    target: Target, to_version: str | None
) -> tuple[DeploymentRecord, DeploymentRecord | None]:
    """(the record to restore, the current record it undoes)."""
    ledger = target.ledger
    current = ledger.current()
    if current is not None and to_version in (current.version, current.release_id):
        return current, current  # already live: nothing to restore (run again, it converges)
    for record in ledger.history():
        if record.outcome != SUCCEEDED:
            continue
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
    dry_run: bool = False,
    validate: bool = True,
) -> DeployReport:
    """Put ``target`` back on an earlier release and record it as a rollback."""
    chosen, current = choose_target(target, to_version)
    manifest = manifest_of(target, chosen)
    artifacts = target.store.artifacts(manifest)
    recorded_env = {fn: state.env for fn, state in chosen.functions.items()}
    full = release_planner(target, manifest, artifacts, recorded_env)

    def planner():
        desired, plan = full()
        flip = _alias_flip(target, chosen, plan)
        return desired, flip or plan

    return execute(
        target,
        manifest,
        planner,
        kind="rollback",
        dry_run=dry_run,
        validator=make_validator(e2e=True) if validate else None,
        reason=reason,
        undoes=current.id if current else None,
    )


def _alias_flip(target: Target, record: DeploymentRecord, plan: Plan) -> Plan | None:
    """When every recorded version still exists with its code, moving aliases is enough."""
    steps = []
    for fn, state in record.functions.items():
        if state.version is None:
            return None
        try:
            conf = target.lam.get_function_configuration(
                FunctionName=state.name, Qualifier=state.version
            )
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise
        if conf["CodeSha256"] != state.code_sha256:
            return None
        previous = plan.previous_versions.get(fn)
        if previous != state.version:
            steps.append(UpdateAlias(fn, state.name, state.version, previous))
    if not steps:
        return Plan(
            plan.env,
            plan.release_id,
            record.config_prefix or plan.config_prefix,
            (),
            plan.previous_versions,
            plan.layer_arns,
        )
    return Plan(
        plan.env,
        plan.release_id,
        record.config_prefix or plan.config_prefix,
        tuple(steps),
        plan.previous_versions,
        {name: layer.arn for name, layer in record.layers.items()},
    )
