"""SIGINT and SIGTERM: deferred to the next step boundary while a lock is held, else at once."""

from __future__ import annotations

import os
import signal

import pytest
from vectora_release.cli.main import stop_on_signals
from vectora_release.common.cancel import Cancellation
from vectora_release.common.errors import CancelledError


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_while_a_lock_is_held_becomes_a_stop_request(signum: signal.Signals) -> None:
    cancel = Cancellation()
    before = signal.getsignal(signum)
    with stop_on_signals(cancel), cancel.deferring_section():
        os.kill(os.getpid(), signum)  # the handler runs in this thread, right after
        assert cancel.requested
        assert cancel.reason == f"{signal.Signals(signum).name} received"
        with pytest.raises(CancelledError, match=r"stopped before UpdateAlias: SIG\w+ received"):
            cancel.check("UpdateAlias")
    assert signal.getsignal(signum) is before  # the previous handler is back


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_while_nothing_is_being_changed_stops_at_once(signum: signal.Signals) -> None:
    cancel = Cancellation()
    with pytest.raises(KeyboardInterrupt), stop_on_signals(cancel):
        os.kill(os.getpid(), signum)
    assert not cancel.requested


def test_the_first_reason_is_kept() -> None:
    cancel = Cancellation()
    cancel.request("SIGINT received")
    cancel.request("SIGTERM received")  # GitHub's second signal, 7.5 s later
    assert cancel.reason == "SIGINT received"
