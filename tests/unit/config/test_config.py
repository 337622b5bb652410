"""release.yaml → typed model; every refusal names the file and the dotted key."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from vectora_release.common.errors import ConfigError
from vectora_release.config import yamlio
from vectora_release.config.model import ReleaseConfig, load_config, parse_config

RELEASE_YAML = Path(__file__).resolve().parents[3] / "release.yaml"
_BASE = yamlio.load(RELEASE_YAML, "release.yaml")


def base() -> dict[str, Any]:
    """A fresh copy of the project's release.yaml, parsed."""
    return copy.deepcopy(_BASE)


def parse(data: dict[str, Any]) -> ReleaseConfig:
    return parse_config(data, RELEASE_YAML)


def refused(edit: Callable[[dict[str, Any]], object]) -> ConfigError:
    """The ConfigError that release.yaml with ``edit`` applied is refused with."""
    data = base()
    edit(data)
    with pytest.raises(ConfigError) as caught:
        parse(data)
    error = caught.value
    assert error.exit_code == 2
    assert error.message.startswith("release.yaml: "), error.message
    return error


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "release.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# -- the project's own file ---------------------------------------------------------------------
def test_the_project_release_yaml_loads() -> None:
    config = load_config(RELEASE_YAML)
    assert config.project == "vectora-inbox"
    assert config.root == RELEASE_YAML.parent
    assert list(config.layers) == ["vectora-core", "common-deps"]
    assert config.layers["vectora-core"].package == "src_v2/vectora_core"
    assert config.layers["common-deps"].requirements == "src_v2/requirements.txt"
    assert list(config.functions) == ["ingest-v2", "normalize-score-v2", "newsletter-v2"]
    assert config.functions["normalize-score-v2"].memory == 1024
    assert list(config.environments) == ["dev", "stage", "prod"]
    assert config.env("stage").requires_validated_in == "dev"
    assert config.env("prod").requires_validated_in == "stage"
    assert config.env("dev").requires_validated_in is None
    assert config.required_env("newsletter-v2") == (
        "ENV",
        "CONFIG_BUCKET",
        "DATA_BUCKET",
        "LOG_LEVEL",
        "PROJECT_NAME",
        "NEWSLETTERS_BUCKET",
    )


def test_env_placeholder_is_replaced_per_environment() -> None:
    config = parse(base())
    for env in ("dev", "stage", "prod"):
        values = config.env(env).variables
        assert values["ENV"] == env
        assert values["CONFIG_BUCKET"] == f"vectora-inbox-config-{env}"
        assert values["NEWSLETTERS_BUCKET"] == f"vectora-inbox-newsletters-{env}"
        assert values["LOG_LEVEL"] == "INFO"
        assert "{env}" not in "".join(values.values())
    declared = config.declared_env("normalize-score-v2", "stage")
    assert declared["BEDROCK_REGION"] == "eu-west-3"
    assert "NEWSLETTERS_BUCKET" not in declared


def test_environment_variables_override_shared_ones() -> None:
    data = base()
    data["environments"]["prod"]["variables"] = {"LOG_LEVEL": "WARNING", "DATA_BUCKET": "d-{env}"}
    config = parse(data)
    assert config.env("prod").variables["LOG_LEVEL"] == "WARNING"
    assert config.env("prod").variables["DATA_BUCKET"] == "d-prod"
    assert config.env("dev").variables["LOG_LEVEL"] == "INFO"


# -- unknown keys, wrong types, missing values --------------------------------------------------
def test_unknown_top_level_key() -> None:
    error = refused(lambda d: d.update(colour="blue"))
    assert error.message.startswith("release.yaml: colour: unknown key")


def test_unknown_key_in_a_function() -> None:
    error = refused(lambda d: d["functions"]["ingest-v2"].update(memroy=512))
    assert error.message.startswith("release.yaml: functions.ingest-v2.memroy: unknown key")
    assert "memory" in error.message  # the allowed keys are listed


