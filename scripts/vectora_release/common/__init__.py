"""What every stage shares: typed errors, digests, clocks, JSON and text rendering."""

from __future__ import annotations

from .cancel import Cancellation
from .clock import Clock, iso, utcnow
from .digest import b64_to_hex, code_sha256, hex_to_b64, sha256_hex, tree_sha256
from .errors import (
    BuildError,
    CancelledError,
    CheckFailedError,
    ConfigError,
    DeployFailedError,
    DriftError,
    InputError,
    IntegrityError,
    InternalError,
    LockHeldError,
    ManifestError,
    PromotionError,
    ReleaseError,
    StoreError,
    VersionError,
)
from .jsonio import dumps_json
from .output import emit_json, markdown_table, say, table

__all__ = [
    "BuildError",
    "Cancellation",
    "CancelledError",
    "CheckFailedError",
    "Clock",
    "ConfigError",
    "DeployFailedError",
    "DriftError",
    "InputError",
    "IntegrityError",
    "InternalError",
    "LockHeldError",
    "ManifestError",
    "PromotionError",
    "ReleaseError",
    "StoreError",
    "VersionError",
    "b64_to_hex",
    "code_sha256",
    "dumps_json",
    "emit_json",
    "hex_to_b64",
    "iso",
    "markdown_table",
    "say",
    "sha256_hex",
    "table",
    "tree_sha256",
    "utcnow",
]
