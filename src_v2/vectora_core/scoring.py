"""Deterministic rule-based relevance scoring against a client's scopes.

For every scope listed in the client's ``scoring.scopes`` the item earns ``points`` for its
first matching term plus ``extra_points`` per further distinct term, capped at
``max_points``. ``title_bonus`` is added once when any scope term appears in the title. The
total is capped at 100. An item matching any exclusion term is capped at
``exclusions.max_score`` and is never relevant. ``relevant`` means ``score >= threshold``.
Scopes listed under ``scoring.tags`` earn no points: their matches are only recorded in
``tags`` (the newsletter uses them to pick sections, e.g. regulatory vs clinical news).

Matching is case-insensitive on whole words; hyphens/dashes count as spaces
(``in-situ`` == ``in situ``) and a plural ``s``/``es`` suffix is accepted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from vectora_core import config

_DASHES_RE = re.compile(r"[-\u2010\u2011\u2012\u2013\u2014/]")
_WS_RE = re.compile(r"\s+")


def normalise_for_match(text: str) -> str:
    """Lower-case, dashes to spaces, whitespace collapsed."""
    return _WS_RE.sub(" ", _DASHES_RE.sub(" ", text.lower())).strip()


@lru_cache(maxsize=4096)
def _term_pattern(term: str) -> re.Pattern[str]:
    body = re.escape(normalise_for_match(term)).replace(r"\ ", " ")
    return re.compile(rf"(?<![a-z0-9]){body}(?:e?s)?(?![a-z0-9])")


@dataclass(frozen=True)
class ScopeRule:
    """Terms of one scope and the points they are worth."""

    scope_id: str
    terms: tuple[str, ...]
    points: int = 0
    extra_points: int = 0
    max_points: int = 100

    def matches(self, text: str) -> list[str]:
        """Distinct terms of this scope found in already-normalised ``text``."""
        return [t for t in self.terms if _term_pattern(t).search(text)]

    def points_for(self, matched: int) -> int:
        """Points earned for ``matched`` distinct terms."""
        if not matched:
            return 0
        return min(self.max_points, self.points + self.extra_points * (matched - 1))


@dataclass(frozen=True)
class ScoringRules:
    """Everything needed to score items for one client."""

    scopes: tuple[ScopeRule, ...]
    exclusions: tuple[ScopeRule, ...] = ()
    tags: tuple[ScopeRule, ...] = ()
    threshold: int = 50
    title_bonus: int = 0
    excluded_max_score: int = 10

    @classmethod
    def from_client_config(
        cls,
        client_cfg: dict[str, Any],
        load_scope: Callable[[str], dict[str, Any]] = config.load_scope,
    ) -> ScoringRules:
        """Build rules from ``client_cfg['scoring']``, loading scope term lists."""
        scoring = client_cfg.get("scoring") or {}
        scopes = []
        for spec in scoring.get("scopes") or []:
            scope_id = str(spec["scope"])
            scopes.append(
                ScopeRule(
                    scope_id=scope_id,
                    terms=tuple(load_scope(scope_id)["terms"]),
                    points=int(spec.get("points", 0)),
                    extra_points=int(spec.get("extra_points", 0)),
                    max_points=int(spec.get("max_points", 100)),
                )
            )
        if not scopes:
            raise config.ConfigError("client config: scoring.scopes must list at least one scope")
        excl = scoring.get("exclusions") or {}
        exclusions = tuple(
            ScopeRule(scope_id=str(s), terms=tuple(load_scope(str(s))["terms"]))
            for s in excl.get("scopes") or []
        )
        tags = tuple(
            ScopeRule(scope_id=str(s), terms=tuple(load_scope(str(s))["terms"]))
            for s in scoring.get("tags") or []
        )
        return cls(
            scopes=tuple(scopes),
            exclusions=exclusions,
            tags=tags,
            threshold=int(scoring.get("threshold", 50)),
            title_bonus=int(scoring.get("title_bonus", 0)),
            excluded_max_score=int(excl.get("max_score", 10)),
        )


def score_item(item: dict[str, Any], rules: ScoringRules) -> dict[str, Any]:
    """Score one item; return ``{score, relevant, matched, tags, excluded_by}``."""
    title = normalise_for_match(item.get("title") or "")
    text = f"{title} {normalise_for_match(item.get('summary') or '')}"
    matched: dict[str, list[str]] = {}
    score = 0
    in_title = False
    for scope in rules.scopes:
        terms = scope.matches(text)
        if terms:
            matched[scope.scope_id] = terms
            score += scope.points_for(len(terms))
            in_title = in_title or bool(scope.matches(title))
    if in_title:
        score += rules.title_bonus
    score = min(100, score)
    excluded_by = sorted({t for rule in rules.exclusions for t in rule.matches(text)})
    if excluded_by:
        score = min(score, rules.excluded_max_score)
    return {
        "score": score,
        "relevant": not excluded_by and score >= rules.threshold,
        "matched": matched,
        "tags": {rule.scope_id: terms for rule in rules.tags if (terms := rule.matches(text))},
        "excluded_by": excluded_by,
    }


def score_items(items: Iterable[dict[str, Any]], rules: ScoringRules) -> list[dict[str, Any]]:
    """Return copies of ``items`` with the rule score fields and ``scoring_method: rules``."""
    return [{**item, **score_item(item, rules), "scoring_method": "rules"} for item in items]
