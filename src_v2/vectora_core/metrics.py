"""Run metrics watched by operators."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def compute_metrics(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Summarise scored items.

    * ``items``: number of items; ``relevant``: number flagged relevant;
    * ``relevant_pct``: 100 * relevant / items;
    * ``avg_score``: mean score of the RELEVANT items (the quality of what is published);
      when no item is relevant, the mean over all items instead;
    * ``dated_pct``: 100 * items with a non-null ``extracted_date`` / items.

    Percentages and the average are rounded to 1 decimal; all are 0.0 for no items.
    """
    total = len(items)
    relevant = [i for i in items if i.get("relevant")]
    pool = relevant or list(items)
    dated = sum(1 for i in items if i.get("extracted_date"))

    def pct(part: int) -> float:
        return round(100.0 * part / total, 1) if total else 0.0

    avg = sum(float(i.get("score") or 0) for i in pool) / len(pool) if pool else 0.0
    return {
        "items": total,
        "relevant": len(relevant),
        "relevant_pct": pct(len(relevant)),
        "avg_score": round(avg, 1),
        "dated_pct": pct(dated),
    }
