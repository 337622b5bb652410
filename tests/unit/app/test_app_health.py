"""Health check answers of the three handlers and env validation."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import pytest
from vectora_core import aws
from vectora_core.health import MissingEnvError

FULL_ENV = {
    "ENV": "dev",
    "LOG_LEVEL": "INFO",
    "PROJECT_NAME": "vectora-inbox",
    "CONFIG_BUCKET": "cfg",
    "DATA_BUCKET": "data",
    "NEWSLETTERS_BUCKET": "news",
    "BEDROCK_MODEL_ID": "",
    "BEDROCK_REGION": "us-east-1",
    "CONFIG_PREFIX": "releases/0.1.0+abc1234/",
}
HANDLERS = [
    ("ingest_v2", "ingest-v2"),
    ("normalize_score_v2", "normalize-score-v2"),
    ("newsletter_v2", "newsletter-v2"),
]


@pytest.fixture(autouse=True)
def no_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """A health check must not create any AWS client."""

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("health check touched AWS")

    monkeypatch.setattr(aws, "client", forbidden)


@pytest.mark.parametrize(("folder", "function"), HANDLERS)
def test_all_env_present(
    folder: str,
    function: str,
    clean_env: pytest.MonkeyPatch,
    handler_loader: Callable[[str], ModuleType],
) -> None:
    for name, value in FULL_ENV.items():
        clean_env.setenv(name, value)
    result = handler_loader(folder).lambda_handler({"healthcheck": True}, None)
    assert result == {
        "status": "ok",
        "function": function,
        "core_version": "0+source",
        "commit": "unknown",
        "env": "dev",
        "missing_env": [],
        "config_prefix": "releases/0.1.0+abc1234/",
    }


@pytest.mark.parametrize(
    ("folder", "removed", "expected_missing"),
    [
        ("ingest_v2", ["DATA_BUCKET"], ["DATA_BUCKET"]),
        ("ingest_v2", ["NEWSLETTERS_BUCKET", "BEDROCK_REGION"], []),
        ("normalize_score_v2", ["BEDROCK_REGION", "ENV"], ["BEDROCK_REGION", "ENV"]),
        ("normalize_score_v2", ["BEDROCK_MODEL_ID"], ["BEDROCK_MODEL_ID"]),
        ("newsletter_v2", ["NEWSLETTERS_BUCKET"], ["NEWSLETTERS_BUCKET"]),
    ],
)
def test_missing_env(
    folder: str,
    removed: list[str],
    expected_missing: list[str],
    clean_env: pytest.MonkeyPatch,
    handler_loader: Callable[[str], ModuleType],
) -> None:
    for name, value in FULL_ENV.items():
        if name not in removed:
            clean_env.setenv(name, value)
    result = handler_loader(folder).lambda_handler({"healthcheck": True}, None)
    assert result["missing_env"] == expected_missing
    assert result["status"] == ("error" if expected_missing else "ok")
    assert result["env"] == ("dev" if "ENV" not in removed else None)


def test_blank_bucket_counts_as_missing(
    clean_env: pytest.MonkeyPatch, handler_loader: Callable[[str], ModuleType]
) -> None:
    for name, value in FULL_ENV.items():
        clean_env.setenv(name, value)
    clean_env.setenv("CONFIG_BUCKET", " ")
    clean_env.delenv("CONFIG_PREFIX")
    result = handler_loader("ingest_v2").lambda_handler({"healthcheck": True}, None)
    assert result["missing_env"] == ["CONFIG_BUCKET"]
    assert result["config_prefix"] == ""


def test_normal_event_with_missing_env_raises_naming_it(
    clean_env: pytest.MonkeyPatch, handler_loader: Callable[[str], ModuleType]
) -> None:
    for name, value in FULL_ENV.items():
        if name != "NEWSLETTERS_BUCKET":
            clean_env.setenv(name, value)
    handler = handler_loader("newsletter_v2")
    with pytest.raises(MissingEnvError, match="NEWSLETTERS_BUCKET") as info:
        handler.lambda_handler({"client_id": "lai_weekly"}, None)
    assert info.value.names == ["NEWSLETTERS_BUCKET"]
