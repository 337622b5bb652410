"""``vectora-release`` in a process of its own, for the tests that need one.

    python driver.py [--kill-at K] [--start-at T] [--hold-lock S]
                     [--slow-at K --slow S] -- CONFIG ARGS...

``--kill-at K``: the process dies (``os._exit(137)``, no cleanup) just before its K-th mutating
AWS call, as a CI runner killed mid-command. ``--start-at T``: wait until Unix time T, so that
two processes start together. ``--hold-lock S``: sleep S seconds before the first Lambda change,
so that a run holds the lock long enough for another to meet it. Validation runs with the
runner stub of ``harness.py``. ``--slow-at K --slow S``: the K-th mutating call is a slow step
(it starts S seconds late); the line ``slow step: <operation>`` goes to file descriptor 2 when
that wait starts, so that a test signals the process while it is inside that step. Prints
``{"held": [start, end]}`` (the sleep inside the lock) on stdout and the CLI's messages on
stderr; exits with the CLI's exit code.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from harness import Faults, run_cli
from vectora_release.aws import is_mutating


class HoldLock(Faults):
    """Sleeps before the first mutating Lambda call (the lock is held by then).

    ``held`` is when the sleep started and ended (Unix time): a window inside the lock.
    """

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self.held: list[float] = []

    def _before_call(self, model: Any, **_: Any) -> None:
        lam = model.service_model.service_name == "lambda"
        if lam and is_mutating(model.name) and not self.held:
            self.held.append(time.time())
            time.sleep(self.seconds)
            self.held.append(time.time())


class SlowStep(Faults):
    """Makes mutating call number ``at`` start ``seconds`` late, saying so on fd 2."""

    def __init__(self, at: int, seconds: float) -> None:
        super().__init__()
        self.at, self.seconds = at, seconds

    def _before_call(self, model: Any, **_: Any) -> None:
        if not is_mutating(model.name):
            return
        self.calls.append(model.name)
        if len(self.calls) == self.at:
            os.write(2, f"slow step: {model.name}\n".encode())  # not the CLI's captured stderr
            time.sleep(self.seconds)  # a signal's handler runs; the sleep then goes on


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kill-at", type=int, default=0)
    parser.add_argument("--start-at", type=float, default=0.0)
    parser.add_argument("--hold-lock", type=float, default=0.0)
    parser.add_argument("--slow-at", type=int, default=0)
    parser.add_argument("--slow", type=float, default=0.0)
    parser.add_argument("config")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    options = parser.parse_args()
    hooks: list[Faults] = []
    if options.kill_at:
        hooks.append(Faults("kill", options.kill_at))
    hold = HoldLock(options.hold_lock)
    if options.hold_lock:
        hooks.append(hold)
    if options.slow_at:
        hooks.append(SlowStep(options.slow_at, options.slow))
    if options.start_at:
        time.sleep(max(0.0, options.start_at - time.time()))
    run = run_cli(options.config, options.args, hooks)
    sys.stdout.write(json.dumps({"held": hold.held}) + "\n")
    sys.stderr.write(run.err)
    return run.code


if __name__ == "__main__":
    sys.exit(main())
