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


def _alias_state(target, resource):
    conf = target.lam.get_function_configuration(FunctionName=resource, Qualifier="live")
    return conf["CodeSha256"], conf["Environment"]["Variables"], conf["Runtime"]


def test_story_adopt_deploy_validate_rollback_gives_back_the_hand_made_engine(brown, released, cli):
    target, made = brown
    data_before = data_digests(target, made)
    hand_made = {
        r: target.lam.get_function(FunctionName=r)["Configuration"] for r in made.functions
    }

    # before adopt, deploy refuses the hand-made functions
    refused = cli("deploy", "--env", "dev", "--version", released.r1.version)
    assert refused.code == 2 and "rename or remove it" in refused.err

    dry = cli("--json", "adopt", "--env", "dev", "--dry-run")
    assert dry.code == 0, dry.err
    assert dry.calls.mutating == []
    assert any(line.startswith("PublishVersion") for line in dry.json()["plan"])
    assert any("runtime python3.11" in d for d in dry.json()["differences"])

    adopted = cli("--json", "adopt", "--env", "dev")
    assert adopted.code == 0, adopted.err
    report = adopted.json()
    assert sorted(report["adopted"]) == sorted(released.config.functions)
    record = target.ledger.get(report["record_id"])
    assert record.kind == "adopt" and record.snapshot == report["snapshot"]
    assert record.validated
    tags = target.lam.list_tags(Resource=hand_made[made.functions[0]]["FunctionArn"])["Tags"]
    assert tags["ManagedBy"] == "vectora-release" and tags["AdoptedFrom"] == report["snapshot"]
    assert tags["Owner"] == "operators"

    again = cli("--json", "adopt", "--env", "dev")
    assert again.code == 0 and again.json()["outcome"] == "up_to_date"
    assert again.calls.mutating == []

    deployed = cli("deploy", "--env", "dev", "--version", released.r1.version)
    assert deployed.code == 0, deployed.err
    for resource in made.functions:
        sha, env, _ = _alias_state(target, resource)
        assert sha != hand_made[resource]["CodeSha256"] and env["LOG_LEVEL"] == "INFO"
    validated = cli("validate", "--env", "dev")
    assert validated.code == 0, validated.err

    rolled = cli("--json", "rollback", "--env", "dev", "--reason", "back to the hand-made engine")
    assert rolled.code == 0, rolled.err
    assert rolled.json()["validation"]["status"] == "passed"
    for resource, conf in hand_made.items():
        sha, env, runtime = _alias_state(target, resource)
        assert sha == conf["CodeSha256"]
        assert env == conf["Environment"]["Variables"]
        assert runtime == conf["Runtime"]
        live = target.lam.get_function_configuration(FunctionName=resource, Qualifier="live")
        assert [x["Arn"] for x in live["Layers"]] == [x["Arn"] for x in conf["Layers"]]
    assert target.ledger.current().kind == "rollback"

    redeployed = cli("deploy", "--env", "dev", "--version", released.r1.version)
    assert redeployed.code == 0, redeployed.err
    swept = cli("gc", "--env", "dev", "--keep", "1")
    assert swept.code == 0, swept.err
    for state in record.functions.values():  # the way back to the hand-made engine stays
        conf = target.lam.get_function_configuration(
            FunctionName=state.name, Qualifier=state.version
        )
        assert conf["CodeSha256"] == state.code_sha256
    _cleanup_and_restore(target, made, cli)
    assert data_digests(target, made) == data_before


def _legacy_contents(target, made):
    """Every legacy item's bytes or CodeSha256, by name (layer versions by layer and content)."""
    out = {}
    for layer in made.layers:
        versions = target.lam.list_layer_versions(LayerName=layer)["LayerVersions"]
        shas = sorted(
            target.lam.get_layer_version(LayerName=layer, VersionNumber=v["Version"])["Content"][
                "CodeSha256"
            ]
            for v in versions
        )
        out[layer] = shas
    config = target.spec.buckets["config"]
    for key in made.config_objects:
        out[key] = target.s3.get_object(Bucket=config, Key=key)["Body"].read()
    for key in made.stale_zips:
        bucket = "vectora-inbox-lambda-code-dev"
        out[key] = target.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return out


