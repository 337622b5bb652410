"""An EU inference profile called from a US region: refused by config check, build and deploy,
before anything is built or changed (exit 2, naming both keys)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import CliResult, Released

EU_PROFILE = "BEDROCK_MODEL_ID: eu.anthropic.claude-sonnet-4-5-20250929-v1:0"


def test_the_eu_model_with_us_east_1_is_refused_everywhere(
    released: Released, cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    config = released.variant(
        "us-bedrock",
        lambda text: text.replace("  BEDROCK_REGION: eu-west-3", "  BEDROCK_REGION: us-east-1"),
    )
    assert EU_PROFILE in config.read_text(encoding="utf-8")
    commit = released.r1.manifest.commit
    for args in (
        ("config", "check"),
        ("build", "--out", str(tmp_path / "dist")),
        ("deploy", "--env", "dev", "--commit", commit),
    ):
        result = cli(*args, config=config)
        assert result.code == 2, (args, result.err)
        assert "BEDROCK_MODEL_ID 'eu.anthropic" in result.err, result.err
        assert "BEDROCK_REGION is 'us-east-1'" in result.err
        assert result.calls.calls == [], (args, result.calls.calls)
    assert not (tmp_path / "dist").exists()
    assert cli("config", "check").code == 0  # the project's own pair is callable
