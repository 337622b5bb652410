"""Read the live state of an environment (reads only: Get/List/Head)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from . import s3util
from .aws import ClientError, error_code
from .digest import b64_to_hex
from .spec import MANAGED_BY, FunctionConfigSpec, recorded_sha256

ALIAS = "live"
READ_WORKERS = 8


@dataclass(frozen=True)
class VersionState:
    """One published version (or $LATEST) of a function."""

    version: str
    code_sha256: str
    config: FunctionConfigSpec
    state: str | None = None
    last_update: str | None = None


@dataclass(frozen=True)
class FunctionLive:
    resource: str
    exists: bool
    managed: bool = False
    latest: VersionState | None = None
    alias: VersionState | None = None
    reserved_concurrency: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    role_arn: str | None = None


def config_of(conf: dict[str, Any]) -> FunctionConfigSpec:
    """Normalise a Lambda configuration into the comparable spec (layers as ARNs)."""
    return FunctionConfigSpec(
        handler=conf.get("Handler", ""),
        runtime=conf.get("Runtime", ""),
        memory=int(conf.get("MemorySize", 0)),
        timeout=int(conf.get("Timeout", 0)),
        layers=tuple(layer["Arn"] for layer in conf.get("Layers", [])),
        env=tuple(sorted((conf.get("Environment") or {}).get("Variables", {}).items())),
    )


def _version_state(conf: dict[str, Any]) -> VersionState:
    return VersionState(
        version=str(conf.get("Version", "$LATEST")),
        code_sha256=conf["CodeSha256"],
        config=config_of(conf),
        state=conf.get("State"),
        last_update=conf.get("LastUpdateStatus"),
    )


def read_function(lam: Any, resource: str) -> FunctionLive:
    """$LATEST, tags and reserved concurrency (GetFunction) and what alias ``live`` runs.

    Two calls: GetFunctionConfiguration qualified by the alias returns the configuration of
    the version the alias points to, its number included.
    """
    try:
        response = lam.get_function(FunctionName=resource)
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return FunctionLive(resource, exists=False)
        raise
    tags = response.get("Tags") or {}
    latest = _version_state(response["Configuration"])
    alias = None
    try:
        alias = _version_state(
            lam.get_function_configuration(FunctionName=resource, Qualifier=ALIAS)
        )
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
    concurrency = (response.get("Concurrency") or {}).get("ReservedConcurrentExecutions")
    return FunctionLive(
        resource=resource,
        exists=True,
        managed=tags.get("ManagedBy") == MANAGED_BY,
        latest=latest,
        alias=alias,
        reserved_concurrency=concurrency,
        tags=tags,
        role_arn=response["Configuration"].get("Role"),
    )


def find_layer_version(lam: Any, resource: str, sha256: str, code_sha256: str) -> str | None:
    """ARN of a managed version of ``resource`` holding exactly this content, if any."""
    try:
        paginator = lam.get_paginator("list_layer_versions")
        for page in paginator.paginate(LayerName=resource):
            for item in page.get("LayerVersions", []):
                if recorded_sha256(item.get("Description")) != sha256:
                    continue
                if layer_code_sha256(lam, item["LayerVersionArn"]) == code_sha256:
                    return item["LayerVersionArn"]
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
    return None


def layer_code_sha256(lam: Any, arn: str) -> str | None:
    """CodeSha256 of a layer version given its ARN (``…:layer:<name>:<version>``)."""
    layer, _, number = arn.rpartition(":")
    try:
        response = lam.get_layer_version(LayerName=layer, VersionNumber=int(number))
        return response["Content"].get("CodeSha256")
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise


def read_bundle(s3: Any, bucket: str, prefix: str) -> dict[str, str | None]:
    """Relative key → sha256 hex of every object under ``prefix``.

    The digest is S3's own ``ChecksumSHA256`` (verified by S3 on upload); an object written
    without one maps to None and so never matches.
    """
    keys = list(s3util.keys(s3, bucket, prefix))

    def digest(key: str) -> str | None:
        checksum = (s3util.head(s3, bucket, key) or {}).get("ChecksumSHA256")
        return b64_to_hex(checksum) if checksum else None

    with ThreadPoolExecutor(max_workers=READ_WORKERS) as pool:  # reads are latency-bound
        digests = list(pool.map(digest, keys))
    return {key[len(prefix) :]: value for key, value in zip(keys, digests, strict=True)}
