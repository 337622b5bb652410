"""Cancellation: a request to stop, honoured by the core at its next step boundary.

The command line turns SIGINT and SIGTERM into :meth:`Cancellation.request` while a run is
inside a section that must not be cut in the middle (:meth:`Cancellation.deferring_section`: from
taking the lock to releasing it); outside such sections it stops at once, as Ctrl-C always
did. The core checks :meth:`Cancellation.check` between steps and puts the environment back
on one release before it stops (``docs/reliability.md``). Core code installs no handler.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from .errors import CancelledError


class Cancellation:
    """A stop request (thread-safe), and whether the run is in a section that defers it."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason: str | None = None
        self._deferring = 0

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    @property
    def deferring(self) -> bool:
        """Whether a stop must wait for the next step boundary (a lock is held)."""
        return self._deferring > 0

    def request(self, reason: str) -> None:
        """Ask the run to stop at its next step boundary (the first reason is kept)."""
        if self.reason is None:
            self.reason = reason
        self._event.set()

    def check(self, where: str) -> None:
        """Raise :class:`CancelledError` if a stop was requested (``where``: the boundary)."""
        if self.requested:
            raise CancelledError(f"stopped before {where}: {self.reason}")

    @contextlib.contextmanager
    def deferring_section(self) -> Iterator[Cancellation]:
        """Inside, a signal sets the request instead of stopping the process at once."""
        self._deferring += 1
        try:
            yield self
        finally:
            self._deferring -= 1
