"""Output: human lines and text tables to stderr, ``--json`` to stdout, Markdown tables."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from .jsonio import dumps_json


def say(message: str = "") -> None:
    """Human output goes to stderr so stdout stays machine-readable."""
    print(message, file=sys.stderr, flush=True)


def emit_json(data: Any) -> None:
    sys.stdout.write(dumps_json(data).decode("utf-8"))
    sys.stdout.flush()


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain text table with aligned columns."""
    cells = [[str(h) for h in headers], *[["" if c is None else str(c) for c in r] for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """The same table in GitHub-flavoured Markdown (for ``$GITHUB_STEP_SUMMARY``)."""

    def cell(value: Any) -> str:
        return "" if value is None else str(value).replace("|", "\\|")

    out = [
        "| " + " | ".join(cell(h) for h in headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
    ]
    out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(out)
