"""build_info() with and without the release-written _build_info.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import vectora_core
from vectora_core.health import health_check

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def test_source_checkout_has_no_build_file() -> None:
    assert not vectora_core.BUILD_INFO_PATH.exists(), "_build_info.json must not be in the source"
    assert vectora_core.build_info() == {"version": "0+source", "commit": "unknown"}
    assert vectora_core.__version__ == "0+source"


def test_reads_build_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "_build_info.json"
    path.write_text(json.dumps({"version": "0.1.0", "commit": COMMIT}))
    assert vectora_core.build_info(path) == {"version": "0.1.0", "commit": COMMIT}
    monkeypatch.setattr(vectora_core, "BUILD_INFO_PATH", path)
    assert vectora_core.build_info() == {"version": "0.1.0", "commit": COMMIT}
    report = health_check("ingest-v2", [])
    assert (report["core_version"], report["commit"]) == ("0.1.0", COMMIT)


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"version": ""}'])
def test_unusable_build_file_falls_back(tmp_path: Path, content: str) -> None:
    path = tmp_path / "_build_info.json"
    path.write_text(content)
    assert vectora_core.build_info(path) == {"version": "0+source", "commit": "unknown"}


def test_missing_path_falls_back(tmp_path: Path) -> None:
    info = vectora_core.build_info(tmp_path / "absent.json")
    assert info == {"version": "0+source", "commit": "unknown"}
