"""``config changelog``: a change to what ships needs a CHANGELOG entry under Unreleased.

Compared with the merge-base of the working tree and a base ref (``origin/main`` in a pull
request): when files under ``src_v2/``, ``canonical/``, ``client-config-examples/`` or
``scripts/`` changed, the ``## [Unreleased]`` section of CHANGELOG.md must hold an entry that
was not there at the merge-base. ``version bump`` later turns those entries into the release
notes, so a change without one would ship undocumented.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git

from ..common.errors import InputError, VersionError
from . import gitinfo
from .versioning import changelog_section

WATCHED = ("src_v2/", "canonical/", "client-config-examples/", "scripts/")
CHANGELOG = "CHANGELOG.md"
UNRELEASED = "Unreleased"
_BULLET = re.compile(r"^\s{0,3}[-*+]\s+")


@dataclass(frozen=True)
class ChangelogReport:
    """Which watched files changed since the merge-base, and which entries are new."""

    base: str
    merge_base: str
    changed: tuple[str, ...]
    new_entries: tuple[str, ...]

    @property
    def needs_entry(self) -> bool:
        return bool(self.changed)

    @property
    def ok(self) -> bool:
        return not self.needs_entry or bool(self.new_entries)

    def error(self) -> VersionError | None:
        """The error to raise when an entry is missing, else None."""
        if self.ok:
            return None
        folders = sorted({path.split("/", 1)[0] + "/" for path in self.changed})
        return VersionError(
            f"{CHANGELOG}: no new entry under '## [{UNRELEASED}]' although "
            f"{', '.join(folders)} changed since {self.base} "
            f"({len(self.changed)} files, e.g. {self.changed[0]})",
            f"add a line under ## [{UNRELEASED}] (### Added / Changed / Fixed) saying what changed",
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "base": self.base,
            "merge_base": self.merge_base,
            "changed": list(self.changed),
            "new_entries": list(self.new_entries),
        }

    def summary(self) -> str:
        if not self.needs_entry:
            return f"CHANGELOG: no change under {', '.join(WATCHED)} since {self.base}"
        return (
            f"CHANGELOG ok: {len(self.new_entries)} new Unreleased entr"
            f"{'y' if len(self.new_entries) == 1 else 'ies'} for {len(self.changed)} changed files"
        )


def check_changelog(root: Path, base: str) -> ChangelogReport:
    """Compare the working tree of the repository at ``root`` with its merge-base with
    ``base``."""
    repo = gitinfo.open_repo(root)
    base_sha = gitinfo.resolve_commit(root, base)
    try:
        bases = repo.merge_base(base_sha, "HEAD")
    except (git.GitCommandError, ValueError) as exc:
        raise InputError(f"cannot compare with {base!r}: {exc}", "fetch full history") from exc
    if not bases:
        raise InputError(
            f"HEAD and {base} have no common ancestor",
            "fetch full history (actions/checkout with fetch-depth: 0)",
        )
    merge_base = bases[0].hexsha
    prefix = _repo_prefix(repo, root)
    changed = tuple(
        path
        for path in sorted(_changed_paths(repo, merge_base, prefix))
        if path.startswith(WATCHED)
    )
    before = _unreleased_entries(gitinfo.file_at(root, merge_base, prefix + CHANGELOG))
    path = root / CHANGELOG
    if not path.is_file():
        raise VersionError(f"{CHANGELOG} is missing", "create it with a '## [Unreleased]' section")
    now_text = path.read_text(encoding="utf-8")
    if changelog_section(now_text, UNRELEASED) is None:
        raise VersionError(
            f"{CHANGELOG} has no '## [{UNRELEASED}]' section",
            "add one above the latest release",
        )
    new = tuple(entry for entry in _unreleased_entries(now_text) if entry not in set(before))
    return ChangelogReport(base, merge_base, changed, new)


def changelog_error(root: Path, base: str) -> VersionError | None:
    """The error a pull request gets when it changes what ships without a CHANGELOG entry."""
    return check_changelog(root, base).error()


def _repo_prefix(repo: git.Repo, root: Path) -> str:
    """``root`` relative to the git work tree, as a path prefix ("" at the top)."""
    top = Path(repo.working_tree_dir or root).resolve()
    relative = root.resolve().relative_to(top).as_posix()
    return "" if relative == "." else relative + "/"


def _changed_paths(repo: git.Repo, merge_base: str, prefix: str) -> set[str]:
    """Paths (relative to ``root``) that differ between ``merge_base`` and the working tree,
    untracked files included."""
    names = repo.git.diff("--name-only", "--no-renames", merge_base, "--").splitlines()
    names += repo.untracked_files
    return {n[len(prefix) :] for n in names if n and n.startswith(prefix)}


def _unreleased_entries(text: str | None) -> list[str]:
    """The bullet entries of the Unreleased section, each with its continuation lines."""
    body = changelog_section(text or "", UNRELEASED) or ""
    entries: list[str] = []
    continuing = False
    for line in body.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continuing = False
            continue
        if _BULLET.match(line) or not continuing:
            entries.append(_BULLET.sub("", line).strip())
        else:
            entries[-1] += " " + stripped
        continuing = True
    return entries
