"""The local runner: safe extraction, and running a function's bytes as Lambda
would — env vars from its configuration, code before layers on sys.path, its timeout."""

from __future__ import annotations

import io
import stat
import textwrap
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from vectora_release.build.manifest import ArtifactRecord, Manifest
from vectora_release.common.digest import code_sha256, sha256_hex
from vectora_release.common.errors import IntegrityError
from vectora_release.local.runner import LocalRunner, safe_extract


def make_zip(entries: dict[str, str | bytes], links: dict[str, str] | None = None) -> bytes:
    """A zip of ``entries`` (name → content) and symbolic links (name → target)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in entries.items():
            archive.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), content)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return out.getvalue()


# -- safe_extract --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("entries", "links", "words"),
    [
        ({"../evil.py": "x = 1\n"}, None, "would escape the folder"),
        ({"lib/../../evil.py": "x = 1\n"}, None, "would escape the folder"),
        ({"/tmp/evil.py": "x = 1\n"}, None, "would escape the folder"),
        ({"ok.py": "x = 1\n"}, {"link.py": "/etc/passwd"}, "is a symbolic link"),
        ({"ok.py": "x = 1\n"}, {"python/inside": "ok.py"}, "is a symbolic link"),
    ],
    ids=["parent", "nested-parent", "absolute", "symlink-out", "symlink-in"],
)
def test_safe_extract_refuses_entries_that_could_escape(
    tmp_path: Path, entries: dict[str, str], links: dict[str, str] | None, words: str
) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(IntegrityError) as refused:
        safe_extract(make_zip(entries, links), dest)
    assert refused.value.exit_code == 2
    assert words in refused.value.message
    bad = next(iter(links or entries))
    assert repr(bad) in refused.value.message
    assert list(dest.iterdir()) == []  # nothing extracted, not even the harmless entries
    assert not (tmp_path / "evil.py").exists()


def test_safe_extract_extracts_a_normal_zip(tmp_path: Path) -> None:
    data = make_zip(
        {"handler.py": "x = 1\n", "python/pkg/__init__.py": "", "python/pkg/a.txt": "a"}
    )
    safe_extract(data, tmp_path)
    assert (tmp_path / "handler.py").read_text() == "x = 1\n"
    assert (tmp_path / "python/pkg/a.txt").read_text() == "a"
    assert (tmp_path / "python/pkg/__init__.py").is_file()


# -- LocalRunner ---------------------------------------------------------------------------------
HANDLER = textwrap.dedent(
    """
    import os
    import sys
    import time

    import shared
    import helper

    def lambda_handler(event, context):
        if event.get("sleep"):
            time.sleep(event["sleep"])
        if event.get("fail"):
            raise ValueError(event["fail"])
        return {
            "shared": shared.WHERE,
            "helper": helper.WHERE,
            "path": sys.path,
            "env": {k: os.environ.get(k) for k in ("LOG_LEVEL", "ENV", "AWS_LAMBDA_FUNCTION_NAME")},
            "event": event,
            "function": context.function_name,
        }
    """
)


def _artifact(name: str, kind: str, data: bytes) -> ArtifactRecord:
    return ArtifactRecord(
        name=name,
        kind=kind,
        file=f"{name}-1.0.0.zip",
        size=len(data),
        sha256=sha256_hex(data),
        code_sha256=code_sha256(data),
        tree_sha256="-",
        unzipped_size=0,
    )


class Release:
    """A tiny release (one function, one layer) and a fetch callable counting its calls."""

    def __init__(self, extra_code: dict[str, str] | None = None) -> None:
        self.code = make_zip(
            {"handler.py": HANDLER, "shared.py": "WHERE = 'code'\n", **(extra_code or {})}
        )
        self.layer = make_zip(
            {
                "python/shared.py": "WHERE = 'layer'\n",
                "python/helper.py": "WHERE = 'layer'\n",
            }
        )
        self.blobs = {"fn": self.code, "core": self.layer}
        self.manifest = Manifest(
            project="p",
            version="1.0.0",
            commit="c" * 40,
            dirty=False,
            built_at="2026-11-16T08:00:00Z",
            source_date_epoch=315532800,
            runtime="python3.12",
            compatible_runtimes=("python3.12",),
            artifacts=(
                _artifact("fn", "function", self.code),
                _artifact("core", "layer", self.layer),
            ),
        )
        self.fetched: list[str] = []

    def fetch(self, manifest: Manifest, name: str) -> bytes:
        assert manifest is self.manifest
        self.fetched.append(name)
        return self.blobs[name]

    def configuration(self, **overrides: Any) -> dict[str, Any]:
        return {
            "CodeSha256": code_sha256(self.code),
            "Handler": "handler.lambda_handler",
            "Timeout": 30,
            "Version": "7",
            "Environment": {"Variables": {"LOG_LEVEL": "DEBUG", "ENV": "stage"}},
            **overrides,
        }

    @property
    def layers(self) -> list[tuple[str, str]]:
        return [("arn:aws:lambda:eu-west-3:1:layer:core:3", code_sha256(self.layer))]


@pytest.fixture
def release() -> Release:
    return Release()


@pytest.fixture
def runner(release: Release, tmp_path: Path) -> LocalRunner:
    return LocalRunner(release.manifest, release.fetch, tmp_path / "cache")


def test_runs_the_handler_with_the_live_env_and_code_before_layers(
    runner: LocalRunner, release: Release, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "FROM-THE-CALLER")  # not the function's: must not leak
    result = runner.run("fn-stage", release.configuration(), release.layers, {"x": 1})
    assert result.ok, result.error
    payload = result.payload
    assert payload["env"] == {
        "LOG_LEVEL": "DEBUG",
        "ENV": "stage",
        "AWS_LAMBDA_FUNCTION_NAME": "fn-stage",
    }
    assert payload["shared"] == "code"  # the function's own module wins over the layer's
    assert payload["helper"] == "layer"
    assert payload["event"] == {"x": 1} and payload["function"] == "fn-stage"
    path = payload["path"]
    code_dir = next(i for i, p in enumerate(path) if p.endswith(sha256_hex(release.code)))
    layer_dir = next(
        i for i, p in enumerate(path) if p.endswith(f"{sha256_hex(release.layer)}/python")
    )
    assert code_dir == 0 and layer_dir == 1
    assert sorted(release.fetched) == ["core", "fn"]


def test_artifacts_are_extracted_once(runner: LocalRunner, release: Release) -> None:
    for _ in range(2):
        assert runner.run("fn-dev", release.configuration(), release.layers, {}).ok
    assert sorted(release.fetched) == ["core", "fn"]


def test_a_handler_exceeding_its_timeout_fails_with_timeout(
    runner: LocalRunner, release: Release
) -> None:
    result = runner.run("fn-dev", release.configuration(Timeout=1), release.layers, {"sleep": 20})
    assert result.ok is False
    assert result.error is not None and result.error["errorType"] == "Timeout"
    assert "1 s" in result.error["errorMessage"]


def test_an_exception_fails_with_its_type_and_message(
    runner: LocalRunner, release: Release
) -> None:
    result = runner.run(
        "fn-dev", release.configuration(), release.layers, {"fail": "no feed today"}
    )
    assert result.ok is False and result.payload is None
    assert result.error is not None
    assert result.error["errorType"] == "ValueError"
    assert result.error["errorMessage"] == "no feed today"


def test_an_import_error_fails_the_invocation(tmp_path: Path) -> None:
    release = Release({"shared.py": "raise RuntimeError('broken at import')\n"})
    runner = LocalRunner(release.manifest, release.fetch, tmp_path / "cache")
    result = runner.run("fn-dev", release.configuration(), release.layers, {})
    assert result.ok is False and result.error is not None
    assert (result.error["errorType"], result.error["errorMessage"]) == (
        "RuntimeError",
        "broken at import",
    )


@pytest.mark.parametrize(
    "change",
    [
        lambda r: (r.configuration(CodeSha256=code_sha256(b"other code")), r.layers),
        lambda r: (r.configuration(), [("arn:…:layer:core:9", code_sha256(b"an old layer"))]),
    ],
    ids=["function-code", "layer"],
)
def test_code_that_is_not_in_the_manifest_is_refused(
    runner: LocalRunner, release: Release, change: Callable[[Release], tuple]
) -> None:
    configuration, layers = change(release)
    with pytest.raises(IntegrityError) as refused:
        runner.run("fn-dev", configuration, layers, {})
    assert refused.value.exit_code == 2
    assert "not part of release 1.0.0+ccccccc" in refused.value.message
    assert release.fetched in ([], ["fn"])  # refused before running anything


def test_bytes_that_do_not_match_the_live_code_sha256_are_refused(
    runner: LocalRunner, release: Release
) -> None:
    """The runner itself checks what it fetched against the live CodeSha256 (docs/architecture.md).

    The fetcher of the artifact store verifies digests too, but the runner must not run bytes
    other than the live ones whoever gives them to it.
    """
    release.blobs["fn"] = make_zip(
        {"handler.py": "def lambda_handler(e, c):\n    return 'other'\n"}
    )
    with pytest.raises(IntegrityError):
        runner.run("fn-dev", release.configuration(), release.layers, {})
