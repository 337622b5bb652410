"""Cancellation at a step boundary, the lock's heartbeat, stale takeover and ``unlock``.

In process on the embedded AWS; the same with real signals sent to a separate process of the
CLI is in ``tests/reliability/test_cancel.py``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError
from vectora_release.common.clock import iso, utcnow
from vectora_release.common.errors import CancelledError, LockHeldError
from vectora_release.common.jsonio import dumps_json
from vectora_release.deploy.pipeline import deploy_release, execute, executor_for
from vectora_release.deploy.release import release_planner
from vectora_release.ops.gc import gc
from vectora_release.store.ledger import INTERRUPTED, SUCCEEDED
from vectora_release.store.lock import Heartbeat

if TYPE_CHECKING:
    from collections.abc import Callable

    from conftest import CliResult, Released

T0 = dt.datetime(2026, 11, 16, 8, 0, tzinfo=dt.UTC)


def at(seconds: float) -> Callable[[], dt.datetime]:
    return lambda: T0 + dt.timedelta(seconds=seconds)


def _stop_at_call(released: Released, target: Any, operation: str, nth: int, why: str) -> list:
    """Ask ``target``'s run to stop while its ``nth`` ``operation`` call is made (it succeeds)."""
    seen: list[dict[str, Any]] = []

    def hook(params: dict[str, Any], **_: Any) -> None:
        seen.append(params)
        if len(seen) == nth:
            target.cancel.request(why)

    target.aws.events.register(
        f"before-parameter-build.lambda.{operation}", hook, unique_id=f"stop-{operation}"
    )
    return seen


# -- cancellation ----------------------------------------------------------------------------
def test_a_stop_between_alias_moves_puts_every_alias_back_and_closes_interrupted(
    released: Released,
) -> None:
    deploy_release(released.target("dev"), released.r1.manifest)
    r1_aliases = released.aliases(released.target("dev"))
    r3 = released.release_changing("ingest_v2", "normalize_score_v2")
    dev = released.target("dev")
    seen = _stop_at_call(released, dev, "UpdateAlias", 1, "SIGTERM received")

    with pytest.raises(CancelledError, match="SIGTERM received") as caught:
        deploy_release(dev, r3.manifest)

    assert caught.value.exit_code == 1
    assert caught.value.report["outcome"] == INTERRUPTED
    # the first alias moved, the second never did, then the first went back
    (forward, back) = seen
    assert forward["FunctionName"] == back["FunctionName"]
    assert forward["FunctionVersion"] != back["FunctionVersion"]
    check = released.target("dev")
    assert released.aliases(check) == r1_aliases
    record = check.ledger.get(caught.value.report["record_id"])
    assert record.outcome == INTERRUPTED
    assert "stopped before UpdateAlias" in record.error and "SIGTERM" in record.error
    assert any(step.startswith("restored") for step in record.steps_done)
    assert check.ledger.current().release_id == released.r1.manifest.release_id
    assert check.ledger.read_lock() is None
    # the next deploy starts at once and completes
    again = deploy_release(released.target("dev"), r3.manifest)
    assert again.outcome == SUCCEEDED and again.recovered == []


def test_a_stop_requested_before_the_lock_changes_nothing(released: Released) -> None:
    dev = released.target("dev")
    dev.cancel.request("SIGINT received")
    calls = released.counter(dev)

    with pytest.raises(CancelledError, match="taking the lock of dev"):
        deploy_release(dev, released.r1.manifest)

    assert calls.mutating == []
    assert dev.ledger.history() == [] and dev.ledger.read_lock() is None


def test_a_stop_during_validation_rolls_back_as_interrupted(released: Released) -> None:
    dev = released.target("dev")

    def validator(target: Any, record: Any, manifest: Any) -> Any:
        target.cancel.request("SIGINT received")  # arrives while validation runs

        class Passed:
            passed = True

            def to_dict(self) -> dict[str, Any]:
                return {"status": "passed", "checks": []}

            def failures(self) -> list[str]:
                return []

        return Passed()

    manifest = released.r1.manifest
    planner = release_planner(dev, manifest, dev.store.artifacts(manifest))
    with pytest.raises(CancelledError, match="stopped before the commit"):
        execute(dev, manifest, planner, executor_for(dev), validator=validator)

    check = released.target("dev")
    assert set(released.aliases(check).values()) == {None}  # no alias left: none existed before
    assert [r.outcome for r in check.ledger.history()] == [INTERRUPTED]
    assert check.ledger.current() is None and check.ledger.read_lock() is None


