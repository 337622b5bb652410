"""The one place boto3 clients are made, and the S3 and Lambda helpers built on them.

Importing this package imports boto3: the CLI does so only in commands that reach AWS.
"""

from __future__ import annotations

from . import s3util
from .clients import Aws, BotoCoreError, CallCounter, ClientError, error_code, is_mutating
from .lambda_ import (
    ALIAS,
    FunctionConfiguration,
    alias_version,
    if_exists,
    layer_code_sha256,
    move_alias,
)

__all__ = [
    "ALIAS",
    "Aws",
    "BotoCoreError",
    "CallCounter",
    "ClientError",
    "FunctionConfiguration",
    "alias_version",
    "error_code",
    "if_exists",
    "is_mutating",
    "layer_code_sha256",
    "move_alias",
    "s3util",
]
