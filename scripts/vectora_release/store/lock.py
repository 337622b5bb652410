"""The per-environment deploy lock: one S3 object written conditionally, with a lease.

``ledger/<env>/lock.json`` holds who took it, a random token and when its lease ends. It is
created with ``If-None-Match: *``, so two runs cannot both take it; a lock whose lease ended
(a crashed run) is taken over with ``If-Match`` on its ETag, so only one run takes over.
Only the run whose token it holds deletes it.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import asdict, dataclass
from typing import Any

from ..aws import s3util
from ..aws.clients import ClientError
from ..common.clock import Clock, iso, utcnow
from ..common.errors import LockHeldError
from ..common.jsonio import dumps_json


@dataclass(frozen=True)
class Lock:
    """The lock document (``etag`` is S3's, not stored)."""

    owner: str
    token: str
    acquired_at: str
    expires_at: str
    etag: str | None = None


class LockFile:
    """The lock object of one environment."""

    def __init__(self, s3: Any, bucket: str, key: str, env: str, clock: Clock = utcnow) -> None:
        self.s3, self.bucket, self.key, self.env, self.clock = s3, bucket, key, env, clock

    def read(self) -> Lock | None:
        response = s3util.get(self.s3, self.bucket, self.key)
        if response is None:
            return None
        return Lock(**json.loads(response["Body"].read()), etag=response.get("ETag"))

    def acquire(self, lease_seconds: int, owner: str) -> Lock:
        """Take the lock, or take over an expired one; LockHeldError when someone holds it."""
        now = self.clock()
        lock = Lock(
            owner=owner,
            token=secrets.token_hex(8),
            acquired_at=iso(now),
            expires_at=iso(now + dt.timedelta(seconds=lease_seconds)),
        )
        body = dumps_json({k: v for k, v in asdict(lock).items() if k != "etag"})
        if self._put(body, IfNoneMatch="*"):
            return lock
        held = self.read()
        if held is not None and dt.datetime.fromisoformat(held.expires_at) > now:
            raise LockHeldError(
                f"{self.env} is locked by {held.owner} since {held.acquired_at} "
                f"(lease until {held.expires_at})",
                "wait for it to finish, or for the lease to expire",
            )
        # The lease expired (a crashed run): take over only that very lock object.
        condition = {"IfMatch": held.etag} if held and held.etag else {"IfNoneMatch": "*"}
        if not self._put(body, **condition):
            raise LockHeldError(f"{self.env} lock was taken by another run just now", "retry later")
        return lock

    def release(self, lock: Lock) -> None:
        """Drop the lock if it is still ours (never someone else's)."""
        held = self.read()
        if held is not None and held.token == lock.token:
            self.s3.delete_object(Bucket=self.bucket, Key=self.key)

    def _put(self, body: bytes, **condition: str) -> bool:
        """Conditional write; False when the condition failed (someone else's lock is there)."""
        try:
            self.s3.put_object(Bucket=self.bucket, Key=self.key, Body=body, **condition)
        except ClientError as exc:
            if s3util.is_precondition_failure(exc):
                return False
            raise
        return True
