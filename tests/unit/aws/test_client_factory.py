"""aws.Aws makes each client once, and one at a time, even when the deploy planner's workers
ask together (a botocore session is not thread-safe)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from vectora_release.aws.clients import Aws


class RecordingSession:
    """Records the clients asked of it, and whether the factory held its lock meanwhile."""

    region_name = "eu-west-3"

    def __init__(self) -> None:
        self.made: list[tuple[str, str]] = []
        self.unguarded = 0
        self.factory: Aws | None = None

    def client(self, service: str, region_name: str, config: Any) -> object:
        assert self.factory is not None
        if not self.factory._making.locked():
            self.unguarded += 1
        self.made.append((service, region_name))
        return object()


def test_clients_asked_from_many_threads_are_made_once_each_under_the_lock() -> None:
    session = RecordingSession()
    aws = session.factory = Aws(session)  # type: ignore[arg-type]
    services = ["s3", "lambda", "events", "cloudwatch"] * 8
    with ThreadPoolExecutor(max_workers=8) as pool:
        clients = list(pool.map(aws.client, services))
    assert sorted(session.made) == sorted((s, "eu-west-3") for s in set(services))
    assert session.unguarded == 0
    by_service: dict[str, object] = {}
    for service, client in zip(services, clients, strict=True):
        assert by_service.setdefault(service, client) is client
