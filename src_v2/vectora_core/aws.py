"""Lazy boto3 client factory.

boto3 is imported only here, when a client is first needed, so modules that never talk to AWS
(parsing, scoring, rendering) stay importable without it. Endpoints are never hard-coded:
boto3 itself honours ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>``; the region comes
from the argument, else ``AWS_REGION``, else boto3's own lookup (``AWS_DEFAULT_REGION``).
Clients retry in botocore's adaptive mode (throttling from Bedrock and S3 is expected).
Bedrock clients count their calls and throttled attempts as metrics (``chain.watch_bedrock``).
"""

from __future__ import annotations

import os
from typing import Any

RETRIES = {"mode": "adaptive", "max_attempts": 10}


def client(service: str, region: str | None = None) -> Any:
    """Create a boto3 client for ``service`` (a fresh one each call; they are cheap)."""
    import boto3  # lazy: provided by the Lambda runtime
    from botocore.config import Config

    region_name = region or os.environ.get("AWS_REGION") or None
    made = boto3.client(service, region_name=region_name, config=Config(retries=dict(RETRIES)))
    if service == "bedrock-runtime":
        from vectora_core import chain  # lazy: chain itself uses this module

        chain.watch_bedrock(made)
    return made


def errors() -> tuple[type[Exception], ...]:
    """What an AWS call can raise besides a bug: botocore's ``ClientError``, ``BotoCoreError``.

    Imported lazily like boto3 (``except aws.errors()`` evaluates only when something was
    raised); empty without botocore, when no client can exist anyway.
    """
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        return ()
    return (ClientError, BotoCoreError)
