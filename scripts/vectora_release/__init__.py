"""vectora-release: the Git-driven release system of Vectora Inbox."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vectora-release")
except PackageNotFoundError:  # running from a checkout without installation
    __version__ = "0+unknown"

__all__ = ["__version__"]
