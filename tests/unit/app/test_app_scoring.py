"""Rule-based scoring with the canonical LAI scopes and the lai_weekly client config."""

from __future__ import annotations

from pathlib import Path

import pytest
from vectora_core import config
from vectora_core.scoring import ScoringRules, score_item, score_items


@pytest.fixture
def rules(config_dir: Path) -> ScoringRules:
    return ScoringRules.from_client_config(config.load_client_config("lai_weekly"))


def test_rules_loaded_from_client_config(rules: ScoringRules) -> None:
    assert [s.scope_id for s in rules.scopes] == [
        "lai_technologies",
        "lai_companies",
        "lai_molecules",
    ]
    assert rules.threshold == 50
    assert rules.exclusions[0].scope_id == "exclusions"


def test_relevant_item_scores_high(rules: ScoringRules) -> None:
    item = {
        "title": "Alkermes wins approval for Aristada extended-release injection",
        "summary": "The long-acting injectable of aripiprazole lauroxil for schizophrenia.",
    }
    result = score_item(item, rules)
    # technologies 2 terms (50) + company (25) + molecules capped (25) + title bonus -> cap 100
    assert result["score"] == 100
    assert result["relevant"] is True
    assert result["matched"]["lai_companies"] == ["Alkermes"]
    assert result["excluded_by"] == []


def test_single_component_scores(rules: ScoringRules) -> None:
    tech_title = score_item({"title": "New in situ forming depots", "summary": ""}, rules)
    assert tech_title["matched"] == {"lai_technologies": ["depot", "in-situ forming"]}
    assert tech_title["score"] == 60 and tech_title["relevant"] is True
    company_only = score_item({"title": "Teva raises outlook", "summary": "Generics."}, rules)
    assert company_only["score"] == 35 and company_only["relevant"] is False
    body_only = score_item({"title": "CDMO expands", "summary": "PLGA microspheres"}, rules)
    assert body_only["score"] == 40 and body_only["relevant"] is False


def test_noise_item_scores_zero(rules: ScoringRules) -> None:
    result = score_item({"title": "Pfizer reshuffles board", "summary": "Vaccines."}, rules)
    assert result == {"score": 0, "relevant": False, "matched": {}, "tags": {}, "excluded_by": []}


def test_tag_scopes_are_recorded_without_points(rules: ScoringRules) -> None:
    assert [t.scope_id for t in rules.tags] == ["lai_regulatory", "lai_clinical", "lai_business"]
    tagged = score_item({"title": "FDA approval and phase 3 data", "summary": ""}, rules)
    assert tagged["score"] == 0  # tags alone earn neither points nor the title bonus
    assert tagged["tags"] == {
        "lai_regulatory": ["FDA", "approval"],
        "lai_clinical": ["phase 3", "data"],
    }


def test_exclusion_caps_score_and_blocks_relevance(rules: ScoringRules) -> None:
    item = {
        "title": "Zoetis launches long-acting injectable for dogs",
        "summary": "The veterinary depot is given monthly by Janssen alumni.",
    }
    result = score_item(item, rules)
    assert result["score"] == 10
    assert result["relevant"] is False
    assert result["excluded_by"] == ["veterinary"]


def test_word_boundaries(rules: ScoringRules) -> None:
    assert score_item({"title": "Laid-off staff at Tevatron", "summary": ""}, rules)["score"] == 0


def test_score_items_is_deterministic_and_tags_method(rules: ScoringRules) -> None:
    items = [{"id": "a", "title": "Indivior Sublocade depot", "summary": ""}]
    first, second = score_items(items, rules), score_items(items, rules)
    assert first == second
    assert first[0]["scoring_method"] == "rules"
    assert items[0].keys() == {"id", "title", "summary"}  # input not mutated
