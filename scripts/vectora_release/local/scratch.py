"""A scratch git repository holding a copy of the project's release inputs.

The demo (and the tests) work there, so they can commit new releases without touching the
user's checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

RELEASE_INPUTS = (
    "release.yaml",
    "VERSION",
    "CHANGELOG.md",
    "src_v2",
    "canonical",
    "client-config-examples",
    "iam",
    "tests/fixtures",
)
IDENTITY = {
    "GIT_AUTHOR_NAME": "Vectora Demo",
    "GIT_AUTHOR_EMAIL": "demo@vectora.invalid",
    "GIT_COMMITTER_NAME": "Vectora Demo",
    "GIT_COMMITTER_EMAIL": "demo@vectora.invalid",
}
IGNORED = ("__pycache__", "*.pyc", "_build_info.json")


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args],
        cwd=repo,
        env={**os.environ, **IDENTITY},
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip()


def make_scratch_repo(source: Path, dest: Path) -> Path:
    """Copy the release inputs of ``source`` into ``dest`` and commit them on ``main``."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in RELEASE_INPUTS:
        src = source / name
        if src.is_dir():
            shutil.copytree(
                src, dest / name, ignore=shutil.ignore_patterns(*IGNORED), dirs_exist_ok=True
            )
        elif src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    (dest / ".gitignore").write_text("dist/\n.cache/\n.vectora-local/\n__pycache__/\n")
    git(dest, "init", "-q", "-b", "main")
    commit_all(dest, "release inputs")
    return dest


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")
