"""Deploy a release to an environment: lock → verify → plan → apply → record (DESIGN §5)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, NoReturn, Protocol

from . import manifest as manifest_io
from .apply import ApplyError, ApplyResult, Executor
from .aws import BotoCoreError, ClientError, error_code
from .build.builders import CONFIG_BUNDLE
from .digest import sha256_hex
from .errors import CheckFailedError, DeployFailedError, InputError, PromotionError
from .ledger import (
    FAILED,
    IN_PROGRESS,
    ROLLED_BACK,
    SUCCEEDED,
    DeploymentRecord,
    FunctionState,
    LayerState,
    Lock,
)
from .live import ALIAS, READ_WORKERS, FunctionLive, find_layer_version, read_bundle, read_function
from .manifest import Manifest
from .plan import Plan, make_plan
from .spec import DesiredState, bundle_objects, desired_state
from .store import VerifiedArtifacts
from .target import Target

Planner = Callable[[], tuple[DesiredState, Plan]]


class ValidationOutcome(Protocol):
    passed: bool

    def to_dict(self) -> dict[str, Any]: ...

    def failures(self) -> list[str]: ...


Validator = Callable[[Target, DeploymentRecord, Manifest], ValidationOutcome]


@dataclass
class DeployReport:
    env: str
    release_id: str
    version: str
    commit: str
    outcome: str  # up_to_date | planned | succeeded
    plan: list[str] = field(default_factory=list)
    record_id: str | None = None
    validation: dict[str, Any] | None = None
    recovered: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def resolve_release(
    target: Target, version: str | None, commit: str | None, manifest_path: Path | None
) -> Manifest:
    """The manifest named on the command line, as published in the target's store."""
    chosen = [x for x in (version, commit, manifest_path) if x]
    if len(chosen) != 1:
        raise InputError("name exactly one release", "pass --version, --commit or --manifest")
    if manifest_path is not None:
        local = manifest_io.load(manifest_path)
        published = target.store.find(commit=local.commit)
        if published.sha256 != local.sha256:
            raise InputError(
                f"{manifest_path} differs from the manifest published for {local.release_id}",
                "deploy what was published",
            )
        return published
    return target.store.find(version=version, commit=commit)


def check_upstream(target: Target, manifest: Manifest, upstream: Target | None) -> None:
    """Refuse a release that the approval chain says must be validated upstream first."""
    if upstream is None:
        return
    for record in upstream.ledger.history():
        same = record.manifest_sha256 == manifest.sha256
        if same and record.outcome == SUCCEEDED and record.validated:
            return
    raise PromotionError(
        f"release {manifest.release_id} has not passed validation in {upstream.name}, "
        f"which {target.name} requires",
        f"deploy and validate it in {upstream.name} first",
    )


def release_planner(
    target: Target,
    manifest: Manifest,
    artifacts: dict[str, bytes],
    recorded_env: Mapping[str, Mapping[str, str] | None] | None = None,
) -> Planner:
    """A planner that reads live state and plans ``manifest`` onto ``target``.

    Env values are release.yaml's, or ``recorded_env`` (a rollback restores what it recorded).
    """

    def planner() -> tuple[DesiredState, Plan]:
        names = list(manifest.functions)
        resources = [target.config.function_resource(name, target.name) for name in names]
        with ThreadPoolExecutor(max_workers=READ_WORKERS) as pool:  # reads are latency-bound
            functions = dict(
                zip(names, pool.map(partial(read_function, target.lam), resources), strict=True)
            )
        prefix, bundle_live = _choose_config_prefix(target, manifest, artifacts, functions)
        declared = target.declared_env(sorted(manifest.functions), recorded_env)
        resolved = target.resolved_env(sorted(manifest.functions), declared)
        desired = desired_state(
            target.config, target.spec, manifest, artifacts, resolved, prefix, declared
        )
        layer_arns = {
            layer.layer: find_layer_version(
                target.lam, layer.resource, layer.sha256, layer.code_sha256
            )
            for layer in desired.layers
        }
        return desired, make_plan(desired, functions, layer_arns, bundle_live, prefix)

    return planner


def _choose_config_prefix(
    target: Target,
    manifest: Manifest,
    artifacts: dict[str, bytes],
    functions: dict[str, FunctionLive],
) -> tuple[str, dict[str, str | None]]:
    """Reuse the live config prefix when it holds exactly this bundle, else the release's own."""
    bucket = target.spec.buckets["config"]
    wanted = {k: sha256_hex(v) for k, v in bundle_objects(artifacts[CONFIG_BUNDLE]).items()}
    live_prefixes = sorted(
        {
            dict(f.alias.config.env).get("CONFIG_PREFIX", "")
            for f in functions.values()
            if f.alias is not None
        }
        - {""}
    )
    for prefix in live_prefixes:
        objects = read_bundle(target.s3, bucket, prefix)
        if objects == wanted:
            return prefix, objects
    prefix = f"releases/{manifest.release_id}/"
    return prefix, read_bundle(target.s3, bucket, prefix)


