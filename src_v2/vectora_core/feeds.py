"""RSS 2.0 and Atom parsing with the standard library.

Each parsed item is a plain dict (JSON-ready)::

    {"id": str, "title": str, "link": str, "summary": str,
     "published": "YYYY-MM-DD" | None, "source": str}

``id`` is a stable hash of the link (or of the title when there is no link), so the same
article seen twice - even from two feeds - gets the same id. ``published`` is the feed's own
date (``pubDate`` / ``published`` / ``updated``) converted to UTC; it is kept apart from the
``extracted_date`` that normalisation finds in the text.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from dateutil import parser as date_parser

ATOM_NS = "{http://www.w3.org/2005/Atom}"
CONTENT_NS = "{http://purl.org/rss/1.0/modules/content/}"
DC_NS = "{http://purl.org/dc/elements/1.1/}"


class FeedError(ValueError):
    """The document is not a parseable RSS 2.0 or Atom feed."""


def item_id(link: str, title: str) -> str:
    """Stable 16-hex id derived from the link, or the title when the link is empty."""
    basis = link.strip() or title.strip()
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:16]


def parse_date(value: str | None) -> str | None:
    """Parse an RFC 822 or ISO 8601 timestamp to a UTC ``YYYY-MM-DD``; ``None`` if unusable."""
    if not value or not value.strip():
        return None
    value = value.strip()
    parsed: datetime | None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        parsed = None
    if parsed is None:
        try:
            parsed = date_parser.isoparse(value)
        except (ValueError, OverflowError):
            try:
                parsed = date_parser.parse(value)
            except (ValueError, OverflowError):
                return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC)
    return parsed.date().isoformat()


def _text(element: ET.Element | None) -> str:
    """Text of an element including any nested markup (e.g. XHTML Atom content)."""
    if element is None:
        return ""
    if len(element):
        return "".join(element.itertext()).strip()
    return (element.text or "").strip()


def _make_item(title: str, link: str, summary: str, raw_date: str | None, source: str) -> dict:
    return {
        "id": item_id(link, title),
        "title": title,
        "link": link,
        "summary": summary,
        "published": parse_date(raw_date),
        "source": source,
    }


def _parse_rss(channel: ET.Element, source: str) -> list[dict[str, Any]]:
    items = []
    for node in channel.findall("item"):
        title = _text(node.find("title"))
        link = _text(node.find("link"))
        guid = node.find("guid")
        if not link and guid is not None and guid.get("isPermaLink", "true") != "false":
            link = _text(guid)
        summary = _text(node.find("description")) or _text(node.find(f"{CONTENT_NS}encoded"))
        raw_date = _text(node.find("pubDate")) or _text(node.find(f"{DC_NS}date"))
        if title or link:
            items.append(_make_item(title, link, summary, raw_date, source))
    return items


def _atom_link(entry: ET.Element) -> str:
    fallback = ""
    for link in entry.findall(f"{ATOM_NS}link"):
        href = (link.get("href") or "").strip()
        if link.get("rel", "alternate") == "alternate" and href:
            return href
        fallback = fallback or href
    return fallback


def _parse_atom(feed: ET.Element, source: str) -> list[dict[str, Any]]:
    items = []
    for entry in feed.findall(f"{ATOM_NS}entry"):
        title = _text(entry.find(f"{ATOM_NS}title"))
        link = _atom_link(entry)
        summary = _text(entry.find(f"{ATOM_NS}summary")) or _text(entry.find(f"{ATOM_NS}content"))
        raw_date = _text(entry.find(f"{ATOM_NS}published")) or _text(
            entry.find(f"{ATOM_NS}updated")
        )
        if title or link:
            items.append(_make_item(title, link, summary, raw_date, source))
    return items


def parse_feed(data: bytes | str, source: str) -> list[dict[str, Any]]:
    """Parse an RSS 2.0 or Atom document into items tagged with ``source``.

    Documents declaring entities are refused (entity-expansion attacks); feeds never need them.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if b"<!ENTITY" in raw:
        raise FeedError(f"{source}: feeds declaring XML entities are not accepted")
    try:
        # Entity declarations are refused above; expat does not fetch external resources.
        root = ET.fromstring(raw)  # noqa: S314
    except ET.ParseError as exc:
        raise FeedError(f"{source}: invalid XML: {exc}") from exc
    if root.tag == "rss":
        channel = root.find("channel")
        if channel is None:
            raise FeedError(f"{source}: RSS document without <channel>")
        return _parse_rss(channel, source)
    if root.tag == f"{ATOM_NS}feed":
        return _parse_atom(root, source)
    raise FeedError(f"{source}: unsupported feed root element {root.tag!r}")
