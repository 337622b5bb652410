"""Deploy a release to an environment: plan → verify → lock → apply → validate → record.

The pipeline, as ``docs/architecture.md`` tells it:

1. the planner reads live state and makes a plan (pure data); nothing is locked yet;
2. a display-only executor shows it and the run ends there (``--dry-run``);
3. otherwise the environment's lock is taken, runs a previous holder left half-done are
   repaired (``recovery``), and the plan is made again under the lock;
4. a ledger record is opened ``in_progress`` before the first change;
5. the executor applies the plan; on a failed step every alias goes back, the record is
   closed ``failed`` (exit 1); on a stop request (SIGINT, SIGTERM: ``Target.cancel``) at the
   next step boundary the same happens and the record is closed ``interrupted`` (exit 1);
6. the validator checks what now runs; on failure every alias goes back, the record is
   closed ``rolled_back`` (exit 1);
7. the record is closed ``succeeded`` and made current; the lock is released.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from ..build.manifest import Manifest
from ..common.errors import CancelledError, CheckFailedError, DeployFailedError, ReleaseError
from ..store.artifacts import VerifiedArtifacts
from ..store.ledger import (
    FAILED,
    INTERRUPTED,
    ROLLED_BACK,
    SUCCEEDED,
    DeploymentRecord,
    FunctionState,
    LayerState,
)
from ..store.lock import Heartbeat
from . import recovery
from .bake import bake
from .desired import DesiredState
from .executor import ApplyError, ApplyResult, AwsExecutor, DisplayOnlyExecutor, Executor
from .release import Planner, check_upstream, release_planner, target_monitoring
from .steps import Plan
from .target import Target


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
    soak: dict[str, Any] | None = None  # promote: what the soak gate found (ops/soak.py)
    bake: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def execute(
    target: Target,
    manifest: Manifest,
    planner: Planner,
    executor: Executor,
    *,
    kind: str = "deploy",
    validator: Validator | None = None,
    from_env: str | None = None,
    reason: str | None = None,
    undoes: str | None = None,
    soak: dict[str, Any] | None = None,
    bake_minutes: int | None = None,
) -> DeployReport:
    """Plan, then run the plan with ``executor``: lock, apply, validate and record.

    A failure carries the report so far (plan, record, validation table) on the error, for
    ``--json`` and the GitHub job summary.
    """
    report = DeployReport(
        target.name, manifest.release_id, manifest.version, manifest.commit, "planned", kind
    )
    report.soak = soak
    run = _Run(target, manifest, planner, executor, report, validator, (from_env, reason, undoes))
    run.bake_minutes = target.spec.monitoring.bake_minutes if bake_minutes is None else bake_minutes
    try:
        return run.go()
    except ReleaseError as exc:
        if isinstance(exc, CancelledError):
            report.outcome = INTERRUPTED
        elif report.outcome not in (FAILED, ROLLED_BACK):
            report.outcome = FAILED if report.record_id else "refused"
        exc.report = report.to_dict()
        raise


@dataclass
class _Run:
    """One run of :func:`execute`; each method is one step of the pipeline above."""

    target: Target
    manifest: Manifest
    planner: Planner
    executor: Executor
    report: DeployReport
    validator: Validator | None
    provenance: tuple[str | None, str | None, str | None]  # from_env, reason, undoes
    heartbeat: Heartbeat | None = None
    bake_minutes: int = 0

    def go(self) -> DeployReport:
        desired, plan = self._plan()
        if not self.executor.writes:
            self.executor.run(plan, desired)
            return self.report
        if plan.empty and self.validator is None and self._nothing_to_record():
            self.report.outcome = "up_to_date"
            return self.report
        with self.target.locked(self._purpose()) as self.heartbeat:
            return self._locked()

    def _plan(self) -> tuple[DesiredState, Plan]:
        desired, plan = self.planner()
        self.report.plan = plan.describe()
        _verify(self.target, desired, plan)
        return desired, plan

    def _purpose(self) -> str:
        return f"{self.report.kind} {self.manifest.release_id}"

    def _nothing_to_record(self) -> bool:
        """The ledger already names this release and no run was left half-done.

        The two reads are independent: made together, an unchanged deploy waits for one.
        """
        with ThreadPoolExecutor(max_workers=2) as pool:
            current = pool.submit(self.target.ledger.current)
            interrupted = pool.submit(recovery.interrupted, self.target)
            return _is_current(current.result(), self.manifest) and not interrupted.result()

    def _locked(self) -> DeployReport:
        self.report.recovered = recovery.recover_interrupted(self.target)
        desired, plan = self._plan()  # again, under the lock: live state may have moved
        current = self.target.ledger.current()
        # Nothing to change and the ledger agrees: up to date. Nothing to change but the ledger
        # names another release (aliases moved back by hand…): the run below records it.
        if plan.empty and _is_current(current, self.manifest):
            assert current is not None
            return self._up_to_date(current)
        self.target.cancel.check(f"changing {self.target.name}")  # nothing changed yet
        record = self._open(desired, plan)
        result = self._apply(record, desired, plan)
        try:
            self._finish(record, desired, plan, result)
        except DeployFailedError:
            raise
        except Exception as exc:
            recovery.abandon(self.target, record, exc)
            raise  # committed: its changes stand, the next run completes its record
        self.report.outcome = "succeeded"
        return self.report

    def _up_to_date(self, current: DeploymentRecord) -> DeployReport:
        """Nothing to change; a validator still validates what runs, into its record."""
        self.report.outcome = "up_to_date"
        if self.validator is None:
            return self.report
        outcome = self.validator(self.target, current, self.manifest)
        current.validation = self.report.validation = outcome.to_dict()
        self.target.ledger.save(current)
        self.report.record_id = current.id
        if not outcome.passed:
            raise CheckFailedError(
                f"validation of {self.manifest.release_id} in {self.target.name}"
                f" failed: {'; '.join(outcome.failures())}"
            )
        return self.report

    def _open(self, desired: DesiredState, plan: Plan) -> DeploymentRecord:
        """The record, written ``in_progress`` before the first change."""
        from_env, reason, undoes = self.provenance
        target, manifest = self.target, self.manifest
        resource = partial(target.config.function_resource, env=target.name)
        record = target.ledger.open_record(
            kind=self.report.kind,
            version=manifest.version,
            commit=manifest.commit,
            release_id=manifest.release_id,
            manifest_sha256=manifest.sha256,
            artifact_bucket=target.spec.artifact_bucket,
            from_env=from_env,
            reason=reason,
            undoes=undoes,
            soak=self.report.soak,
            config_prefix=plan.config_prefix,
            config_bundle_sha256=desired.bundle.tree_sha256,
            functions={
                fn: FunctionState(resource(fn), None, None, previous)
                for fn, previous in plan.previous_versions.items()
            },
        )
        self.report.record_id = record.id
        return record

    def _apply(self, record: DeploymentRecord, desired: DesiredState, plan: Plan) -> ApplyResult:
        """Run the plan; a failed step puts every alias back and closes the record failed."""
        try:
            return self.executor.run(plan, desired)
        except ApplyError as exc:
            record.steps_done = list(exc.result.steps_done)
            if isinstance(exc.cause, CancelledError):
                self._stop(record, exc.cause)
            self._restore(record, FAILED, str(exc))
            raise DeployFailedError(
                f"{self.report.kind} of {self.manifest.release_id} to {self.target.name} failed "
                f"at {exc.step.describe()}: {exc.cause}",
                "every alias is back on its previous version; "
                f"see history --env {self.target.name}",
            ) from exc

    def _finish(
        self, record: DeploymentRecord, desired: DesiredState, plan: Plan, result: ApplyResult
    ) -> None:
        """Record what was done, validate it (rolling back on failure), then commit."""
        _fill_record(record, desired, plan, result)
        if plan.empty:
            record.steps_done.append("live already ran this release; recorded it")
        self._check_cancel(record, "validation")
        if self.validator is not None:
            outcome = self.validator(self.target, record, self.manifest)
            record.validation = self.report.validation = outcome.to_dict()
            if not outcome.passed:
                failures = "; ".join(outcome.failures())
                self._restore(record, ROLLED_BACK, f"validation failed: {failures}")
                raise DeployFailedError(
                    f"validation of {self.manifest.release_id} in {self.target.name} failed "
                    f"({failures}); rolled back",
                    "every alias is back on its previous version; "
                    f"see history --env {self.target.name}",
                )
            self._bake(record)
        self._check_cancel(record, "the commit")
        self.target.ledger.close(record, SUCCEEDED)

    def _bake(self, record: DeploymentRecord) -> None:
        """Watch the alarms after a passed validation; one in ALARM rolls back (exit 1)."""
        alarms = target_monitoring(self.target).alarm_names(baked_only=True)
        report = bake(self.target, self.bake_minutes, alarms)
        record.bake = self.report.bake = report.to_dict()
        if report.passed:
            return
        self._restore(record, ROLLED_BACK, f"alarm {report.alarm} in ALARM during the bake")
        raise DeployFailedError(
            f"alarm {report.alarm} went into ALARM while baking {self.manifest.release_id} "
            f"in {self.target.name}; rolled back",
            f"every alias is back on its previous version; see docs/operations.md "
            f"and history --env {self.target.name}",
        )

    def _check_cancel(self, record: DeploymentRecord, where: str) -> None:
        try:
            self.target.cancel.check(where)
        except CancelledError as exc:
            self._stop(record, exc)

    def _stop(self, record: DeploymentRecord, exc: CancelledError) -> None:
        """A stop request at a step boundary: every alias back, record ``interrupted``.

        When another run took the lock over meanwhile (this one stalled past the staleness
        limit), that run repairs: this one changes nothing more and only says so.
        """
        env = self.target.name
        if self.heartbeat is not None and self.heartbeat.lost:
            raise CancelledError(
                f"{self.report.kind} of {self.manifest.release_id} to {env} stopped: {exc}",
                f"the run holding the lock now repairs it; see history --env {env}",
            ) from exc
        self._restore(record, INTERRUPTED, str(exc))
        raise CancelledError(
            f"{self.report.kind} of {self.manifest.release_id} to {env} {exc}",
            f"every alias is back on its previous version, the lock is released; "
            f"run it again when ready (see history --env {env})",
        ) from exc

    def _restore(self, record: DeploymentRecord, outcome: str, error: str) -> None:
        """Every alias back where the record says it was, then the record closed."""
        restored, unrestored = recovery.restore_all(self.target.lam, record.functions.values())
        record.steps_done += [f"restored {item}" for item in restored]
        if not unrestored:
            record.steps_done += recovery.reset_latest(self.target, record.functions.values())
        recovery.close_restored(self.target.ledger, record, outcome, error, unrestored)
        self.report.outcome = outcome


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


def executor_for(target: Target, dry_run: bool = False) -> Executor:
    """The executor a command runs its plan with: display-only for ``--dry-run``."""
    if dry_run:
        return DisplayOnlyExecutor()
    return AwsExecutor(
        target.lam,
        target.s3,
        target.aws.iam,
        target.progress,
        target.waiter_delay,
        cancel=target.cancel,
        clients=target.client,
    )


def deploy_release(
    target: Target,
    manifest: Manifest,
    *,
    executor: Executor | None = None,
    upstream: Target | None = None,
    validator: Validator | None = None,
    kind: str = "deploy",
    from_env: str | None = None,
    bake_minutes: int | None = None,
) -> DeployReport:
    """Deploy a published release (checked against the approval chain) to ``target``."""
    check_upstream(target, manifest, upstream)
    artifacts = target.store.artifacts(manifest)
    planner = release_planner(target, manifest, artifacts)
    return execute(
        target,
        manifest,
        planner,
        executor or executor_for(target),
        kind=kind,
        validator=validator,
        from_env=from_env,
        bake_minutes=bake_minutes,
    )
