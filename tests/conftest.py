"""Fixtures shared by every test layer: a project copy in a temp git repo, builds, moto."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
# What a release is built from; tests copy these into a temporary git repository.
PROJECT_FILES = (
    "release.yaml", "VERSION", "CHANGELOG.md", "src_v2", "canonical", "client-config-examples",
    "iam", "tests/fixtures",
)  # fmt: skip
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Vectora Tests", "GIT_AUTHOR_EMAIL": "tests@vectora.invalid",
    "GIT_COMMITTER_NAME": "Vectora Tests", "GIT_COMMITTER_EMAIL": "tests@vectora.invalid",
    "GIT_AUTHOR_DATE": "2026-11-16T08:00:00Z", "GIT_COMMITTER_DATE": "2026-11-16T08:00:00Z",
}  # fmt: skip


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    result = subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True,
                            text=True)  # fmt: skip
    return result.stdout.strip()


def make_project(dest: Path) -> Path:
    """A committed copy of the project's release inputs in ``dest`` (a fresh git repo)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns(
                "__pycache__", "*.pyc", "_build_info.json"))  # fmt: skip
        else:
            shutil.copy2(src, dest / name)
    (dest / ".gitignore").write_text("dist/\n.cache/\n.vectora-local/\n__pycache__/\n")
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "release inputs")
    return dest


# -- figures measured by tests (docs/reliability.md quotes them) --------------------------------
FIGURES_DIR_VAR = "VECTORA_TEST_FIGURES"


def pytest_configure(config: pytest.Config) -> None:
    """The folder where tests append figures; made by the process that prints the summary
    (pytest-xdist workers inherit it)."""
    if not hasattr(config, "workerinput") and not os.environ.get(FIGURES_DIR_VAR):
        os.environ[FIGURES_DIR_VAR] = tempfile.mkdtemp(prefix="vectora-figures-")
        config.add_cleanup(lambda: shutil.rmtree(os.environ.pop(FIGURES_DIR_VAR), True))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The measured figures, after the test results, grouped by section."""
    folder = os.environ.get(FIGURES_DIR_VAR)
    sections: dict[str, list[str]] = {}
    for path in sorted(Path(folder).glob("figures-*.jsonl")) if folder else []:
        for row in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(row)
            sections.setdefault(item["section"], []).append(item["line"])
    if not sections:
        return
    terminalreporter.section("reliability figures")
    for section in sorted(sections):
        terminalreporter.write_line(f"{section}:")
        for line in sections[section]:
            terminalreporter.write_line(f"  {line}")


@pytest.fixture(scope="session", autouse=True)
def _shared_deps_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One pip cache for the whole session: common-deps is downloaded at most once."""
    cache = os.environ.get("VECTORA_RELEASE_CACHE") or str(ROOT / ".cache" / "vectora-release")
    previous = os.environ.get("VECTORA_RELEASE_CACHE")
    os.environ["VECTORA_RELEASE_CACHE"] = cache
    yield
    if previous is None:
        os.environ.pop("VECTORA_RELEASE_CACHE", None)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A fresh, committed project repository for one test."""
    return make_project(tmp_path / "project")


@pytest.fixture(scope="session")
def bedrock_stand_in() -> Iterator[Any]:
    """The Bedrock-runtime stand-in on 127.0.0.1 for the session (moto serves no model)."""
    from vectora_release.local.bedrock import BedrockStandIn

    with BedrockStandIn() as server:
        yield server


@pytest.fixture
def bedrock(bedrock_stand_in: Any) -> Iterator[Any]:
    """The stand-in, answering normally again after the test (``bedrock.fail = "…"``)."""
    bedrock_stand_in.fail = None
    yield bedrock_stand_in
    bedrock_stand_in.fail = None


@pytest.fixture(scope="session")
def embedded_server() -> Iterator[str]:
    """One moto server on 127.0.0.1 for the session; tests reset its state (see ``aws_env``)."""
    from vectora_release.local.server import EmbeddedAws

    server = EmbeddedAws().start()
    yield server.endpoint
    server.stop()


@pytest.fixture
def aws_env(embedded_server: str, bedrock: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point boto3 at a freshly reset embedded AWS (Bedrock at the stand-in); its endpoint."""
    from vectora_release.local.server import environment

    request = urllib.request.Request(f"{embedded_server}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for key, value in environment(embedded_server, bedrock.endpoint).items():
        monkeypatch.setenv(key, value)
    return embedded_server
