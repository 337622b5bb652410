"""Run a plan of alias, version and tag steps under the lock, recorded in the ledger.

``adopt``, a rollback to an adopted state and ``restore`` change what runs without a release
manifest, so they do not go through ``deploy.pipeline.execute``; they follow the same rules
(``docs/architecture.md``, "The pipeline in words"): lock, repair a run left half-done, record
``in_progress`` before the first change, apply with the executor, check what runs against the
record, close it; any failure puts every alias back where it was (``deploy.recovery``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..aws.clients import BotoCoreError, ClientError
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
# puts back what the applied steps changed besides aliases (tags, layers, objects): notes
Undo = Callable[[ApplyResult], list[str]]


@dataclass
class RecordedRun:
    """One run: :meth:`go` locks, recovers, opens the record, applies, checks, closes.

    The record is made current (what runs) unless ``make_current(plan)`` says the plan left
    every function as it was. On any failure after the first change, every alias goes back
    and ``undo`` puts back the rest, so the environment is on its state before the run.
    """

    target: Target
    purpose: str
    prepare: Prepare
    fill: Fill
    executor: Executor
    make_current: Callable[[Plan], bool] = lambda _plan: True
    undo: Undo = lambda _result: []
    recovered: list[str] = field(default_factory=list)

    def go(self) -> DeploymentRecord:
        target = self.target
        with target.locked(self.purpose):  # heartbeat and stop requests, as deploy has them
            self.recovered = recovery.recover_interrupted(target)
            plan, fields = self.prepare()
            record = target.ledger.open_record(**fields)
            try:
                result = self.executor.run(plan, None)
            except ApplyError as exc:
                record.steps_done = list(exc.result.steps_done)
                self._undo(record, exc.result, FAILED, str(exc))
                raise DeployFailedError(
                    f"{record.kind} of {target.name} failed at {exc.step.describe()}: {exc.cause}",
                    f"it was undone; run it again (see history --env {target.name})",
                ) from exc
            record.steps_done = list(result.steps_done)
            self._finish(record, plan, result)
            return record

    def _finish(self, record: DeploymentRecord, plan: Plan, result: ApplyResult) -> None:
        target = self.target
        try:
            self.fill(record, result)
            report = check_recorded(target, record)
            record.validation = report.to_dict()
            if not report.passed:
                failures = "; ".join(report.failures())
                self._undo(record, result, ROLLED_BACK, f"check failed: {failures}")
                raise DeployFailedError(
                    f"{record.kind} of {target.name}: what runs differs from the record "
                    f"({failures})",
                    f"it was undone; see history --env {target.name}",
                )
            if self.make_current(plan):
                target.ledger.close(record, SUCCEEDED)
            else:
                record.outcome, record.finished_at = SUCCEEDED, iso(target.clock())
                target.ledger.save(record)
        except DeployFailedError:
            raise
        except Exception as exc:
            if target.ledger.current_id() != record.id:
                self._undo_quietly(result)
            recovery.abandon(target, record, exc)
            raise

    def _undo(
        self, record: DeploymentRecord, result: ApplyResult, outcome: str, error: str
    ) -> None:
        record.steps_done += self._undo_quietly(result)
        restored, unrestored = recovery.restore_all(self.target.lam, record.functions.values())
        record.steps_done += [f"restored {item}" for item in restored]
        recovery.close_restored(self.target.ledger, record, outcome, error, unrestored)

    def _undo_quietly(self, result: ApplyResult) -> list[str]:
        try:
            return [f"undone: {note}" for note in self.undo(result)]
        except (ClientError, BotoCoreError) as exc:
            return [f"could not undo everything ({exc}): run it again"]


def repair(target: Target, purpose: str) -> list[str]:
    """With nothing left to change, still close a run left half-done (under the lock)."""
    if not recovery.interrupted(target):
        return []
    with target.locked(purpose):
        return recovery.recover_interrupted(target)


def run_recorded(
    target: Target,
    purpose: str,
    prepare: Prepare,
    fill: Fill,
    executor: Executor,
    make_current: Callable[[Plan], bool] = lambda _plan: True,
) -> DeploymentRecord:
    """:class:`RecordedRun` with no undo beyond aliases."""
    return RecordedRun(target, purpose, prepare, fill, executor, make_current).go()
