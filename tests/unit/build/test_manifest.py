"""The release manifest: its fields, its JSON form, verification of the zips, the dirty flag."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from vectora_release.build.builders import build_release
from vectora_release.build.manifest import Manifest, load, save, verify_bytes, verify_files
from vectora_release.common.digest import b64_to_hex, code_sha256, hex_to_b64, tree_sha256
from vectora_release.common.errors import IntegrityError, ManifestError
from vectora_release.config.model import load_config

TESTS = Path(__file__).resolve().parents[2]
ARTIFACTS = {
    "vectora-core": "layer",
    "common-deps": "layer",
    "ingest-v2": "function",
    "normalize-score-v2": "function",
    "newsletter-v2": "function",
    "config-bundle": "config",
}
ARTIFACT_FIELDS = {"name", "kind", "file", "size", "sha256", "code_sha256", "tree_sha256"}
TOP_FIELDS = {"schema_version", "project", "version", "commit", "dirty", "built_at", "artifacts"}


def _root_conftest() -> ModuleType:
    """``tests/conftest.py`` under its own name, for ``make_project``."""
    name = "vectora_tests_root_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, TESTS / "conftest.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@dataclass(frozen=True)
class Built:
    project: Path
    out: Path
    manifest: Manifest

    @property
    def raw(self) -> bytes:
        return (self.out / "manifest.json").read_bytes()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    work = tmp_path_factory.mktemp("manifest")
    project = _root_conftest().make_project(work / "project")
    manifest = build_release(load_config(project / "release.yaml"), work / "dist")
    yield Built(project, work / "dist", manifest)


@pytest.fixture
def dist(built: Built, tmp_path: Path) -> Path:
    """A copy of the built release that a test may damage."""
    return Path(shutil.copytree(built.out, tmp_path / "dist"))


def clone(project: Path, dest: Path) -> Path:
    subprocess.run(["git", "clone", "-q", str(project), str(dest)], check=True, capture_output=True)
    return dest


# -- fields -------------------------------------------------------------------------------------
def test_manifest_has_the_documented_fields(built: Built) -> None:
    data = json.loads(built.raw)
    assert set(data) >= TOP_FIELDS
    assert data["schema_version"] == 1
    assert data["project"] == "vectora-inbox"
    assert data["version"] == "0.1.0"
    assert re.fullmatch(r"[0-9a-f]{40}", data["commit"])
    assert (
        data["commit"]
        == subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=built.project,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    assert data["dirty"] is False
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data["built_at"])
    assert {a["name"]: a["kind"] for a in data["artifacts"]} == ARTIFACTS
    for artifact in data["artifacts"]:
        assert set(artifact) >= ARTIFACT_FIELDS, artifact["name"]
        assert artifact["file"] == f"{artifact['name']}-0.1.0.zip"


def test_artifact_digests_describe_the_files(built: Built) -> None:
    for artifact in built.manifest.artifacts:
        data = (built.out / artifact.file).read_bytes()
        assert artifact.size == len(data)
        assert artifact.sha256 == hashlib.sha256(data).hexdigest()
        # The form Lambda reports as CodeSha256: base64 of the raw digest.
        assert artifact.code_sha256 == base64.b64encode(hashlib.sha256(data).digest()).decode()
        with zipfile.ZipFile(built.out / artifact.file) as archive:
            entries = [(i.filename, archive.read(i)) for i in archive.infolist()]
        lines = sorted(f"{n}\0{hashlib.sha256(d).hexdigest()}\n" for n, d in entries)
        assert artifact.tree_sha256 == hashlib.sha256("".join(lines).encode()).hexdigest()
        assert artifact.unzipped_size == sum(len(d) for _, d in entries)


def test_digest_forms_convert_both_ways() -> None:
    data = b"vectora"
    hex_digest = hashlib.sha256(data).hexdigest()
    assert code_sha256(data) == hex_to_b64(hex_digest)
    assert b64_to_hex(code_sha256(data)) == hex_digest


def test_tree_digest_ignores_order_but_not_names_or_content() -> None:
    entries = [("a.py", b"1"), ("b.py", b"2")]
    assert tree_sha256(entries) == tree_sha256(list(reversed(entries)))
    assert tree_sha256(entries) != tree_sha256([("a.py", b"1"), ("c.py", b"2")])
    assert tree_sha256(entries) != tree_sha256([("a.py", b"1"), ("b.py", b"3")])


def test_functions_record_how_they_run(built: Built) -> None:
    functions = built.manifest.functions
    assert set(functions) == {"ingest-v2", "normalize-score-v2", "newsletter-v2"}
    normalize = functions["normalize-score-v2"]
    assert normalize.handler == "handler.lambda_handler"
    assert (normalize.memory, normalize.timeout) == (1024, 600)
    assert normalize.layers == ("vectora-core", "common-deps")
    assert {"ENV", "LOG_LEVEL", "BEDROCK_MODEL_ID", "BEDROCK_REGION"} <= set(normalize.required_env)


# -- JSON form and round trip -------------------------------------------------------------------
def test_json_has_sorted_keys_indent_2_and_one_trailing_newline(built: Built) -> None:
    raw = built.raw.decode("utf-8")
    assert raw == json.dumps(json.loads(raw), sort_keys=True, indent=2) + "\n"
    assert raw.endswith("}\n") and not raw.endswith("\n\n")
    assert raw.startswith('{\n  "artifacts": [\n')
    assert built.manifest.dumps() == built.raw


def test_save_and_load_round_trip(built: Built, tmp_path: Path) -> None:
    path = save(built.manifest, tmp_path)
    assert path == tmp_path / "manifest.json"
    assert path.read_bytes() == built.raw
    assert load(tmp_path) == built.manifest
    assert load(path) == built.manifest
    assert Manifest.loads(built.raw) == built.manifest
    assert load(path).sha256 == hashlib.sha256(built.raw).hexdigest()


def test_release_id_is_version_plus_short_commit(built: Built) -> None:
    assert built.manifest.release_id == f"0.1.0+{built.manifest.commit[:7]}"


@pytest.mark.parametrize("schema", [2, 0, "1", None])
def test_unknown_schema_version_is_refused(built: Built, schema: object) -> None:
    data = json.loads(built.raw)
    data["schema_version"] = schema
    with pytest.raises(ManifestError, match="unknown schema_version") as caught:
        Manifest.loads(json.dumps(data).encode())
    assert caught.value.exit_code == 2


def test_missing_schema_version_is_refused(built: Built) -> None:
    data = json.loads(built.raw)
    del data["schema_version"]
    with pytest.raises(ManifestError, match="unknown schema_version None"):
        Manifest.from_dict(data)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: d.pop("commit"), "malformed manifest"),
        (lambda d: d["artifacts"][0].pop("sha256"), "malformed manifest"),
        (lambda d: d["artifacts"][0].update(colour="blue"), "malformed manifest"),
        (lambda d: d["artifacts"][0].update(kind="lambda"), "has kind 'lambda'"),
    ],
)
def test_malformed_manifest_is_refused(built: Built, damage, message: str) -> None:
    data = json.loads(built.raw)
    damage(data)
    with pytest.raises(ManifestError, match=message):
        Manifest.from_dict(data)


def test_unreadable_or_missing_manifest_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="manifest not found"):
        load(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(ManifestError, match="not valid JSON"):
        load(tmp_path)
    (tmp_path / "manifest.json").write_text("[1, 2]")
    with pytest.raises(ManifestError, match="not a JSON object"):
        load(tmp_path)


# -- verification -------------------------------------------------------------------------------
def test_verify_files_accepts_the_built_release(built: Built, dist: Path) -> None:
    verify_files(built.manifest, dist)  # raises on any mismatch


@pytest.mark.parametrize("name", ["vectora-core", "common-deps", "config-bundle"])
def test_verify_files_catches_one_flipped_byte(built: Built, dist: Path, name: str) -> None:
    path = dist / built.manifest.artifact(name).file
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match=re.escape(path.name)) as caught:
        verify_files(built.manifest, dist)
    assert caught.value.exit_code == 2
    assert "does not match the manifest" in caught.value.message


def test_verify_files_catches_a_missing_file(built: Built, dist: Path) -> None:
    (dist / "newsletter-v2-0.1.0.zip").unlink()
    with pytest.raises(IntegrityError, match=r"newsletter-v2-0\.1\.0\.zip: artifact missing"):
        verify_files(built.manifest, dist)


def test_verify_bytes_checks_content_and_size(built: Built) -> None:
    artifact = built.manifest.artifact("ingest-v2")
    data = (built.out / artifact.file).read_bytes()
    verify_bytes(artifact, data, "s3://bucket/key")
    with pytest.raises(IntegrityError, match="s3://bucket/key"):
        verify_bytes(artifact, data + b"\0", "s3://bucket/key")
    with pytest.raises(IntegrityError):
        verify_bytes(artifact, data[:-1], "s3://bucket/key")


# -- dirty tree ---------------------------------------------------------------------------------
def test_clean_tree_builds_clean(built: Built) -> None:
    assert built.manifest.dirty is False


def test_uncommitted_change_marks_the_build_dirty(built: Built, tmp_path: Path) -> None:
    project = clone(built.project, tmp_path / "project")
    scope = project / "canonical" / "scopes" / "exclusions.yaml"
    scope.write_text(scope.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    manifest = build_release(load_config(project / "release.yaml"), tmp_path / "out")
    assert manifest.dirty is True
    assert json.loads((tmp_path / "out" / "manifest.json").read_bytes())["dirty"] is True


def test_untracked_file_marks_the_build_dirty(built: Built, tmp_path: Path) -> None:
    project = clone(built.project, tmp_path / "project")
    (project / "notes.txt").write_text("not committed\n")
    manifest = build_release(load_config(project / "release.yaml"), tmp_path / "out")
    assert manifest.dirty is True


def test_a_dirty_package_layer_reports_head(built: Built, tmp_path: Path) -> None:
    project = clone(built.project, tmp_path / "project")
    (project / "src_v2" / "vectora_core" / "extra.py").write_text("X = 1\n")
    manifest = build_release(load_config(project / "release.yaml"), tmp_path / "out")
    assert manifest.dirty is True
    assert manifest.artifact("vectora-core").build_info == {
        "version": "0.1.0",
        "commit": manifest.commit,
    }
    assert (
        manifest.artifact("vectora-core").sha256 != built.manifest.artifact("vectora-core").sha256
    )


def test_ignored_output_folder_keeps_the_build_clean(built: Built, tmp_path: Path) -> None:
    project = clone(built.project, tmp_path / "project")
    first = build_release(load_config(project / "release.yaml"), project / "dist")
    second = build_release(load_config(project / "release.yaml"), project / "dist")
    assert first.dirty is False and second.dirty is False
