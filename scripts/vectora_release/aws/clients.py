"""The one place boto3 sessions and clients are made (region, endpoint, adaptive retries).

Everything honours the standard variables (``AWS_PROFILE``, ``AWS_REGION``,
``AWS_ENDPOINT_URL``…), so the same commands run against real AWS and the embedded one.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

__all__ = ["Aws", "BotoCoreError", "CallCounter", "ClientError", "error_code", "is_mutating"]

READ_PREFIXES = ("Get", "List", "Head", "Describe")


def is_mutating(operation: str) -> bool:
    """Whether an AWS operation may change something (everything but reads)."""
    return not operation.startswith(READ_PREFIXES)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class Aws:
    """Client factory over one boto3 session; clients are cached per (service, region)."""

    def __init__(
        self,
        session: boto3.Session | None = None,
        max_attempts: int = 10,
        default_region: str = "eu-west-3",
    ) -> None:
        self.session = session or boto3.Session()
        self.default_region = self.session.region_name or default_region
        self._config = Config(
            retries={"mode": "adaptive", "max_attempts": max_attempts},
            connect_timeout=10,
            read_timeout=120,
        )
        self._clients: dict[tuple[str, str], Any] = {}
        # A session is not thread-safe: clients (thread-safe themselves) are made one at a time.
        self._making = threading.Lock()
        self._account: str | None = None

    def detached(self) -> Aws:
        """A factory over a new session (same profile and region) without this one's hooks.

        For calls made at times of their own, not in a command's sequence: the lock heartbeat.
        """
        profile = self.session.profile_name
        session = boto3.Session(
            profile_name=profile if profile in self.session.available_profiles else None,
            region_name=self.session.region_name,
        )
        return Aws(session, default_region=self.default_region)

    def client(self, service: str, region: str | None = None) -> Any:
        key = (service, region or self.default_region)
        with self._making:
            if key not in self._clients:
                self._clients[key] = self.session.client(
                    service, region_name=key[1], config=self._config
                )
            return self._clients[key]

    def s3(self, region: str | None = None) -> Any:
        return self.client("s3", region)

    def lambda_(self, region: str | None = None) -> Any:
        return self.client("lambda", region)

    def iam(self) -> Any:
        return self.client("iam", "us-east-1")

    def ssm(self, region: str | None = None) -> Any:
        return self.client("ssm", region)

    def sts(self, region: str | None = None) -> Any:
        return self.client("sts", region)

    def account(self, region: str | None = None) -> str:
        """The account the credentials belong to (asked once per session)."""
        if self._account is None:
            self._account = str(self.sts(region).get_caller_identity()["Account"])
        return self._account

    @property
    def events(self) -> Any:
        """The session's event system; prefer :meth:`register`, which also reaches clients."""
        return self.session.events

    def register(self, event: str, handler: Callable[..., Any], unique_id: str) -> None:
        """Hook the session and every client already made (botocore copies hooks at creation)."""
        with self._making:  # no client is made meanwhile without the hook
            self.session.events.register(event, handler, unique_id=unique_id)
            for client in self._clients.values():
                client.meta.events.register(event, handler, unique_id=unique_id)

    def unregister(self, event: str, unique_id: str) -> None:
        with self._making:
            self.session.events.unregister(event, unique_id=unique_id)
            for client in self._clients.values():
                client.meta.events.unregister(event, unique_id=unique_id)


@dataclass
class CallCounter:
    """Counts AWS API calls made through an :class:`Aws`, split into reads and mutations."""

    calls: list[str] = field(default_factory=list)

    def attach(self, aws: Aws) -> CallCounter:
        aws.register("before-call.*.*", self._on_call, f"count-{id(self)}")
        return self

    def detach(self, aws: Aws) -> None:
        aws.unregister("before-call.*.*", f"count-{id(self)}")

    def _on_call(self, model: Any, **_: Any) -> None:
        self.calls.append(model.name)

    @property
    def total(self) -> int:
        return len(self.calls)

    @property
    def mutating(self) -> list[str]:
        return [c for c in self.calls if is_mutating(c)]

    def summary(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "mutating": len(self.mutating),
            "by_operation": dict(sorted(Counter(self.calls).items())),
        }
