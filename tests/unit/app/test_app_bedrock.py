"""Optional Bedrock scoring: success path with a fake client and fallback on failure."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from vectora_core.bedrock import score_with_bedrock

PROMPT = {"system": "sys", "user_template": "Score:\n{items_json}", "batch_size": 2}
SCORED = [
    {"id": "a", "title": "A", "summary": "", "score": 75, "relevant": True, "excluded_by": []},
    {"id": "b", "title": "B", "summary": "", "score": 20, "relevant": False, "excluded_by": []},
    {"id": "c", "title": "C", "summary": "", "score": 10, "relevant": False, "excluded_by": ["x"]},
]


class FakeBedrock:
    """Answers converse() with fixed scores and records the calls."""

    def __init__(self, scores: dict[str, int]) -> None:
        self.scores = scores
        self.calls: list[dict[str, Any]] = []

    def converse(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        text = kwargs["messages"][0]["content"][0]["text"]
        ids = [i["id"] for i in json.loads(text.split("\n", 1)[1])]
        answer = json.dumps([{"id": i, "score": self.scores[i]} for i in ids])
        return {"output": {"message": {"content": [{"text": "Sure:\n" + answer}]}}}


class BrokenBedrock:
    """Fails as botocore does when Bedrock throttles (after its retries)."""

    def converse(self, **kwargs: Any) -> dict[str, Any]:
        error = {"Error": {"Code": "ThrottlingException", "Message": "Too many requests"}}
        raise ClientError(error, "Converse")


class Answering:
    """Answers converse() with a fixed response, whatever the items."""

    def __init__(self, response: Any) -> None:
        self.response = response

    def converse(self, **kwargs: Any) -> Any:
        return self.response


def text(answer: str) -> dict[str, Any]:
    return {"output": {"message": {"content": [{"text": answer}]}}}


def test_bedrock_scores_replace_rules_except_exclusions() -> None:
    fake = FakeBedrock({"a": 40, "b": 90, "c": 99})
    result = score_with_bedrock(SCORED, PROMPT, "model-x", "us-east-1", 50, client=fake)
    assert [(i["score"], i["relevant"]) for i in result] == [(40, False), (90, True), (10, False)]
    assert result[1]["scoring_method"] == "bedrock" and result[1]["rule_score"] == 20
    assert len(fake.calls) == 2  # batch_size 2 -> two calls for three items
    assert fake.calls[0]["modelId"] == "model-x"


def test_fallback_to_rules_on_error(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        result = score_with_bedrock(SCORED, PROMPT, "m", "us-east-1", 50, client=BrokenBedrock())
    assert result == SCORED
    assert "ThrottlingException" in caplog.text


def test_fallback_when_answer_misses_ids() -> None:
    class Partial(FakeBedrock):
        def converse(self, **kwargs: Any) -> dict[str, Any]:
            return {"output": {"message": {"content": [{"text": '[{"id": "a", "score": 5}]'}]}}}

    assert score_with_bedrock(SCORED, PROMPT, "m", None, 50, client=Partial({})) == SCORED


def test_fallback_when_bedrock_cannot_be_reached() -> None:
    class Unreachable:
        def converse(self, **kwargs: Any) -> dict[str, Any]:
            raise EndpointConnectionError(endpoint_url="https://bedrock-runtime.us-east-1")

    assert score_with_bedrock(SCORED, PROMPT, "m", None, 50, client=Unreachable()) == SCORED


@pytest.mark.parametrize(
    "response",
    [
        text("no scores today"),
        text("[1, 2, 3]"),
        text('[{"id": "a", "score": null}, {"id": "b", "score": 1}]'),
        text('[{"id": "a", "score": "high"}, {"id": "b", "score": 1}]'),
        text("[not json]"),
        {"output": {}},
        {"output": {"message": {"content": "a string"}}},
    ],
    ids=["no-array", "numbers", "null-score", "word-score", "not-json", "no-message", "no-list"],
)
def test_fallback_when_the_answer_is_malformed(response: Any) -> None:
    client = Answering(response)
    assert score_with_bedrock(SCORED, PROMPT, "m", None, 50, client=client) == SCORED


@pytest.mark.parametrize(
    "prompt",
    [{"system": "sys"}, {**PROMPT, "batch_size": "many"}, {**PROMPT, "inference": "hot"}],
    ids=["no-template", "bad-batch-size", "bad-inference"],
)
def test_fallback_when_the_prompt_is_unusable(prompt: dict[str, Any]) -> None:
    fake = FakeBedrock({"a": 40, "b": 90, "c": 99})
    assert score_with_bedrock(SCORED, prompt, "m", None, 50, client=fake) == SCORED
    assert fake.calls == []


def test_a_bug_is_raised_not_hidden_behind_the_fallback() -> None:
    class Buggy:
        def converse(self, **kwargs: Any) -> dict[str, Any]:
            raise TypeError("converse() got an unexpected keyword argument 'modelID'")

    with pytest.raises(TypeError, match="unexpected keyword argument"):
        score_with_bedrock(SCORED, PROMPT, "m", None, 50, client=Buggy())


def test_a_bug_in_the_items_is_raised() -> None:
    broken = [{**SCORED[0], "summary": None}]  # normalisation always sets a string
    with pytest.raises(TypeError):
        score_with_bedrock(broken, PROMPT, "m", None, 50, client=FakeBedrock({"a": 1}))
