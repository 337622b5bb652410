"""Status of every environment and history of one, from the ledger."""

from __future__ import annotations

from typing import Any

from ..common.output import table
from ..deploy.target import Target
from ..store.ledger import DeploymentRecord

STATUS_HEADERS = ("env", "version", "commit", "deployed at", "by", "outcome", "validated")
HISTORY_HEADERS = ("id", "kind", "release", "outcome", "validated", "by", "started", "note")


def validation_label(record: DeploymentRecord) -> str:
    if not record.validation:
        return "-"
    return str(record.validation.get("status", "-"))


def status_row(target: Target) -> dict[str, Any]:
    """What the ledger says is live in ``target`` (plus the latest attempt if it differs)."""
    ledger = target.ledger
    current = ledger.current()
    latest = next(iter(ledger.history(limit=1)), None)
    row: dict[str, Any] = {
        "env": target.name,
        "version": None,
        "commit": None,
        "deployed_at": None,
        "by": None,
        "outcome": "never deployed",
        "validated": "-",
        "record": None,
    }
    if current is not None:
        row.update(
            version=current.version,
            commit=current.commit,
            deployed_at=current.finished_at,
            by=current.actor,
            outcome=current.outcome,
            validated=validation_label(current),
            record=current.id,
        )
    lock = ledger.read_lock()
    if lock is not None:  # who holds it, and whether the next run would take it over
        row["lock"] = {
            "owner": lock.owner,
            "acquired_at": lock.acquired_at,
            "heartbeat_at": lock.heartbeat_at,
            "expires_at": lock.expires_at,
            "stale": lock.stale(target.clock(), target.config.lock_stale_after_seconds),
        }
    if latest is not None and (current is None or latest.id != current.id):
        row["latest_attempt"] = {
            "id": latest.id,
            "release": latest.release_id,
            "outcome": latest.outcome,
        }
    return row


def status_table(rows: list[dict[str, Any]]) -> str:
    body = [
        (
            r["env"],
            r["version"] or "-",
            (r["commit"] or "-")[:7],
            r["deployed_at"] or "-",
            r["by"] or "-",
            r["outcome"],
            r["validated"],
        )
        for r in rows
    ]
    text = table(STATUS_HEADERS, body)
    notes = [
        f"  {r['env']}: latest attempt {r['latest_attempt']['release']} "
        f"{r['latest_attempt']['outcome']} ({r['latest_attempt']['id']})"
        for r in rows
        if "latest_attempt" in r
    ]
    for r in rows:
        if "lock" in r:
            lock = r["lock"]
            state = f"stale: {lock['stale']}" if lock["stale"] else "held"
            beat = lock["heartbeat_at"] or "none"
            notes.append(
                f"  {r['env']}: locked by {lock['owner']} since {lock['acquired_at']} "
                f"(heartbeat {beat}; {state})"
            )
    return "\n".join([text, *notes])


def history_table(records: list[DeploymentRecord]) -> str:
    body = []
    for r in records:
        note = r.error or r.reason or (f"from {r.from_env}" if r.from_env else "")
        if r.undoes:
            note = f"undoes {r.undoes}" + (f"; {note}" if note else "")
        body.append(
            (
                r.id,
                r.kind,
                r.release_id,
                r.outcome,
                validation_label(r),
                r.actor,
                r.started_at,
                (note or "")[:70],
            )
        )
    return table(HISTORY_HEADERS, body)
