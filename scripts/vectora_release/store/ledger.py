"""Deployment records and the per-environment lock, kept in S3 next to the artifacts.

Layout (in the environment's artifact bucket)::

    ledger/<env>/records/<id>.json   one record per deploy, promote or rollback
    ledger/<env>/current.json        → the record of what is live
    ledger/<env>/lock.json           the deploy lock (see ``lock.py``)
    ledger/<env>/unlocks/<id>.json   who freed the lock by hand, and why (``unlock``)
"""

from __future__ import annotations

import getpass
import json
import os
import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

from ..aws import s3util
from ..common.clock import Clock, iso, utcnow
from ..common.jsonio import dumps_json
from .lock import Lock, LockFile

SCHEMA_VERSION = 1
IN_PROGRESS, SUCCEEDED, FAILED, ROLLED_BACK = "in_progress", "succeeded", "failed", "rolled_back"
INTERRUPTED = "interrupted"


def actor() -> str:
    return os.environ.get("GITHUB_ACTOR") or getpass.getuser()


def run_url() -> str | None:
    server, repo, run = (
        os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    return f"{server}/{repo}/actions/runs/{run}" if server and repo and run else None


@dataclass
class FunctionState:
    """What one function's alias ran after (and before) a deployment."""

    name: str
    version: str | None
    code_sha256: str | None
    previous_version: str | None = None
    # The declared env values it runs with (``ssm:`` references unresolved: never a secret),
    # so validation and rollback use what this deployment declared, not today's release.yaml.
    env: dict[str, str] | None = None
    # Adopted and restored states, which have no release manifest: the configuration the
    # version runs (``checks.recorded.configuration``, secrets masked), checked on the way back.
    config: dict[str, Any] | None = None


@dataclass
class LayerState:
    arn: str
    code_sha256: str
    sha256: str


@dataclass
class DeploymentRecord:
    """One deployment (deploy, promote, rollback, adopt or restore) to an environment."""

    id: str
    env: str
    kind: str
    version: str
    commit: str
    release_id: str
    manifest_sha256: str
    artifact_bucket: str
    actor: str
    started_at: str
    outcome: str = IN_PROGRESS
    finished_at: str | None = None
    run_url: str | None = None
    error: str | None = None
    reason: str | None = None
    from_env: str | None = None
    undoes: str | None = None
    steps_done: list[str] = field(default_factory=list)
    functions: dict[str, FunctionState] = field(default_factory=dict)
    layers: dict[str, LayerState] = field(default_factory=dict)
    config_prefix: str | None = None
    config_bundle_sha256: str | None = None
    validation: dict[str, Any] | None = None
    # The snapshot an ``adopt`` or ``restore`` record names (and a rollback to one of them):
    # such a record has no release manifest in the store.
    snapshot: str | None = None
    soak: dict[str, Any] | None = None  # promote: the soak gate's finding (override included)
    bake: dict[str, Any] | None = None  # the alarm watch after validation (deploy/bake.py)
    schema_version: int = SCHEMA_VERSION

    @property
    def validated(self) -> bool:
        return bool(self.validation and self.validation.get("status") == "passed")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeploymentRecord:
        data = dict(data)
        data["functions"] = {k: FunctionState(**v) for k, v in data.get("functions", {}).items()}
        data["layers"] = {k: LayerState(**v) for k, v in data.get("layers", {}).items()}
        return cls(**data)


class Ledger:
    """Records and lock of one environment."""

    def __init__(self, s3: Any, bucket: str, env: str, clock: Clock = utcnow) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.env = env
        self.clock = clock
        self.base = f"ledger/{env}/"

    # -- records ----------------------------------------------------------------------------
    def new_id(self) -> str:
        # Microseconds, fixed width: ids sort as text in the order they were made.
        return f"{self.clock().strftime('%Y%m%dT%H%M%S.%fZ')}-{secrets.token_hex(3)}"

    def save(self, record: DeploymentRecord) -> None:
        self.s3.put_object(
            Bucket=self.bucket,
            Key=f"{self.base}records/{record.id}.json",
            Body=dumps_json(record.to_dict()),
            ContentType="application/json",
        )

    def get(self, record_id: str) -> DeploymentRecord | None:
        raw = s3util.get_bytes(self.s3, self.bucket, f"{self.base}records/{record_id}.json")
        return None if raw is None else DeploymentRecord.from_dict(json.loads(raw))

    def history(self, limit: int | None = None) -> list[DeploymentRecord]:
        """Records, newest first."""
        ids = sorted(
            (
                k.rsplit("/", 1)[-1].removesuffix(".json")
                for k in s3util.keys(self.s3, self.bucket, f"{self.base}records/")
            ),
            reverse=True,
        )
        records = []
        for record_id in ids[:limit] if limit else ids:
            record = self.get(record_id)
            if record is not None:
                records.append(record)
        return records

    def current_id(self) -> str | None:
        """Id of the record ``current.json`` names (None before the first success)."""
        raw = s3util.get_bytes(self.s3, self.bucket, f"{self.base}current.json")
        return None if raw is None else str(json.loads(raw)["id"])

    def current(self) -> DeploymentRecord | None:
        """The record of the release that is live (last successful deployment)."""
        record_id = self.current_id()
        return None if record_id is None else self.get(record_id)

    def set_current(self, record: DeploymentRecord) -> None:
        body = dumps_json(
            {"id": record.id, "release": record.release_id, "schema_version": SCHEMA_VERSION}
        )
        self.s3.put_object(
            Bucket=self.bucket,
            Key=f"{self.base}current.json",
            Body=body,
            ContentType="application/json",
        )

    def open_record(self, **fields: Any) -> DeploymentRecord:
        record = DeploymentRecord(
            id=self.new_id(),
            env=self.env,
            actor=actor(),
            started_at=iso(self.clock()),
            run_url=run_url(),
            **fields,
        )
        self.save(record)
        return record

    def close(self, record: DeploymentRecord, outcome: str, error: str | None = None) -> None:
        """Write the outcome. A success is made current first: that write commits the run.

        Before it, the record is saved with everything the run did (still ``in_progress``): a
        run stopped after its commit leaves a complete record that is current but
        ``in_progress``, which the next run completes (:func:`recovery.recover_interrupted`).
        """
        record.error = error
        record.finished_at = iso(self.clock())
        if outcome == SUCCEEDED:
            self.save(record)
            self.set_current(record)
        record.outcome = outcome
        self.save(record)

    def save_unlock(self, entry: dict[str, Any]) -> str:
        """Write an ``unlock`` entry (who freed the lock by hand, and why); returns its key."""
        key = f"{self.base}unlocks/{entry['id']}.json"
        body = dumps_json({**entry, "schema_version": SCHEMA_VERSION})
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json")
        return key

    # -- lock (see :mod:`.lock`) --------------------------------------------------------------
    @property
    def lock_key(self) -> str:
        return f"{self.base}lock.json"

    @property
    def lock(self) -> LockFile:
        return LockFile(self.s3, self.bucket, self.lock_key, self.env, self.clock)

    def read_lock(self) -> Lock | None:
        return self.lock.read()

    def acquire(self, lease_seconds: int, purpose: str, stale_after_seconds: int = 60) -> Lock:
        """Take the lock, or take over a stale one; LockHeldError when someone holds it."""
        return self.lock.acquire(lease_seconds, f"{actor()} ({purpose})", stale_after_seconds)

    def release(self, lock: Lock) -> None:
        """Drop the lock if it is still ours (never someone else's)."""
        self.lock.release(lock)
