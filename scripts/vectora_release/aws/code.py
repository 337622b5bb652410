"""Download the bytes Lambda holds for a function version or a layer version.

Lambda answers GetFunction and GetLayerVersion with ``Location``, a presigned HTTPS URL of the
zip. :class:`CodeRef` names what is wanted and where Lambda says it lies; a fetcher turns it
into bytes. The default one downloads ``Location``; the embedded AWS hands in its own (see
``docs/architecture.md``, "The code fetcher"). Every caller checks the bytes against
``CodeSha256`` (:func:`fetch_checked`).
"""

from __future__ import annotations

import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from ..common.digest import code_sha256
from ..common.errors import IntegrityError

FETCH_TIMEOUT = 120


@dataclass(frozen=True)
class CodeRef:
    """A function version (``kind`` "function") or a layer version (``kind`` "layer")."""

    kind: str
    region: str
    name: str
    qualifier: str  # function version ("$LATEST", "3"…) or layer version number
    location: str | None
    code_sha256: str


CodeFetcher = Callable[[CodeRef], bytes]


def download_location(ref: CodeRef) -> bytes:
    """The default fetcher: GET the presigned ``Location`` Lambda returned."""
    if not ref.location or not ref.location.startswith("https://"):
        raise IntegrityError(
            f"Lambda gave no downloadable location for {ref.kind} {ref.name}:{ref.qualifier}"
        )
    with urllib.request.urlopen(ref.location, timeout=FETCH_TIMEOUT) as response:  # noqa: S310
        return bytes(response.read())


def fetch_checked(fetcher: CodeFetcher, ref: CodeRef) -> bytes:
    """``fetcher(ref)``, refused unless its CodeSha256 is the one Lambda reported."""
    data = fetcher(ref)
    actual = code_sha256(data)
    if actual != ref.code_sha256:
        raise IntegrityError(
            f"{ref.kind} {ref.name}:{ref.qualifier}: downloaded bytes have CodeSha256 {actual}, "
            f"Lambda reports {ref.code_sha256}"
        )
    return data
