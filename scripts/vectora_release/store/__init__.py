"""What lives in S3 beside the releases: the immutable artifact store, the ledger, the lock.

Layout of an artifact bucket::

    releases/<version>/<commit>/…      zips and manifest.json, written once (``artifacts``)
    index/commits/<commit>             → the release's prefix
    ledger/<env>/records/<id>.json     one record per deploy, promote or rollback (``ledger``)
    ledger/<env>/current.json          → the record of what is live
    ledger/<env>/lock.json             the deploy lock (``lock``)
"""

from __future__ import annotations

from .artifacts import INDEX, ArtifactStore, PublishReport, VerifiedArtifacts, release_prefix
from .ledger import (
    FAILED,
    IN_PROGRESS,
    INTERRUPTED,
    ROLLED_BACK,
    SUCCEEDED,
    DeploymentRecord,
    FunctionState,
    LayerState,
    Ledger,
)
from .lock import Lock, LockFile

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
