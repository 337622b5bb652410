"""Markdown newsletter rendering."""

from __future__ import annotations

from datetime import date
from typing import Any

from vectora_core.newsletter import assign_sections, render_newsletter

CLIENT: dict[str, Any] = {
    "client_profile": {"client_id": "lai_weekly", "name": "LAI Weekly", "version": "7.0.0"},
    "newsletter": {
        "title": "LAI Weekly",
        "intro": "The week in long-acting injectables.",
        "tldr_items": 2,
        "sections": [
            {"title": "Technology & formulation", "scopes": ["lai_technologies"]},
            {"title": "Company news", "scopes": ["lai_companies"]},
            {"title": "Regulatory", "scopes": ["lai_regulatory"]},
        ],
    },
}
BUILD = {"version": "0.1.0", "commit": "0123456789abcdef0123456789abcdef01234567"}


def _item(id_: str, score: int, matched: dict[str, list[str]], **extra: Any) -> dict[str, Any]:
    base = {
        "id": id_,
        "title": f"Title {id_}",
        "link": f"https://news.example/{id_}",
        "summary": f"Summary of {id_}.",
        "published": "2026-11-10",
        "extracted_date": "2026-11-12",
        "source": "wire",
        "score": score,
        "relevant": score >= 50,
        "matched": matched,
    }
    return {**base, **extra}


ITEMS = [
    _item("tech", 90, {"lai_technologies": ["depot"], "lai_companies": ["Teva"]}),
    _item("comp", 60, {"lai_companies": ["Camurus"]}, extracted_date=None, published=None),
    _item("misc", 55, {}, title="Odd [bracket] title"),
    _item("reg", 52, {"lai_molecules": ["olanzapine"]}, tags={"lai_regulatory": ["FDA"]}),
    _item("noise", 10, {"lai_companies": ["Teva"]}),
]  # the noise item must stay last


def _render() -> str:
    period = (date(2026, 11, 9), date(2026, 11, 16))
    return render_newsletter(ITEMS, CLIENT, date(2026, 11, 16), period, BUILD)


def test_header_intro_and_counts() -> None:
    text = _render()
    assert text.startswith("# LAI Weekly — 2026-11-16\n")
    assert "_Period: 2026-11-09 to 2026-11-16_" in text
    assert "The week in long-acting injectables." in text
    assert "4 relevant items selected from 5 scanned." in text


def test_tldr_lists_top_items_by_score() -> None:
    tldr = _render().split("## TL;DR\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert tldr == [
        "- [Title tech](https://news.example/tech) (2026-11-12)",
        "- [Title comp](https://news.example/comp) (undated)",
    ]


def test_sections_order_dates_links_and_noise_excluded() -> None:
    text = _render()
    tech, comp, other = (
        text.index("## Technology & formulation"),
        text.index("## Company news"),
        text.index("## Other relevant news"),
    )
    assert tech < comp < other
    assert "### [Title tech](https://news.example/tech)" in text
    assert "*2026-11-12 · wire · score 90*" in text
    assert "*undated · wire · score 60*" in text
    assert r"### [Odd \[bracket\] title](https://news.example/misc)" in text
    assert "noise" not in text


def test_footer_has_version_commit_and_client() -> None:
    footer = _render().rstrip().splitlines()[-1]
    assert "vectora-core 0.1.0" in footer
    assert BUILD["commit"] in footer
    assert "client lai_weekly config v7.0.0" in footer


def test_render_is_deterministic_and_order_independent() -> None:
    period = (date(2026, 11, 9), date(2026, 11, 16))
    again = render_newsletter(list(reversed(ITEMS)), CLIENT, date(2026, 11, 16), period, BUILD)
    assert _render() == again


def test_assign_sections_first_matching_section_wins() -> None:
    groups = assign_sections(ITEMS, CLIENT["newsletter"])
    assert [(title, [i["id"] for i in items]) for title, items in groups] == [
        ("Technology & formulation", ["tech"]),
        ("Company news", ["comp"]),
        ("Regulatory", ["reg"]),
        ("Other relevant news", ["misc"]),
    ]


def test_no_relevant_items() -> None:
    text = render_newsletter([ITEMS[-1]], CLIENT, date(2026, 11, 16), None, BUILD)
    assert "_No relevant items in this period._" in text
    assert "## TL;DR" not in text
