"""Snapshots of an environment, kept in its artifact bucket beside the releases.

Layout::

    snapshots/<env>/<id>/blobs/<sha256>    every byte saved (code, layer content, objects)
    snapshots/<env>/<id>/manifest.json     what was saved and where it came from; written last

Every key is written once (``If-None-Match: *``); a blob is named by its sha256 and checked
against it on every read, and the manifest records its own blobs, so a snapshot is complete
exactly when its manifest exists. Ids sort in the order snapshots were taken, like ledger ids.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from ..aws import s3util
from ..aws.clients import ClientError
from ..common.clock import Clock, utcnow
from ..common.digest import code_sha256, sha256_hex
from ..common.errors import InputError, IntegrityError
from ..common.jsonio import dumps_json

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
LATEST = "latest"  # names the newest complete snapshot


@dataclass(frozen=True)
class SnapshotSummary:
    """One line of ``snapshot list``."""

    id: str
    taken_at: str
    reason: str
    functions: int
    layer_versions: int
    objects: int
    bytes: int
    manifest_sha256: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class SnapshotStore:
    """Write-once, verified-on-read snapshots of one environment."""

    def __init__(self, s3: Any, bucket: str, env: str, clock: Clock = utcnow) -> None:
        self.s3, self.bucket, self.env, self.clock = s3, bucket, env, clock
        self.base = f"snapshots/{env}/"

    def new_id(self) -> str:
        return f"{self.clock().strftime('%Y%m%dT%H%M%S.%fZ')}-{secrets.token_hex(3)}"

    def put_blob(self, snapshot_id: str, data: bytes) -> str:
        """Save ``data`` once under its sha256 (already there: it is the same bytes)."""
        digest = sha256_hex(data)
        key = f"{self.base}{snapshot_id}/blobs/{digest}"
        self._put_once(key, data)
        return digest

    def write_manifest(self, snapshot_id: str, document: dict[str, Any]) -> str:
        """Write the manifest last (the snapshot is then complete); returns its sha256."""
        body = dumps_json({**document, "schema_version": SCHEMA_VERSION})
        self._put_once(f"{self.base}{snapshot_id}/{MANIFEST}", body)
        return sha256_hex(body)

    def _put_once(self, key: str, data: bytes) -> None:
        try:
            self.s3.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                IfNoneMatch="*",
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=code_sha256(data),
            )
        except ClientError as exc:
            if not s3util.is_precondition_failure(exc):
                raise

    # -- reading ----------------------------------------------------------------------------
    def ids(self) -> list[str]:
        """Ids of complete snapshots (those with a manifest), oldest first."""
        suffix = f"/{MANIFEST}"
        return sorted(
            key[len(self.base) : -len(suffix)]
            for key in s3util.keys(self.s3, self.bucket, self.base)
            if key.endswith(suffix) and key.count("/") == 3
        )

    def load(self, snapshot_id: str) -> tuple[dict[str, Any], str]:
        """(manifest, its sha256); ``latest``: the newest; an unknown id is bad input (exit 2)."""
        if snapshot_id == LATEST:
            ids = self.ids()
            snapshot_id = ids[-1] if ids else snapshot_id
        raw = None
        if "/" not in snapshot_id and snapshot_id.strip():
            key = f"{self.base}{snapshot_id}/{MANIFEST}"
            raw = s3util.get_bytes(self.s3, self.bucket, key)
        if raw is None:
            raise InputError(
                f"{self.env} has no snapshot {snapshot_id!r} in s3://{self.bucket}/{self.base}",
                f"see: vectora-release snapshot list --env {self.env}",
            )
        return json.loads(raw), sha256_hex(raw)

    def blob(self, snapshot_id: str, digest: str) -> bytes:
        """The saved bytes of ``digest``, refused unless they hash to it."""
        key = f"{self.base}{snapshot_id}/blobs/{digest}"
        data = s3util.get_bytes(self.s3, self.bucket, key)
        if data is None or sha256_hex(data) != digest:
            raise IntegrityError(
                f"snapshot {snapshot_id} of {self.env}: s3://{self.bucket}/{key} is "
                + ("missing" if data is None else "corrupt")
            )
        return data

    def summaries(self) -> list[SnapshotSummary]:
        out = []
        for snapshot_id in self.ids():
            doc, digest = self.load(snapshot_id)
            out.append(
                SnapshotSummary(
                    id=snapshot_id,
                    taken_at=doc.get("taken_at", ""),
                    reason=doc.get("reason", ""),
                    functions=len(doc.get("functions", {})),
                    layer_versions=len(doc.get("layers", [])),
                    objects=len(doc.get("objects", [])),
                    bytes=sum(doc.get("blobs", {}).values()),
                    manifest_sha256=digest,
                )
            )
        return out
