"""`vectora-release config check`: release.yaml, canonical/ and client configs, strictly.

Each failure exits 2 with one line naming the file and the key, before anything ships.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from vectora_release.cli import run_cli
from vectora_release.common.errors import ConfigError
from vectora_release.config.check import check_config

ROOT = Path(__file__).resolve().parents[3]
CLIENT = "client-config-examples/lai_weekly.yaml"


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("VECTORA_RELEASE_CONFIG", raising=False)


def run(project: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    result = run_cli(["--config", str(project / "release.yaml"), *args, "config", "check"])
    return result.code, result.out, result.err


def edit(project: Path, relpath: str, old: str, new: str) -> None:
    path = project / relpath
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {relpath}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    return lines[0]


# -- what passes ----------------------------------------------------------------------------
def test_the_repository_config_passes() -> None:
    report = check_config(ROOT / "release.yaml")
    assert report.release_yaml == "release.yaml"
    assert CLIENT in report.clients
    assert "canonical/scopes/lai_companies.yaml" in report.canonical
    assert not any(path.endswith(".md") for path in report.canonical)


def test_good_config_passes_with_a_one_line_summary(project: Path, capsys) -> None:
    code, out, err = run(project, capsys)
    assert code == 0, err
    assert out == ""
    assert err.strip().startswith("config ok: release.yaml,")
    assert len(err.strip().splitlines()) == 1


def test_json_output(project: Path, capsys) -> None:
    code, out, _ = run(project, capsys, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["ok"] is True
    assert data["clients"] == [CLIENT]


# -- what fails, naming file and key ----------------------------------------------------------
def test_duplicate_key_fails(project: Path, capsys) -> None:
    path = project / "canonical/scopes/lai_companies.yaml"
    path.write_text(path.read_text() + "label: Another label\n")
    code, _, err = run(project, capsys)
    assert code == 2
    line = error_line(err)
    assert "canonical/scopes/lai_companies.yaml" in line
    assert "duplicate key 'label'" in line


def test_invalid_yaml_fails(project: Path, capsys) -> None:
    edit(project, CLIENT, "  source_sets: [lai_sources]", "  source_sets: [lai_sources")
    code, _, err = run(project, capsys)
    assert code == 2
    line = error_line(err)
    assert CLIENT in line and "invalid YAML" in line


def test_client_with_a_bad_version_fails(project: Path, capsys) -> None:
    edit(project, CLIENT, 'version: "7.0.0"', 'version: "7.0"')
    code, _, err = run(project, capsys)
    assert code == 2
    line = error_line(err)
    assert f"{CLIENT}: client_profile.version:" in line
    assert "'7.0' is not a semantic version" in line


def test_client_version_written_as_a_number_fails(project: Path, capsys) -> None:
    edit(project, CLIENT, 'version: "7.0.0"', "version: 7.0")
    code, _, err = run(project, capsys)
    assert code == 2
    assert f"{CLIENT}: client_profile.version: expected a string" in error_line(err)


def test_client_naming_a_missing_scope_fails(project: Path, capsys) -> None:
    edit(project, CLIENT, "{scope: lai_molecules,", "{scope: lai_peptides,")
    code, _, err = run(project, capsys)
    assert code == 2
    line = error_line(err)
    assert f"{CLIENT}: scoring.scopes[2].scope:" in line
    assert "'lai_peptides' not found in canonical/scopes/" in line


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("tags: [lai_regulatory,", "tags: [lai_regulation,", "scoring.tags[0]"),
        ("source_sets: [lai_sources]", "source_sets: [lai_feeds]", "ingestion.source_sets[0]"),
        ("profile: default", "profile: daily", "ingestion.profile"),
        (
            "bedrock_prompt: scoring/lai_scoring",
            "bedrock_prompt: scoring/x",
            "scoring.bedrock_prompt",
        ),
        ("scopes: [exclusions]", "scopes: [exclusion]", "scoring.exclusions.scopes[0]"),
        ("scopes: [lai_clinical]", "scopes: [lai_trials]", "newsletter.sections[1].scopes[0]"),
    ],
)
def test_every_reference_to_canonical_is_checked(
    project: Path, capsys, old: str, new: str, key: str
) -> None:
    edit(project, CLIENT, old, new)
    code, _, err = run(project, capsys)
    assert code == 2
    assert f"{CLIENT}: {key}:" in error_line(err)


def test_client_id_must_be_a_slug_and_match_the_file_name(project: Path, capsys) -> None:
    edit(project, CLIENT, "client_id: lai_weekly", "client_id: LAI Weekly")
    code, _, err = run(project, capsys)
    assert code == 2
    assert f"{CLIENT}: client_profile.client_id: 'LAI Weekly' is not a slug" in error_line(err)
    edit(project, CLIENT, "client_id: LAI Weekly", "client_id: lai_daily")
    code, _, err = run(project, capsys)
    assert code == 2
    assert "differs from the file name" in error_line(err)


def test_client_without_scoring_scopes_fails(project: Path) -> None:
    text = (project / CLIENT).read_text()
    start = text.index("  scopes:\n    - {scope: lai_technologies")
    end = text.index("  # Tag scopes")
    (project / CLIENT).write_text(text[:start] + "  scopes: []\n" + text[end:])
    with pytest.raises(ConfigError, match=r"lai_weekly\.yaml: scoring\.scopes: must list"):
        check_config(project / "release.yaml")


@pytest.mark.parametrize(
    ("relpath", "old", "new", "expected"),
    [
        (
            "canonical/scopes/lai_clinical.yaml",
            "terms:",
            "words:",
            "canonical/scopes/lai_clinical.yaml: terms: missing required key",
        ),
        (
            "canonical/scopes/lai_clinical.yaml",
            "scope_id: lai_clinical",
            "scope_id: lai_trials",
            "canonical/scopes/lai_clinical.yaml: scope_id: 'lai_trials' differs from the file",
        ),
        (
            "canonical/sources/lai_sources.yaml",
            "url: https://endpts.com/feed/",
            "url: endpts.com/feed/",
            "canonical/sources/lai_sources.yaml: sources[1].url:",
        ),
        (
            "canonical/prompts/scoring/lai_scoring.yaml",
            "{items_json}",
            "{items}",
            "canonical/prompts/scoring/lai_scoring.yaml: user_template: must contain",
        ),
        (
            "canonical/ingestion_profiles/default.yaml",
            "period_days: 7",
            "period_days: seven",
            "canonical/ingestion_profiles/default.yaml: period_days: expected an integer",
        ),
    ],
)
def test_canonical_files_match_what_the_application_reads(
    project: Path, relpath: str, old: str, new: str, expected: str
) -> None:
    edit(project, relpath, old, new)
    with pytest.raises(ConfigError) as caught:
        check_config(project / "release.yaml")
    assert expected in caught.value.one_line()
    assert caught.value.exit_code == 2


def test_a_yaml_file_that_is_not_a_mapping_fails(project: Path) -> None:
    (project / "canonical/scopes/empty.yaml").write_text("")
    with pytest.raises(ConfigError, match=r"canonical/scopes/empty\.yaml: \(top level\)"):
        check_config(project / "release.yaml")


def test_an_invalid_release_yaml_fails_first(project: Path, capsys) -> None:
    edit(project, "release.yaml", "  tolerance: 0.05", "  tolerance: 0.05\n  tolerance: 0.1")
    code, _, err = run(project, capsys)
    assert code == 2
    assert "release.yaml" in error_line(err) and "duplicate key 'tolerance'" in err
