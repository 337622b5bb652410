"""When a schedule next fires: EventBridge cron syntax, in UTC, from an injected moment."""

from __future__ import annotations

import datetime as dt

import pytest
from vectora_release.config.cron import next_run


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("expression", "now", "expected"),
    [
        # the weekly run: Mondays 08:00 (2026-12-01 is a Tuesday)
        ("cron(0 8 ? * MON *)", "2026-12-01T12:00:00", "2026-12-07T08:00:00"),
        ("cron(0 8 ? * MON *)", "2026-12-07T07:59:30", "2026-12-07T08:00:00"),
        ("cron(0 8 ? * MON *)", "2026-12-07T08:00:00", "2026-12-14T08:00:00"),
        ("cron(0 8 ? * 2 *)", "2026-12-01T12:00:00", "2026-12-07T08:00:00"),
        ("cron(0/15 * * * ? *)", "2026-12-01T12:07:00", "2026-12-01T12:15:00"),
        ("cron(30 6 1 JAN-MAR ? *)", "2026-12-01T12:00:00", "2027-01-01T06:30:00"),
        ("cron(0 9,17 ? * MON-FRI *)", "2026-12-04T18:00:00", "2026-12-07T09:00:00"),
        ("cron(0 0 29 2 ? *)", "2026-03-01T00:00:00", "2028-02-29T00:00:00"),
        ("cron(0 8 ? * SUN 2030)", "2026-12-01T12:00:00", "2030-01-06T08:00:00"),
    ],
)
def test_the_next_run_of_a_cron(expression: str, now: str, expected: str) -> None:
    assert next_run(expression, at(now)) == at(expected)


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 day)",
        "cron(0 8 L * ? *)",
        "cron(0 8 ? * 2#1 *)",
        "cron(0 8 * *)",
        "cron(0 25 * * ? *)",
        "cron(0 8 ? * MON 2020)",
    ],
)
def test_what_cannot_be_computed_is_none(expression: str) -> None:
    assert next_run(expression, at("2026-12-01T12:00:00")) is None