# -- heartbeat and takeover -------------------------------------------------------------------
def test_the_heartbeat_renews_the_lock_and_notices_a_takeover(released: Released) -> None:
    holder = released.target("dev", clock=at(0)).ledger
    lock = holder.acquire(900, "deploy", 60)
    assert lock.heartbeat_at == iso(T0)
    clock = {"now": 10.0}
    later = released.target("dev", clock=lambda: T0 + dt.timedelta(seconds=clock["now"]))
    lost: list[str] = []
    beat = Heartbeat(lambda: later.ledger.lock, lock, 900, 5, on_lost=lost.append)

    beat.beat()
    stored = later.ledger.read_lock()
    assert stored.token == lock.token and stored.heartbeat_at == iso(T0 + dt.timedelta(seconds=10))
    assert stored.expires_at == iso(T0 + dt.timedelta(seconds=910))  # the lease moves with it
    assert beat.beats == 1 and not beat.lost

    # 59 s after the last beat it is alive; 60 s after, another run takes it over
    with pytest.raises(LockHeldError, match="heartbeat"):
        released.target("dev", clock=at(69)).ledger.acquire(900, "early", 60)
    taken = released.target("dev", clock=at(70)).ledger.acquire(900, "late", 60)
    assert taken.took_over is not None and taken.took_over.token == lock.token
    clock["now"] = 71
    beat.beat()
    assert beat.lost and lost == ["the lock of dev was taken over by another run"]
    assert later.ledger.read_lock().token == taken.token  # the late beat wrote nothing


def test_the_heartbeat_thread_beats_until_stopped_and_survives_a_failed_write(
    released: Released,
) -> None:
    dev = released.target("dev")
    lock = dev.ledger.acquire(900, "deploy", 60)
    flaky = released.target("dev")
    writes: list[int] = []

    def first_write_fails(params: dict[str, Any], **_: Any) -> None:
        writes.append(1)
        if len(writes) == 1:
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "injected"}}, "PutObject")

    flaky.aws.events.register(
        "before-parameter-build.s3.PutObject", first_write_fails, unique_id="flaky-put"
    )
    pauses: list[float] = []

    def wait(seconds: float) -> bool:  # an injected sleep: three beats, then stop
        pauses.append(seconds)
        return len(pauses) > 3

    beat = Heartbeat(lambda: flaky.ledger.lock, lock, 900, 5, wait=wait).start()
    beat._thread.join(timeout=30)
    beat.stop()

    assert pauses == [5, 5, 5, 5]
    assert len(beat.errors) == 1 and "injected" in beat.errors[0]
    assert beat.beats == 2 and not beat.lost
    assert dev.ledger.read_lock().token == lock.token


def test_a_killed_holder_is_taken_over_once_its_heartbeat_is_stale(released: Released) -> None:
    crashed = released.target("dev", clock=at(0)).ledger.acquire(900, "deploy of a dead run", 60)

    with pytest.raises(LockHeldError, match="dead run"):
        deploy_release(released.target("dev", clock=at(59)), released.r1.manifest)
    messages: list[str] = []
    dev = released.target("dev", clock=at(61))
    dev.progress = messages.append
    report = deploy_release(dev, released.r1.manifest)

    assert report.outcome == SUCCEEDED
    assert any(
        m.startswith("warning: took over the lock of dev from") and "no heartbeat since" in m
        for m in messages
    ), messages
    assert dev.ledger.read_lock() is None
    assert crashed.expires_at > iso(T0 + dt.timedelta(seconds=61)), "well before its lease"


def test_a_lock_without_heartbeat_is_held_until_its_lease(released: Released) -> None:
    """A lock written by a holder that does not beat: only its lease frees it."""
    dev = released.target("dev")
    old = {
        "owner": "carol (deploy 0.0.9+0000000)",
        "token": "0123456789abcdef",
        "acquired_at": iso(T0),
        "expires_at": iso(T0 + dt.timedelta(seconds=900)),
    }
    dev.s3.put_object(
        Bucket=dev.spec.artifact_bucket, Key=dev.ledger.lock_key, Body=dumps_json(old)
    )

    with pytest.raises(LockHeldError, match="carol"):
        released.target("dev", clock=at(600)).ledger.acquire(900, "early", 60)
    taken = released.target("dev", clock=at(901)).ledger.acquire(900, "late", 60)
    assert taken.took_over.owner == old["owner"]


