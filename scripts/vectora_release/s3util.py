"""Small S3 helpers shared by the store, the ledger and the config uploads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .aws import ClientError, error_code

MISSING = ("404", "NoSuchKey", "NotFound")
PRECONDITION = ("PreconditionFailed", "ConditionalRequestConflict", "412")


def get_bytes(s3: Any, bucket: str, key: str) -> bytes | None:
    """Object body, or None when there is no such key."""
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if error_code(exc) in MISSING:
            return None
        raise


def head(s3: Any, bucket: str, key: str) -> dict | None:
    """HEAD with the stored SHA-256 checksum, or None when absent."""
    try:
        return s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    except ClientError as exc:
        if error_code(exc) in MISSING:
            return None
        raise


def keys(s3: Any, bucket: str, prefix: str) -> Iterator[str]:
    """Every key under ``prefix``."""
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            yield item["Key"]


def is_precondition_failure(exc: ClientError) -> bool:
    return error_code(exc) in PRECONDITION
