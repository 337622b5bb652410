"""What lives in S3 beside the releases: the immutable artifact store, the ledger, the lock.

Layout of an artifact bucket::

    releases/<version>/<commit>/…      zips and manifest.json, written once (``artifacts``)
    index/commits/<commit>             → the release's prefix
    ledger/<env>/records/<id>.json     one record per deploy, promote or rollback (``ledger``)
    ledger/<env>/current.json          → the record of what is live
    ledger/<env>/lock.json             the deploy lock (``lock``)
"""

from __future__ import annotations

from ..common.lazy import exports

__all__ = [
    "FAILED",
    "INDEX",
    "INTERRUPTED",
    "IN_PROGRESS",
    "ROLLED_BACK",
    "SUCCEEDED",
    "ArtifactStore",
    "DeploymentRecord",
    "FunctionState",
    "LayerState",
    "Ledger",
    "Lock",
    "LockFile",
    "PublishReport",
    "VerifiedArtifacts",
    "release_prefix",
]

# Each name is imported from its module when first read (``common.lazy``).
__getattr__ = exports(
    __name__,
    {
        "FAILED": "ledger",
        "INDEX": "artifacts",
        "INTERRUPTED": "ledger",
        "IN_PROGRESS": "ledger",
        "ROLLED_BACK": "ledger",
        "SUCCEEDED": "ledger",
        "ArtifactStore": "artifacts",
        "DeploymentRecord": "ledger",
        "FunctionState": "ledger",
        "LayerState": "ledger",
        "Ledger": "ledger",
        "Lock": "lock",
        "LockFile": "lock",
        "PublishReport": "artifacts",
        "VerifiedArtifacts": "artifacts",
        "release_prefix": "artifacts",
    },
)
