"""Free an environment's lock by hand, recording who did it and why.

The lock is freed on its own when its holder is gone (its heartbeat goes stale and the next
deploy, promote or rollback takes it over and repairs). ``unlock`` is for not waiting: it
refuses while the heartbeat is fresh (the holder looks alive) unless forced. Who and why go to
``ledger/<env>/unlocks/<id>.json`` before the lock is deleted; what the holder left half-done
is repaired by the next deploy, promote or rollback (``docs/operations.md``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..common.clock import iso
from ..common.errors import InputError, LockHeldError
from ..deploy.target import Target
from ..store.ledger import actor, run_url


@dataclass
class UnlockReport:
    env: str
    outcome: str  # unlocked | not_locked
    reason: str
    forced: bool
    actor: str
    freed: dict[str, Any] | None = None  # the lock document that was deleted
    stale: str | None = None  # why its holder was judged gone (None: forced while fresh)
    entry: str | None = None  # the ledger key of the unlock entry

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def unlock(target: Target, reason: str, force: bool = False) -> UnlockReport:
    """Delete ``target``'s lock if its heartbeat is stale (or ``force``), recorded first."""
    if not reason.strip():
        raise InputError("unlock needs a --reason", "say why, e.g. --reason 'runner died'")
    report = UnlockReport(target.name, "not_locked", reason, force, actor())
    ledger = target.ledger
    held = ledger.read_lock()
    if held is None:
        return report
    limit = target.config.lock_stale_after_seconds
    report.stale = held.stale(target.clock(), limit)
    if report.stale is None and not force:
        raise LockHeldError(
            f"{target.name} is locked by {held.owner} whose heartbeat is fresh "
            f"({held.heartbeat_at or held.acquired_at}, taken over after {limit} s): "
            "it looks alive",
            "wait for it to finish, or if you know it is gone: unlock … --force",
        )
    report.freed = {k: v for k, v in asdict(held).items() if k not in ("etag", "took_over")}
    entry = {
        "id": ledger.new_id(),
        "env": target.name,
        "actor": report.actor,
        "run_url": run_url(),
        "at": iso(target.clock()),
        "reason": reason,
        "forced": force,
        "stale": report.stale,
        "lock": report.freed,
        "released": False,
    }
    report.entry = ledger.save_unlock(entry)  # who and why, before anything is deleted
    if not ledger.lock.force_release(held):
        raise LockHeldError(
            f"the lock of {target.name} changed while it was being freed (its holder renewed it, "
            "or another run took it over)",
            f"see: vectora-release status --env {target.name}; nothing was deleted",
        )
    ledger.save_unlock({**entry, "released": True})
    report.outcome = "unlocked"
    target.progress(
        f"the next deploy, promote or rollback of {target.name} repairs what "
        f"{held.owner} left, if anything"
    )
    return report
