"""Ingestion window, source handling and event validation."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from vectora_core.ingest import Source, in_window, ingest, sources_from_urls, window
from vectora_core.runtime import EventError, parse_event, today_utc


def test_window_is_inclusive() -> None:
    start, end = window(date(2026, 11, 16), 7)
    assert (start, end) == (date(2026, 11, 9), date(2026, 11, 16))
    assert in_window("2026-11-09", start, end) and in_window("2026-11-16", start, end)
    assert not in_window("2026-11-08", start, end) and not in_window("2026-11-17", start, end)
    assert in_window(None, start, end)


def test_ingest_file_sources_filters_and_dedupes(feeds_dir: Path) -> None:
    wire = (feeds_dir / "pharma_wire.rss.xml").as_uri()
    sources = [Source("wire", wire), Source("wire-again", wire), Source("gone", "file:///nope.xml")]
    result = ingest(sources, date(2026, 11, 12), date(2026, 11, 16))
    assert result.fetched == 24  # the wire feed parsed twice
    assert result.dropped_out_of_window == 10  # 5 items dated 9-11 Nov, twice
    assert len(result.items) == 7  # duplicates dropped by id
    assert all(i["source"] == "wire" for i in result.items)
    assert len(result.errors) == 1 and "nope.xml" in result.errors[0]


def test_ingest_caps_per_source(feeds_dir: Path) -> None:
    src = [Source("p", (feeds_dir / "lai_press_releases.atom.xml").as_uri())]
    result = ingest(src, date(2026, 11, 1), date(2026, 11, 30), {"max_items_per_source": 3})
    assert len(result.items) == 3


def test_sources_from_urls_ids() -> None:
    ids = [s.id for s in sources_from_urls(["s3://b/e2e/feeds/wire.rss.xml", "https://x.example/"])]
    assert ids == ["wire", "x.example"]


def test_parse_event_defaults_and_values() -> None:
    req = parse_event({"client_id": "lai_weekly"})
    assert (req.run_date, req.period_days, req.sources, req.scoring) == (
        today_utc(),
        None,
        None,
        "auto",
    )
    req = parse_event(
        {
            "client_id": "lai_weekly",
            "period_days": 7,
            "run_date": "2026-11-16",
            "sources": ["s3://b/k.xml"],
            "scoring": "rules",
        }
    )
    assert (req.run_date, req.period_days, req.sources, req.scoring) == (
        date(2026, 11, 16),
        7,
        ("s3://b/k.xml",),
        "rules",
    )


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ([], "JSON object"),
        ({}, "client_id"),
        ({"client_id": "../etc"}, "client_id"),
        ({"client_id": "a", "run_date": "16/11/2026"}, "run_date"),
        ({"client_id": "a", "period_days": 0}, "period_days"),
        ({"client_id": "a", "period_days": True}, "period_days"),
        ({"client_id": "a", "sources": "s3://b/k"}, "sources"),
        ({"client_id": "a", "scoring": "magic"}, "scoring"),
    ],
)
def test_parse_event_errors(event: object, field: str) -> None:
    with pytest.raises(EventError, match=field):
        parse_event(event)
