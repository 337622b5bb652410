"""Metrics, including the figures the fixture feeds are designed to produce."""

from __future__ import annotations

from pathlib import Path

from vectora_core import config
from vectora_core.feeds import parse_feed
from vectora_core.metrics import compute_metrics
from vectora_core.pipeline import normalise_item
from vectora_core.scoring import ScoringRules, score_items

FIXTURE_METRICS = {
    "items": 32,
    "relevant": 20,
    "relevant_pct": 62.5,
    "avg_score": 76.5,
    "dated_pct": 93.8,
}


def test_fixture_metrics(config_dir: Path, feeds_dir: Path) -> None:
    rules = ScoringRules.from_client_config(config.load_client_config("lai_weekly"))
    raw = [i for f in sorted(feeds_dir.glob("*.xml")) for i in parse_feed(f.read_bytes(), f.name)]
    scored = score_items([normalise_item(i) for i in raw], rules)
    assert compute_metrics(scored) == FIXTURE_METRICS
    undated = sorted(i["title"] for i in scored if not i["extracted_date"])
    assert undated == [
        "EMA committee highlights",  # "November 2026": month only
        "Pfizer trims 2026 revenue guidance on vaccine softness",  # 11/12/2026: ambiguous
    ]


def test_avg_score_uses_relevant_items_only() -> None:
    items = [
        {"score": 80, "relevant": True, "extracted_date": "2026-11-10"},
        {"score": 60, "relevant": True, "extracted_date": None},
        {"score": 0, "relevant": False, "extracted_date": None},
    ]
    assert compute_metrics(items) == {
        "items": 3,
        "relevant": 2,
        "relevant_pct": 66.7,
        "avg_score": 70.0,
        "dated_pct": 33.3,
    }


def test_avg_score_falls_back_to_all_items_when_none_relevant() -> None:
    items = [{"score": 10, "relevant": False}, {"score": 30, "relevant": False}]
    assert compute_metrics(items)["avg_score"] == 20.0


def test_empty_metrics() -> None:
    assert compute_metrics([]) == {
        "items": 0,
        "relevant": 0,
        "relevant_pct": 0.0,
        "avg_score": 0.0,
        "dated_pct": 0.0,
    }
