"""End-to-end run of the three v2 handlers against in-process moto S3."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

PREFIX = "releases/0.1.0+abc1234/"
CONFIG, DATA, NEWS = "vectora-config", "vectora-data", "vectora-newsletters"
EXPECTED_METRICS = {
    "items": 32,
    "relevant": 20,
    "relevant_pct": 62.5,
    "avg_score": 76.5,
    "dated_pct": 93.8,
}


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch, repo_root: Path) -> Iterator[Any]:
    """Moto S3: config bundle under PREFIX, fixture feeds in DATA_BUCKET/e2e/feeds/."""
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-3",
        "AWS_REGION": "eu-west-3",
        "ENV": "test",
        "LOG_LEVEL": "DEBUG",
        "PROJECT_NAME": "vectora-inbox",
        "CONFIG_BUCKET": CONFIG,
        "CONFIG_PREFIX": PREFIX,
        "DATA_BUCKET": DATA,
        "NEWSLETTERS_BUCKET": NEWS,
        "BEDROCK_MODEL_ID": "",
        "BEDROCK_REGION": "eu-west-3",
    }
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN", "CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-3")
        for bucket in (CONFIG, DATA, NEWS):
            client.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"}
            )
        for path in sorted((repo_root / "canonical").rglob("*.yaml")):
            key = f"{PREFIX}canonical/{path.relative_to(repo_root / 'canonical').as_posix()}"
            client.put_object(Bucket=CONFIG, Key=key, Body=path.read_bytes())
        for path in sorted((repo_root / "client-config-examples").glob("*.yaml")):
            client.put_object(
                Bucket=CONFIG, Key=f"{PREFIX}clients/{path.name}", Body=path.read_bytes()
            )
        for path in sorted((repo_root / "tests" / "fixtures" / "feeds").glob("*.xml")):
            client.put_object(Bucket=DATA, Key=f"e2e/feeds/{path.name}", Body=path.read_bytes())
        yield client


def _feeds(s3: Any) -> list[str]:
    listing = s3.list_objects_v2(Bucket=DATA, Prefix="e2e/feeds/")
    return [f"s3://{DATA}/{obj['Key']}" for obj in listing["Contents"]]


def _event(s3: Any, **extra: Any) -> dict[str, Any]:
    base = {"client_id": "lai_weekly", "period_days": 7, "run_date": "2026-11-16"}
    return {**base, "sources": _feeds(s3), "scoring": "rules", **extra}


def test_pipeline_end_to_end(s3: Any, handler_loader: Callable[[str], ModuleType]) -> None:
    ingest = handler_loader("ingest_v2").lambda_handler(_event(s3), None)
    assert ingest == {
        "status": "ok",
        "function": "ingest-v2",
        "client_id": "lai_weekly",
        "run_date": "2026-11-16",
        "items": 32,
        "key": "ingested/lai_weekly/2026/11/16/items.json",
        "sources": 3,
        "source_errors": 0,
        "dropped_out_of_window": 0,
    }
    stored = json.loads(s3.get_object(Bucket=DATA, Key=ingest["key"])["Body"].read())
    assert stored["period"] == {"start": "2026-11-09", "end": "2026-11-16", "days": 7}
    assert stored["sources"] == ["cns_science_digest", "lai_press_releases", "pharma_wire"]
    assert len(stored["items"]) == 32

    scored = handler_loader("normalize_score_v2").lambda_handler(_event(s3), None)
    assert scored["status"] == "ok" and scored["function"] == "normalize-score-v2"
    assert scored["key"] == "curated/lai_weekly/2026/11/16/items.json"
    assert scored["scoring_method"] == "rules"
    assert scored["metrics"] == EXPECTED_METRICS
    curated = json.loads(s3.get_object(Bucket=DATA, Key=scored["key"])["Body"].read())
    assert sum(1 for i in curated["items"] if i["relevant"]) == 20
    assert all("<" not in i["summary"] for i in curated["items"])

    news = handler_loader("newsletter_v2").lambda_handler(_event(s3), None)
    assert news["status"] == "ok" and news["function"] == "newsletter-v2"
    assert news["key"] == "lai_weekly/2026/11/16/newsletter.md"
    assert news["metrics"] == EXPECTED_METRICS
    body = s3.get_object(Bucket=NEWS, Key=news["key"])["Body"].read().decode("utf-8")
    assert body.startswith("# LAI Weekly — 2026-11-16")
    headings = [line for line in body.splitlines() if line.startswith("## ")]
    assert headings == [
        "## TL;DR",
        "## Regulatory & policy",
        "## Clinical & science",
        "## Business & manufacturing",
    ]
    assert body.count("\n### ") == 20  # 6 + 6 + 8 relevant items, none capped
    assert "vectora-core 0+source (commit unknown)" in body


def test_period_window_drops_old_items(
    s3: Any, handler_loader: Callable[[str], ModuleType]
) -> None:
    event = _event(s3, run_date="2026-11-20", period_days=7)  # window 13..20 Nov
    result = handler_loader("ingest_v2").lambda_handler(event, None)
    assert result["key"] == "ingested/lai_weekly/2026/11/20/items.json"
    assert result["items"] + result["dropped_out_of_window"] == 32
    assert result["items"] == 13


def test_missing_client_config_names_the_key(
    s3: Any, handler_loader: Callable[[str], ModuleType]
) -> None:
    from vectora_core.config import ConfigError

    handler = handler_loader("ingest_v2")
    with pytest.raises(ConfigError, match=r"clients/nobody\.yaml"):
        handler.lambda_handler(_event(s3, client_id="nobody"), None)


def test_healthcheck_under_release_prefix(
    s3: Any, handler_loader: Callable[[str], ModuleType]
) -> None:
    result = handler_loader("newsletter_v2").lambda_handler({"healthcheck": True}, None)
    assert result["status"] == "ok"
    assert result["config_prefix"] == PREFIX
    assert result["env"] == "test"


def test_bedrock_unavailable_falls_back_to_rules(
    s3: Any, handler_loader: Callable[[str], ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    from vectora_core import aws as core_aws

    made = core_aws.client

    def denied(**_: Any) -> None:  # what Bedrock answers when the model is not enabled
        error = {"Error": {"Code": "AccessDeniedException", "Message": "no access to model"}}
        raise ClientError(error, "Converse")

    def client(service: str, region: str | None = None) -> Any:
        new = made(service, region)
        if service == "bedrock-runtime":
            new.meta.events.register("before-parameter-build.bedrock-runtime.Converse", denied)
        return new

    monkeypatch.setattr(core_aws, "client", client)
    monkeypatch.setenv("BEDROCK_MODEL_ID", "anthropic.claude-3-haiku-20240307-v1:0")
    handler_loader("ingest_v2").lambda_handler(_event(s3), None)
    auto = {k: v for k, v in _event(s3).items() if k != "scoring"}
    scored = handler_loader("normalize_score_v2").lambda_handler(auto, None)
    assert scored["scoring_method"] == "rules"
    assert scored["metrics"] == EXPECTED_METRICS