# -- unlock ----------------------------------------------------------------------------------
def _lock_body(released: Released) -> dict[str, Any] | None:
    dev = released.target("dev")
    response = dev.s3.list_objects_v2(Bucket=dev.spec.artifact_bucket, Prefix="ledger/dev/unlocks/")
    keys = [item["Key"] for item in response.get("Contents", [])]
    if not keys:
        return None
    (key,) = keys
    return json.loads(dev.s3.get_object(Bucket=dev.spec.artifact_bucket, Key=key)["Body"].read())


def test_unlock_refuses_a_fresh_heartbeat_unless_forced_and_records_who_and_why(
    released: Released, cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    holder = released.target("dev")
    lock = holder.ledger.acquire(900, "deploy 0.1.0+abc", 60)
    monkeypatch.setenv("GITHUB_ACTOR", "dora")

    refused = cli("unlock", "--env", "dev", "--reason", "stuck")
    assert refused.code == 1
    assert "heartbeat is fresh" in refused.err and "--force" in refused.err
    assert holder.ledger.read_lock().token == lock.token and _lock_body(released) is None

    forced = cli("--json", "unlock", "--env", "dev", "--reason", "runner died", "--force")
    assert forced.code == 0, forced.err
    report = forced.json()
    assert report["outcome"] == "unlocked" and report["forced"] is True
    assert report["stale"] is None and report["freed"]["token"] == lock.token
    assert holder.ledger.read_lock() is None
    entry = _lock_body(released)
    assert entry["actor"] == "dora" and entry["reason"] == "runner died"
    assert entry["forced"] is True and entry["released"] is True
    assert entry["lock"]["owner"].endswith("(deploy 0.1.0+abc)")

    # the forced holder, if alive after all, learns at its next beat that the lock is gone
    beat = Heartbeat(lambda: holder.ledger.lock, lock, 900, 5)
    beat.beat()
    assert beat.lost and holder.ledger.read_lock() is None

    nothing = cli("unlock", "--env", "dev", "--reason", "again")
    assert nothing.code == 0 and "not locked" in nothing.err


def test_unlock_frees_a_stale_lock_without_force(
    released: Released, cli: Callable[..., CliResult]
) -> None:
    past = utcnow() - dt.timedelta(seconds=120)
    released.target("dev", clock=lambda: past).ledger.acquire(900, "deploy 0.1.0+abc", 60)

    freed = cli("unlock", "--env", "dev", "--reason", "runner died")

    assert freed.code == 0, freed.err
    assert "no heartbeat since" in freed.err
    assert released.target("dev").ledger.read_lock() is None
    assert _lock_body(released)["stale"].startswith("no heartbeat since")


def test_unlock_needs_a_reason(released: Released, cli: Callable[..., CliResult]) -> None:
    assert cli("unlock", "--env", "dev").code == 2
    assert cli("unlock", "--env", "dev", "--reason", " ").code == 2


def test_gc_stops_between_two_deletions(released: Released) -> None:
    deploy_release(released.target("dev"), released.r1.manifest)
    dev = released.target("dev")
    name = released.resource("ingest-v2")
    orphans = []
    for note in ("first", "second"):  # versions no alias or record refers to
        dev.lam.update_function_configuration(FunctionName=name, Description=note)
        orphans.append(dev.lam.publish_version(FunctionName=name)["Version"])
    sweeping = released.target("dev")
    seen = _stop_at_call(released, sweeping, "DeleteFunction", 1, "SIGINT received")

    with pytest.raises(CancelledError, match=r"stopped before deleting .*SIGINT"):
        gc(sweeping, keep=1)

    assert len(seen) == 1  # one deletion made, the next one not started
    listed = dev.lam.list_versions_by_function(FunctionName=name)["Versions"]
    assert len({v["Version"] for v in listed} & set(orphans)) == 1
    assert dev.ledger.read_lock() is None


def test_status_shows_who_holds_the_lock_and_whether_it_is_stale(
    released: Released, cli: Callable[..., CliResult]
) -> None:
    past = utcnow() - dt.timedelta(seconds=120)
    released.target("dev", clock=lambda: past).ledger.acquire(900, "deploy 0.1.0+abc", 60)

    shown = cli("status", "--env", "dev")
    data = cli("--json", "status", "--env", "dev").json()[0]["lock"]

    assert shown.code == 0, shown.err
    assert "dev: locked by" in shown.err and "(deploy 0.1.0+abc)" in shown.err
    assert "stale: no heartbeat since" in shown.err
    assert data["owner"].endswith("(deploy 0.1.0+abc)")
    assert data["stale"].startswith("no heartbeat since")
