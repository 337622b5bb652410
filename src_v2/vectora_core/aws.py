"""Lazy boto3 client factory.

boto3 is imported only here, when a client is first needed, so modules that never talk to AWS
(parsing, scoring, rendering) stay importable without it. Endpoints are never hard-coded:
boto3 itself honours ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>``; the region comes
from the argument, else ``AWS_REGION``, else boto3's own lookup (``AWS_DEFAULT_REGION``).
"""

from __future__ import annotations

import os
from typing import Any


def client(service: str, region: str | None = None) -> Any:
    """Create a boto3 client for ``service`` (a fresh one each call; they are cheap)."""
    import boto3  # lazy: provided by the Lambda runtime

    region_name = region or os.environ.get("AWS_REGION") or None
    return boto3.client(service, region_name=region_name)
