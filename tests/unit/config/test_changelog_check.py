"""`vectora-release config changelog`: what ships changed ⇒ a new Unreleased entry.

Each test works in a committed temporary copy of the project (the `project` fixture) on a
feature branch, compared with `main` the way a pull request is compared with origin/main.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from vectora_release.cli import run_cli
from vectora_release.common.errors import VersionError
from vectora_release.config.changelog import changelog_error, check_changelog


def _shared_conftest():
    """tests/conftest.py as a module (its `git` helper), whatever the rootdir or import mode."""
    path = Path(__file__).resolve().parents[2] / "conftest.py"
    spec = importlib.util.spec_from_file_location("_vectora_tests_conftest", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


git = _shared_conftest().git
METRICS = "src_v2/vectora_core/metrics.py"


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("VECTORA_RELEASE_CONFIG", raising=False)


@pytest.fixture
def branch(project: Path) -> Path:
    """The project on a feature branch started from main."""
    git(project, "checkout", "-q", "-b", "feature")
    return project


def change(project: Path, relpath: str, line: str = "# changed\n", message: str = "x") -> None:
    path = project / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text((path.read_text() if path.exists() else "") + line)
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", message)


def add_entry(project: Path, entry: str, commit: bool = True) -> None:
    path = project / "CHANGELOG.md"
    text = path.read_text()
    marker = "## [Unreleased]\n"
    assert marker in text
    path.write_text(text.replace(marker, f"{marker}\n### Fixed\n- {entry}\n", 1))
    if commit:
        git(project, "commit", "-q", "-am", "changelog")


def cli(project: Path, capsys, *args: str) -> tuple[int, str, str]:
    result = run_cli(["--config", str(project / "release.yaml"), *args])
    return result.code, result.out, result.err


# -- the rule ---------------------------------------------------------------------------------
def test_changing_src_v2_without_an_entry_is_an_error(branch: Path) -> None:
    change(branch, METRICS)
    report = check_changelog(branch, "main")
    assert report.changed == (METRICS,)
    assert not report.ok
    error = changelog_error(branch, "main")
    assert isinstance(error, VersionError) and error.exit_code == 2
    assert "no new entry under '## [Unreleased]'" in error.one_line()
    assert "src_v2/" in error.one_line() and METRICS in error.one_line()


def test_with_a_new_unreleased_entry_it_passes(branch: Path) -> None:
    change(branch, METRICS)
    add_entry(branch, "Metrics count undated items once.")
    report = check_changelog(branch, "main")
    assert report.ok and changelog_error(branch, "main") is None
    assert report.new_entries == ("Metrics count undated items once.",)


def test_an_uncommitted_entry_counts_too(branch: Path) -> None:
    change(branch, "canonical/scopes/lai_companies.yaml", "  - Pfizer\n")
    add_entry(branch, "Pfizer in LAI companies.", commit=False)
    assert changelog_error(branch, "main") is None


def test_only_docs_changed_needs_no_entry(branch: Path) -> None:
    change(branch, "docs/operations.md", "# Runbook\n")
    change(branch, "README.md", "More words.\n")
    report = check_changelog(branch, "main")
    assert report.changed == ()
    assert report.ok and not report.needs_entry


@pytest.mark.parametrize(
    "relpath",
    [
        "canonical/scopes/lai_clinical.yaml",
        "client-config-examples/lai_weekly.yaml",
        "scripts/vectora_release/new_module.py",
    ],
)
def test_every_watched_folder_counts(branch: Path, relpath: str) -> None:
    change(branch, relpath)
    assert changelog_error(branch, "main") is not None


def test_an_untracked_new_file_counts(branch: Path) -> None:
    (branch / "src_v2" / "vectora_core" / "brand_new.py").write_text("X = 1\n")
    report = check_changelog(branch, "main")
    assert report.changed == ("src_v2/vectora_core/brand_new.py",)
    assert not report.ok


def test_entries_already_on_the_base_do_not_count(branch: Path) -> None:
    """Rewording nothing and adding nothing: the existing entries belong to main."""
    change(branch, METRICS)
    path = branch / "CHANGELOG.md"
    path.write_text(path.read_text().replace("### Added", "### Added\n", 1))
    git(branch, "commit", "-q", "-am", "whitespace only")
    assert changelog_error(branch, "main") is not None


def test_only_changes_since_the_merge_base_count(project: Path) -> None:
    """main moved on with its own change and entry; the branch only touched docs."""
    git(project, "checkout", "-q", "-b", "feature")
    git(project, "checkout", "-q", "main")
    change(project, METRICS)
    add_entry(project, "On main.")
    git(project, "checkout", "-q", "feature")
    change(project, "docs/notes.md", "notes\n")
    report = check_changelog(project, "main")
    assert report.changed == () and report.ok


def test_unknown_base_is_bad_input(branch: Path) -> None:
    with pytest.raises(Exception, match="unknown git revision 'origin/nope'") as caught:
        check_changelog(branch, "origin/nope")
    assert getattr(caught.value, "exit_code", None) == 2


# -- through the command line -------------------------------------------------------------------
def test_cli_exits_2_with_a_one_line_hint(branch: Path, capsys) -> None:
    change(branch, METRICS)
    code, out, err = cli(branch, capsys, "config", "changelog", "--base", "main")
    assert code == 2
    assert out == ""
    (line,) = [x for x in err.splitlines() if x.startswith("error: ")]
    assert "CHANGELOG.md: no new entry" in line and "add a line under ## [Unreleased]" in line


def test_cli_passes_and_reports_json(branch: Path, capsys) -> None:
    change(branch, METRICS)
    add_entry(branch, "Metrics fixed.")
    code, out, err = cli(branch, capsys, "--json", "config", "changelog", "--base", "main")
    assert code == 0, err
    data = json.loads(out)
    assert data["ok"] is True and data["changed"] == [METRICS]
    assert data["new_entries"] == ["Metrics fixed."]


def test_cli_needs_exactly_one_of_base_and_notes(project: Path, capsys) -> None:
    code, _, err = cli(project, capsys, "config", "changelog")
    assert code == 2 and "exactly one of --base" in err


def test_release_notes_are_the_versions_section(project: Path, capsys) -> None:
    add_entry(project, "Something for the notes.")
    code, _, _ = cli(project, capsys, "version", "bump", "minor")
    assert code == 0
    version = (project / "VERSION").read_text().strip()
    code, out, err = cli(project, capsys, "config", "changelog", "--notes", f"v{version}")
    assert code == 0, err
    assert "- Something for the notes." in out
    assert "## [" not in out
    code, _, err = cli(project, capsys, "config", "changelog", "--notes", "v9.9.9")
    assert code == 2 and "has no notes for 9.9.9" in err
