"""Promote exactly the release validated in one environment to the next one."""

from __future__ import annotations

from ..build.manifest import Manifest
from ..checks.findings import all_findings, manifest_of
from ..checks.validate import make_validator
from ..common.errors import DriftError, PromotionError
from ..config.versioning import parse as parse_version
from ..deploy.executor import Executor
from ..deploy.pipeline import DeployReport, execute, executor_for
from ..deploy.release import check_upstream, release_planner
from ..deploy.steps import CopyObject
from ..deploy.target import Target
from ..store.ledger import SUCCEEDED, DeploymentRecord
from .soak import soak_gate


def promote(
    source: Target,
    dest: Target,
    upstream: Target | None,
    *,
    commit: str | None = None,
    executor: Executor | None = None,
    allow_downgrade: bool = False,
    skip_soak_reason: str | None = None,
    bake_minutes: int | None = None,
) -> DeployReport:
    """Deploy ``source``'s validated release to ``dest`` (byte-identical).

    By default the release is the one ``source`` runs now; ``commit`` names another one that
    passed validation there (a tag promoted after main moved on). Refused (exit 2) when the
    release did not pass validation in ``source``, or passed it without the e2e run whose
    metrics ``dest`` is compared to; refused (exit 1) when ``source`` runs it but drifted from
    its record, or (exit 2) before ``dest``'s ``min_soak`` unless ``skip_soak_reason``
    (``ops/soak.py``). ``dest`` is validated against the metrics ``source`` recorded for it and
    rolled back automatically when that fails. Refused (exit 2) when the release's version is
    lower than the one ``dest`` runs, unless ``allow_downgrade``: rollback is the way down.

    When ``dest`` has its own artifact bucket the release is first copied there server side
    (every digest verified, before any lock or record); the plan is made from ``source``'s
    store, whose bytes are verified against the same manifest.
    """
    executor = executor or executor_for(dest)
    record = _validated_release(source, dest, commit)
    manifest = manifest_of(source, record)
    if not allow_downgrade:
        _check_not_a_downgrade(dest, record)
    _check_not_drifted(source, record, manifest)
    check_upstream(dest, manifest, upstream)  # before anything is copied
    soak = soak_gate(source, dest, record, skip_soak_reason)
    copy = _copy_step(source, dest, manifest)
    if copy is not None:
        executor.copy_release(copy, manifest)
    report = execute(
        dest,
        manifest,
        release_planner(dest, manifest, source.store.artifacts(manifest)),
        executor,
        kind="promote",
        validator=make_validator(e2e=True, compare_to=source, reference=record),
        from_env=source.name,
        reason=f"soak skipped: {skip_soak_reason}" if skip_soak_reason else None,
        soak=soak,
        bake_minutes=bake_minutes,
    )
    if copy is not None:
        report.plan.insert(0, copy.describe())
    return report


def _validated_release(source: Target, dest: Target, commit: str | None) -> DeploymentRecord:
    """The record of the release to promote: validated in ``source``, with e2e metrics."""
    record = source.ledger.current() if commit is None else _validated_record(source, commit)
    if record is None:
        raise PromotionError(f"nothing is deployed in {source.name}", "deploy there first")
    if not record.validated:
        raise PromotionError(
            f"release {record.release_id} in {source.name} has not passed validation",
            f"run: vectora-release validate --env {source.name} --e2e",
        )
    if not (record.validation or {}).get("metrics"):
        raise PromotionError(
            f"release {record.release_id} passed validation in {source.name} without the e2e "
            f"run, whose metrics {dest.name} is compared to",
            f"run: vectora-release validate --env {source.name} --e2e",
        )
    return record


def _check_not_a_downgrade(dest: Target, record: DeploymentRecord) -> None:
    """A promotion never lowers the version ``dest`` runs (two tags close together)."""
    current = dest.ledger.current()
    if current is None or current.snapshot is not None:
        return  # nothing, or a hand-made engine taken over (adopted/restored): no version to lower
    if parse_version(record.version, "release") < parse_version(current.version, dest.name):
        raise PromotionError(
            f"refusing to promote {record.release_id} to {dest.name}: it runs "
            f"{current.release_id}, a higher version (a downgrade)",
            f"to go back on purpose: vectora-release rollback --env {dest.name} "
            f"--to {record.version}, or promote with --allow-downgrade",
        )


def _check_not_drifted(source: Target, record: DeploymentRecord, manifest: Manifest) -> None:
    """When ``source`` runs the release now, it must run it as recorded (exit 1 otherwise)."""
    current = source.ledger.current()
    if current is None or current.manifest_sha256 != record.manifest_sha256:
        return
    findings = all_findings(source, manifest, current)[0]
    if findings:
        raise DriftError(
            f"{source.name} drifted from its record ({len(findings)} differences, first: "
            f"{findings[0].message})",
            f"see: vectora-release drift --env {source.name}",
        )


def _copy_step(source: Target, dest: Target, manifest: Manifest) -> CopyObject | None:
    """The server-side copy into ``dest``'s own artifact store, when it lacks the release."""
    if dest.spec.artifact_bucket == source.spec.artifact_bucket or dest.store.has(manifest):
        return None
    return CopyObject(
        source.spec.artifact_bucket,
        dest.spec.artifact_bucket,
        manifest.release_id,
        len(manifest.artifacts),
    )


def _validated_record(source: Target, commit: str) -> DeploymentRecord:
    """The newest successful, validated record of ``commit`` (full SHA or prefix) in ``source``."""
    seen = None
    for record in source.ledger.history():
        if record.commit.startswith(commit) and record.outcome == SUCCEEDED:
            if record.validated:
                return record
            seen = record
    if seen is not None:
        return seen  # reported as "not validated" by the caller
    raise PromotionError(
        f"commit {commit[:12]} has never been deployed successfully to {source.name}",
        f"merge it to main (or deploy it to {source.name}) and let validation pass first",
    )
