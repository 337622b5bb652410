"""The per-environment deploy lock: one S3 object written conditionally, with a heartbeat.

``ledger/<env>/lock.json`` holds who took it, a random token, when its holder last showed it
was alive (``heartbeat_at``) and when its lease ends. It is created with ``If-None-Match: *``,
so two runs cannot both take it. While a run is alive a :class:`Heartbeat` rewrites it every
few seconds with ``If-Match`` on its ETag. A lock whose heartbeat is stale (its holder was
killed, its runner died) or whose lease ended is taken over with ``If-Match`` on its ETag, so
only one run takes over. Only the run whose token it holds deletes it; ``unlock`` frees it by
hand (:meth:`LockFile.force_release`). See ``docs/architecture.md``.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from ..aws import s3util
from ..aws.clients import BotoCoreError, ClientError, error_code
from ..common.clock import Clock, iso, utcnow
from ..common.errors import LockHeldError
from ..common.jsonio import dumps_json

_TRANSIENT = ("etag", "took_over")  # not written to the lock object


@dataclass(frozen=True)
class Lock:
    """The lock document (``etag`` is S3's; ``took_over`` the stale lock it replaced)."""

    owner: str
    token: str
    acquired_at: str
    expires_at: str
    heartbeat_at: str | None = None  # None: written by a holder without heartbeat (lease only)
    etag: str | None = None
    took_over: Lock | None = None

    @classmethod
    def from_json(cls, raw: bytes, etag: str | None) -> Lock:
        known = {f.name for f in fields(cls)} - set(_TRANSIENT)
        data = {k: v for k, v in json.loads(raw).items() if k in known}
        return cls(**data, etag=etag)

    def body(self) -> bytes:
        return dumps_json({k: v for k, v in asdict(self).items() if k not in _TRANSIENT})

    def stale(self, now: dt.datetime, stale_after_seconds: int) -> str | None:
        """Why its holder is gone (lease ended, heartbeat stale), or None while it is alive."""
        if dt.datetime.fromisoformat(self.expires_at) <= now:
            return f"its lease ended at {self.expires_at}"
        if self.heartbeat_at is None:
            return None
        last = dt.datetime.fromisoformat(self.heartbeat_at)
        if last + dt.timedelta(seconds=stale_after_seconds) <= now:
            return f"no heartbeat since {self.heartbeat_at}"
        return None


class LockFile:
    """The lock object of one environment."""

    def __init__(self, s3: Any, bucket: str, key: str, env: str, clock: Clock = utcnow) -> None:
        self.s3, self.bucket, self.key, self.env, self.clock = s3, bucket, key, env, clock

    def read(self) -> Lock | None:
        response = s3util.get(self.s3, self.bucket, self.key)
        if response is None:
            return None
        return Lock.from_json(response["Body"].read(), response.get("ETag"))

    def acquire(self, lease_seconds: int, owner: str, stale_after_seconds: int = 60) -> Lock:
        """Take the lock, or take over a stale one; LockHeldError when someone holds it."""
        now = self.clock()
        lock = Lock(
            owner=owner,
            token=secrets.token_hex(8),
            acquired_at=iso(now),
            expires_at=iso(now + dt.timedelta(seconds=lease_seconds)),
            heartbeat_at=iso(now),
        )
        etag = self._put(lock.body(), IfNoneMatch="*")
        if etag is not None:
            return replace(lock, etag=etag)
        held = self.read()
        why = None if held is None else held.stale(now, stale_after_seconds)
        if held is not None and why is None:
            beat = f", heartbeat {held.heartbeat_at}" if held.heartbeat_at else ""
            raise LockHeldError(
                f"{self.env} is locked by {held.owner} since {held.acquired_at} "
                f"(lease until {held.expires_at}{beat})",
                f"wait for it to finish; a holder that is gone is taken over once its heartbeat "
                f"is {stale_after_seconds} s old, or: vectora-release unlock --env {self.env}",
            )
        # Its holder is gone (or it was just released): take over only that very lock object.
        condition = {"IfMatch": held.etag} if held and held.etag else {"IfNoneMatch": "*"}
        etag = self._put(lock.body(), **condition)
        if etag is None:
            raise LockHeldError(f"{self.env} lock was taken by another run just now", "retry later")
        return replace(lock, etag=etag, took_over=held)

    def renew(self, lock: Lock, lease_seconds: int) -> Lock | None:
        """Write a fresh heartbeat (and lease end) if the lock is still ours; None if it is not."""
        now = self.clock()
        renewed = replace(
            lock,
            heartbeat_at=iso(now),
            expires_at=iso(now + dt.timedelta(seconds=lease_seconds)),
            took_over=None,
        )
        etag = self._put(renewed.body(), IfMatch=lock.etag or "*")
        return None if etag is None else replace(renewed, etag=etag)

    def release(self, lock: Lock) -> None:
        """Drop the lock if it is still ours (never someone else's)."""
        held = self.read()
        if held is not None and held.token == lock.token:
            self.s3.delete_object(Bucket=self.bucket, Key=self.key)

    def force_release(self, held: Lock) -> bool:
        """Delete ``held`` (someone else's lock) if it is still that very object; see unlock."""
        current = self.read()
        if current is None or current.token != held.token or current.etag != held.etag:
            return False
        self.s3.delete_object(Bucket=self.bucket, Key=self.key)
        return True

    def _put(self, body: bytes, **condition: str) -> str | None:
        """Conditional write: the new ETag, or None when the condition failed."""
        try:
            response = self.s3.put_object(Bucket=self.bucket, Key=self.key, Body=body, **condition)
        except ClientError as exc:
            # If-Match on an object deleted meanwhile (unlock) answers NoSuchKey: not ours.
            if s3util.is_precondition_failure(exc) or error_code(exc) == "NoSuchKey":
                return None
            raise
        return str(response.get("ETag") or "") or None


class Heartbeat:
    """Renews a held lock every ``interval`` seconds from a background thread.

    ``wait(seconds)`` is the pause between renewals (injectable; it returns True to stop).
    A failed write (throttling, a network error) is retried at the next beat; a lock that is
    no longer ours (taken over after a long stall) sets :attr:`lost` and ends the thread, and
    ``on_lost`` is called so that the run stops at its next step boundary.
    """

    def __init__(
        self,
        lockfile: Callable[[], LockFile],
        lock: Lock,
        lease_seconds: int,
        interval: float,
        on_lost: Callable[[str], None] = lambda _why: None,
        wait: Callable[[float], bool] | None = None,
    ) -> None:
        self._lockfile, self.lock = lockfile, lock
        self.lease_seconds, self.interval, self.on_lost = lease_seconds, interval, on_lost
        self._stop = threading.Event()
        self._wait = wait or self._stop.wait
        self.lost = False
        self.beats = 0
        self.errors: list[str] = []
        self._thread = threading.Thread(target=self._run, name="vectora-lock-heartbeat")
        self._thread.daemon = True

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def beat(self) -> None:
        """One renewal (what the thread does every ``interval`` seconds)."""
        try:
            renewed = self._lockfile().renew(self.lock, self.lease_seconds)
        except (ClientError, BotoCoreError) as exc:
            self.errors.append(str(exc))
            return
        if renewed is None:
            self.lost = True
            self.on_lost(f"the lock of {self._lockfile().env} was taken over by another run")
            return
        self.lock = renewed
        self.beats += 1

    def _run(self) -> None:
        while not self._wait(self.interval) and not self._stop.is_set():
            self.beat()
            if self.lost:
                return
