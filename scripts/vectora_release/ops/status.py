"""Status of every environment and history of one, from the ledger; next scheduled runs."""

from __future__ import annotations

from typing import Any

from ..common.clock import iso
from ..common.output import table
from ..config.cron import next_run
from ..deploy.target import Target
from ..store.ledger import DeploymentRecord

STATUS_HEADERS = ("env", "version", "commit", "deployed at", "by", "outcome", "validated")
NEXT_RUN_HEADER = "next run"
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


def schedules_status(target: Target) -> dict[str, Any]:
    """The declared schedules of ``target`` as they are live, each with its next run.

    One ListRules call (paginated). ``state``: ENABLED, DISABLED, or ``missing`` (not
    deployed, or deleted by hand). ``next_run`` (UTC, from the live expression and the
    target's clock) is None for a rule not enabled or a ``rate(...)``; the row's ``next_run``
    is the earliest of them.
    """
    config, env = target.config, target.name
    names = {config.monitor_resource(s.name, env): s for s in target.spec.monitoring.schedules}
    live: dict[str, dict[str, Any]] = {}
    if names:
        events, token = target.client("events"), None
        while True:
            page = events.list_rules(NamePrefix=f"{config.project}-", **_token(token))
            live.update({r["Name"]: r for r in page.get("Rules", []) if r["Name"] in names})
            token = page.get("NextToken")
            if not token:
                break
    now = target.clock()
    schedules = []
    for rule, spec in sorted(names.items()):
        found = live.get(rule)
        expression = (found or {}).get("ScheduleExpression") or spec.expression
        state = found.get("State", "-") if found else "missing"
        when = next_run(expression, now) if state == "ENABLED" else None
        schedules.append(
            {
                "name": spec.name,
                "rule": rule,
                "expression": expression,
                "state": state,
                "next_run": iso(when) if when else None,
            }
        )
    runs = sorted(s["next_run"] for s in schedules if s["next_run"])
    return {"schedules": schedules, "next_run": runs[0] if runs else None}


def _token(token: str | None) -> dict[str, str]:
    return {"NextToken": token} if token else {}


def _next_run_label(row: dict[str, Any]) -> str:
    if row.get("next_run"):
        first = min((s for s in row["schedules"] if s["next_run"]), key=lambda s: s["next_run"])
        return f"{row['next_run']} ({first['name']})"
    states = [f"{s['name']} {s['state'].lower()}" for s in row.get("schedules", [])]
    return ", ".join(states) or "-"


def status_table(rows: list[dict[str, Any]]) -> str:
    with_runs = any("schedules" in r for r in rows)
    body = [
        (
            r["env"],
            r["version"] or "-",
            (r["commit"] or "-")[:7],
            r["deployed_at"] or "-",
            r["by"] or "-",
            r["outcome"],
            r["validated"],
            *((_next_run_label(r),) if with_runs else ()),
        )
        for r in rows
    ]
    headers = (*STATUS_HEADERS, NEXT_RUN_HEADER) if with_runs else STATUS_HEADERS
    text = table(headers, body)
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
