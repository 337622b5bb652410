"""Fixtures for the application integration tests (moto, in-process)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[3]
SRC = ROOT / "src_v2"
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))


def load_handler(folder: str) -> ModuleType:
    """Import ``src_v2/lambdas/<folder>/handler.py`` under a unique module name."""
    name = f"vectora_it_handler_{folder}"
    spec = importlib.util.spec_from_file_location(name, SRC / "lambdas" / folder / "handler.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def handler_loader() -> Callable[[str], ModuleType]:
    """Return the handler loader (``handler_loader("ingest_v2")``)."""
    return load_handler


@pytest.fixture
def repo_root() -> Path:
    """Repository root."""
    return ROOT
