"""S3 layout and small JSON/text read-write helpers.

Layout (``<d>`` = ``<yyyy>/<mm>/<dd>`` of the run date)::

    DATA_BUCKET         ingested/<client>/<d>/items.json
    DATA_BUCKET         curated/<client>/<d>/items.json
    NEWSLETTERS_BUCKET  <client>/<d>/newsletter.md

A run whose event names a ``namespace`` (``_release_check`` for the release system's
post-deploy validation) reads and writes every key under ``<namespace>/``. A namespace starts
with ``_`` and a client id never does, so such a run can never touch a client's objects.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from vectora_core import aws


class StorageError(RuntimeError):
    """An S3 object could not be read or written."""


def _date_path(run_date: date) -> str:
    return f"{run_date:%Y/%m/%d}"


def _within(namespace: str | None, key: str) -> str:
    return f"{namespace}/{key}" if namespace else key


def ingested_key(client_id: str, run_date: date, namespace: str | None = None) -> str:
    """Key of the ingested items for a client and run date (in ``DATA_BUCKET``)."""
    return _within(namespace, f"ingested/{client_id}/{_date_path(run_date)}/items.json")


def curated_key(client_id: str, run_date: date, namespace: str | None = None) -> str:
    """Key of the normalised and scored items (in ``DATA_BUCKET``)."""
    return _within(namespace, f"curated/{client_id}/{_date_path(run_date)}/items.json")


def newsletter_key(client_id: str, run_date: date, namespace: str | None = None) -> str:
    """Key of the rendered Markdown newsletter (in ``NEWSLETTERS_BUCKET``)."""
    return _within(namespace, f"{client_id}/{_date_path(run_date)}/newsletter.md")


def read_bytes(bucket: str, key: str, s3: Any | None = None) -> bytes:
    """Read an object's body; raise :class:`StorageError` naming ``s3://bucket/key``."""
    s3 = s3 or aws.client("s3")
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except (*aws.errors(), OSError) as exc:  # modeled errors (NoSuchKey…) are ClientErrors
        raise StorageError(f"cannot read s3://{bucket}/{key}: {exc}") from exc


def write_text(
    bucket: str, key: str, text: str, content_type: str = "text/plain", s3: Any | None = None
) -> None:
    """Write UTF-8 text to ``s3://bucket/key``."""
    s3 = s3 or aws.client("s3")
    try:
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=text.encode("utf-8"),
            ContentType=f"{content_type}; charset=utf-8",
        )
    except aws.errors() as exc:
        raise StorageError(f"cannot write s3://{bucket}/{key}: {exc}") from exc


def read_json(bucket: str, key: str, s3: Any | None = None) -> Any:
    """Read and decode a JSON object from S3."""
    raw = read_bytes(bucket, key, s3)
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise StorageError(f"invalid JSON in s3://{bucket}/{key}: {exc}") from exc


def write_json(bucket: str, key: str, data: Any, s3: Any | None = None) -> None:
    """Encode ``data`` as indented, key-sorted JSON and write it to S3."""
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)
    write_text(bucket, key, text + "\n", content_type="application/json", s3=s3)
