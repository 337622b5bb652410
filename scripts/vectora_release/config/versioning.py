"""VERSION, semver, tags and the CHANGELOG's Unreleased section."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import semver

from ..common.errors import VersionError

UNRELEASED = re.compile(r"^## \[Unreleased\][^\n]*(?:\n|\Z)", re.M)
SECTION = re.compile(r"^## \[", re.M)
PARTS = ("major", "minor", "patch")


def parse(text: str, source: str = "VERSION") -> semver.Version:
    try:
        return semver.Version.parse(text.strip())
    except (ValueError, TypeError) as exc:
        raise VersionError(
            f"{source}: {text.strip()!r} is not a semantic version", "write e.g. 1.2.3"
        ) from exc


def read_version(root: Path) -> semver.Version:
    path = root / "VERSION"
    if not path.is_file():
        raise VersionError("VERSION file is missing", f"create {path} holding e.g. 0.1.0")
    return parse(path.read_text(encoding="utf-8"))


def check_tag(tag: str, version: semver.Version) -> None:
    """A release tag must be exactly ``v`` + VERSION."""
    if tag != f"v{version}":
        raise VersionError(
            f"tag {tag!r} does not match VERSION {version}",
            f"tag v{version}, or bump VERSION first",
        )


def bump(version: semver.Version, part: str) -> semver.Version:
    if part not in PARTS:
        raise VersionError(f"unknown version part {part!r}", "use major, minor or patch")
    return getattr(version, f"bump_{part}")()


def release_changelog(text: str, version: semver.Version, date: dt.date) -> str:
    """Turn ``## [Unreleased]`` into ``## [X.Y.Z] - date`` under a fresh empty Unreleased."""
    match = UNRELEASED.search(text)
    if match is None:
        raise VersionError("CHANGELOG.md has no '## [Unreleased]' section", "add one first")
    if re.search(rf"^## \[{re.escape(str(version))}\]", text, re.M):
        raise VersionError(f"CHANGELOG.md already has a section for {version}")
    head = f"## [Unreleased]\n\n## [{version}] - {date.isoformat()}\n"
    return text[: match.start()] + head + text[match.end() :]


def changelog_section(text: str, version: str) -> str | None:
    """The body of the section for ``version`` (``Unreleased`` too), or None."""
    pattern = re.compile(rf"^## \[{re.escape(version)}\][^\n]*\n", re.M)
    match = pattern.search(text)
    if match is None:
        return None
    following = SECTION.search(text, match.end())
    end = following.start() if following else len(text)
    return text[match.end() : end].strip()


def bump_files(root: Path, part: str, today: dt.date | None = None) -> semver.Version:
    """Rewrite VERSION and CHANGELOG.md for the next ``part`` release; returns it."""
    new = bump(read_version(root), part)
    changelog = root / "CHANGELOG.md"
    if not changelog.is_file():
        raise VersionError("CHANGELOG.md is missing", "create it with an [Unreleased] section")
    updated = release_changelog(
        changelog.read_text(encoding="utf-8"), new, today or dt.date.today()
    )
    (root / "VERSION").write_text(f"{new}\n", encoding="utf-8")
    changelog.write_text(updated, encoding="utf-8")
    return new
