"""Deploy a release to an environment: lock → verify → plan → apply → record (DESIGN §5)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from . import manifest as manifest_io
from . import recovery
from .apply import ApplyError, ApplyResult, Executor
from .build.builders import CONFIG_BUNDLE
from .digest import sha256_hex
from .errors import (
    CheckFailedError,
    DeployFailedError,
    InputError,
    PromotionError,
    ReleaseError,
)
from .ledger import (
    FAILED,
    ROLLED_BACK,
    SUCCEEDED,
    DeploymentRecord,
    FunctionState,
    LayerState,
)
from .live import READ_WORKERS, FunctionLive, find_layer_version, read_bundle, read_function
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
    outcome: str  # planned | up_to_date | succeeded; on an error: refused | failed | rolled_back
    kind: str = "deploy"  # deploy | promote | rollback
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
        with ThreadPoolExecutor(max_workers=READ_WORKERS) as pool:
            found = pool.map(
                lambda layer: find_layer_version(
                    target.lam, layer.resource, layer.sha256, layer.code_sha256
                ),
                desired.layers,
            )
            layer_arns = dict(zip((layer.layer for layer in desired.layers), found, strict=True))
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
    """Plan, then (unless dry run or up to date) lock, apply, validate and record.

    A failure carries the report so far (plan, record, validation table) on the error, for
    ``--json`` and the GitHub job summary.
    """
    report = DeployReport(
        target.name, manifest.release_id, manifest.version, manifest.commit, "planned", kind
    )
    try:
        return _execute(
            report, target, manifest, planner, kind, dry_run, validator, from_env, reason, undoes
        )
    except ReleaseError as exc:
        if report.outcome not in (FAILED, ROLLED_BACK):
            report.outcome = FAILED if report.record_id else "refused"
        exc.report = report.to_dict()
        raise


def _execute(
    report: DeployReport,
    target: Target,
    manifest: Manifest,
    planner: Planner,
    kind: str,
    dry_run: bool,
    validator: Validator | None,
    from_env: str | None,
    reason: str | None,
    undoes: str | None,
) -> DeployReport:
    desired, plan = planner()
    report.plan = plan.describe()
    _verify(target, desired, plan)
    if dry_run:
        return report
    ledger = target.ledger
    if (
        plan.empty
        and validator is None
        and _is_current(ledger.current(), manifest)
        and not recovery.interrupted(target)
    ):
        report.outcome = "up_to_date"
        return report
    lock = ledger.acquire(target.config.lock_lease_seconds, f"{kind} {manifest.release_id}")
    try:
        report.recovered = recovery.recover_interrupted(target)
        desired, plan = planner()  # again, under the lock: live state may have moved
        report.plan = plan.describe()
        _verify(target, desired, plan)
        current = ledger.current()
        # Nothing to change and the ledger agrees: up to date. Nothing to change but the ledger
        # names another release (aliases moved back by hand…): the run below records it.
        if plan.empty and _is_current(current, manifest):
            report.outcome = "up_to_date"
            if validator is not None and current is not None:
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
            restored, unrestored = executor.restore_aliases(exc.result)
            record.steps_done = exc.result.steps_done + [f"restored {r}" for r in restored]
            recovery.close_restored(ledger, record, FAILED, str(exc), unrestored)
            report.outcome = FAILED
            raise DeployFailedError(
                f"deploy of {manifest.release_id} to {target.name} failed at "
                f"{exc.step.describe()}: {exc.cause}",
                f"every alias is back on its previous version; see history --env {target.name}",
            ) from exc
        try:
            _fill_record(record, desired, plan, result)
            if plan.empty:
                record.steps_done.append("live already ran this release; recorded it")
            if validator is not None:
                outcome = validator(target, record, manifest)
                record.validation = report.validation = outcome.to_dict()
                if not outcome.passed:
                    restored, unrestored = executor.restore_aliases(result)
                    record.steps_done += [f"restored {r}" for r in restored]
                    error = "validation failed: " + "; ".join(outcome.failures())
                    recovery.close_restored(ledger, record, ROLLED_BACK, error, unrestored)
                    report.outcome = ROLLED_BACK
                    raise DeployFailedError(
                        f"validation of {manifest.release_id} in {target.name} failed "
                        f"({'; '.join(outcome.failures())}); rolled back",
                        "every alias is back on its previous version; "
                        f"see history --env {target.name}",
                    )
            ledger.close(record, SUCCEEDED)
        except DeployFailedError:
            raise
        except Exception as exc:
            recovery.abandon(target, record, exc)
            raise  # committed: its changes stand, the next run completes its record
        report.outcome = "succeeded"
        return report
    finally:
        target.release_lock(lock)


def _is_current(current: DeploymentRecord | None, manifest: Manifest) -> bool:
    """Whether the environment's current ledger record is of this release."""
    return current is not None and current.manifest_sha256 == manifest.sha256


def _verify(target: Target, desired: DesiredState, plan: Plan) -> None:
    """Planning reads only the config bundle; every byte is checked before any change."""
    artifacts = desired.artifacts
    if not plan.empty and isinstance(artifacts, VerifiedArtifacts) and artifacts.unverified:
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