def _cleanup_and_restore(target, made, cli):
    before = _legacy_contents(target, made)
    report = cli("--json", "cleanup", "--env", "dev")
    assert report.code == 0, report.err
    assert report.calls.mutating == []
    rows = report.json()["leftovers"]
    subjects = " ".join(row["subject"] for row in rows)
    for layer in made.legacy_layers:
        assert layer in subjects
    for key in [*made.config_objects, *made.stale_zips]:
        assert key in subjects
    kept = [row for row in rows if row["action"] == "keep"]
    # the adopted versions (rollback targets) still use the last legacy core and dependencies
    assert {row["subject"].rsplit(":", 2)[-2] for row in kept} == {
        "vectora-inbox-vectora-core-dev",
        "vectora-inbox-dependencies",
    }

    applied = cli("--json", "cleanup", "--env", "dev", "--apply")
    assert applied.code == 0, applied.err
    snapshot = applied.json()["snapshot"]
    assert snapshot and len(applied.json()["deleted"]) == len(rows) - len(kept)
    config = target.spec.buckets["config"]
    for key in made.config_objects:
        assert "Contents" not in target.s3.list_objects_v2(Bucket=config, Prefix=key)
    assert "yaml-fix" not in json_layers(target)
    assert cli("--json", "cleanup", "--env", "dev").json()["leftovers"] == kept

    dry = cli("--json", "restore", "--env", "dev", "--snapshot", snapshot, "--dry-run")
    assert dry.code == 0 and dry.calls.mutating == [] and dry.json()["plan"]
    restored = cli("--json", "restore", "--env", "dev", "--snapshot", snapshot)
    assert restored.code == 0, restored.err
    assert _legacy_contents(target, made) == before
    record = target.ledger.get(restored.json()["record_id"])
    assert record.kind == "restore" and record.snapshot == snapshot
    assert target.ledger.current().kind == "deploy"  # functions untouched: still the release
    again = cli("--json", "restore", "--env", "dev", "--snapshot", snapshot)
    assert again.json()["outcome"] == "up_to_date" and again.calls.mutating == []


def json_layers(target):
    return " ".join(x["LayerName"] for x in target.lam.list_layers()["Layers"])


def _state(target):
    """Everything the takeover commands could change: functions, aliases, tags, layers, objects."""
    lam, s3 = target.lam, target.s3
    out = {}
    for fn in lam.list_functions()["Functions"]:
        name = fn["FunctionName"]
        versions = lam.list_versions_by_function(FunctionName=name)["Versions"]
        aliases = lam.list_aliases(FunctionName=name)["Aliases"]
        out[name] = (
            [(v["Version"], v["CodeSha256"]) for v in versions],
            [(a["Name"], a["FunctionVersion"]) for a in aliases],
            lam.list_tags(Resource=fn["FunctionArn"])["Tags"],
        )
    for layer in lam.list_layers()["Layers"]:
        name = layer["LayerName"]
        out[name] = [v["Version"] for v in lam.list_layer_versions(LayerName=name)["LayerVersions"]]
    for bucket in ("vectora-inbox-config-dev", "vectora-inbox-lambda-code-dev"):
        for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            out[f"{bucket}/{item['Key']}"] = item["ETag"]
    return out


def _one_error_line(err):
    """The error is one line, the last (progress lines may come before it)."""
    lines = err.strip().splitlines()
    return [x for x in lines if x.startswith("error:")] == lines[-1:]


def _deny(operation):
    """A wiring whose clients are refused ``operation`` (AccessDeniedException)."""
    from botocore.exceptions import ClientError
    from vectora_release.aws import Aws

    def hook(**_):
        raise ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}, operation
        )

    def make():
        aws = Aws()
        aws.events.register(f"before-parameter-build.*.{operation}", hook, unique_id="deny")
        return aws

    return make


