"""promote through the CLI on the embedded AWS (docs/architecture.md).

Every test starts from a freshly reset embedded AWS where R1 is published (``released``).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest
from vectora_release.aws.lambda_ import ALIAS
from vectora_release.config.model import load_config
from vectora_release.store.artifacts import ArtifactStore, release_prefix
from vectora_release.store.ledger import ROLLED_BACK

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from conftest import Built, CliResult, Released

    Cli = Callable[..., CliResult]

STAGE_BUCKET = "vectora-inbox-artifacts-stage"


def ok(cli: Cli, *args: str, config: Path | None = None, clock: Any = None) -> Any:
    """Run ``--json ARGS``; exit 0 expected; the JSON it printed."""
    result = cli("--json", *args, config=config, clock=clock)
    assert result.code == 0, f"{' '.join(args)} → exit {result.code}: {result.err[-4000:]}"
    return result.json() if result.out.strip() else None


def validated_in_dev(
    released: Released, cli: Cli, commit: str, config: Path | None = None, e2e: bool = True
) -> None:
    """Deploy ``commit`` to dev and validate it there (with the e2e run unless told not to)."""
    ok(cli, "deploy", "--env", "dev", "--commit", commit, config=config)
    report = ok(cli, "validate", "--env", "dev", *(["--e2e"] if e2e else []), config=config)
    assert report["status"] == "passed"


def stage_with_its_own_bucket(released: Released, cli: Cli) -> Path:
    """A release.yaml giving stage its own artifact bucket, and stage bootstrapped with it."""
    config = released.variant(
        "stage-bucket",
        lambda text: text.replace(
            "    requires_validated_in: dev\n",
            f"    requires_validated_in: dev\n    artifact_bucket: {STAGE_BUCKET}\n",
        ),
    )
    ok(cli, "bootstrap", "--env", "stage", config=config)
    return config


def stage_functions(released: Released) -> list[str]:
    target = released.target("stage")
    return [name for name in released.functions(target) if name.endswith("-stage")]


def keys(s3: Any, bucket: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def live_codes(released: Released, env: str) -> dict[str, Any]:
    """Function → (its alias's CodeSha256, the CodeSha256 of each attached layer)."""
    lam = released.target(env).lam
    out = {}
    for fn in released.config.functions:
        conf = lam.get_function_configuration(
            FunctionName=released.resource(fn, env), Qualifier=ALIAS
        )
        layers = []
        for layer in conf.get("Layers", []):
            name, _, number = layer["Arn"].rpartition(":")
            version = lam.get_layer_version(LayerName=name, VersionNumber=int(number))
            layers.append(version["Content"]["CodeSha256"])
        out[fn] = (conf["CodeSha256"], layers)
    return out


# -- the gate ------------------------------------------------------------------------------------
def test_a_release_validated_without_e2e_is_not_promoted(released: Released, cli: Cli) -> None:
    """stage is compared to dev's e2e metrics: without them, refuse before changing anything."""
    stage = released.target("stage")
    validated_in_dev(released, cli, released.r1.manifest.commit, e2e=False)

    for extra in ((), ("--dry-run",)):
        result = cli("promote", "--from", "dev", "--to", "stage", *extra)
        assert result.code == 2, result.err
        assert "passed validation in dev without the e2e run" in result.err
        assert "run: vectora-release validate --env dev --e2e" in result.err
        assert result.calls.mutating == []
    assert stage_functions(released) == []
    assert stage.ledger.history() == []


# -- the soak gate --------------------------------------------------------------------------------
def test_promotion_before_min_soak_is_refused_and_an_override_is_recorded(
    released: Released, cli: Cli, tmp_path: Path
) -> None:
    """stage sets min_soak 14d: refused (exit 2) on day 3, nothing changed; --skip-soak
    --reason goes through, recorded in the ledger and in the job summary; day 15 needs none."""
    config = released.variant(
        "soak",
        lambda text: text.replace(
            "    requires_validated_in: dev\n",
            "    requires_validated_in: dev\n    min_soak: 14d\n    min_checks: 5\n",
        ),
    )
    validated_in_dev(released, cli, released.r1.manifest.commit, config)
    deployed = released.target("dev").ledger.current()
    assert deployed is not None and deployed.finished_at is not None
    start = dt.datetime.fromisoformat(deployed.finished_at.replace("Z", "+00:00"))

    def day(n: int) -> Callable[[], dt.datetime]:
        return lambda: start + dt.timedelta(days=n)

    early = cli("promote", "--from", "dev", "--to", "stage", config=config, clock=day(3))
    assert early.code == 2, early.err
    assert "has run validated in dev for 3d 0h, stage requires 14d 0h (min_soak)" in early.err
    assert "--skip-soak --reason" in early.err
    assert early.calls.mutating == [] and stage_functions(released) == []

    missing = cli("promote", "--from", "dev", "--to", "stage", "--skip-soak", config=config)
    assert missing.code == 2 and "--skip-soak needs --reason" in missing.err

    summary = tmp_path / "summary.md"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GITHUB_STEP_SUMMARY", str(summary))
        report = ok(
            cli,
            "promote",
            "--from",
            "dev",
            "--to",
            "stage",
            "--skip-soak",
            "--reason",
            "CVE hotfix",
            config=config,
            clock=day(3),
        )
    assert report["soak"]["skipped"] is True and report["soak"]["soaked_seconds"] == 3 * 86400
    record = released.target("stage").ledger.current()
    assert record is not None and record.reason == "soak skipped: CVE hotfix"
    assert record.soak == report["soak"] and record.soak["required_seconds"] == 14 * 86400
    assert "skipped by override:** CVE hotfix" in summary.read_text()

    on_time = cli("promote", "--from", "dev", "--to", "stage", config=config, clock=day(15))
    assert on_time.code == 0, on_time.err  # up to date, and the gate lets it through


# -- another artifact bucket ---------------------------------------------------------------------
def test_a_dry_run_to_another_artifact_bucket_plans_from_the_source_store(
    released: Released, cli: Cli
) -> None:
    config = stage_with_its_own_bucket(released, cli)
    validated_in_dev(released, cli, released.r1.manifest.commit, config)
    s3 = released.target().s3

    result = cli("--json", "promote", "--from", "dev", "--to", "stage", "--dry-run", config=config)

    assert result.code == 0, result.err
    report = result.json()
    assert report["outcome"] == "planned" and report["kind"] == "promote"
    manifest = released.r1.manifest
    assert report["plan"][0] == (
        f"CopyObject {len(manifest.artifacts)} artifacts of {manifest.release_id} "
        f"s3://vectora-inbox-artifacts → s3://{STAGE_BUCKET} (server side, every digest verified)"
    )
    assert any(step.startswith("CreateFunction vectora-inbox-") for step in report["plan"])
    assert result.calls.mutating == []
    assert keys(s3, STAGE_BUCKET) == []
    assert stage_functions(released) == []


def test_promote_to_another_artifact_bucket_copies_and_verifies_server_side(
    released: Released, cli: Cli
) -> None:
    config = stage_with_its_own_bucket(released, cli)
    manifest = released.r1.manifest
    validated_in_dev(released, cli, manifest.commit, config)

    result = cli("--json", "promote", "--from", "dev", "--to", "stage", config=config)

    assert result.code == 0, result.err
    report = result.json()
    assert report["outcome"] == "succeeded" and report["validation"]["status"] == "passed"
    assert result.calls.calls.count("CopyObject") == len(manifest.artifacts)
    stage = released.target("stage", config=load_config(config))
    store = ArtifactStore(stage.s3, STAGE_BUCKET)
    assert store.find(commit=manifest.commit).sha256 == manifest.sha256
    for artifact in manifest.artifacts:
        store.fetch(manifest, artifact.name)  # raises unless the bytes match the manifest
    record = stage.ledger.current()
    assert record is not None and record.id == report["record_id"]
    assert record.artifact_bucket == STAGE_BUCKET and record.from_env == "dev"
    assert live_codes(released, "stage") == live_codes(released, "dev")


def test_a_copy_that_fails_verification_is_deleted_and_named(released: Released, cli: Cli) -> None:
    config = stage_with_its_own_bucket(released, cli)
    manifest = released.r1.manifest
    validated_in_dev(released, cli, manifest.commit, config)
    s3, shared = released.target().s3, released.config.artifact_bucket
    key = release_prefix(manifest) + manifest.artifact("ingest-v2").file
    tampered = s3.put_object(Bucket=shared, Key=key, Body=b"tampered")["VersionId"]

    result = cli("promote", "--from", "dev", "--to", "stage", config=config)

    assert result.code == 2, result.err
    assert f"ingest-v2 copied from s3://{shared} failed verification" in result.err
    assert "the copy was deleted" in result.err
    assert "DeleteObject" in result.calls.mutating
    listed = s3.list_object_versions(Bucket=STAGE_BUCKET, Prefix=key)
    assert listed.get("Versions", []) == [] and listed.get("DeleteMarkers", []) == []
    stage = released.target("stage", config=load_config(config))
    assert stage_functions(released) == [] and stage.ledger.history() == []
    assert stage.ledger.read_lock() is None

    # an object at that key the copy did not write is named, and left where it is
    # Only an administrator who removed the store's bucket policy could delete a release's object.
    s3.delete_bucket_policy(Bucket=shared)
    s3.delete_object(Bucket=shared, Key=key, VersionId=tampered)
    s3.put_object(Bucket=STAGE_BUCKET, Key=key, Body=b"put there by hand")

    result = cli("promote", "--from", "dev", "--to", "stage", config=config)

    assert result.code == 2, result.err
    assert f"ingest-v2 in s3://{STAGE_BUCKET} failed verification" in result.err
    assert "DeleteObject" not in result.calls.mutating
    body = s3.get_object(Bucket=STAGE_BUCKET, Key=key)["Body"].read()
    assert body == b"put there by hand"
    assert stage_functions(released) == []


# -- automatic rollback --------------------------------------------------------------------------
def test_a_promotion_that_fails_validation_is_rolled_back(released: Released, cli: Cli) -> None:
    r1 = released.r1.manifest
    stage = released.target("stage")
    validated_in_dev(released, cli, r1.commit)
    ok(cli, "deploy", "--env", "stage", "--commit", r1.commit)
    before, stage_r1 = released.aliases(stage), stage.ledger.current()
    r2 = released.second_release().manifest
    validated_in_dev(released, cli, r2.commit)
    # dev's recorded metrics, twice the items: stage's run of r2 cannot match them
    dev_ledger = released.target().ledger
    record = dev_ledger.current()
    assert record is not None and record.validation is not None
    metrics = record.validation["metrics"]
    record.validation["metrics"] = {**metrics, "items": metrics["items"] * 2}
    dev_ledger.save(record)

    result = cli("promote", "--from", "dev", "--to", "stage")

    assert result.code == 1, result.err
    assert "rolled back" in result.err and "compare metrics vs dev" in result.err
    assert released.aliases(stage) == before
    latest = stage.ledger.history(limit=1)[0]
    assert latest.kind == "promote" and latest.from_env == "dev"
    assert latest.release_id == r2.release_id and latest.outcome == ROLLED_BACK
    assert latest.validation is not None and latest.validation["status"] == "failed"
    assert any(step.startswith("restored ") for step in latest.steps_done)
    current = stage.ledger.current()
    assert current is not None and stage_r1 is not None and current.id == stage_r1.id
    assert stage.ledger.read_lock() is None
    code = stage.lam.get_function_configuration(
        FunctionName=released.resource("normalize-score-v2", "stage"), Qualifier=ALIAS
    )["CodeSha256"]
    assert code == r1.artifact("normalize-score-v2").code_sha256
    assert cli("drift", "--env", "stage").code == 0


# -- no silent downgrade -------------------------------------------------------------------------
def higher_version(released: Released, version: str) -> Built:
    """R1's project with VERSION set to ``version`` in a new commit, built and published."""
    built = released.builds.versioned(version)
    released.publish(built)
    return built


def test_promoting_a_lower_version_is_refused_unless_allowed(released: Released, cli: Cli) -> None:
    """Two tags close together: v0.2.0 reached stage first; v0.1.0's waiting job must not
    silently put stage back on 0.1.0."""
    newer = higher_version(released, "0.2.0")
    released.target("stage")  # bootstrapped
    validated_in_dev(released, cli, released.r1.manifest.commit)
    validated_in_dev(released, cli, newer.manifest.commit)
    ok(cli, "promote", "--from", "dev", "--to", "stage")
    stage = released.target("stage")
    assert stage.ledger.current().version == "0.2.0"

    for extra in ((), ("--dry-run",)):
        refused = cli(
            "promote",
            "--from",
            "dev",
            "--to",
            "stage",
            "--commit",
            released.r1.manifest.commit,
            *extra,
        )
        assert refused.code == 2, refused.err
        assert "a downgrade" in refused.err and "runs 0.2.0+" in refused.err
        assert "rollback --env stage --to 0.1.0" in refused.err
        assert refused.calls.mutating == []
    assert released.target("stage").ledger.current().version == "0.2.0"

    allowed = ok(
        cli,
        "promote",
        "--from",
        "dev",
        "--to",
        "stage",
        "--allow-downgrade",
        "--commit",
        released.r1.manifest.commit,
    )
    assert allowed["outcome"] == "succeeded"
    assert released.target("stage").ledger.current().version == "0.1.0"
