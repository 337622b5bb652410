"""vectora_core's AWS access: clients retry adaptively; only AWS and I/O errors are wrapped."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from vectora_core import aws, config, fetch, storage


def test_clients_retry_in_adaptive_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    for service in ("s3", "bedrock-runtime"):
        retries = aws.client(service).meta.config.retries
        # botocore counts the first attempt too: max_attempts 10 means 11 attempts in all.
        assert retries == {"mode": "adaptive", "total_max_attempts": 11}, service


class FailingS3:
    """An S3 client whose every call raises ``error``."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def get_object(self, **_: Any) -> Any:
        raise self.error

    def put_object(self, **_: Any) -> Any:
        raise self.error


NO_SUCH_KEY = ClientError({"Error": {"Code": "NoSuchKey", "Message": "gone"}}, "GetObject")
OFFLINE = EndpointConnectionError(endpoint_url="https://s3.eu-west-3.amazonaws.com")


@pytest.mark.parametrize("error", [NO_SUCH_KEY, OFFLINE], ids=["client-error", "offline"])
def test_aws_errors_become_the_modules_own_errors(error: Exception) -> None:
    s3 = FailingS3(error)
    with pytest.raises(storage.StorageError, match=r"cannot read s3://b/k"):
        storage.read_bytes("b", "k", s3=s3)
    with pytest.raises(storage.StorageError, match=r"cannot write s3://b/k"):
        storage.write_text("b", "k", "text", s3=s3)
    with pytest.raises(fetch.FetchError, match=r"s3://b/k"):
        fetch.fetch("s3://b/k", s3=s3)


def test_config_from_s3_names_the_missing_object(
    monkeypatch: pytest.MonkeyPatch, clean_env: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONFIG_BUCKET", "cfg")
    monkeypatch.setattr(aws, "client", lambda *_a, **_k: FailingS3(NO_SUCH_KEY))
    with pytest.raises(config.ConfigError, match=r"config object not found: s3://cfg/clients/x"):
        config.read_config_text("clients/x.yaml")
    monkeypatch.setattr(aws, "client", lambda *_a, **_k: FailingS3(OFFLINE))
    with pytest.raises(config.ConfigError, match=r"cannot read config object s3://cfg/"):
        config.read_config_text("clients/x.yaml")


def test_a_bug_is_not_reported_as_a_storage_failure(
    monkeypatch: pytest.MonkeyPatch, clean_env: pytest.MonkeyPatch
) -> None:
    bug = FailingS3(TypeError("get_object() missing 1 required keyword argument"))
    with pytest.raises(TypeError):
        storage.read_bytes("b", "k", s3=bug)
    with pytest.raises(TypeError):
        fetch.fetch("s3://b/k", s3=bug)
    monkeypatch.setenv("CONFIG_BUCKET", "cfg")
    monkeypatch.setattr(aws, "client", lambda *_a, **_k: bug)
    with pytest.raises(TypeError):
        config.read_config_text("clients/x.yaml")
