"""The one place boto3 clients are made, and the S3 and Lambda helpers built on them.

Importing this package imports boto3: the CLI does so only in commands that reach AWS.
"""

from __future__ import annotations

from ..common.lazy import exports

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
    "policy_statements",
    "s3util",
]

# Each name is imported from its module when first read (``common.lazy``).
__getattr__ = exports(
    __name__,
    {
        "ALIAS": "lambda_",
        "Aws": "clients",
        "BotoCoreError": "clients",
        "CallCounter": "clients",
        "ClientError": "clients",
        "FunctionConfiguration": "lambda_",
        "alias_version": "lambda_",
        "error_code": "clients",
        "if_exists": "lambda_",
        "is_mutating": "clients",
        "layer_code_sha256": "lambda_",
        "move_alias": "lambda_",
        "policy_statements": "lambda_",
        "s3util": "s3util",
    },
)
