"""Text normalisation and date extraction from free text.

``extract_date`` recognises, case-insensitively, with optional weekday before and ordinal
suffixes (``st/nd/rd/th``):

* ISO ``2026-03-05`` (also ``2026/03/05``: year first is unambiguous);
* month first ``March 5, 2026`` / ``Mar. 5, 2026`` / ``Mar 5 2026`` / ``March 5th, 2026``;
* day first ``5 March 2026`` / ``5th March 2026`` / ``5th of March, 2026`` / ``5 Mar. 2026``.

Deliberately NOT extracted (documented convention): all-numeric day/month orders such as
``05/03/2026`` or ``05.03.2026`` (US vs European ambiguity), and month-only dates such as
``March 2026`` (no day; we never invent a first-of-month). Impossible dates (``Feb 30``) and
years outside 1990-2100 are ignored. The earliest match in the text wins.
"""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser

_MONTHS: dict[str, int] = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3,
    "apr": 4, "april": 4, "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7,
    "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9, "oct": 10, "october": 10,
    "nov": 11, "november": 11, "dec": 12, "december": 12,
}  # fmt: skip
_MONTH = "(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"

_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"(?<![\d.])(?P<year>\d{4})(?P<sep>[-/])(?P<mnum>\d{1,2})(?P=sep)(?P<day>\d{1,2})(?!\d)"),
    re.compile(rf"\b{_MONTH}\s+{_DAY}\s*,?\s+{_YEAR}\b", re.IGNORECASE),
    re.compile(rf"\b{_DAY}(?:\s+of)?\s+{_MONTH}\s*,?\s+{_YEAR}\b", re.IGNORECASE),
)  # fmt: skip

_BLOCK_TAGS = frozenset(
    {"br", "p", "div", "li", "ul", "ol", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6",
     "blockquote", "section", "article", "header", "footer", "table", "hr"}
)  # fmt: skip
_WS_RE = re.compile(r"\s+")


class _TextExtractor(HTMLParser):
    """Collect text content, dropping tags, comments, scripts and styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip_depth += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip_depth:
            self._skip_depth -= 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


def clean_text(value: str | None) -> str:
    """Strip HTML tags and entities and collapse whitespace (incl. NBSP) to single spaces."""
    if not value:
        return ""
    parser = _TextExtractor()
    parser.feed(value)
    parser.close()
    return _WS_RE.sub(" ", "".join(parser.parts).replace("\xa0", " ")).strip()


def _to_date(match: re.Match[str]) -> date | None:
    groups = match.groupdict()
    month = int(groups["mnum"]) if groups.get("mnum") else _MONTHS[groups["month"].lower()]
    year = int(groups["year"])
    if not 1990 <= year <= 2100:
        return None
    try:
        return date(year, month, int(groups["day"]))
    except ValueError:
        return None


def find_date(text: str) -> date | None:
    """Return the earliest valid date written in ``text`` (see module doc), else ``None``."""
    found: list[tuple[int, date]] = []
    for pattern in _PATTERNS:
        for match in pattern.finditer(text):
            parsed = _to_date(match)
            if parsed is not None:
                found.append((match.start(), parsed))
                break
    return min(found)[1] if found else None


def extract_date(*texts: str | None) -> str | None:
    """Return ``YYYY-MM-DD`` of the first date found in ``texts`` (checked in order)."""
    for text in texts:
        if text:
            parsed = find_date(text)
            if parsed is not None:
                return parsed.isoformat()
    return None
