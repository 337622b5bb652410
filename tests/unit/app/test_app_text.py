"""Text cleaning and date extraction."""

from __future__ import annotations

import pytest
from vectora_core.text import clean_text, extract_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Results posted 2026-03-05 by the company", "2026-03-05"),
        ("Published 2026/03/05 in a journal", "2026-03-05"),
        ("DUBLIN, March 5, 2026 - Alkermes announced", "2026-03-05"),
        ("RICHMOND, Va., Mar. 5, 2026 - Indivior said", "2026-03-05"),
        ("Mar 5 2026: update", "2026-03-05"),
        ("on March 5th, 2026 the agency", "2026-03-05"),
        ("Thursday, November 12, 2026: the proposal", "2026-11-12"),
        ("LUND, Sweden, 5 March 2026 - Camurus", "2026-03-05"),
        ("BEERSE, 5th March 2026 - Janssen", "2026-03-05"),
        ("LONDON, 12th of November, 2026 - NICE", "2026-11-12"),
        ("LUND, 11 Nov. 2026 - submission", "2026-11-11"),
        ("SEPT 30, 2026 deadline", "2026-09-30"),
    ],
)
def test_extract_date_supported_formats(text: str, expected: str) -> None:
    assert extract_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "No date in this sentence at all",
        "Filing dated 05/03/2026 (ambiguous day/month order)",
        "Filing dated 11.12.2026",
        "Highlights from the March 2026 meeting",
        "February 30, 2026 is not a real day",
        "Build 2026-13-45 released",
        "Founded 1850-01-01",
        "Phase 3 trial enrolled 2026 patients",
    ],
)
def test_extract_date_rejects_non_dates(text: str) -> None:
    assert extract_date(text) is None


def test_extract_date_earliest_in_text_and_title_first() -> None:
    assert extract_date("Survey 2026-11-02; meeting on November 18, 2026") == "2026-11-02"
    assert extract_date("Meeting on November 18, 2026; survey 2026-11-02") == "2026-11-18"
    assert extract_date("Title without date", "Summary, 5 March 2026") == "2026-03-05"
    assert extract_date("Nov 1, 2026 recap", "Summary, 5 March 2026") == "2026-11-01"
    assert extract_date(None, "") is None


def test_clean_text_strips_tags_entities_and_whitespace() -> None:
    html = "<p>Camurus&nbsp;&amp; Braeburn</p>\n<script>x()</script><ul><li>a</li><li>b</li></ul>"
    assert clean_text(html) == "Camurus & Braeburn a b"
    assert clean_text("R&amp;D   day &mdash; <b>depot</b>") == "R&D day — depot"
    assert clean_text(None) == ""
