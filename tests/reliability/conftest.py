"""Fixtures of the reliability suite: two releases built once; figures printed at the end."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))  # support, harness, snapshots: importable by the tests

from support import FIGURES, Figures, Releases, build_releases  # noqa: E402


@pytest.fixture(scope="session")
def releases(tmp_path_factory: pytest.TempPathFactory) -> Releases:
    return build_releases(tmp_path_factory.mktemp("reliability-releases"))


@pytest.fixture(scope="session")
def figures() -> Figures:
    return FIGURES


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The measured figures (docs/reliability.md quotes them), after the test results."""
    if not FIGURES.lines:
        return
    terminalreporter.section("reliability figures")
    for section, lines in FIGURES.lines.items():
        terminalreporter.write_line(f"{section}:")
        for line in lines:
            terminalreporter.write_line(f"  {line}")
