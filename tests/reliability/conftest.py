"""Fixtures of the reliability suite: two releases built once, the figures collector.

The figures are printed at the end of the run by tests/conftest.py.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
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


@pytest.fixture(scope="session", autouse=True)
def _bedrock_everywhere(bedrock_stand_in: Any) -> Iterator[None]:
    """Every run of the suite, fault workers included, reaches the Bedrock-runtime stand-in
    (moto serves no model): the variable is set before any worker process is started."""
    key = "AWS_ENDPOINT_URL_BEDROCK_RUNTIME"
    previous = os.environ.get(key)
    os.environ[key] = bedrock_stand_in.endpoint
    yield
    if previous is None:
        os.environ.pop(key, None)
    else:
        os.environ[key] = previous
