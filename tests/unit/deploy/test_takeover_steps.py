"""The takeover's plan steps and recorded checks, on plain data: no secret is ever shown."""

from __future__ import annotations

from vectora_release.checks.recorded import config_differences, configuration, masked_env
from vectora_release.deploy.executor import DisplayOnlyExecutor
from vectora_release.deploy.steps import (
    DeleteLayerVersion,
    LayerRef,
    Plan,
    PublishLayerVersionFromSnapshot,
    PutObjectFromSnapshot,
    UpdateFunctionCodeFromSnapshot,
    UpdateFunctionConfigurationFromSnapshot,
)

SECRET = "hunter2-not-shown"


def test_restore_steps_describe_themselves_without_bytes_or_env_values() -> None:
    steps = (
        PublishLayerVersionFromSnapshot(
            "vectora-inbox-yaml-fix-dev", "arn:aws:lambda:r:1:layer:x:3", "c2hh", "d", (), b"Z" * 9
        ),
        UpdateFunctionCodeFromSnapshot("fn-dev", "c2hh", b"zip bytes"),
        UpdateFunctionConfigurationFromSnapshot(
            "fn-dev", "h.f", "python3.11", 128, 3, (LayerRef("arn:old"),), {"API_TOKEN": SECRET},
            ("env API_TOKEN",),
        ),
        PutObjectFromSnapshot("b", "clients/x.yaml", "ab" * 32, None, b"yaml"),
        DeleteLayerVersion("vectora-inbox-yaml-fix-dev", 1),
    )  # fmt: skip
    shown = DisplayOnlyExecutor()
    shown.run(Plan("dev", "snapshot-x", "", steps, {}), None)
    text = "\n".join(shown.shown) + "\n".join(repr(s) for s in steps)
    assert SECRET not in text and "zip bytes" not in text and "ZZZ" not in text
    assert shown.shown[0] == "PublishLayerVersion vectora-inbox-yaml-fix-dev (saved as 3)"
    assert shown.shown[-1] == "DeleteLayerVersion vectora-inbox-yaml-fix-dev:1"


def test_configuration_masks_secret_values_and_differences_name_keys_only() -> None:
    conf = {
        "Handler": "h.f",
        "Runtime": "python3.12",
        "MemorySize": 128,
        "Timeout": 3,
        "Layers": [{"Arn": "arn:l:1"}],
        "Environment": {"Variables": {"API_TOKEN": SECRET, "LOG_LEVEL": "INFO"}},
        "CodeSha256": "c2hh",
        "Version": "4",
    }
    saved = configuration(conf)
    assert saved["Environment"] == {"API_TOKEN": "****", "LOG_LEVEL": "INFO"}
    assert saved["MaskedKeys"] == ["API_TOKEN"] and saved["Layers"] == ["arn:l:1"]
    other = {**conf, "Environment": {"Variables": {"API_TOKEN": "changed", "LOG_LEVEL": "DEBUG"}}}
    # a masked value cannot be compared (it is never saved): only the visible ones differ
    assert config_differences(saved, configuration(other)) == ["env LOG_LEVEL"]
    assert config_differences(saved, configuration({**conf, "Runtime": "python3.11"})) == [
        "Runtime"
    ]
    assert masked_env({"DB_PASSWORD": "x", "BEDROCK_MAX_TOKENS": "9"}) == (
        {"DB_PASSWORD": "****", "BEDROCK_MAX_TOKENS": "9"},
        ["DB_PASSWORD"],
    )
