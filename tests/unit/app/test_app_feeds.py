"""RSS 2.0 and Atom parsing of the fixture feeds."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from vectora_core.feeds import FeedError, item_id, parse_date, parse_feed


def test_rss_fixture(feeds_dir: Path) -> None:
    items = parse_feed((feeds_dir / "pharma_wire.rss.xml").read_bytes(), "pharma_wire")
    assert len(items) == 12
    first = items[0]
    assert first["title"].startswith("FDA approves two-month Aristada dosing")
    link = "https://www.pharmawire.example/news/alkermes-aristada-two-month-approval"
    assert first["link"] == link
    assert first["id"] == hashlib.sha256(link.encode()).hexdigest()[:16]
    assert first["published"] == "2026-11-12"
    assert first["source"] == "pharma_wire"
    assert "<b>Aristada</b>" in first["summary"]  # raw HTML kept; normalisation cleans it
    # pubDate "Tue, 10 Nov 2026 14:00:00 -0500" -> 19:00 UTC, same day
    assert items[1]["published"] == "2026-11-10"


def test_atom_fixture(feeds_dir: Path) -> None:
    items = parse_feed((feeds_dir / "lai_press_releases.atom.xml").read_bytes(), "press")
    assert len(items) == 10
    first = items[0]
    assert first["link"].endswith("/press/teva-medincell-olanzapine-solaris")
    assert first["published"] == "2026-11-14"
    assert first["summary"].startswith("<p>PARSIPPANY")
    assert items[2]["title"] == "Ascendis Pharma outlines TransCon depot pipeline at R&amp;D day"


def test_all_fixture_items_unique_and_in_period(feeds_dir: Path) -> None:
    items = [i for f in sorted(feeds_dir.glob("*.xml")) for i in parse_feed(f.read_bytes(), f.name)]
    assert len(items) == 32
    assert len({i["id"] for i in items}) == 32
    assert all("2026-11-09" <= i["published"] <= "2026-11-16" for i in items)


def test_item_id_falls_back_to_title() -> None:
    assert item_id("", "Title") == hashlib.sha256(b"Title").hexdigest()[:16]
    assert item_id(" https://x/1 ", "A") == item_id("https://x/1", "B")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Thu, 12 Nov 2026 23:30:00 -0300", "2026-11-13"),
        ("2026-11-12T01:00:00+02:00", "2026-11-11"),
        ("2026-11-12", "2026-11-12"),
        ("not a date", None),
        ("", None),
    ],
)
def test_parse_date(raw: str, expected: str | None) -> None:
    assert parse_date(raw) == expected


def test_rss_without_link_uses_guid_and_missing_date() -> None:
    doc = (
        "<rss version='2.0'><channel><item><title>T</title>"
        "<guid>https://x.example/a</guid></item></channel></rss>"
    )
    (item,) = parse_feed(doc, "s")
    assert item["link"] == "https://x.example/a"
    assert item["published"] is None


@pytest.mark.parametrize(
    "doc",
    [
        "<rss><channel><item>",
        "<html><body/></html>",
        '<!DOCTYPE r [<!ENTITY a "aaaa">]><rss version="2.0"><channel/></rss>',
    ],
)
def test_bad_documents_raise_feed_error(doc: str) -> None:
    with pytest.raises(FeedError):
        parse_feed(doc, "bad")
