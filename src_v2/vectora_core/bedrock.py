"""Optional LLM scoring through Amazon Bedrock ``converse``, with rule-score fallback.

Used only when ``BEDROCK_MODEL_ID`` is non-empty and the event does not ask for
``"scoring": "rules"``. The prompt comes from ``canonical/prompts/<name>.yaml``::

    system: ...            # system prompt
    user_template: ...     # must contain {items_json}
    batch_size: 20
    inference: {max_tokens: 2000, temperature: 0}

The model must answer with a JSON array ``[{"id": "...", "score": 0-100}, ...]``. When Bedrock
fails (network, throttling, access: botocore errors), the prompt is unusable or the answer is
malformed (not such an array, missing ids), the rule scores are kept for every item and a
warning is logged; anything else is a bug and is raised. Exclusions found by the rules always
stay authoritative.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from vectora_core import aws

log = logging.getLogger(__name__)

_ARRAY_RE = re.compile(r"\[.*\]", re.DOTALL)


class BedrockScoringError(ValueError):
    """The prompt or the model's answer cannot be used; the rule scores are kept."""


@dataclass(frozen=True)
class PromptSpec:
    """The parts of a ``canonical/prompts/<name>.yaml`` prompt that scoring uses."""

    system: str
    user_template: str
    batch_size: int
    max_tokens: int
    temperature: float

    @classmethod
    def from_prompt(cls, prompt: dict[str, Any]) -> PromptSpec:
        try:
            inference = prompt.get("inference") or {}
            return cls(
                system=str(prompt.get("system", "")),
                user_template=str(prompt["user_template"]),
                batch_size=max(1, int(prompt.get("batch_size", 20))),
                max_tokens=int(inference.get("max_tokens", 2000)),
                temperature=float(inference.get("temperature", 0)),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BedrockScoringError(f"unusable prompt: {exc!r}") from exc


def _batch_prompt(spec: PromptSpec, batch: list[dict[str, Any]]) -> str:
    payload = [
        {"id": i["id"], "title": i.get("title", ""), "summary": i.get("summary", "")[:800]}
        for i in batch
    ]
    return spec.user_template.replace(
        "{items_json}", json.dumps(payload, ensure_ascii=False, indent=1)
    )


def _parse_scores(text: str, wanted: set[str]) -> dict[str, int]:
    match = _ARRAY_RE.search(text)
    if not match:
        raise BedrockScoringError("no JSON array in model answer")
    scores: dict[str, int] = {}
    try:
        for entry in json.loads(match.group(0)):
            scores[str(entry["id"])] = max(0, min(100, int(entry["score"])))
    except (ValueError, KeyError, TypeError) as exc:  # not JSON, or entries of another shape
        raise BedrockScoringError(f"malformed model answer: {exc!r}") from exc
    missing = wanted - scores.keys()
    if missing:
        raise BedrockScoringError(f"model answer lacks {len(missing)} item id(s)")
    return scores


def _converse(bedrock: Any, model_id: str, spec: PromptSpec, text: str) -> str:
    response = bedrock.converse(
        modelId=model_id,
        system=[{"text": spec.system}],
        messages=[{"role": "user", "content": [{"text": text}]}],
        inferenceConfig={"maxTokens": spec.max_tokens, "temperature": spec.temperature},
    )
    try:
        return "".join(c.get("text", "") for c in response["output"]["message"]["content"])
    except (KeyError, TypeError, AttributeError) as exc:
        raise BedrockScoringError(f"unexpected converse response: {exc!r}") from exc


def score_with_bedrock(
    scored: list[dict[str, Any]],
    prompt: dict[str, Any],
    model_id: str,
    region: str | None,
    threshold: int,
    client: Any | None = None,
) -> list[dict[str, Any]]:
    """Re-score rule-scored items with Bedrock; on a Bedrock or answer failure keep the rules'.

    Only the failures listed in the module docstring fall back; a bug is raised, not hidden.
    """
    try:
        spec = PromptSpec.from_prompt(prompt)
        bedrock = client or aws.client("bedrock-runtime", region=region)
        llm_scores: dict[str, int] = {}
        for start in range(0, len(scored), spec.batch_size):
            batch = scored[start : start + spec.batch_size]
            answer = _converse(bedrock, model_id, spec, _batch_prompt(spec, batch))
            llm_scores.update(_parse_scores(answer, {i["id"] for i in batch}))
    except (BedrockScoringError, *aws.errors()) as exc:
        log.warning("Bedrock scoring failed, keeping rule scores: %s", exc)
        return scored
    result = []
    for item in scored:
        if item.get("excluded_by"):
            result.append(item)
            continue
        score = llm_scores[item["id"]]
        result.append(
            {
                **item,
                "rule_score": item["score"],
                "score": score,
                "relevant": score >= threshold,
                "scoring_method": "bedrock",
            }
        )
    return result


def ping(model_id: str, region: str | None, client: Any | None = None) -> dict[str, Any]:
    """The smallest Converse call with the function's own role: does ``model_id`` answer here?

    The answer of a ``{"check": "bedrock"}`` event; never raises for a Bedrock error.
    """
    report: dict[str, Any] = {"check": "bedrock", "model_id": model_id, "region": region}
    if not model_id:
        return {**report, "status": "error", "error": "BEDROCK_MODEL_ID is empty"}
    try:
        bedrock = client or aws.client("bedrock-runtime", region=region)
        bedrock.converse(
            modelId=model_id,
            messages=[{"role": "user", "content": [{"text": "Answer ok."}]}],
            inferenceConfig={"maxTokens": 5, "temperature": 0},
        )
    except aws.errors() as exc:
        return {**report, "status": "error", "error": str(exc)}
    return {**report, "status": "ok"}
