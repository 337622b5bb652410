"""Optional LLM scoring through Amazon Bedrock ``converse``, with rule-score fallback.

Used only when ``BEDROCK_MODEL_ID`` is non-empty and the event does not ask for
``"scoring": "rules"``. The prompt comes from ``canonical/prompts/<name>.yaml``::

    system: ...            # system prompt
    user_template: ...     # must contain {items_json}
    batch_size: 20
    inference: {max_tokens: 2000, temperature: 0}

The model must answer with a JSON array ``[{"id": "...", "score": 0-100}, ...]``. On any error
(network, throttling, malformed answer, missing ids) the rule scores are kept for every item
and a warning is logged. Exclusions found by the rules always stay authoritative.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from vectora_core import aws

log = logging.getLogger(__name__)

_ARRAY_RE = re.compile(r"\[.*\]", re.DOTALL)


def _batch_prompt(prompt: dict[str, Any], batch: list[dict[str, Any]]) -> str:
    payload = [
        {"id": i["id"], "title": i.get("title", ""), "summary": i.get("summary", "")[:800]}
        for i in batch
    ]
    template = str(prompt["user_template"])
    return template.replace("{items_json}", json.dumps(payload, ensure_ascii=False, indent=1))


def _parse_scores(text: str, wanted: set[str]) -> dict[str, int]:
    match = _ARRAY_RE.search(text)
    if not match:
        raise ValueError("no JSON array in model answer")
    scores: dict[str, int] = {}
    for entry in json.loads(match.group(0)):
        scores[str(entry["id"])] = max(0, min(100, int(entry["score"])))
    missing = wanted - scores.keys()
    if missing:
        raise ValueError(f"model answer lacks {len(missing)} item id(s)")
    return scores


def _converse(bedrock: Any, model_id: str, prompt: dict[str, Any], text: str) -> str:
    inference = prompt.get("inference") or {}
    response = bedrock.converse(
        modelId=model_id,
        system=[{"text": str(prompt.get("system", ""))}],
        messages=[{"role": "user", "content": [{"text": text}]}],
        inferenceConfig={
            "maxTokens": int(inference.get("max_tokens", 2000)),
            "temperature": float(inference.get("temperature", 0)),
        },
    )
    return "".join(c.get("text", "") for c in response["output"]["message"]["content"])


def score_with_bedrock(
    scored: list[dict[str, Any]],
    prompt: dict[str, Any],
    model_id: str,
    region: str | None,
    threshold: int,
    client: Any | None = None,
) -> list[dict[str, Any]]:
    """Re-score rule-scored items with Bedrock; return the rule-scored items on any failure."""
    try:
        bedrock = client or aws.client("bedrock-runtime", region=region)
        size = max(1, int(prompt.get("batch_size", 20)))
        llm_scores: dict[str, int] = {}
        for start in range(0, len(scored), size):
            batch = scored[start : start + size]
            answer = _converse(bedrock, model_id, prompt, _batch_prompt(prompt, batch))
            llm_scores.update(_parse_scores(answer, {i["id"] for i in batch}))
    except Exception as exc:  # noqa: BLE001 - by design any failure falls back to rules
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
