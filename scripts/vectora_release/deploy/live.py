"""Read the live state of an environment (reads only: Get/List/Head)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..aws import s3util
from ..aws.lambda_ import ALIAS, FunctionConfiguration, if_exists, layer_code_sha256
from ..common.digest import b64_to_hex
from .desired import MANAGED_BY, recorded_sha256

READ_WORKERS = 8


@dataclass(frozen=True)
class VersionState:
    """One published version (or $LATEST) of a function."""

    version: str
    code_sha256: str
    config: FunctionConfiguration
    state: str | None = None
    last_update: str | None = None

    @classmethod
    def from_lambda(cls, conf: dict[str, Any]) -> VersionState:
        return cls(
            version=str(conf.get("Version", "$LATEST")),
            code_sha256=conf["CodeSha256"],
            config=FunctionConfiguration.from_lambda(conf),
            state=conf.get("State"),
            last_update=conf.get("LastUpdateStatus"),
        )


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


def read_function(lam: Any, resource: str) -> FunctionLive:
    """$LATEST, tags and reserved concurrency (GetFunction) and what alias ``live`` runs.

    Two calls: GetFunctionConfiguration qualified by the alias returns the configuration of
    the version the alias points to, its number included.
    """
    response = if_exists(lam.get_function, FunctionName=resource)
    if response is None:
        return FunctionLive(resource, exists=False)
    tags = response.get("Tags") or {}
    alias = if_exists(lam.get_function_configuration, FunctionName=resource, Qualifier=ALIAS)
    concurrency = (response.get("Concurrency") or {}).get("ReservedConcurrentExecutions")
    return FunctionLive(
        resource=resource,
        exists=True,
        managed=tags.get("ManagedBy") == MANAGED_BY,
        latest=VersionState.from_lambda(response["Configuration"]),
        alias=None if alias is None else VersionState.from_lambda(alias),
        reserved_concurrency=concurrency,
        tags=tags,
        role_arn=response["Configuration"].get("Role"),
    )


def find_layer_version(lam: Any, resource: str, sha256: str, code_sha256: str) -> str | None:
    """ARN of a managed version of ``resource`` holding exactly this content, if any."""
    pages = if_exists(lambda: list(_layer_versions(lam, resource))) or []
    for item in pages:
        if recorded_sha256(item.get("Description")) != sha256:
            continue
        if layer_code_sha256(lam, item["LayerVersionArn"]) == code_sha256:
            return item["LayerVersionArn"]
    return None


def _layer_versions(lam: Any, resource: str) -> Any:
    for page in lam.get_paginator("list_layer_versions").paginate(LayerName=resource):
        yield from page.get("LayerVersions", [])


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
