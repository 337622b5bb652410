"""Simulated time for the bake on the embedded AWS.

moto never evaluates an alarm: on the embedded AWS an alarm changes state only when told to
(``SetAlarmState``), so waiting through a bake in real time would show nothing. There the CLI
gives targets this clock, whose sleep moves time forward at once: a 15-minute bake polls its
alarms as it would on AWS and ends in a fraction of a second.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..common.clock import utcnow


@dataclass
class SimulatedTime:
    """Real time plus what was slept; only ever moves forward."""

    slept: float = 0.0

    def clock(self) -> dt.datetime:
        return utcnow() + dt.timedelta(seconds=self.slept)

    def sleep(self, seconds: float) -> None:
        self.slept += max(0.0, seconds)
