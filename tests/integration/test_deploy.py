"""deploy_release against the embedded AWS: creation, no-op redeploys, minimal changes, dry runs,
the lock, tampered artifacts and failures half-way (docs/architecture.md)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest
from vectora_release.aws import Aws, CallCounter, ClientError
from vectora_release.aws.lambda_ import ALIAS
from vectora_release.common.clock import utcnow
from vectora_release.common.errors import DeployFailedError, IntegrityError, LockHeldError
from vectora_release.config.model import CONFIG_PREFIX_VAR
from vectora_release.deploy.desired import MANAGED_BY
from vectora_release.deploy.executor import DisplayOnlyExecutor
from vectora_release.deploy.pipeline import deploy_release
from vectora_release.store.artifacts import release_prefix
from vectora_release.store.ledger import FAILED, IN_PROGRESS, SUCCEEDED, DeploymentRecord

if TYPE_CHECKING:
    from conftest import ReleaseBuilds, Released

# API operations that create or change a function or what it runs.
FUNCTION_WRITES = (
    "CreateFunction",
    "UpdateFunctionCode",
    "UpdateFunctionConfiguration",
    "PutFunctionConcurrency",
    "TagResource",
    "PublishVersion",
    "CreateAlias",
    "UpdateAlias",
    "DeleteAlias",
    "PublishLayerVersion",
)


def _layer_name(arn: str) -> str:
    """``arn:…:layer:<name>:<number>`` → ``<name>``."""
    return arn.rsplit(":", 2)[-2]


def test_first_deploy_creates_everything_as_the_manifest_says(released: Released) -> None:
    config, manifest = released.config, released.r1.manifest
    dev = released.target("dev")

    report = deploy_release(dev, manifest)

    assert report.outcome == "succeeded"
    lam = dev.lam
    assert released.functions(dev) == sorted(released.resource(fn) for fn in config.functions)
    layer_code = {a.name: a.code_sha256 for a in manifest.of_kind("layer")}
    layer_resources = {config.layer_resource(name, "dev"): name for name in layer_code}
    assert sorted(x["LayerName"] for x in lam.list_layers()["Layers"]) == sorted(layer_resources)
    prefix = f"releases/{manifest.version}+{manifest.commit[:7]}/"
    assert prefix == f"releases/{manifest.release_id}/"
    record = dev.ledger.current()
    assert record is not None and record.id == report.record_id
    assert record.outcome == SUCCEEDED and record.release_id == manifest.release_id
    assert record.config_prefix == prefix
    for function in config.functions:
        name = released.resource(function)
        alias = lam.get_alias(FunctionName=name, Name=ALIAS)
        live = lam.get_function_configuration(FunctionName=name, Qualifier=alias["FunctionVersion"])
        assert live["CodeSha256"] == manifest.artifact(function).code_sha256
        assert record.functions[function].version == alias["FunctionVersion"]
        attached = [layer["Arn"] for layer in live["Layers"]]
        assert [layer_resources[_layer_name(arn)] for arn in attached] == list(
            manifest.functions[function].layers
        )
        for arn in attached:
            layer, _, number = arn.rpartition(":")
            content = lam.get_layer_version(LayerName=layer, VersionNumber=int(number))["Content"]
            assert content["CodeSha256"] == layer_code[layer_resources[_layer_name(arn)]]
        expected_env = {**config.declared_env(function, "dev"), CONFIG_PREFIX_VAR: prefix}
        assert live["Environment"]["Variables"] == expected_env
        concurrency = lam.get_function_concurrency(FunctionName=name)
        assert concurrency["ReservedConcurrentExecutions"] == 1
        tags = lam.get_function(FunctionName=name)["Tags"]
        assert {k: tags.get(k) for k in ("Project", "Environment", "Version", "Commit")} == {
            "Project": config.project,
            "Environment": "dev",
            "Version": manifest.version,
            "Commit": manifest.commit,
        }
        assert tags["ManagedBy"] == MANAGED_BY

    bundle_zip = released.r1.dist / manifest.artifact("config-bundle").file
    bundle = zipfile.ZipFile(io.BytesIO(bundle_zip.read_bytes()))
    wanted = {n: bundle.read(n) for n in bundle.namelist() if not n.endswith("/")}
    bucket = config.env("dev").buckets["config"]
    listed = dev.s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    assert sorted(item["Key"][len(prefix) :] for item in listed) == sorted(wanted)
    for relative, data in wanted.items():
        assert dev.s3.get_object(Bucket=bucket, Key=prefix + relative)["Body"].read() == data
    assert dev.ledger.read_lock() is None


def test_redeploying_the_live_release_makes_no_mutating_call(released: Released) -> None:
    deploy_release(released.target("dev"), released.r1.manifest)
    dev = released.target("dev")
    calls = released.counter(dev)

    report = deploy_release(dev, released.r1.manifest)

    assert report.outcome == "up_to_date"
    assert report.plan == []
    assert calls.total > 0, "the counter saw no call at all: it is not attached"
    assert calls.mutating == []
    assert len(dev.ledger.history()) == 1


def test_a_one_function_change_updates_only_that_function(released: Released) -> None:
    config = released.config
    deploy_release(released.target("dev"), released.r1.manifest)
    before = released.aliases(released.target("dev"))
    r2 = released.second_release()
    dev = released.target("dev")
    calls, log = released.counter(dev), released.call_log(dev)

    report = deploy_release(dev, r2.manifest)

    assert report.outcome == "succeeded"
    changed = released.resource("normalize-score-v2")
    kinds = [step.split(" ", 1)[0] for step in report.plan]
    # The function's Version/Commit tags follow the code it runs: TagResource may come along.
    assert set(kinds) - {"TagResource"} == {"UpdateFunctionCode", "PublishVersion", "UpdateAlias"}
    assert len(kinds) == len(set(kinds)), report.plan
    assert all(changed in step for step in report.plan), report.plan
    lambda_writes = [op for op in calls.mutating if op in FUNCTION_WRITES]
    assert Counter(lambda_writes) == Counter(kinds)
    touched = {
        params.get("FunctionName") or params["Resource"].rsplit(":", 1)[-1]
        for op in set(lambda_writes)
        for params in log.of(op)
    }
    assert touched == {changed}
    config_bucket = config.env("dev").buckets["config"]
    assert [p["Key"] for p in log.of("PutObject") if p["Bucket"] == config_bucket] == []
    after = released.aliases(dev)
    assert after["normalize-score-v2"] != before["normalize-score-v2"]
    assert {fn: v for fn, v in after.items() if fn != "normalize-score-v2"} == {
        fn: v for fn, v in before.items() if fn != "normalize-score-v2"
    }
    for function in config.functions:
        live = dev.lam.get_function_configuration(
            FunctionName=released.resource(function), Qualifier=ALIAS
        )
        assert live["CodeSha256"] == r2.manifest.artifact(function).code_sha256
    assert dev.ledger.current().release_id == r2.manifest.release_id


def test_a_later_commit_changing_one_function_changes_only_its_artifact(
    release_builds: ReleaseBuilds,
) -> None:
    """Only what differs is deployed, so what a commit did not change must keep its bytes.

    A real next commit is made later than the previous one: the other test commits all share
    one date, which would hide zip timestamps taken from the commit.
    """
    r1 = release_builds.r1.manifest
    later = release_builds.derived("normalize_score_v2", committed_at="2026-11-17T09:30:00Z")

    changed = sorted(
        a.name for a in later.manifest.artifacts if a.sha256 != r1.artifact(a.name).sha256
    )

    assert changed == ["normalize-score-v2"]


def test_dry_run_lists_the_steps_and_changes_nothing(released: Released) -> None:
    dev = released.target("dev")
    calls = released.counter(dev)

    report = deploy_release(dev, released.r1.manifest, executor=DisplayOnlyExecutor())

    assert report.outcome == "planned"
    kinds = Counter(step.split(" ", 1)[0] for step in report.plan)
    assert kinds["PublishLayerVersion"] == 2
    assert kinds["CreateFunction"] == 3
    assert kinds["PublishVersion"] == 3
    assert kinds["CreateAlias"] == 3
    assert kinds["PutObject"] > 0
    assert calls.total > 0
    assert calls.mutating == []
    assert released.functions(dev) == []
    assert dev.ledger.history() == []


def test_dry_run_of_a_change_lists_it_and_changes_nothing(released: Released) -> None:
    deploy_release(released.target("dev"), released.r1.manifest)
    r2 = released.second_release()
    dev = released.target("dev")
    before = released.aliases(dev)
    calls = released.counter(dev)

    report = deploy_release(dev, r2.manifest, executor=DisplayOnlyExecutor())

    assert report.outcome == "planned"
    assert any(step.startswith("UpdateFunctionCode") for step in report.plan)
    assert calls.mutating == []
    assert released.aliases(dev) == before
    assert dev.ledger.current().release_id == released.r1.manifest.release_id


def test_a_held_lock_stops_the_deploy_before_any_change(released: Released) -> None:
    holder = released.target("dev")
    holder.ledger.acquire(900, "test")
    dev = released.target("dev")
    calls, log = released.counter(dev), released.call_log(dev)

    with pytest.raises(LockHeldError, match=r"\(test\)") as caught:
        deploy_release(dev, released.r1.manifest)

    assert caught.value.exit_code == 1
    # At most a conditional put of the lock was tried, and S3 refused it.
    assert set(calls.mutating) <= {"PutObject"}
    assert {(p["Key"], p.get("IfNoneMatch")) for p in log.of("PutObject")} <= {
        (dev.ledger.lock_key, "*")
    }
    assert released.functions(dev) == []
    assert dev.ledger.history() == []
    assert dev.ledger.read_lock() is not None, "the holder's lock must stay"


def test_an_expired_lock_is_taken_over(released: Released) -> None:
    crashed = released.target("dev")
    crashed.ledger.acquire(1, "crashed run")
    later = utcnow() + dt.timedelta(hours=1)
    dev = released.target("dev", clock=lambda: later)

    report = deploy_release(dev, released.r1.manifest)

    assert report.outcome == "succeeded"
    assert dev.ledger.read_lock() is None
    assert dev.ledger.current().id == report.record_id


def test_a_tampered_artifact_is_refused_before_any_change(released: Released) -> None:
    manifest = released.r1.manifest
    dev = released.target("dev")
    key = release_prefix(manifest) + manifest.artifact("ingest-v2").file
    dev.s3.put_object(Bucket=dev.spec.artifact_bucket, Key=key, Body=b"not the built zip")
    calls = released.counter(dev)

    with pytest.raises(IntegrityError, match=manifest.artifact("ingest-v2").file) as caught:
        deploy_release(dev, manifest)

    assert caught.value.exit_code == 2
    assert calls.mutating == []
    assert released.functions(dev) == []
    assert dev.ledger.history() == []


def _deploy_with_fault(
    released: Released, operation: str
) -> tuple[list[dict[str, Any]], DeploymentRecord]:
    """Deploy R1, then R3 (two functions changed) with the 2nd ``operation`` failing."""
    deploy_release(released.target("dev"), released.r1.manifest)
    r1_record = released.target("dev").ledger.current()
    r1_aliases = released.aliases(released.target("dev"))
    r3 = released.release_changing("ingest_v2", "normalize_score_v2")
    dev = released.target("dev")
    seen = released.fail_on_call(dev, operation, nth=2)

    with pytest.raises(DeployFailedError) as caught:
        deploy_release(dev, r3.manifest)

    assert caught.value.exit_code == 1
    assert len(seen) >= 2, f"the fault was not injected: {len(seen)} {operation} call(s)"
    check = released.target("dev")
    assert released.aliases(check) == r1_aliases
    for function in released.config.functions:
        live = check.lam.get_function_configuration(
            FunctionName=released.resource(function), Qualifier=ALIAS
        )
        assert live["CodeSha256"] == released.r1.manifest.artifact(function).code_sha256
    # Found by release, not position: records opened in the same second may come in any order.
    records = {r.release_id: r for r in check.ledger.history()}
    assert sorted(records) == sorted([released.r1.manifest.release_id, r3.manifest.release_id])
    failed = records[r3.manifest.release_id]
    assert failed.outcome == FAILED
    assert "injected fault" in (failed.error or "")
    assert operation in (failed.error or "")
    assert failed.steps_done, "the record must say what had been done"
    assert check.ledger.current().id == r1_record.id
    assert check.ledger.read_lock() is None
    return seen, failed


def test_a_failed_code_update_leaves_every_alias_on_the_previous_release(
    released: Released,
) -> None:
    seen, failed = _deploy_with_fault(released, "UpdateFunctionCode")

    names = [params["FunctionName"] for params in seen]
    # ingest-v2's $LATEST got R2's code before the failure: put back on R1 with the aliases
    ingest = released.resource("ingest-v2")
    assert names == [ingest, released.resource("normalize-score-v2"), ingest]
    assert any(step.startswith(f"$LATEST of {ingest} reset") for step in failed.steps_done)
    assert any(step.startswith("UpdateFunctionCode") for step in failed.steps_done)
    assert not any("Alias" in step for step in failed.steps_done)


def test_a_failed_alias_switch_moves_the_switched_alias_back(released: Released) -> None:
    seen, failed = _deploy_with_fault(released, "UpdateAlias")

    first = seen[0]["FunctionName"]
    r1_version = next(p["FunctionVersion"] for p in seen[2:] if p["FunctionName"] == first)
    assert seen[0]["FunctionVersion"] != r1_version, "the restore must move the alias back"
    moved = [step for step in failed.steps_done if step.startswith("UpdateAlias")]
    assert len(moved) == 1 and first in moved[0]
    assert any(step.startswith("restored") and first in step for step in failed.steps_done)


def test_an_alias_that_cannot_be_moved_back_leaves_the_record_for_the_next_run(
    released: Released,
) -> None:
    """The 2nd alias switch fails and so does moving the 1st one back: no exit 3, no record
    closed on a lie; the record stays in_progress and the next deploy repairs, then deploys."""
    dev = released.target("dev")
    deploy_release(dev, released.r1.manifest)
    r3 = released.release_changing("ingest_v2", "normalize_score_v2")
    dev = released.target("dev")
    alias_calls: list[str] = []

    def hook(params: dict[str, Any], **_: Any) -> None:
        alias_calls.append(params["FunctionName"])
        if len(alias_calls) in (2, 3):  # the 2nd switch, then the restore of the 1st
            raise ClientError(
                {"Error": {"Code": "ServiceException", "Message": "injected"}}, "UpdateAlias"
            )

    dev.aws.events.register("before-parameter-build.lambda.UpdateAlias", hook, "fault")

    with pytest.raises(DeployFailedError) as caught:
        deploy_release(dev, r3.manifest)

    assert caught.value.exit_code == 1
    assert "1 alias(es) could not be moved back" in caught.value.message
    assert "stays in_progress" in (caught.value.hint or "")
    assert alias_calls[2] == alias_calls[0], "the restore must have tried the switched alias"
    check = released.target("dev")
    (open_record,) = [r for r in check.ledger.history() if r.outcome == IN_PROGRESS]
    assert open_record.release_id == r3.manifest.release_id
    assert any(step.startswith("could not restore") for step in open_record.steps_done)
    assert check.ledger.read_lock() is None

    report = deploy_release(check, r3.manifest)

    assert report.outcome == SUCCEEDED
    assert any(open_record.id in note for note in report.recovered)
    assert check.ledger.get(open_record.id).outcome == FAILED
    for function in released.config.functions:
        live = check.lam.get_function_configuration(
            FunctionName=released.resource(function), Qualifier=ALIAS
        )
        assert live["CodeSha256"] == r3.manifest.artifact(function).code_sha256


def test_call_counter_sees_calls_of_clients_made_before_it_was_attached(aws_env: str) -> None:
    """``CallCounter.attach`` promises to count the calls made through an Aws from then on.

    botocore copies the session's hooks into each client when it is created and ``Aws``
    caches clients, so hooks registered on ``Aws.events`` after a client's first call do not
    see that client's calls; a counter attached to a used Target reports zero calls.
    """
    aws = Aws()
    aws.s3().list_buckets()
    calls = CallCounter().attach(aws)

    aws.s3().list_buckets()
    aws.s3().create_bucket(
        Bucket="vectora-counter-check",
        CreateBucketConfiguration={"LocationConstraint": "eu-west-3"},
    )

    assert calls.calls == ["ListBuckets", "CreateBucket"]
