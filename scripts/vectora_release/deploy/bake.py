"""The bake: after validation passes, watch the environment's alarms for a while.

CodeDeploy's alarm-based rollback, done here: an alarm in ``ALARM`` during the bake makes the
deploy roll back exactly like a failed validation. The clock and the sleep come from the
target, so tests drive the alarms with ``SetAlarmState`` and never wait.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ..common.clock import iso
from .live_run import read_alarms
from .target import Target

POLL_SECONDS = 30


@dataclass
class BakeReport:
    minutes: int
    alarms: list[str]
    status: str = "skipped"  # skipped | passed | alarm | stopped
    alarm: str | None = None  # the alarm found in ALARM
    polls: int = 0
    started_at: str | None = None
    finished_at: str | None = None
    states: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.status != "alarm"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def bake(target: Target, minutes: int, alarms: list[str], poll: int = POLL_SECONDS) -> BakeReport:
    """Watch ``alarms`` for ``minutes``; stop at the first one in ALARM (one call per poll)."""
    report = BakeReport(minutes, sorted(alarms))
    if minutes <= 0 or not alarms:
        return report
    cloudwatch = target.client("cloudwatch")
    start = target.clock()
    deadline = start + dt.timedelta(minutes=minutes)
    report.started_at = iso(start)
    target.progress(f"baking {minutes} min in {target.name}, watching {len(alarms)} alarms")
    while True:
        _, states = read_alarms(cloudwatch, report.alarms)
        report.polls += 1
        report.states = dict(sorted(states.items()))
        firing = sorted(name for name, state in states.items() if state == "ALARM")
        now = target.clock()
        if firing:
            report.status, report.alarm = "alarm", firing[0]
            target.progress(f"alarm {firing[0]} is in ALARM: rolling back")
            break
        # A clock that stands still (frozen in a test) still ends the bake after its polls.
        if now >= deadline or report.polls > minutes * 60 // poll:
            report.status = "passed"
            break
        if not _sleep(target, min(poll, (deadline - now).total_seconds())):
            report.status = "stopped"  # a stop request: the pipeline rolls back at its boundary
            break
    report.finished_at = iso(target.clock())
    return report


def _sleep(target: Target, seconds: float) -> bool:
    """Sleep in slices of at most a second; False as soon as a stop is requested (SIGTERM)."""
    while seconds > 0:
        if target.cancel.requested:
            return False
        step = min(1.0, seconds)
        target.sleep(step)
        seconds -= step
    return not target.cancel.requested
