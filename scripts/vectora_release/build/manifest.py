"""The release manifest: what was built, from which commit, with which digests."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..common.digest import code_sha256, sha256_hex
from ..common.errors import IntegrityError, ManifestError
from ..common.jsonio import dumps_json

SCHEMA_VERSION = 1
MANIFEST_NAME = "manifest.json"
KINDS = ("layer", "function", "config")
CONFIG_BUNDLE = "config-bundle"  # the artifact holding canonical/ and clients/


@dataclass(frozen=True)
class ArtifactRecord:
    """One zip of a release."""

    name: str
    kind: str
    file: str
    size: int
    sha256: str
    code_sha256: str
    tree_sha256: str
    unzipped_size: int
    build_info: dict[str, str] | None = None  # package layers: the version/commit they carry


@dataclass(frozen=True)
class FunctionRecord:
    """How a function of the release runs (the same in every environment)."""

    handler: str
    runtime: str
    memory: int
    timeout: int
    layers: tuple[str, ...]
    required_env: tuple[str, ...]


@dataclass(frozen=True)
class Manifest:
    project: str
    version: str
    commit: str
    dirty: bool
    built_at: str
    source_date_epoch: int
    runtime: str
    compatible_runtimes: tuple[str, ...]
    artifacts: tuple[ArtifactRecord, ...]
    functions: dict[str, FunctionRecord] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    @property
    def release_id(self) -> str:
        """``<version>+<sha7>``: how people and prefixes name this release."""
        return f"{self.version}+{self.commit[:7]}"

    def artifact(self, name: str) -> ArtifactRecord:
        for artifact in self.artifacts:
            if artifact.name == name:
                return artifact
        raise ManifestError(f"release {self.release_id} has no artifact {name!r}")

    def of_kind(self, kind: str) -> list[ArtifactRecord]:
        return [a for a in self.artifacts if a.kind == kind]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["artifacts"] = [asdict(a) for a in self.artifacts]
        data["functions"] = {k: asdict(v) for k, v in sorted(self.functions.items())}
        return data

    def dumps(self) -> bytes:
        return dumps_json(self.to_dict())

    @property
    def sha256(self) -> str:
        """Digest of the manifest document: the identity of the release."""
        return sha256_hex(self.dumps())

    @classmethod
    def from_dict(cls, data: Any, source: str = MANIFEST_NAME) -> Manifest:
        if not isinstance(data, dict):
            raise ManifestError(f"{source}: not a JSON object")
        schema = data.get("schema_version")
        if schema != SCHEMA_VERSION:
            raise ManifestError(
                f"{source}: unknown schema_version {schema!r} (this tool reads {SCHEMA_VERSION})",
                "rebuild the release with this version of vectora-release",
            )
        try:
            artifacts = tuple(ArtifactRecord(**a) for a in data["artifacts"])
            functions = {
                name: FunctionRecord(
                    **{**f, "layers": tuple(f["layers"]), "required_env": tuple(f["required_env"])}
                )
                for name, f in data["functions"].items()
            }
            fields = {
                k: data[k]
                for k in (
                    "project",
                    "version",
                    "commit",
                    "dirty",
                    "built_at",
                    "source_date_epoch",
                    "runtime",
                )
            }
            manifest = cls(
                **fields,
                compatible_runtimes=tuple(data["compatible_runtimes"]),
                artifacts=artifacts,
                functions=functions,
            )
        except (KeyError, TypeError) as exc:
            raise ManifestError(f"{source}: malformed manifest ({exc})") from exc
        for artifact in artifacts:
            if artifact.kind not in KINDS:
                raise ManifestError(
                    f"{source}: artifact {artifact.name} has kind {artifact.kind!r}"
                )
        return manifest

    @classmethod
    def loads(cls, raw: bytes, source: str = MANIFEST_NAME) -> Manifest:
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ManifestError(f"{source}: not valid JSON ({exc})") from exc
        return cls.from_dict(data, source)


def save(manifest: Manifest, out_dir: Path) -> Path:
    path = out_dir / MANIFEST_NAME
    path.write_bytes(manifest.dumps())
    return path


def load(path: Path) -> Manifest:
    if path.is_dir():
        path = path / MANIFEST_NAME
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise ManifestError(f"{path}: manifest not found", "run vectora-release build") from exc
    return Manifest.loads(raw, str(path))


def verify_bytes(artifact: ArtifactRecord, data: bytes, where: str) -> None:
    """Raise IntegrityError unless ``data`` is exactly the artifact the manifest describes."""
    actual = sha256_hex(data)
    if actual != artifact.sha256 or len(data) != artifact.size:
        raise IntegrityError(
            f"{where}: {artifact.file} does not match the manifest "
            f"(sha256 {actual[:12]}… ≠ {artifact.sha256[:12]}…)",
            "the artifact was altered: rebuild and publish it again",
        )
    if code_sha256(data) != artifact.code_sha256:
        raise IntegrityError(f"{where}: {artifact.file} code_sha256 disagrees with its sha256")


def verify_files(manifest: Manifest, folder: Path) -> None:
    """Check every artifact file in ``folder`` against the manifest."""
    for artifact in manifest.artifacts:
        path = folder / artifact.file
        if not path.is_file():
            raise IntegrityError(f"{path}: artifact missing", "run vectora-release build")
        verify_bytes(artifact, path.read_bytes(), str(folder))
