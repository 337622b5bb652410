"""Fixtures of the reliability suite: two releases built once, the figures collector.

The figures are printed at the end of the run by tests/conftest.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

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
