"""Small S3 helpers shared by the store, the ledger and the config uploads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NoReturn

from ..common.errors import InputError
from .clients import ClientError, error_code

MISSING = ("404", "NoSuchKey", "NotFound")
PRECONDITION = ("PreconditionFailed", "ConditionalRequestConflict", "412")


def _reraise(exc: ClientError, bucket: str) -> NoReturn:
    """A missing bucket is an unmet precondition (exit 2), not an internal error."""
    if error_code(exc) == "NoSuchBucket":
        raise InputError(
            f"bucket s3://{bucket} does not exist",
            "create what the environment needs first: vectora-release bootstrap --env <env>",
        ) from exc
    raise exc


def get(s3: Any, bucket: str, key: str, version_id: str | None = None) -> dict | None:
    """GetObject's answer (of version ``version_id`` if given); None when there is no such key."""
    extra = {"VersionId": version_id} if version_id else {}
    try:
        return s3.get_object(Bucket=bucket, Key=key, **extra)
    except ClientError as exc:
        if error_code(exc) in MISSING:
            return None
        _reraise(exc, bucket)


def get_bytes(s3: Any, bucket: str, key: str, version_id: str | None = None) -> bytes | None:
    """Object body (of version ``version_id`` if given), or None when there is no such key."""
    response = get(s3, bucket, key, version_id)
    return None if response is None else response["Body"].read()


def head(s3: Any, bucket: str, key: str) -> dict | None:
    """HEAD with the stored SHA-256 checksum, or None when absent."""
    try:
        return s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    except ClientError as exc:
        if error_code(exc) in MISSING:
            return None
        _reraise(exc, bucket)


def keys(s3: Any, bucket: str, prefix: str) -> Iterator[str]:
    """Every key under ``prefix``."""
    paginator = s3.get_paginator("list_objects_v2")
    try:
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield item["Key"]
    except ClientError as exc:
        _reraise(exc, bucket)


def is_precondition_failure(exc: ClientError) -> bool:
    return error_code(exc) in PRECONDITION
