"""Fetch feed documents from ``http(s)://``, ``file://`` and ``s3://bucket/key`` URLs."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from vectora_core import aws

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_USER_AGENT = "VectoraInbox/2 (+newsletter engine)"


class FetchError(RuntimeError):
    """A source URL could not be fetched; the message names the URL."""


def _check_size(url: str, data: bytes, max_bytes: int) -> bytes:
    if len(data) > max_bytes:
        raise FetchError(f"{url}: document larger than {max_bytes} bytes")
    return data


def _fetch_http(url: str, timeout: float, max_bytes: int, user_agent: str) -> bytes:
    # Only reached for http(s) URLs: fetch() dispatches on the scheme.
    request = urllib.request.Request(url, headers={"User-Agent": user_agent})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return _check_size(url, response.read(max_bytes + 1), max_bytes)
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise FetchError(f"{url}: {exc}") from exc


def _fetch_file(url: str, max_bytes: int) -> bytes:
    parsed = urlparse(url)
    path = Path(unquote(parsed.path))
    try:
        with path.open("rb") as handle:
            return _check_size(url, handle.read(max_bytes + 1), max_bytes)
    except OSError as exc:
        raise FetchError(f"{url}: {exc}") from exc


def _fetch_s3(url: str, max_bytes: int, s3: Any | None) -> bytes:
    parsed = urlparse(url)
    bucket, key = parsed.netloc, parsed.path.lstrip("/")
    if not bucket or not key:
        raise FetchError(f"{url}: expected s3://bucket/key")
    s3 = s3 or aws.client("s3")
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except (*aws.errors(), OSError) as exc:
        raise FetchError(f"{url}: {exc}") from exc
    return _check_size(url, body, max_bytes)


def fetch(
    url: str,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    user_agent: str = DEFAULT_USER_AGENT,
    s3: Any | None = None,
) -> bytes:
    """Return the raw bytes at ``url``; raise :class:`FetchError` on any failure."""
    scheme = urlparse(url).scheme.lower()
    if scheme in ("http", "https"):
        return _fetch_http(url, timeout, max_bytes, user_agent)
    if scheme == "file":
        return _fetch_file(url, max_bytes)
    if scheme == "s3":
        return _fetch_s3(url, max_bytes, s3)
    raise FetchError(f"{url}: unsupported URL scheme {scheme!r}")