def test_unknown_key_in_an_environment() -> None:
    error = refused(lambda d: d["environments"]["dev"].update(regoin="eu-west-3"))
    assert error.message.startswith("release.yaml: environments.dev.regoin: unknown key")


@pytest.mark.parametrize("value", ["big", True, 512.5, None])
def test_wrong_type_for_memory(value: object) -> None:
    error = refused(lambda d: d["functions"]["ingest-v2"].update(memory=value))
    assert error.message.startswith("release.yaml: functions.ingest-v2.memory: ")
    expected = "missing required key" if value is None else "expected an integer"
    assert expected in error.message


def test_memory_and_timeout_within_lambda_bounds() -> None:
    error = refused(lambda d: d["functions"]["ingest-v2"].update(memory=64))
    assert error.message.startswith("release.yaml: functions.ingest-v2.memory: must be between")
    error = refused(lambda d: d["functions"]["newsletter-v2"].update(timeout=901))
    assert error.message.startswith("release.yaml: functions.newsletter-v2.timeout: ")


def test_missing_contract_value() -> None:
    error = refused(lambda d: d["variables"].pop("LOG_LEVEL"))
    assert error.message.startswith(
        "release.yaml: environments.dev.variables.LOG_LEVEL: missing contract value"
    )


def test_missing_function_specific_value() -> None:
    error = refused(lambda d: d["variables"].pop("BEDROCK_MODEL_ID"))
    assert "environments.dev.variables.BEDROCK_MODEL_ID" in error.message
    assert "normalize-score-v2" in error.message


def test_missing_required_key() -> None:
    error = refused(lambda d: d["functions"]["ingest-v2"].pop("handler"))
    assert error.message.startswith("release.yaml: functions.ingest-v2.handler: missing")


def test_unknown_layer_in_a_function() -> None:
    error = refused(lambda d: d["functions"]["ingest-v2"].update(layers=["vectora-core", "x"]))
    assert error.message.startswith("release.yaml: functions.ingest-v2.layers[1]: unknown layer")


def test_layer_needs_exactly_one_source() -> None:
    error = refused(lambda d: d["layers"]["vectora-core"].update(requirements="r.txt"))
    assert error.message.startswith("release.yaml: layers.vectora-core: give exactly one")


def test_unsupported_schema_version_and_runtime() -> None:
    error = refused(lambda d: d.update(schema_version=2))
    assert error.message.startswith("release.yaml: schema_version: unsupported")
    error = refused(lambda d: d.update(runtime="python2.7"))
    assert error.message.startswith("release.yaml: runtime: unsupported runtime")


def test_unknown_requires_validated_in() -> None:
    error = refused(lambda d: d["environments"]["stage"].update(requires_validated_in="qa"))
    assert error.message.startswith(
        "release.yaml: environments.stage.requires_validated_in: unknown environment 'qa'"
    )


def test_environment_name_must_be_lower_case() -> None:
    error = refused(lambda d: d["environments"].update(Prod={"region": "eu-west-3"}))
    assert error.message.startswith("release.yaml: environments.Prod: ")


def test_config_prefix_is_reserved_for_the_deploy() -> None:
    error = refused(lambda d: d["functions"]["ingest-v2"].update(env=["CONFIG_PREFIX"]))
    assert error.message.startswith("release.yaml: functions.ingest-v2.env: CONFIG_PREFIX")


@pytest.mark.parametrize("key", ["BAD-NAME", "1ST", "X", "has space"])
def test_env_var_names_lambda_accepts(key: str) -> None:
    error = refused(lambda d: d["variables"].update({key: "value"}))
    assert error.message.startswith(f"release.yaml: variables.{key}: env-var names")


def test_env_var_name_that_is_not_a_string() -> None:
    error = refused(lambda d: d["variables"].update({1: "AKIAABCDEFGHIJKLMNOP"}))
    assert error.message.startswith("release.yaml: variables.1: env-var names")


