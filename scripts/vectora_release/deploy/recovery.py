"""Put an environment back on one release after a run failed or stopped half-way.

Lambda has no transaction over several aliases, so every failure path ends here: move each
alias back to the version the record says it had, then close the record. An alias that cannot
be moved back (AWS still failing) leaves the record ``in_progress``: the next run, under the
lock, finds it and finishes the job (:func:`recover_interrupted`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..aws.clients import BotoCoreError, ClientError
from ..aws.lambda_ import ALIAS, FunctionConfiguration, alias_version, if_exists, move_alias
from ..common.errors import DeployFailedError, IntegrityError, ReleaseError
from ..store.ledger import FAILED, IN_PROGRESS, SUCCEEDED, DeploymentRecord, FunctionState, Ledger
from .target import Target


def restore_alias(lam: Any, state: FunctionState) -> str:
    """Move ``state``'s alias back to its previous version (remove it if it had none)."""
    current = alias_version(lam, state.name)
    move_alias(lam, state.name, state.previous_version, current)
    if current == state.previous_version:
        return f"{state.name}:{ALIAS}={current or '-'}"
    return f"{state.name}:{ALIAS}={state.previous_version or '(removed)'}"


def restore_all(lam: Any, states: Iterable[FunctionState]) -> tuple[list[str], list[str]]:
    """Restore every alias, carrying on past failures: (restored, could not be restored)."""
    restored, failed = [], []
    for state in states:
        try:
            restored.append(restore_alias(lam, state))
        except (ClientError, BotoCoreError) as exc:
            failed.append(f"{state.name}: {exc}")
    return restored, failed


def reset_latest(target: Target, states: Iterable[FunctionState]) -> list[str]:
    """Put ``$LATEST`` back on what alias ``live`` runs, once the aliases are back (best effort).

    A failed run may have updated ``$LATEST`` before it stopped; a bare-name invoke runs it. The
    code comes from the artifact store (the current record's release, verified by digest). What
    cannot be reset now is said in the returned notes; drift reports it and the next deploy
    resets it.
    """
    notes: list[str] = []
    releases: dict[str, Any] = {}
    for state in states:
        try:
            note = _reset_one(target, state.name, releases)
        except (ClientError, BotoCoreError, ReleaseError) as exc:
            note = f"$LATEST of {state.name} not reset ({exc}); the next deploy resets it"
        if note:
            notes.append(note)
    return notes


def _reset_one(target: Target, resource: str, releases: dict[str, Any]) -> str | None:
    lam = target.lam
    live = if_exists(lam.get_function_configuration, FunctionName=resource, Qualifier=ALIAS)
    latest = if_exists(lam.get_function_configuration, FunctionName=resource)
    if live is None or latest is None:
        return None
    want = FunctionConfiguration.from_lambda(live)
    code_differs = latest["CodeSha256"] != live["CodeSha256"]
    if not code_differs and FunctionConfiguration.from_lambda(latest) == want:
        return None
    if code_differs:
        lam.update_function_code(FunctionName=resource, ZipFile=_code(target, live, releases))
        _wait(target, resource)
    lam.update_function_configuration(FunctionName=resource, **want.to_lambda(list(want.layers)))
    _wait(target, resource)
    return f"$LATEST of {resource} reset to version {live.get('Version')}"


def _code(target: Target, live: dict[str, Any], releases: dict[str, Any]) -> bytes:
    """The verified zip whose CodeSha256 alias ``live`` runs, from the current release."""
    if "manifest" not in releases:
        current = target.ledger.current()
        if current is None:
            raise IntegrityError("no current release to take the live code from")
        releases["manifest"] = target.store.find(commit=current.commit)
    manifest = releases["manifest"]
    artifact = next((a for a in manifest.artifacts if a.code_sha256 == live["CodeSha256"]), None)
    if artifact is None:
        raise IntegrityError(f"code {live['CodeSha256']} is not in {manifest.release_id}")
    return target.store.fetch(manifest, artifact.name)


def _wait(target: Target, resource: str) -> None:
    target.lam.get_waiter("function_updated_v2").wait(
        FunctionName=resource, WaiterConfig={"Delay": target.waiter_delay, "MaxAttempts": 300}
    )


def close_restored(
    ledger: Ledger, record: DeploymentRecord, outcome: str, error: str, unrestored: list[str]
) -> None:
    """Close a record whose aliases were moved back, or raise if some could not be.

    In that case the record stays ``in_progress`` (it tells the truth: the environment is not
    on one release) and the next deploy, promote or rollback restores what is left.
    """
    if not unrestored:
        ledger.close(record, outcome, error)
        return
    record.steps_done += [f"could not restore {item}" for item in unrestored]
    record.error = f"{error}; restoring failed for {len(unrestored)} alias(es)"
    ledger.save(record)
    raise DeployFailedError(
        f"{record.kind} of {record.release_id} to {ledger.env} failed ({error}) and "
        f"{len(unrestored)} alias(es) could not be moved back: {'; '.join(unrestored)}",
        f"record {record.id} stays in_progress; the next deploy, promote or rollback of "
        f"{ledger.env} restores them first",
    )


def abandon(target: Target, record: DeploymentRecord, exc: Exception) -> None:
    """Something failed after the changes were applied (validation, a ledger write).

    Unless the run was already committed (``current.json`` names its record), every alias goes
    back and the record is closed ``failed``, so the environment and its ledger agree; then a
    DeployFailedError is raised. A committed run keeps its changes (the caller re-raises): the
    next run completes its record.
    """
    ledger = target.ledger
    if ledger.current_id() == record.id:
        target.progress(
            f"warning: {record.release_id} is live and current, but its record {record.id} "
            "could not be completed; the next deploy completes it"
        )
        return
    restored, unrestored = restore_all(target.lam, record.functions.values())
    record.steps_done.append("restored after a failure: " + ", ".join(restored))
    if not unrestored:
        record.steps_done += reset_latest(target, record.functions.values())
    close_restored(ledger, record, FAILED, f"{type(exc).__name__}: {exc}", unrestored)
    raise DeployFailedError(
        f"{record.kind} of {record.release_id} to {target.name} failed after its changes "
        f"were applied: {exc}",
        f"every alias is back on its previous version; see history --env {target.name}",
    ) from exc


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
        restored, unrestored = restore_all(target.lam, record.functions.values())
        record.steps_done.append("recovered by a later run: " + ", ".join(restored))
        if not unrestored:
            record.steps_done += reset_latest(target, record.functions.values())
        error = "interrupted: the run stopped before it finished"
        close_restored(target.ledger, record, FAILED, error, unrestored)
        notes.append(
            f"record {record.id} ({record.release_id}) was interrupted; "
            f"aliases restored: {', '.join(restored)}"
        )
        target.progress(f"warning: {notes[-1]}")
    return notes


def interrupted(target: Target) -> bool:
    """Whether a run stopped before closing its record (reads only)."""
    # Every run that takes the lock recovers older ones, so only the newest can be open.
    return any(r.outcome == IN_PROGRESS for r in target.ledger.history(limit=1))
