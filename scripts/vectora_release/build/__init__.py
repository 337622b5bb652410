"""Build: sources → reproducible zips and a manifest. Touches no AWS.

``manifest`` is what every later stage reads, exported here. ``builders.build_release`` (with
``zipper`` and ``deps``) writes it; only the build command imports it, with git and pip.
"""

from __future__ import annotations

from .manifest import (
    CONFIG_BUNDLE,
    MANIFEST_NAME,
    ArtifactRecord,
    FunctionRecord,
    Manifest,
    verify_bytes,
)

__all__ = [
    "CONFIG_BUNDLE",
    "MANIFEST_NAME",
    "ArtifactRecord",
    "FunctionRecord",
    "Manifest",
    "verify_bytes",
]
