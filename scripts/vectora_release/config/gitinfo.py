"""What git says about the checkout: commit, dirtiness, commit time, reachability.

GitPython (~30 ms to import) is imported by the functions that read git, not with this
module, so that commands which never ask git (``status``, ``version show``) start faster.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..common.errors import InputError

if TYPE_CHECKING:
    import git


@dataclass(frozen=True)
class SourceInfo:
    """The commit a build comes from."""

    commit: str
    dirty: bool
    commit_time: int


def open_repo(root: Path) -> git.Repo:
    import git

    try:
        return git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise InputError(
            f"{root} is not inside a git repository", "builds come from a commit: run git init"
        ) from exc


def source_info(root: Path) -> SourceInfo:
    """Commit SHA, dirty flag (tracked changes or untracked files) and commit time."""
    repo = open_repo(root)
    try:
        head = repo.head.commit
    except ValueError as exc:
        raise InputError("the repository has no commit yet", "commit your sources first") from exc
    if repo.git.rev_parse("--is-shallow-repository") == "true":
        raise InputError(
            "the repository is a shallow clone: builds need the history of each source folder",
            "fetch it all (git fetch --unshallow; actions/checkout with fetch-depth: 0)",
        )
    dirty = repo.is_dirty(untracked_files=True)
    return SourceInfo(commit=head.hexsha, dirty=dirty, commit_time=int(head.committed_date))


def last_change(root: Path, path: str) -> tuple[str | None, bool]:
    """(last commit that touched ``path``, whether ``path`` has uncommitted changes)."""
    repo = open_repo(root)
    commit = repo.git.log("-1", "--format=%H", "--", path) or None
    dirty = repo.is_dirty(path=path, untracked_files=True)
    return commit, dirty


def resolve_commit(root: Path, rev: str) -> str:
    """Full SHA of ``rev`` (a tag, branch or SHA)."""
    import git

    repo = open_repo(root)
    try:
        return repo.commit(rev).hexsha
    except (git.BadName, ValueError) as exc:
        raise InputError(f"unknown git revision {rev!r}", "fetch tags and history first") from exc


def file_at(root: Path, rev: str, path: str) -> str | None:
    """Content of ``path`` at ``rev``, or None when it does not exist there."""
    repo = open_repo(root)
    try:
        blob = repo.commit(rev).tree / path
    except KeyError:
        return None
    return blob.data_stream.read().decode("utf-8")


def is_ancestor(root: Path, commit: str, branch: str) -> bool:
    """True when ``commit`` is reachable from ``branch`` (e.g. the tag is on main)."""
    repo = open_repo(root)
    target = resolve_commit(root, branch)
    return repo.is_ancestor(commit, target)
