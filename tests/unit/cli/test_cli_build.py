"""`vectora-release build` and `version` through the command line: exit codes and output."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from vectora_release.build.manifest import load, verify_files
from vectora_release.cli import run_cli


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("VECTORA_RELEASE_CONFIG", raising=False)


def cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the CLI: (exit code, stdout, stderr)."""
    result = run_cli(argv)
    return result.code, result.out, result.err


def head(project: Path) -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True, check=True
    ).stdout.strip()


# -- build --------------------------------------------------------------------------------------
def test_build_writes_zips_and_manifest_and_reports_on_stderr(
    project: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "dist"
    code, stdout, stderr = cli(
        ["--config", str(project / "release.yaml"), "build", "--out", str(out)], capsys
    )
    assert code == 0, stderr
    assert stdout == "", "human output goes to stderr"
    manifest = load(out)
    verify_files(manifest, out)
    assert manifest.commit == head(project)
    assert f"built 0.1.0+{manifest.commit[:7]} from {manifest.commit}" in stderr
    assert "dirty" not in stderr
    for artifact in manifest.artifacts:
        assert artifact.file in stderr
    assert f"manifest: {out / 'manifest.json'}" in stderr


def test_build_json_prints_the_manifest_on_stdout(project: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "dist"
    code, stdout, _ = cli(
        ["--json", "--config", str(project / "release.yaml"), "build", "--out", str(out)], capsys
    )
    assert code == 0
    assert json.loads(stdout) == json.loads((out / "manifest.json").read_bytes())


def test_build_defaults_to_dist_in_the_working_directory(
    project: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    code, _, stderr = cli(["build"], capsys)
    assert code == 0, stderr
    assert (project / "dist" / "manifest.json").is_file()
    assert load(project / "dist").dirty is False, "dist/ is ignored by git"


def test_build_version_override_names_the_files(project: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "dist"
    code, _, stderr = cli(
        [
            "--config",
            str(project / "release.yaml"),
            "build",
            "--out",
            str(out),
            "--version",
            "1.2.3-rc.1",
        ],
        capsys,
    )
    assert code == 0, stderr
    manifest = load(out)
    assert manifest.version == "1.2.3-rc.1"
    assert {a.file for a in manifest.artifacts} == {
        f"{name}-1.2.3-rc.1.zip"
        for name in (
            "vectora-core",
            "common-deps",
            "ingest-v2",
            "normalize-score-v2",
            "newsletter-v2",
            "config-bundle",
        )
    }
    assert sorted(p.name for p in out.glob("*.zip")) == sorted(a.file for a in manifest.artifacts)


def test_dirty_build_says_it_cannot_be_published(project: Path, tmp_path: Path, capsys) -> None:
    (project / "scratch.txt").write_text("uncommitted\n")
    out = tmp_path / "dist"
    code, _, stderr = cli(
        ["--config", str(project / "release.yaml"), "build", "--out", str(out)], capsys
    )
    assert code == 0
    assert "(dirty tree: cannot be published)" in stderr
    assert load(out).dirty is True


# -- version ------------------------------------------------------------------------------------
def test_version_show(project: Path, capsys) -> None:
    config = ["--config", str(project / "release.yaml")]
    assert cli([*config, "version", "show"], capsys)[:2] == (0, "0.1.0\n")
    code, stdout, _ = cli(["--json", *config, "version", "show"], capsys)
    assert (code, json.loads(stdout)) == (0, {"version": "0.1.0"})


def test_version_check_accepts_the_matching_tag(project: Path, capsys) -> None:
    code, _, stderr = cli(
        ["--config", str(project / "release.yaml"), "version", "check", "--tag", "v0.1.0"], capsys
    )
    assert code == 0
    assert "v0.1.0 matches VERSION" in stderr


@pytest.mark.parametrize("tag", ["0.1.0", "v0.1.1", "v0.1"])
def test_version_check_refuses_other_tags(project: Path, capsys, tag: str) -> None:
    code, _, stderr = cli(
        ["--config", str(project / "release.yaml"), "version", "check", "--tag", tag], capsys
    )
    assert code == 2
    assert stderr.startswith(f"error: tag {tag!r} does not match VERSION 0.1.0")


def test_version_bump_rewrites_version_and_changelog(project: Path, capsys) -> None:
    before = (project / "CHANGELOG.md").read_text(encoding="utf-8")
    code, _, stderr = cli(
        ["--config", str(project / "release.yaml"), "version", "bump", "minor"], capsys
    )
    assert code == 0
    assert "VERSION is now 0.2.0" in stderr
    assert (project / "VERSION").read_text() == "0.2.0\n"
    after = (project / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(r"^## \[Unreleased\]\n\n## \[0\.2\.0\] - \d{4}-\d\d-\d\d\n", after, re.M)
    assert len(after) > len(before)


def test_version_bump_unknown_part_is_a_usage_error(project: Path, capsys) -> None:
    code, _, stderr = cli(
        ["--config", str(project / "release.yaml"), "version", "bump", "huge"], capsys
    )
    assert code == 2
    assert "huge" in stderr
    assert (project / "VERSION").read_text() == "0.1.0\n"
