"""Vectora Inbox core: shared code for the v2 Lambda functions.

The release build writes ``_build_info.json`` (``{"version": ..., "commit": ...}``) next to
this file inside the ``vectora-core`` layer. It is never committed to the source tree; when it
is absent (tests, local runs) :func:`build_info` reports a source checkout.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

BUILD_INFO_PATH = Path(__file__).with_name("_build_info.json")
SOURCE_BUILD_INFO: dict[str, str] = {"version": "0+source", "commit": "unknown"}

_log = logging.getLogger(__name__)


def build_info(path: Path | None = None) -> dict[str, str]:
    """Return ``{"version", "commit"}`` from the build file, or the source-checkout default."""
    target = path if path is not None else BUILD_INFO_PATH
    if not target.is_file():
        return dict(SOURCE_BUILD_INFO)
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        _log.warning("Unreadable build info %s: %s", target, exc)
        return dict(SOURCE_BUILD_INFO)
    if not isinstance(data, dict):
        return dict(SOURCE_BUILD_INFO)
    return {
        "version": str(data.get("version") or SOURCE_BUILD_INFO["version"]),
        "commit": str(data.get("commit") or SOURCE_BUILD_INFO["commit"]),
    }


__version__ = build_info()["version"]

__all__ = ["__version__", "build_info"]