def execute(
    target: Target,
    manifest: Manifest,
    planner: Planner,
    *,
    kind: str = "deploy",
    dry_run: bool = False,
    validator: Validator | None = None,
    from_env: str | None = None,
    reason: str | None = None,
    undoes: str | None = None,
) -> DeployReport:
    """Plan, then (unless dry run or up to date) lock, apply, validate and record."""
    report = DeployReport(
        target.name, manifest.release_id, manifest.version, manifest.commit, "planned"
    )
    desired, plan = planner()
    report.plan = plan.describe()
    _verify(target, desired, plan)
    if dry_run:
        return report
    ledger = target.ledger
    if plan.empty and validator is None and not _interrupted(target):
        report.outcome = "up_to_date"
        return report
    lock = ledger.acquire(target.config.lock_lease_seconds, f"{kind} {manifest.release_id}")
    try:
        report.recovered = recover_interrupted(target)
        desired, plan = planner()  # again, under the lock: live state may have moved
        report.plan = plan.describe()
        _verify(target, desired, plan)
        if plan.empty:
            report.outcome = "up_to_date"
            current = ledger.current()
            if validator is not None and current and current.manifest_sha256 == manifest.sha256:
                outcome = validator(target, current, manifest)
                current.validation = outcome.to_dict()
                ledger.save(current)
                report.validation = current.validation
                report.record_id = current.id
                if not outcome.passed:
                    raise CheckFailedError(
                        f"validation of {manifest.release_id} in {target.name}"
                        f" failed: {'; '.join(outcome.failures())}"
                    )
            return report
        record = ledger.open_record(
            kind=kind,
            version=manifest.version,
            commit=manifest.commit,
            release_id=manifest.release_id,
            manifest_sha256=manifest.sha256,
            artifact_bucket=target.spec.artifact_bucket,
            from_env=from_env,
            reason=reason,
            undoes=undoes,
            config_prefix=plan.config_prefix,
            config_bundle_sha256=desired.bundle.tree_sha256,
            functions={
                fn: FunctionState(
                    target.config.function_resource(fn, target.name), None, None, prev
                )
                for fn, prev in plan.previous_versions.items()
            },
        )
        report.record_id = record.id
        executor = Executor(
            target.lam, target.s3, target.aws.iam(), desired, target.progress, target.waiter_delay
        )
        try:
            result = executor.run(plan)
        except ApplyError as exc:
            restored = executor.restore_aliases(exc.result)
            record.steps_done = exc.result.steps_done + [f"restored {r}" for r in restored]
            ledger.close(record, FAILED, str(exc))
            raise DeployFailedError(
                f"deploy of {manifest.release_id} to {target.name} failed at "
                f"{exc.step.describe()}: {exc.cause}",
                f"every alias is back on its previous version; see history --env {target.name}",
            ) from exc
        try:
            _fill_record(record, desired, plan, result)
            if validator is not None:
                outcome = validator(target, record, manifest)
                record.validation = report.validation = outcome.to_dict()
                if not outcome.passed:
                    restored = executor.restore_aliases(result)
                    record.steps_done += [f"restored {r}" for r in restored]
                    ledger.close(
                        record, ROLLED_BACK, "validation failed: " + "; ".join(outcome.failures())
                    )
                    raise DeployFailedError(
                        f"validation of {manifest.release_id} in {target.name} failed "
                        f"({'; '.join(outcome.failures())}); rolled back",
                        "every alias is back on its previous version; "
                        f"see history --env {target.name}",
                    )
            ledger.close(record, SUCCEEDED)
        except DeployFailedError:
            raise
        except Exception as exc:  # noqa: BLE001 - restored, recorded and raised again
            _abandon(target, record, exc)
        report.outcome = "succeeded"
        return report
    finally:
        _release(target, lock)


def _abandon(target: Target, record: DeploymentRecord, exc: Exception) -> NoReturn:
    """Something failed after the changes were applied (validation, a ledger write).

    Unless the run was already committed (``current.json`` names its record), every alias goes
    back and the record is closed ``failed``, so the environment and its ledger agree. A
    committed run keeps its changes; the next run completes its record.
    """
    ledger = target.ledger
    if ledger.current_id() == record.id:
        target.progress(
            f"warning: {record.release_id} is live and current, but its record {record.id} "
            "could not be completed; the next deploy completes it"
        )
        raise exc
    restored = [_restore_alias(target.lam, state) for state in record.functions.values()]
    record.steps_done.append("restored after a failure: " + ", ".join(restored))
    ledger.close(record, FAILED, f"{type(exc).__name__}: {exc}")
    raise DeployFailedError(
        f"{record.kind} of {record.release_id} to {target.name} failed after its changes "
        f"were applied: {exc}",
        f"every alias is back on its previous version; see history --env {target.name}",
    ) from exc