# -- secrets ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("where", "key", "value"),
    [
        ("variables", "AWS_KEY_ID", "AKIAABCDEFGHIJKLMNOP"),
        ("variables", "NOTE", "key ASIAABCDEFGHIJKLMNOP inside text"),
        ("variables", "API_TOKEN", "abc"),
        ("variables", "GITHUB_TOKEN", "ghp_x"),
        ("variables", "DB_PASSWORD", "hunter2"),
        ("variables", "OPENAI_API_KEY", "sk-1"),
        ("environments.prod.variables", "SMTP_SECRET", "s3cr3t"),
    ],
)
def test_secret_literal_is_refused_with_an_ssm_hint(where: str, key: str, value: str) -> None:
    def edit(data: dict[str, Any]) -> None:
        if where == "variables":
            data["variables"][key] = value
        else:
            data["environments"]["prod"]["variables"] = {key: value}

    error = refused(edit)
    assert error.message.startswith(f"release.yaml: {where}.{key}: looks like a secret")
    assert error.hint is not None and "SSM" in error.hint and "ssm:/" in error.hint
    assert value not in error.one_line(), "the refusal must not echo the secret"


def test_ssm_reference_is_accepted() -> None:
    data = base()
    data["variables"]["API_TOKEN"] = "ssm:/vectora-inbox/dev/api-token"
    data["environments"]["prod"]["variables"] = {"DB_PASSWORD": "ssm:/vectora-inbox/prod/db"}
    config = parse(data)
    assert config.env("dev").variables["API_TOKEN"] == "ssm:/vectora-inbox/dev/api-token"
    assert config.env("prod").variables["DB_PASSWORD"] == "ssm:/vectora-inbox/prod/db"


def test_token_counts_are_not_secrets() -> None:
    data = base()
    data["variables"]["BEDROCK_MAX_TOKENS"] = 4096
    config = parse(data)
    assert config.env("dev").variables["BEDROCK_MAX_TOKENS"] == "4096"


def test_empty_secret_named_value_is_not_a_secret() -> None:
    data = base()
    data["variables"]["API_TOKEN"] = ""
    assert parse(data).env("dev").variables["API_TOKEN"] == ""


# -- YAML ---------------------------------------------------------------------------------------
def test_duplicate_top_level_key_names_the_line(tmp_path: Path) -> None:
    text = RELEASE_YAML.read_text(encoding="utf-8") + "project: other\n"
    line = text.count("\n")
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert caught.value.message == f"release.yaml:{line}: invalid YAML: duplicate key 'project'"
    assert caught.value.exit_code == 2


def test_duplicate_nested_key_names_the_line(tmp_path: Path) -> None:
    lines = RELEASE_YAML.read_text(encoding="utf-8").splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line.strip() == "memory: 512")
    lines.insert(first + 1, "    memory: 256\n")
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, "".join(lines)))
    assert caught.value.message == (
        f"release.yaml:{first + 2}: invalid YAML: duplicate key 'memory'"
    )


def test_invalid_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, "project: vectora-inbox\nfunctions: [ingest-v2\nlayers: {}\n")
    with pytest.raises(ConfigError, match=r"^release\.yaml:\d+: invalid YAML: ") as caught:
        load_config(path)
    assert caught.value.exit_code == 2


def test_unhashable_key_is_a_yaml_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^release\.yaml:1: invalid YAML: .*unhashable"):
        load_config(write(tmp_path, "? [a, b]\n: 1\n"))


def test_yaml_that_is_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^release\.yaml: \(top level\): expected a mapping"):
        load_config(write(tmp_path, "- a\n- b\n"))


def test_unsafe_yaml_tags_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_config(write(tmp_path, "project: !!python/object/apply:os.system ['true']\n"))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^nowhere\.yaml: file not found"):
        load_config(tmp_path / "nowhere.yaml")


def test_errors_name_the_file_they_come_from(tmp_path: Path) -> None:
    text = RELEASE_YAML.read_text(encoding="utf-8").replace("memory: 512", "memory: big", 1)
    path = tmp_path / "release-staging.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.message.startswith("release-staging.yaml: functions.ingest-v2.memory: ")


