"""vectora-release: the Git-driven release system of Vectora Inbox."""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    """``__version__``, read from the installed metadata on first use.

    ``importlib.metadata`` costs ~20 ms to import, which every command would pay at start-up
    although only ``--version`` needs it (``docs/architecture.md``, start-up).
    """
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("vectora-release")
    except PackageNotFoundError:  # running from a checkout without installation
        value = "0+unknown"
    globals()["__version__"] = value
    return value
