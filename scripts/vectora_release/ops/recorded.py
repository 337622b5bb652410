"""Run a plan of alias, version and tag steps under the lock, recorded in the ledger.

``adopt``, a rollback to an adopted state and ``restore`` change what runs without a release
manifest, so they do not go through ``deploy.pipeline.execute``; they follow the same rules
(``docs/architecture.md``, "The pipeline in words"): lock, repair a run left half-done, record
``in_progress`` before the first change, apply with the executor, check what runs against the
record, close it; any failure puts every alias back where it was (``deploy.recovery``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..checks.recorded import check_recorded
from ..common.clock import iso
from ..common.errors import DeployFailedError
from ..deploy import recovery
from ..deploy.executor import ApplyError, ApplyResult, Executor
from ..deploy.steps import Plan
from ..deploy.target import Target
from ..store.ledger import FAILED, ROLLED_BACK, SUCCEEDED, DeploymentRecord

# (the plan, the ledger record's fields) made under the lock, after recovery
Prepare = Callable[[], tuple[Plan, dict[str, Any]]]
# fills the record from what was applied (versions, code, configuration)
Fill = Callable[[DeploymentRecord, ApplyResult], None]


def run_recorded(
    target: Target,
    purpose: str,
    prepare: Prepare,
    fill: Fill,
    executor: Executor,
    make_current: Callable[[Plan], bool] = lambda _plan: True,
) -> DeploymentRecord:
    """Lock, recover, open the record, apply, check against the record, close it.

    The record is made current (what runs) unless ``make_current(plan)`` says the plan left
    every function as it was (a restore of layers and objects only).
    """
    lock = target.ledger.acquire(target.config.lock_lease_seconds, purpose)
    try:
        recovery.recover_interrupted(target)
        plan, fields = prepare()
        record = target.ledger.open_record(**fields)
        try:
            result = executor.run(plan, None)
        except ApplyError as exc:
            record.steps_done = list(exc.result.steps_done)
            _undo(target, record, FAILED, str(exc))
            raise DeployFailedError(
                f"{record.kind} of {target.name} failed at {exc.step.describe()}: {exc.cause}",
                f"every alias is back where it was; run it again (see history --env {target.name})",
            ) from exc
        record.steps_done = list(result.steps_done)
        try:
            fill(record, result)
            report = check_recorded(target, record)
            record.validation = report.to_dict()
            if not report.passed:
                failures = "; ".join(report.failures())
                _undo(target, record, ROLLED_BACK, f"check failed: {failures}")
                raise DeployFailedError(
                    f"{record.kind} of {target.name}: what runs differs from the record "
                    f"({failures})",
                    f"every alias is back where it was; see history --env {target.name}",
                )
            if make_current(plan):
                target.ledger.close(record, SUCCEEDED)
            else:
                record.outcome, record.finished_at = SUCCEEDED, iso(target.clock())
                target.ledger.save(record)
        except DeployFailedError:
            raise
        except Exception as exc:
            recovery.abandon(target, record, exc)
            raise
        return record
    finally:
        target.release_lock(lock)


def _undo(target: Target, record: DeploymentRecord, outcome: str, error: str) -> None:
    restored, unrestored = recovery.restore_all(target.lam, record.functions.values())
    record.steps_done += [f"restored {item}" for item in restored]
    recovery.close_restored(target.ledger, record, outcome, error, unrestored)
