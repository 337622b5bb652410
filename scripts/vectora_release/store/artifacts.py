"""The artifact store: immutable, verified releases in S3, keyed by version and commit.

Layout of the artifact bucket::

    releases/<version>/<commit>/<name>-<version>.zip   the zips (never overwritten)
    releases/<version>/<commit>/manifest.json          written last: a release is complete
    index/commits/<commit>                              → the release's prefix
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..aws import s3util
from ..aws.clients import ClientError, error_code
from ..build.manifest import MANIFEST_NAME, Manifest, verify_bytes
from ..common.digest import code_sha256, sha256_hex
from ..common.errors import InputError, IntegrityError, StoreError

INDEX = "index/commits/"
FETCH_WORKERS = 6


@dataclass(frozen=True)
class PublishReport:
    release_id: str
    bucket: str
    prefix: str
    uploaded: tuple[str, ...]
    unchanged: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "release": self.release_id,
            "bucket": self.bucket,
            "prefix": self.prefix,
            "uploaded": list(self.uploaded),
            "unchanged": list(self.unchanged),
        }


class VerifiedArtifacts(Mapping[str, bytes]):
    """A release's artifacts by name, each fetched from the store and verified on first use.

    Planning needs only the config bundle; the deploy verifies them all (``verify_all``) once
    it knows there is something to change, before the first change.
    """

    def __init__(self, store: ArtifactStore, manifest: Manifest) -> None:
        self._store, self._manifest = store, manifest
        self._cache: dict[str, bytes] = {}

    def __getitem__(self, name: str) -> bytes:
        if name not in self._cache:
            self._cache[name] = self._store.fetch(self._manifest, name)
        return self._cache[name]

    def __iter__(self) -> Iterator[str]:
        return (artifact.name for artifact in self._manifest.artifacts)

    def __len__(self) -> int:
        return len(self._manifest.artifacts)

    @property
    def unverified(self) -> list[str]:
        """Artifacts not fetched (and so not verified) yet."""
        return [name for name in self if name not in self._cache]

    def verify_all(self) -> None:
        missing = self.unverified
        with ThreadPoolExecutor(max_workers=FETCH_WORKERS) as pool:
            fetched = list(pool.map(lambda n: self._store.fetch(self._manifest, n), missing))
        self._cache.update(zip(missing, fetched, strict=True))


def release_prefix(manifest: Manifest) -> str:
    return f"releases/{manifest.version}/{manifest.commit}/"


class ArtifactStore:
    """Put and get release artifacts; every key is written once and verified on every read."""

    def __init__(self, s3: Any, bucket: str) -> None:
        self.s3 = s3
        self.bucket = bucket

    # -- writing ----------------------------------------------------------------------------
    def publish(self, manifest: Manifest, folder: Path) -> PublishReport:
        if manifest.dirty:
            raise StoreError(
                f"release {manifest.release_id} was built from a dirty tree",
                "commit your changes and build again",
            )
        prefix = release_prefix(manifest)
        uploaded, unchanged = [], []
        files = {}
        for artifact in manifest.artifacts:  # every file verified before the first upload
            path = folder / artifact.file
            if not path.is_file():
                raise IntegrityError(f"{path}: artifact missing", "run vectora-release build")
            files[artifact.file] = path.read_bytes()
            verify_bytes(artifact, files[artifact.file], str(folder))
        manifest_bytes = manifest.dumps()
        if self._already_published(prefix, manifest, manifest_bytes):
            names = (*files, MANIFEST_NAME, manifest.commit)
            return PublishReport(manifest.release_id, self.bucket, prefix, (), names)
        for artifact in manifest.artifacts:
            data = files[artifact.file]
            written = self._put_once(prefix + artifact.file, data, artifact.sha256)
            (uploaded if written else unchanged).append(artifact.file)
        for key, data in (
            (prefix + MANIFEST_NAME, manifest_bytes),
            (INDEX + manifest.commit, prefix.encode()),
        ):
            name = key.rsplit("/", 1)[-1]
            (uploaded if self._put_once(key, data, sha256_hex(data)) else unchanged).append(name)
        return PublishReport(
            manifest.release_id, self.bucket, prefix, tuple(uploaded), tuple(unchanged)
        )

    def _already_published(self, prefix: str, manifest: Manifest, manifest_bytes: bytes) -> bool:
        """Whether this exact release is complete in the store: two reads, made together.

        The manifest is written after every artifact (each verified as written) and the commit
        index after it, so both present with these digests mean nothing is left to upload.
        Anything else (absent, or other content) goes the key-by-key way, which names the key.
        """
        keys = {prefix + MANIFEST_NAME: manifest_bytes, INDEX + manifest.commit: prefix.encode()}
        with ThreadPoolExecutor(max_workers=len(keys)) as pool:
            heads = list(pool.map(lambda key: s3util.head(self.s3, self.bucket, key), keys))
        return all(
            head is not None and head.get("Metadata", {}).get("sha256") == sha256_hex(data)
            for head, data in zip(heads, keys.values(), strict=True)
        )

    def _put_once(self, key: str, data: bytes, digest: str) -> bool:
        """Write ``key`` unless it exists; True when written. Different bytes → refused."""
        existing = s3util.head(self.s3, self.bucket, key)
        if existing is not None:
            self._check_same(key, existing, digest)
            return False
        try:
            response = self.s3.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                IfNoneMatch="*",
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=code_sha256(data),
                Metadata={"sha256": digest},
            )
        except ClientError as exc:
            if s3util.is_precondition_failure(exc):  # written meanwhile by someone else
                self._check_same(key, s3util.head(self.s3, self.bucket, key) or {}, digest)
                return False
            raise
        stored = response.get("ChecksumSHA256")
        if stored is not None and stored != code_sha256(data):
            raise IntegrityError(f"s3://{self.bucket}/{key}: the store recorded another checksum")
        return True

    def _check_same(self, key: str, existing: dict, digest: str) -> None:
        recorded = existing.get("Metadata", {}).get("sha256")
        if recorded != digest:
            raise StoreError(
                f"s3://{self.bucket}/{key} already holds different content "
                f"({(recorded or 'unknown')[:12]}… ≠ {digest[:12]}…)",
                "published keys are immutable: bump VERSION or commit and build again",
            )

    # -- reading ----------------------------------------------------------------------------
    def find(self, version: str | None = None, commit: str | None = None) -> Manifest:
        """The manifest of a published release, by commit (full or ≥7 chars) or version."""
        if commit:
            return self.load_manifest(self._prefix_for_commit(commit))
        if version:
            return self.load_manifest(self._prefix_for_version(version))
        raise InputError("name a release", "pass --version V, --commit SHA or --manifest PATH")

    def _prefix_for_commit(self, commit: str) -> str:
        if len(commit) < 7:
            raise InputError(f"commit {commit!r} is too short", "give at least 7 hex characters")
        matches = list(s3util.keys(self.s3, self.bucket, INDEX + commit))
        if not matches:
            raise StoreError(
                f"no release published for commit {commit} in s3://{self.bucket}",
                "build and publish it first (main.yml does so on every merge)",
            )
        if len(matches) > 1:
            raise InputError(f"commit prefix {commit!r} is ambiguous", "give more characters")
        body = s3util.get_bytes(self.s3, self.bucket, matches[0]) or b""
        return body.decode()

    def _prefix_for_version(self, version: str) -> str:
        prefixes = sorted(
            {
                k.rsplit("/", 1)[0] + "/"
                for k in s3util.keys(self.s3, self.bucket, f"releases/{version}/")
                if k.endswith("/" + MANIFEST_NAME)
            }
        )
        if not prefixes:
            raise StoreError(f"no release {version} in s3://{self.bucket}", "publish it first")
        if len(prefixes) > 1:
            commits = ", ".join(p.split("/")[2][:7] for p in prefixes)
            raise InputError(
                f"version {version} was published from several commits ({commits})",
                "pass --commit SHA",
            )
        return prefixes[0]

    def load_manifest(self, prefix: str) -> Manifest:
        raw = s3util.get_bytes(self.s3, self.bucket, prefix + MANIFEST_NAME)
        if raw is None:
            raise StoreError(
                f"s3://{self.bucket}/{prefix}{MANIFEST_NAME} not found", "publish the release first"
            )
        return Manifest.loads(raw, f"s3://{self.bucket}/{prefix}{MANIFEST_NAME}")

    def fetch(self, manifest: Manifest, name: str, version_id: str | None = None) -> bytes:
        """An artifact's bytes (its ``version_id`` version if given), verified."""
        artifact = manifest.artifact(name)
        key = release_prefix(manifest) + artifact.file
        data = s3util.get_bytes(self.s3, self.bucket, key, version_id)
        if data is None:
            raise IntegrityError(f"s3://{self.bucket}/{key} is missing", "publish the release")
        verify_bytes(artifact, data, f"s3://{self.bucket}")
        return data

    def artifacts(self, manifest: Manifest) -> VerifiedArtifacts:
        """The release's artifacts, fetched (and verified) when first needed."""
        return VerifiedArtifacts(self, manifest)

    def download(self, manifest: Manifest, out: Path, manifest_only: bool = False) -> list[str]:
        """Write the manifest (and the verified zips) to ``out``; returns the file names."""
        out.mkdir(parents=True, exist_ok=True)
        written = []
        if not manifest_only:
            for artifact in manifest.artifacts:
                (out / artifact.file).write_bytes(self.fetch(manifest, artifact.name))
                written.append(artifact.file)
        (out / MANIFEST_NAME).write_bytes(manifest.dumps())
        written.append(MANIFEST_NAME)
        return written

    def has(self, manifest: Manifest) -> bool:
        return (
            s3util.head(self.s3, self.bucket, release_prefix(manifest) + MANIFEST_NAME) is not None
        )

    def copy_from(self, source: ArtifactStore, manifest: Manifest) -> list[str]:
        """Copy a release server-side from another store, verifying every digest.

        A copy that fails verification is deleted again (its key is write-once: left there,
        it would block every later copy) and the copy fails (exit 2) naming the artifact. An
        object this copy did not write is never deleted.
        """
        copied = []
        prefix = release_prefix(manifest)
        for artifact in manifest.artifacts:
            key = prefix + artifact.file
            written = None
            if s3util.head(self.s3, self.bucket, key) is None:
                written = self._copy_once(source, key)
                if written is not None:
                    copied.append(artifact.file)
            try:
                self.fetch(manifest, artifact.name, version_id=(written or {}).get("VersionId"))
            except IntegrityError as exc:
                if written is None:
                    raise IntegrityError(
                        f"{artifact.name} in s3://{self.bucket} failed verification: {exc.message}",
                        "this copy did not write it and left it as it is: "
                        "find out where it came from, then remove it",
                    ) from exc
                self._delete_written(key, written)
                raise IntegrityError(
                    f"{artifact.name} copied from s3://{source.bucket} failed verification: "
                    f"{exc.message}; the copy was deleted",
                    f"the source object was altered: check s3://{source.bucket}/{key}",
                ) from exc
        for key, data in (
            (prefix + MANIFEST_NAME, manifest.dumps()),
            (INDEX + manifest.commit, prefix.encode()),
        ):
            if self._put_once(key, data, sha256_hex(data)):
                copied.append(key.rsplit("/", 1)[-1])
        return copied

    def _copy_once(self, source: ArtifactStore, key: str) -> dict | None:
        """Server-side copy of ``key`` unless it exists: the response, None if not written."""
        try:
            return self.s3.copy_object(
                Bucket=self.bucket,
                Key=key,
                CopySource={"Bucket": source.bucket, "Key": key},
                ChecksumAlgorithm="SHA256",
                MetadataDirective="COPY",
                IfNoneMatch="*",
            )
        except ClientError as exc:
            if s3util.is_precondition_failure(exc):  # written meanwhile by someone else
                return None
            if error_code(exc) in s3util.MISSING:
                raise IntegrityError(
                    f"s3://{source.bucket}/{key} is missing", "publish the release"
                ) from exc
            raise

    def _delete_written(self, key: str, written: dict) -> None:
        """Delete the object version a copy wrote (by its version id when versioned)."""
        version = written.get("VersionId")
        extra = {"VersionId": version} if version else {}
        self.s3.delete_object(Bucket=self.bucket, Key=key, **extra)
