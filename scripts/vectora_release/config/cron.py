"""When an EventBridge schedule expression next fires (``status``'s "next run").

``cron(min hour day-of-month month day-of-week year)`` in UTC, with EventBridge's syntax: ``*``,
``?``, lists, ranges, steps, month and weekday names, weekdays 1 (SUN) to 7 (SAT). ``L``, ``W``
and ``#`` are not evaluated (None), nor is ``rate(...)``, whose runs count from the rule's
creation, which EventBridge does not report.
"""

from __future__ import annotations

import datetime as dt

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
HORIZON_DAYS = 5 * 366  # a cron firing less often than this is reported as never


def next_run(expression: str, after: dt.datetime) -> dt.datetime | None:
    """The first minute strictly after ``after`` at which ``expression`` fires, else None."""
    if not (expression.startswith("cron(") and expression.endswith(")")):
        return None
    fields = expression[5:-1].split()
    if len(fields) != 6 or any(c in f for f in fields for c in "LW#"):
        return None
    minute, hour, dom, month, dow, year = fields
    try:
        minutes, hours = _values(minute, 0, 59), _values(hour, 0, 23)
        days, months = _values(dom, 1, 31), _values(month, 1, 12, MONTHS)
        weekdays, years = _values(dow, 1, 7, WEEKDAYS), _values(year, 1970, 2199)
    except ValueError:
        return None
    start = after.astimezone(dt.UTC).replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    for offset in range(HORIZON_DAYS):
        day = start.date() + dt.timedelta(days=offset)
        weekday = (day.weekday() + 1) % 7 + 1  # EventBridge: 1 = Sunday
        if day.year not in years or day.month not in months:
            continue
        if day.day not in days or weekday not in weekdays:
            continue
        first = (start.hour, start.minute) if offset == 0 else (0, 0)
        times = [(h, m) for h in sorted(hours) for m in sorted(minutes) if (h, m) >= first]
        if times:
            h, m = times[0]
            return dt.datetime(day.year, day.month, day.day, h, m, tzinfo=dt.UTC)
    return None


def _values(field: str, low: int, high: int, names: tuple[str, ...] = ()) -> set[int]:
    """The numbers a cron field allows (``?`` and ``*`` allow all); ValueError if malformed."""
    out: set[int] = set()
    for part in field.split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if span in ("*", "?"):
            first, last = low, high
        elif "-" in span:
            a, b = span.split("-", 1)
            first, last = _number(a, low, names), _number(b, low, names)
        else:
            first = _number(span, low, names)
            last = high if step_text else first
        if step < 1 or not low <= first <= last <= high:
            raise ValueError(field)
        out.update(range(first, last + 1, step))
    return out


def _number(text: str, low: int, names: tuple[str, ...]) -> int:
    upper = text.upper()
    if upper in names:
        return names.index(upper) + low
    return int(text)
