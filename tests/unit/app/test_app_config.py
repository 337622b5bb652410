"""Config loading from a local folder and from S3 under a release prefix."""

from __future__ import annotations

import re
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from vectora_core import config


def test_local_dir_loads_client_and_canonical(config_dir: Path) -> None:
    client = config.load_client_config("lai_weekly")
    assert client["client_profile"]["version"] == "7.0.0"
    assert "Alkermes" in config.load_scope("lai_companies")["terms"]
    assert config.load_ingestion_profile("default")["period_days"] == 7
    assert "{items_json}" in config.load_prompt("scoring/lai_scoring")["user_template"]
    assert all(s["url"].startswith("https://") for s in config.load_source_set("lai_sources"))


def test_local_dir_missing_file_names_it(config_dir: Path) -> None:
    with pytest.raises(config.ConfigError, match=r"clients/nobody\.yaml"):
        config.load_client_config("nobody")
    with pytest.raises(config.ConfigError, match="invalid scope name"):
        config.load_scope("../secrets")


def test_client_id_mismatch(config_dir: Path) -> None:
    (config_dir / "clients" / "other.yaml").write_text("client_profile: {client_id: lai_weekly}\n")
    with pytest.raises(config.ConfigError, match=r"client_profile\.client_id must be other"):
        config.load_client_config("other")


def test_nothing_configured(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(config.ConfigError, match="CONFIG_BUCKET"):
        config.load_canonical("scopes/lai_companies.yaml")


@pytest.mark.parametrize("prefix", ["releases/0.1.0+abc1234/", "releases/0.1.0+abc1234", ""])
def test_s3_with_prefix(clean_env: pytest.MonkeyPatch, prefix: str) -> None:
    clean_env.setenv("AWS_DEFAULT_REGION", "us-east-1")
    clean_env.setenv("CONFIG_BUCKET", "cfg")
    clean_env.setenv("CONFIG_PREFIX", prefix)
    stored = prefix.rstrip("/") + "/" if prefix else ""
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="cfg")
        s3.put_object(Bucket="cfg", Key=f"{stored}canonical/scopes/x.yaml", Body=b"terms: [a]\n")
        assert config.load_scope("x") == {"terms": ["a"]}
        missing = re.escape(f"s3://cfg/{stored}clients/y.yaml")
        with pytest.raises(config.ConfigError, match=missing):
            config.load_client_config("y")