def test_lock_settings_default_and_are_read() -> None:
    data = base()
    data.pop("lock", None)
    config = parse(data)
    assert (config.lock_lease_seconds, config.lock_stale_after_seconds) == (900, 60)
    assert config.lock_heartbeat_seconds == 5
    data["lock"] = {"lease_seconds": 1200, "stale_after_seconds": 90, "heartbeat_seconds": 10}
    config = parse(data)
    assert (config.lock_lease_seconds, config.lock_stale_after_seconds) == (1200, 90)
    assert config.lock_heartbeat_seconds == 10


@pytest.mark.parametrize(
    ("lock", "where"),
    [
        ({"heartbeat_seconds": 30}, "lock.heartbeat_seconds"),  # > a third of 60 s
        ({"stale_after_seconds": 1000}, "lock.stale_after_seconds"),  # > the 900 s lease
        ({"stale_after_seconds": 0}, "lock.stale_after_seconds"),
        ({"lease": 10}, "lock"),
    ],
)
def test_lock_settings_that_cannot_work_are_refused(lock: dict[str, int], where: str) -> None:
    error = refused(lambda data: data.__setitem__("lock", lock))
    assert where in error.message


# -- Bedrock: the model's geography must match the region it is called in --------------------
def test_an_eu_inference_profile_called_from_a_us_region_is_refused_naming_both_keys() -> None:
    error = refused(lambda d: d["variables"].update(BEDROCK_REGION="us-east-1"))
    assert "BEDROCK_MODEL_ID 'eu.anthropic" in error.message
    assert "BEDROCK_REGION is 'us-east-1'" in error.message
    assert error.message.startswith("release.yaml: environments.dev.variables:")


@pytest.mark.parametrize(
    ("model", "region"),
    [
        ("eu.anthropic.claude-sonnet-4-5-20250929-v1:0", "eu-west-3"),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "us-west-2"),
        ("apac.anthropic.claude-sonnet-4-5-20250929-v1:0", "ap-southeast-1"),
        ("anthropic.claude-3-haiku-20240307-v1:0", "us-east-1"),  # no profile: not checked
        ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", "eu-west-3"),
        ("", "eu-west-3"),  # rules only
    ],
)
def test_matching_or_unchecked_model_region_pairs_load(model: str, region: str) -> None:
    parse(_with(base(), BEDROCK_MODEL_ID=model, BEDROCK_REGION=region))


@pytest.mark.parametrize(
    ("model", "region"),
    [
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "eu-west-3"),
        ("apac.anthropic.claude-sonnet-4-5-20250929-v1:0", "eu-central-1"),
    ],
)
def test_mismatched_geographies_are_refused(model: str, region: str) -> None:
    error = refused(lambda d: _with(d, BEDROCK_MODEL_ID=model, BEDROCK_REGION=region))
    assert "BEDROCK_MODEL_ID" in error.message and "BEDROCK_REGION" in error.message


def test_one_environment_overriding_the_region_is_named() -> None:
    error = refused(
        lambda d: d["environments"]["prod"].update(variables={"BEDROCK_REGION": "us-east-1"})
    )
    assert "environments.prod.variables" in error.message


def test_min_soak_and_e2e_namespace_are_read() -> None:
    data = base()
    data["environments"]["prod"]["min_soak"] = "14d"
    data["environments"]["prod"]["min_checks"] = 20
    config = parse(data)
    assert config.env("prod").min_soak_seconds == 14 * 86400
    assert config.env("prod").min_checks == 20
    assert config.env("dev").min_soak_seconds == 0
    assert config.e2e.namespace == "_release_check" and config.e2e.min_items >= 11
    assert config.e2e.scoring == "bedrock" and config.e2e.fallback == "rules"
    error = refused(lambda d: d["validation"]["e2e"].update(namespace="lai_weekly"))
    assert "validation.e2e.namespace" in error.message
    error = refused(lambda d: d["environments"]["prod"].update(min_soak="two weeks"))
    assert "environments.prod.min_soak" in error.message


def _with(data: dict[str, Any], **variables: str) -> dict[str, Any]:
    data["variables"].update(variables)
    return data
