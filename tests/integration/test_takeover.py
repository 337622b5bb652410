"""Taking over a hand-made environment: snapshot, adopt, rollback to the adopted state."""

from __future__ import annotations

import json

import pytest
from vectora_release.local.brownfield import LEGACY_SECRET, build_brownfield, data_digests
from vectora_release.ops.snapshot import take_snapshot
from vectora_release.store.snapshots import SnapshotStore


@pytest.fixture
def brown(released):
    """dev bootstrapped, then made to look like the operators' hand-made dev."""
    target = released.target()
    return target, build_brownfield(target)


def test_snapshot_saves_code_layers_config_and_masks_secrets(brown):
    target, made = brown
    before = data_digests(target, made)
    report = take_snapshot(target, include_data=True)
    assert sorted(report.functions) == sorted(made.functions)
    every_layer = {arn for arns in made.layers.values() for arn in arns}
    assert every_layer <= set(report.layer_versions)
    assert f"{made.functions[0]}:{LEGACY_SECRET[0]}" in report.masked
    store = SnapshotStore(target.s3, target.spec.artifact_bucket, "dev")
    doc, digest = store.load(report.id)
    assert digest == report.manifest_sha256
    assert LEGACY_SECRET[1] not in json.dumps(doc)
    fn = doc["functions"][made.functions[0]]
    assert fn["configuration"]["Environment"][LEGACY_SECRET[0]] == "****"
    code = store.blob(report.id, fn["code"]["$LATEST"])
    assert b"hand-made" in code
    keys = {(o["bucket"], o["key"]) for o in doc["objects"]}
    assert set(made.data_objects) <= keys
    assert ("vectora-inbox-config-dev", "clients/lai_weekly_v7.yaml") in keys
    assert data_digests(target, made) == before
    assert [s.id for s in store.summaries()] == [report.id]
