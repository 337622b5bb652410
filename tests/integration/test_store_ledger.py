"""The artifact store (immutable, verified, idempotent) and the ledger (records, lock) on S3."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from vectora_release.build import manifest as manifest_io
from vectora_release.build.manifest import MANIFEST_NAME, Manifest
from vectora_release.common.digest import code_sha256, sha256_hex
from vectora_release.common.errors import InputError, LockHeldError, StoreError
from vectora_release.deploy.pipeline import deploy_release
from vectora_release.store.artifacts import INDEX, release_prefix
from vectora_release.store.ledger import SUCCEEDED, Ledger
from vectora_release.store.lock import Lock

if TYPE_CHECKING:
    from conftest import Released

T0 = dt.datetime(2026, 11, 16, 8, 0, tzinfo=dt.UTC)


def _stored_bytes(released: Released, key: str) -> bytes:
    target = released.target()
    return target.s3.get_object(Bucket=target.spec.artifact_bucket, Key=key)["Body"].read()


def _with_artifact(manifest: Manifest, name: str, data: bytes) -> Manifest:
    """``manifest`` where artifact ``name`` is ``data`` (digests and size made to match)."""
    digests = {"size": len(data), "sha256": sha256_hex(data), "code_sha256": code_sha256(data)}
    artifacts = tuple(
        dataclasses.replace(a, **digests) if a.name == name else a for a in manifest.artifacts
    )
    return dataclasses.replace(manifest, artifacts=artifacts)


# -- store ----------------------------------------------------------------------------------------
def test_publishing_again_uploads_nothing(released: Released) -> None:
    target = released.target()
    calls = released.counter(target)

    report = target.store.publish(released.r1.manifest, released.r1.dist)

    assert report.uploaded == ()
    files = [a.file for a in released.r1.manifest.artifacts]
    assert report.unchanged == (*files, MANIFEST_NAME, released.r1.manifest.commit)
    assert calls.total == 2, "the manifest and the commit index say it is all there"
    assert calls.mutating == []


def test_a_release_whose_commit_index_is_missing_gets_it_again(released: Released) -> None:
    """A publish stopped after the manifest: the next one checks every key, writes the index."""
    r1, target = released.r1.manifest, released.target()
    target.s3.delete_object(Bucket=target.spec.artifact_bucket, Key=INDEX + r1.commit)
    calls = released.counter(target)

    report = target.store.publish(r1, released.r1.dist)

    assert report.uploaded == (r1.commit,)
    assert calls.mutating == ["PutObject"]
    assert target.store.find(commit=r1.commit).sha256 == r1.sha256


def test_other_bytes_for_a_published_version_and_commit_are_refused(
    released: Released, tmp_path: Path
) -> None:
    """A rebuild whose zip differs (its manifest fixed to match) cannot replace the original."""
    r1 = released.r1.manifest
    dist = tmp_path / "dist"
    shutil.copytree(released.r1.dist, dist)
    ingest = dist / r1.artifact("ingest-v2").file
    ingest.write_bytes(ingest.read_bytes() + b"\0")
    forged = _with_artifact(r1, "ingest-v2", ingest.read_bytes())
    manifest_io.save(forged, dist)
    key = release_prefix(r1) + r1.artifact("ingest-v2").file
    original = _stored_bytes(released, key)

    with pytest.raises(StoreError, match="already holds different content") as caught:
        released.target().store.publish(manifest_io.load(dist), dist)

    assert caught.value.exit_code == 2
    assert _stored_bytes(released, key) == original
    assert _stored_bytes(released, release_prefix(r1) + MANIFEST_NAME) == r1.dumps()


def test_a_foreign_object_at_a_release_key_is_refused(released: Released) -> None:
    r2 = released.builds.derived("normalize_score_v2").manifest
    target = released.target()
    key = release_prefix(r2) + r2.artifact("ingest-v2").file
    target.s3.put_object(Bucket=target.spec.artifact_bucket, Key=key, Body=b"left over")

    with pytest.raises(StoreError, match=r2.artifact("ingest-v2").file):
        released.publish(released.builds.derived("normalize_score_v2"))

    assert _stored_bytes(released, key) == b"left over"
    assert not target.store.has(r2), "an incomplete release must not get its manifest"
    with pytest.raises(StoreError):
        target.store.find(commit=r2.commit)


def test_a_dirty_build_is_never_published(released: Released) -> None:
    r2 = released.builds.derived("newsletter_v2")
    target = released.target()
    calls = released.counter(target)

    with pytest.raises(StoreError, match="dirty") as caught:
        target.store.publish(dataclasses.replace(r2.manifest, dirty=True), r2.dist)

    assert caught.value.exit_code == 2
    assert calls.mutating == []
    assert not target.store.has(r2.manifest)


def test_a_release_is_found_by_commit_prefix_and_by_version(released: Released) -> None:
    r1 = released.r1.manifest
    store = released.target().store

    assert store.find(commit=r1.commit[:7]).sha256 == r1.sha256
    assert store.find(commit=r1.commit).sha256 == r1.sha256
    assert store.find(version=r1.version).sha256 == r1.sha256
    with pytest.raises(InputError, match="too short"):
        store.find(commit=r1.commit[:6])
    with pytest.raises(StoreError, match="no release published for commit"):
        store.find(commit="0" * 40)
    with pytest.raises(StoreError, match=r"no release 9\.9\.9"):
        store.find(version="9.9.9")


def test_a_version_published_from_two_commits_is_ambiguous(released: Released) -> None:
    r1 = released.r1.manifest
    r2 = released.second_release().manifest
    store = released.target().store
    assert r1.version == r2.version and r1.commit != r2.commit

    with pytest.raises(InputError, match="several commits") as caught:
        store.find(version=r1.version)

    assert r1.commit[:7] in caught.value.message and r2.commit[:7] in caught.value.message
    assert caught.value.exit_code == 2
    assert store.find(commit=r2.commit[:7]).sha256 == r2.sha256


def test_the_commit_index_points_at_the_release_prefix(released: Released) -> None:
    r1 = released.r1.manifest
    assert _stored_bytes(released, INDEX + r1.commit) == release_prefix(r1).encode()


# -- ledger ---------------------------------------------------------------------------------------
def test_history_is_newest_first_and_current_is_the_last_success(released: Released) -> None:
    r2 = released.second_release()
    first = deploy_release(released.target(clock=lambda: T0), released.r1.manifest)
    later = T0 + dt.timedelta(minutes=5)
    second = deploy_release(released.target(clock=lambda: later), r2.manifest)

    ledger = released.target().ledger
    history = ledger.history()

    assert [r.id for r in history] == [second.record_id, first.record_id]
    releases = [r2.manifest.release_id, released.r1.manifest.release_id]
    assert [r.release_id for r in history] == releases
    assert all(r.outcome == SUCCEEDED for r in history)
    assert ledger.current().id == second.record_id
    assert [r.id for r in ledger.history(limit=1)] == [second.record_id]


def _open(ledger: Ledger, released: Released) -> str:
    manifest = released.r1.manifest
    return ledger.open_record(
        kind="deploy",
        version=manifest.version,
        commit=manifest.commit,
        release_id=manifest.release_id,
        manifest_sha256=manifest.sha256,
        artifact_bucket=ledger.bucket,
    ).id


def test_history_is_newest_first_within_one_second(released: Released) -> None:
    """Records opened a few milliseconds apart must still come back newest first.

    Record ids are ``<UTC second>-<random hex>``: within one second their order is random.
    """
    moments = iter(T0 + dt.timedelta(milliseconds=10 * i) for i in range(100))
    target = released.target()
    ledger = Ledger(target.s3, target.spec.artifact_bucket, "dev", clock=lambda: next(moments))
    opened = [_open(ledger, released) for _ in range(8)]

    assert [r.id for r in ledger.history()] == opened[::-1]


def test_lock_acquire_and_release(released: Released) -> None:
    ledger = released.target().ledger

    lock = ledger.acquire(900, "unit of work")

    held = ledger.read_lock()
    assert held is not None and held.token == lock.token
    assert held.owner.endswith("(unit of work)")
    assert dt.datetime.fromisoformat(held.expires_at) - dt.datetime.fromisoformat(
        held.acquired_at
    ) == dt.timedelta(seconds=900)
    ledger.release(lock)
    assert ledger.read_lock() is None
    again = ledger.acquire(900, "next")
    assert again.token != lock.token
    ledger.release(again)
    assert ledger.read_lock() is None


def test_a_second_acquire_fails_naming_the_holder(released: Released) -> None:
    ledger = released.target().ledger
    lock = ledger.acquire(900, "deploy 1.2.3+abcdef0")

    with pytest.raises(LockHeldError) as caught:
        released.target().ledger.acquire(900, "another deploy")

    assert lock.owner in caught.value.message
    assert "deploy 1.2.3+abcdef0" in caught.value.message
    assert caught.value.exit_code == 1
    assert ledger.read_lock().token == lock.token


def test_a_lock_is_released_only_by_its_owner(released: Released) -> None:
    ledger = released.target().ledger
    lock = ledger.acquire(900, "owner")
    impostor = Lock(owner="someone", token="0" * 16, acquired_at="", expires_at="")

    ledger.release(impostor)

    assert ledger.read_lock().token == lock.token


def test_an_expired_lock_is_taken_over_and_a_live_one_is_not(released: Released) -> None:
    target = released.target(clock=lambda: T0)
    crashed = target.ledger.acquire(60, "crashed")
    with pytest.raises(LockHeldError):
        released.target(clock=lambda: T0 + dt.timedelta(seconds=59)).ledger.acquire(60, "early")

    late = released.target(clock=lambda: T0 + dt.timedelta(seconds=61)).ledger
    taken = late.acquire(60, "late")

    assert late.read_lock().token == taken.token != crashed.token
    target.ledger.release(crashed)  # the crashed run coming back must not drop the new lock
    assert late.read_lock().token == taken.token
