"""SSM references in env vars are resolved at run time, cached per container, never shown."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from vectora_core import parameters
from vectora_core.health import handle

SECRET = "tok-very-secret-4f1c9a"
NAME = "/vectora-inbox/dev/api-token"


@pytest.fixture
def ssm(clean_env: pytest.MonkeyPatch) -> Iterator[Any]:
    """An SSM (moto) holding the SecureString NAME; every SSM call is counted."""
    clean_env.setenv("AWS_REGION", "eu-west-3")
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        clean_env.setenv(key, "testing")
    clean_env.delenv("AWS_ENDPOINT_URL", raising=False)
    parameters.clear_cache()
    with mock_aws():
        client = boto3.client("ssm", region_name="eu-west-3")
        client.put_parameter(Name=NAME, Value=SECRET, Type="SecureString")
        calls: list[str] = []
        client.meta.events.register(
            "before-call.ssm.*", lambda model, **_: calls.append(model.name)
        )
        client.calls = calls  # type: ignore[attr-defined]
        yield client
    parameters.clear_cache()


def test_a_reference_is_resolved_once_per_container(ssm: Any) -> None:
    assert parameters.resolve("API_TOKEN", f"ssm:{NAME}", ssm) == SECRET
    assert parameters.resolve("API_TOKEN", f"ssm:{NAME}", ssm) == SECRET
    assert ssm.calls == ["GetParameter"]  # cached after the first
    assert parameters.resolve("LOG_LEVEL", "INFO", ssm) == "INFO"  # a plain value stays
    assert ssm.calls == ["GetParameter"]


def test_env_value_resolves_without_putting_the_value_in_the_environment(
    ssm: Any, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("API_TOKEN", f"ssm:{NAME}")
    assert parameters.env_value("API_TOKEN", ssm) == SECRET
    assert os.environ["API_TOKEN"] == f"ssm:{NAME}"
    assert parameters.references() == {"API_TOKEN": f"ssm:{NAME}"}
    assert parameters.env_value("NOT_SET", ssm) is None


def test_a_missing_parameter_names_the_reference_never_a_value(ssm: Any) -> None:
    with pytest.raises(parameters.ParameterError) as caught:
        parameters.resolve("API_TOKEN", "ssm:/vectora-inbox/dev/gone", ssm)
    assert str(caught.value) == (
        "API_TOKEN: cannot read SSM parameter /vectora-inbox/dev/gone: ParameterNotFound"
    )


def test_a_run_resolves_every_reference_first_and_logs_no_value(
    ssm: Any, clean_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """handle() gives its step resolved values; a reference that does not resolve fails the
    run before the step, naming it; no log line holds the value."""
    for key in ("ENV", "LOG_LEVEL", "PROJECT_NAME"):
        clean_env.setenv(key, "dev" if key == "ENV" else "DEBUG" if key == "LOG_LEVEL" else "p")
    clean_env.setenv("API_TOKEN", f"ssm:{NAME}")
    seen: dict[str, str] = {}

    def step(request: Any, env: dict[str, str]) -> dict[str, Any]:
        seen.update(env)
        seen["token"] = parameters.env_value("API_TOKEN") or ""
        return {"items": 0}

    caplog.set_level(logging.DEBUG)
    event = {"client_id": "lai_weekly", "run_date": "2026-11-16"}
    with mock_aws():  # the handler's own clients: the same moto backend
        result = handle("ingest-v2", ("ENV", "API_TOKEN"), step, event)
        assert result["status"] == "ok"
        assert seen == {"ENV": "dev", "API_TOKEN": SECRET, "token": SECRET}
        assert SECRET not in caplog.text and SECRET not in str(result)

        parameters.clear_cache()
        clean_env.setenv("OTHER_TOKEN", "ssm:/vectora-inbox/dev/missing")
        seen.clear()
        with pytest.raises(parameters.ParameterError, match=r"OTHER_TOKEN: .*missing"):
            handle("ingest-v2", ("ENV",), step, event)
        assert seen == {}  # the step never ran
