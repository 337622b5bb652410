"""Build: sources → reproducible zips and a manifest. Touches no AWS."""

from __future__ import annotations

from .builders import build_release

__all__ = ["build_release"]
