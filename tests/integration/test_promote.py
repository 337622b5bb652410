"""promote through the CLI on the embedded AWS (DESIGN §5, §6, §8).

Every test starts from a freshly reset embedded AWS where R1 is published (``released``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from conftest import CliResult, Released

    Cli = Callable[..., CliResult]

STAGE_BUCKET = "vectora-inbox-artifacts-stage"


def ok(cli: Cli, *args: str, config: Path | None = None) -> Any:
    """Run ``--json ARGS``; exit 0 expected; the JSON it printed."""
    result = cli("--json", *args, config=config)
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