def _release(target: Target, lock: Lock) -> None:
    """Drop the lock. If that fails the run's outcome stands: say so; the lease frees it."""
    try:
        target.ledger.release(lock)
    except (ClientError, BotoCoreError) as exc:
        target.progress(
            f"warning: could not release the lock of {target.name} ({exc}); "
            f"it expires at {lock.expires_at}"
        )


def _verify(target: Target, desired: DesiredState, plan: Plan) -> None:
    """Planning reads only the config bundle; every byte is checked before any change."""
    artifacts = desired.artifacts
    if not plan.empty and isinstance(artifacts, VerifiedArtifacts):
        release = desired.manifest.release_id
        target.progress(f"verifying {len(artifacts)} artifacts of {release}")
        artifacts.verify_all()


def _fill_record(
    record: DeploymentRecord, desired: DesiredState, plan: Plan, result: ApplyResult
) -> None:
    record.steps_done = list(result.steps_done)
    for spec in desired.functions:
        state = record.functions[spec.function]
        state.version = result.versions.get(spec.function, plan.previous_versions[spec.function])
        state.code_sha256 = spec.code_sha256
        state.env = dict(spec.declared_env)
    record.layers = {
        layer.layer: LayerState(result.layer_arns[layer.layer], layer.code_sha256, layer.sha256)
        for layer in desired.layers
    }


def recover_interrupted(target: Target) -> list[str]:
    """Close records left ``in_progress`` by a run that stopped, restoring their aliases.

    Called with the lock held, so no such run can still be going.
    """
    notes = []
    current_id = target.ledger.current_id()
    for record in target.ledger.history(limit=20):
        if record.outcome != IN_PROGRESS:
            continue
        if record.id == current_id:  # it stopped after its commit: all its changes are live
            record.steps_done.append("completed by a later run (it had been made current)")
            target.ledger.close(record, SUCCEEDED)
            notes.append(
                f"record {record.id} ({record.release_id}) was interrupted after it was made "
                "current; completed as succeeded"
            )
            target.progress(f"warning: {notes[-1]}")
            continue
        restored = []
        for state in record.functions.values():
            restored.append(_restore_alias(target.lam, state))
        record.steps_done.append("recovered by a later run: " + ", ".join(restored))
        target.ledger.close(record, FAILED, "interrupted: the run stopped before it finished")
        notes.append(
            f"record {record.id} ({record.release_id}) was interrupted; "
            f"aliases restored: {', '.join(restored)}"
        )
        target.progress(f"warning: {notes[-1]}")
    return notes


def _interrupted(target: Target) -> bool:
    """Whether a run stopped before closing its record (reads only)."""
    # Every run that takes the lock recovers older ones, so only the newest can be open.
    return any(r.outcome == IN_PROGRESS for r in target.ledger.history(limit=1))


def _restore_alias(lam: Any, state: FunctionState) -> str:
    try:
        current = lam.get_alias(FunctionName=state.name, Name=ALIAS)["FunctionVersion"]
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        current = None
    if current == state.previous_version:
        return f"{state.name}:{ALIAS}={current or '-'}"
    if state.previous_version is None:
        lam.delete_alias(FunctionName=state.name, Name=ALIAS)
    elif current is None:
        lam.create_alias(
            FunctionName=state.name, Name=ALIAS, FunctionVersion=state.previous_version
        )
    else:
        lam.update_alias(
            FunctionName=state.name, Name=ALIAS, FunctionVersion=state.previous_version
        )
    return f"{state.name}:{ALIAS}={state.previous_version or '(removed)'}"


def deploy_release(
    target: Target,
    manifest: Manifest,
    *,
    upstream: Target | None = None,
    dry_run: bool = False,
    validator: Validator | None = None,
    kind: str = "deploy",
    from_env: str | None = None,
) -> DeployReport:
    """The whole deploy of DESIGN §5 for a published release."""
    check_upstream(target, manifest, upstream)
    artifacts = target.store.artifacts(manifest)
    planner = release_planner(target, manifest, artifacts)
    return execute(
        target,
        manifest,
        planner,
        kind=kind,
        dry_run=dry_run,
        validator=validator,
        from_env=from_env,
    )
