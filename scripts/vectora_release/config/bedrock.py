"""Which regions may call a Bedrock model id: the geography of cross-region inference profiles.

A model id that starts with a geography (``eu.``, ``us.``, ``apac.``…) names a cross-region
inference profile, callable only from the regions of that geography; ``global.`` profiles and
plain model ids (``anthropic.…``) are not checked here.
"""

from __future__ import annotations

MODEL_VAR, REGION_VAR = "BEDROCK_MODEL_ID", "BEDROCK_REGION"

# profile prefix → region name prefixes it may be called from
GEOGRAPHIES: dict[str, tuple[str, ...]] = {
    "us": ("us-east-", "us-west-"),
    "us-gov": ("us-gov-",),
    "eu": ("eu-",),
    "apac": ("ap-",),
    "jp": ("ap-northeast-1", "ap-northeast-3"),
    "au": ("ap-southeast-2", "ap-southeast-4"),
    "ca": ("ca-",),
}


def geography_problem(model_id: str, region: str) -> str | None:
    """Why ``model_id`` cannot be called from ``region`` (None: it can, or it is not checked)."""
    geography, dot, rest = model_id.partition(".")
    if not dot or not rest or geography not in GEOGRAPHIES or not region:
        return None
    if region.startswith(GEOGRAPHIES[geography]):
        return None
    return (
        f"{MODEL_VAR} {model_id!r} is a {geography!r} cross-region inference profile, callable "
        f"only from {geography} regions, but {REGION_VAR} is {region!r}"
    )
