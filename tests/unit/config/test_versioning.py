"""VERSION, semver, release tags and the CHANGELOG's Unreleased section."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from vectora_release.common.errors import VersionError
from vectora_release.config import versioning

DAY = dt.date(2026, 11, 20)
CHANGELOG = """\
# Changelog

All notable changes to this project are documented here.

## [Unreleased]

### Added
- Date extraction in normalisation.

### Fixed
- Feeds without a pubDate.

## [0.1.0] - 2026-11-01

### Added
- First release.
"""


def v(text: str):
    return versioning.parse(text)


# -- parse ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["0.1.0", "1.2.3\n", " 10.20.30 ", "1.0.0-rc.1", "1.0.0+build.5"])
def test_parse_accepts_semver(text: str) -> None:
    assert str(versioning.parse(text)) == text.strip()


@pytest.mark.parametrize("text", ["0.1", "v0.1.0", "1.2.3.4", "one.two.three", "", "01.2.3"])
def test_parse_refuses_what_is_not_semver(text: str) -> None:
    with pytest.raises(VersionError, match="is not a semantic version") as caught:
        versioning.parse(text, "VERSION")
    assert caught.value.exit_code == 2
    assert caught.value.message.startswith("VERSION: ")
    assert repr(text.strip()) in caught.value.message


def test_read_version(tmp_path: Path) -> None:
    with pytest.raises(VersionError, match="VERSION file is missing"):
        versioning.read_version(tmp_path)
    (tmp_path / "VERSION").write_text("banana\n")
    with pytest.raises(VersionError, match="'banana' is not a semantic version"):
        versioning.read_version(tmp_path)
    (tmp_path / "VERSION").write_text("0.3.1\n")
    assert str(versioning.read_version(tmp_path)) == "0.3.1"


# -- tags -----------------------------------------------------------------------------------------
def test_tag_matching_version_passes() -> None:
    versioning.check_tag("v0.1.0", v("0.1.0"))  # raises when it does not match
    versioning.check_tag("v1.0.0-rc.1", v("1.0.0-rc.1"))


@pytest.mark.parametrize("tag", ["0.1.0", "v0.1.1", "v0.1", "V0.1.0", "v0.1.0 ", "release-0.1.0"])
def test_tag_not_exactly_v_plus_version_is_refused(tag: str) -> None:
    with pytest.raises(VersionError, match=r"does not match VERSION 0\.1\.0") as caught:
        versioning.check_tag(tag, v("0.1.0"))
    assert caught.value.exit_code == 2
    assert repr(tag) in caught.value.message
    assert caught.value.hint is not None and "v0.1.0" in caught.value.hint


# -- bump -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("part", "expected"), [("major", "2.0.0"), ("minor", "1.3.0"), ("patch", "1.2.4")]
)
def test_bump(part: str, expected: str) -> None:
    assert str(versioning.bump(v("1.2.3"), part)) == expected


def test_bump_unknown_part_is_refused() -> None:
    with pytest.raises(VersionError, match="unknown version part 'build'"):
        versioning.bump(v("1.2.3"), "build")


# -- CHANGELOG ------------------------------------------------------------------------------------
def test_release_changelog_moves_unreleased_under_the_new_version() -> None:
    released = versioning.release_changelog(CHANGELOG, v("0.2.0"), DAY)
    head, rest = released.split("## [Unreleased]\n", 1)
    assert head == CHANGELOG.split("## [Unreleased]\n", 1)[0]
    assert rest.startswith("\n## [0.2.0] - 2026-11-20\n\n### Added\n- Date extraction")
    assert versioning.changelog_section(released, "Unreleased") == ""
    assert versioning.changelog_section(released, "0.2.0") == versioning.changelog_section(
        CHANGELOG, "Unreleased"
    )
    assert versioning.changelog_section(released, "0.1.0") == "### Added\n- First release."
    assert released.count("## [") == CHANGELOG.count("## [") + 1
    # Nothing is lost: removing the new headings gives back the original text.
    assert (
        released.replace("## [Unreleased]\n\n", "", 1).replace(
            "## [0.2.0] - 2026-11-20\n", "## [Unreleased]\n"
        )
        == CHANGELOG
    )


def test_release_changelog_twice_for_one_version_is_refused() -> None:
    released = versioning.release_changelog(CHANGELOG, v("0.2.0"), DAY)
    with pytest.raises(VersionError, match=r"already has a section for 0\.2\.0"):
        versioning.release_changelog(released, v("0.2.0"), DAY)
    with pytest.raises(VersionError, match=r"already has a section for 0\.1\.0"):
        versioning.release_changelog(CHANGELOG, v("0.1.0"), DAY)


def test_release_changelog_without_unreleased_is_refused() -> None:
    text = CHANGELOG.replace("## [Unreleased]", "## Unreleased")
    with pytest.raises(VersionError, match=r"no '## \[Unreleased\]' section") as caught:
        versioning.release_changelog(text, v("0.2.0"), DAY)
    assert caught.value.exit_code == 2


def test_release_changelog_with_unreleased_as_the_last_line() -> None:
    released = versioning.release_changelog("# Changelog\n\n## [Unreleased]", v("1.0.0"), DAY)
    assert released == "# Changelog\n\n## [Unreleased]\n\n## [1.0.0] - 2026-11-20\n"


def test_changelog_section() -> None:
    assert versioning.changelog_section(CHANGELOG, "0.1.0") == "### Added\n- First release."
    unreleased = versioning.changelog_section(CHANGELOG, "Unreleased")
    assert unreleased is not None
    assert unreleased.startswith("### Added\n- Date extraction")
    assert unreleased.endswith("- Feeds without a pubDate.")
    assert versioning.changelog_section(CHANGELOG, "0.0.9") is None
    assert versioning.changelog_section(CHANGELOG, "0.1") is None  # no prefix match
    assert versioning.changelog_section(CHANGELOG, "0.1.0.") is None


def test_the_project_changelog_has_an_unreleased_section() -> None:
    text = (Path(__file__).resolve().parents[3] / "CHANGELOG.md").read_text(encoding="utf-8")
    assert versioning.changelog_section(text, "Unreleased")


# -- bump_files -----------------------------------------------------------------------------------
def write_project(root: Path, version: str = "0.1.0", changelog: str = CHANGELOG) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "VERSION").write_text(f"{version}\n")
    (root / "CHANGELOG.md").write_text(changelog)
    return root


@pytest.mark.parametrize(
    ("part", "expected"), [("major", "1.0.0"), ("minor", "0.2.0"), ("patch", "0.1.1")]
)
def test_bump_files_rewrites_version_and_changelog(
    tmp_path: Path, part: str, expected: str
) -> None:
    root = write_project(tmp_path)
    new = versioning.bump_files(root, part, today=DAY)
    assert str(new) == expected
    assert (root / "VERSION").read_text() == f"{expected}\n"
    changelog = (root / "CHANGELOG.md").read_text()
    assert f"## [Unreleased]\n\n## [{expected}] - 2026-11-20\n" in changelog
    assert versioning.changelog_section(changelog, expected) == versioning.changelog_section(
        CHANGELOG, "Unreleased"
    )


def test_bump_files_changes_nothing_when_the_changelog_is_unusable(tmp_path: Path) -> None:
    root = write_project(tmp_path, changelog="# Changelog\n\nNo sections.\n")
    with pytest.raises(VersionError, match="Unreleased"):
        versioning.bump_files(root, "minor", today=DAY)
    assert (root / "VERSION").read_text() == "0.1.0\n"
    assert (root / "CHANGELOG.md").read_text() == "# Changelog\n\nNo sections.\n"


def test_bump_files_without_changelog_is_refused(tmp_path: Path) -> None:
    root = write_project(tmp_path)
    (root / "CHANGELOG.md").unlink()
    with pytest.raises(VersionError, match=r"CHANGELOG\.md is missing"):
        versioning.bump_files(root, "patch", today=DAY)
    assert (root / "VERSION").read_text() == "0.1.0\n"


def test_bump_files_with_bad_version_is_refused(tmp_path: Path) -> None:
    root = write_project(tmp_path, version="0.1")
    with pytest.raises(VersionError, match="is not a semantic version"):
        versioning.bump_files(root, "patch", today=DAY)
    assert (root / "CHANGELOG.md").read_text() == CHANGELOG
