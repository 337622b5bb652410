"""Shared fixtures for the application unit tests (vectora_core and the v2 handlers)."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[3]
SRC = ROOT / "src_v2"
FEEDS = ROOT / "tests" / "fixtures" / "feeds"
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))

APP_ENV = (
    "ENV", "LOG_LEVEL", "PROJECT_NAME", "CONFIG_BUCKET", "DATA_BUCKET", "NEWSLETTERS_BUCKET",
    "BEDROCK_MODEL_ID", "BEDROCK_REGION", "CONFIG_PREFIX", "CONFIG_DIR",
)  # fmt: skip


def load_handler(folder: str) -> ModuleType:
    """Import ``src_v2/lambdas/<folder>/handler.py`` under a unique module name."""
    name = f"vectora_handler_{folder}"
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
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Remove every application env var so each test sets exactly what it needs."""
    for name in APP_ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def config_dir(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> Path:
    """A config-bundle layout (canonical/ + clients/) in a tmp dir, selected via CONFIG_DIR."""
    target = tmp_path / "config"
    shutil.copytree(ROOT / "canonical", target / "canonical")
    (target / "clients").mkdir()
    for path in (ROOT / "client-config-examples").glob("*.yaml"):
        shutil.copy(path, target / "clients" / path.name)
    clean_env.setenv("CONFIG_DIR", str(target))
    return target


@pytest.fixture
def feeds_dir() -> Path:
    """Folder of the fixture feeds."""
    return FEEDS