COMMANDS = {
    "adopt": ("adopt", "--env", "dev"),
    "cleanup --apply": ("cleanup", "--env", "dev", "--apply"),
    "restore": ("restore", "--env", "dev", "--snapshot", "{snapshot}"),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_lock_held_refuses_and_changes_nothing(brown, cli, command):
    target, _ = brown
    snapshot = take_snapshot(target).id
    if command == "restore":
        cli("cleanup", "--env", "dev", "--apply")  # so that restore has something to do
    before = _state(target)
    lock = target.ledger.acquire(900, "someone else")
    args = [a.format(snapshot=snapshot) for a in COMMANDS[command]]
    result = cli(*args)
    assert result.code == 1, result.err
    assert _one_error_line(result.err) and "someone else" in result.err
    assert _state(target) == before
    target.ledger.release(lock)


@pytest.mark.parametrize(
    ("command", "operation"),
    [
        ("snapshot", "GetFunction"),
        ("adopt", "ListFunctions"),
        ("adopt", "GetFunction"),
        ("cleanup --apply", "ListLayerVersions"),
        ("restore", "GetLayerVersion"),
    ],
)
def test_missing_permission_is_one_line_and_changes_nothing(brown, released, command, operation):
    from vectora_release.cli import Wiring, run_cli

    target, _ = brown
    snapshot = take_snapshot(target).id
    before = _state(target)
    args = {"snapshot": ("snapshot", "--env", "dev"), **COMMANDS}[command]
    args = [a.format(snapshot=snapshot) for a in args]
    config = str(released.r1.project / "release.yaml")
    result = run_cli(["--config", config, *args], Wiring(aws=_deny(operation)))
    assert result.code == 2, result.err
    assert _one_error_line(result.err) and f"may not call {operation}" in result.err
    assert _state(target) == before


@pytest.mark.parametrize("extra", [(), ("--dry-run",)])
def test_unknown_snapshot_is_bad_input(brown, cli, extra):
    listed = cli("snapshot", "list", "--env", "dev")
    assert listed.code == 0 and "no snapshot" in listed.err
    before = _state(brown[0])
    result = cli("restore", "--env", "dev", "--snapshot", "nope", *extra)
    assert result.code == 2 and "no snapshot 'nope'" in result.err
    assert _one_error_line(result.err)
    assert result.calls.mutating == [] and _state(brown[0]) == before
    missing = cli("snapshot")
    assert missing.code == 2 and "needs --env" in missing.err


def test_cleanup_reports_a_hand_made_rule_that_invokes_latest_and_never_deletes_it(brown, cli):
    """The operators' own weekly rule would run beside the declared schedule: it is named,
    kept, and left exactly as it is, with its permission, by cleanup --apply."""
    target, made = brown
    ingest = made.functions[0]
    events = target.client("events")
    rule = events.put_rule(Name="lai-weekly-monday", ScheduleExpression="cron(0 8 ? * MON *)")
    function_arn = target.lam.get_function(FunctionName=ingest)["Configuration"]["FunctionArn"]
    events.put_targets(Rule="lai-weekly-monday", Targets=[{"Id": "ingest", "Arn": function_arn}])
    target.lam.add_permission(
        FunctionName=ingest,
        StatementId="lai-weekly-monday",
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        SourceArn=rule["RuleArn"],
    )
    policy = target.lam.get_policy(FunctionName=ingest)["Policy"]

    report = cli("--json", "cleanup", "--env", "dev")
    applied = cli("--json", "cleanup", "--env", "dev", "--apply")

    assert report.code == 0 and applied.code == 0, report.err + applied.err
    for rows in (report.json()["leftovers"], applied.json()["leftovers"]):
        (trigger,) = [row for row in rows if row["kind"] == "trigger"]
        assert trigger["subject"] == "events rule lai-weekly-monday"
        assert trigger["action"] == "keep"
        assert f"may invoke {ingest} ($LATEST)" in trigger["detail"]
    assert not any("lai-weekly-monday" in step for step in applied.json()["deleted"])
    assert events.list_targets_by_rule(Rule="lai-weekly-monday")["Targets"][0]["Arn"] == (
        function_arn
    )
    assert target.lam.get_policy(FunctionName=ingest)["Policy"] == policy
