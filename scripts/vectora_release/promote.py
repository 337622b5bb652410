"""Promote exactly the release validated in one environment to the next one."""

from __future__ import annotations

from .deploy import DeployReport, check_upstream, execute, release_planner
from .errors import DriftError, PromotionError
from .ledger import SUCCEEDED, DeploymentRecord
from .observe import all_findings, manifest_of
from .target import Target
from .validate import make_validator


def promote(
    source: Target,
    dest: Target,
    upstream: Target | None,
    *,
    commit: str | None = None,
    dry_run: bool = False,
) -> DeployReport:
    """Deploy ``source``'s validated release to ``dest`` (byte-identical).

    By default the release is the one ``source`` runs now; ``commit`` names another one that
    passed validation there (a tag promoted after main moved on). Refused (exit 2) when the
    release did not pass validation in ``source``, or passed it without the e2e run whose
    metrics ``dest`` is compared to; refused (exit 1) when ``source`` runs it but drifted from
    its record. ``dest`` is validated against the metrics ``source`` recorded for it and
    rolled back automatically when that fails.

    When ``dest`` has its own artifact bucket the release is copied there server side (every
    digest verified) before the deploy; a dry run copies nothing and plans from ``source``'s
    store instead.
    """
    current = source.ledger.current()
    record = current if commit is None else _validated_record(source, commit)
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
    manifest = manifest_of(source, record)
    live = current is not None and current.manifest_sha256 == record.manifest_sha256
    findings = all_findings(source, manifest, current)[0] if live and current else []
    if findings:
        raise DriftError(
            f"{source.name} drifted from its record ({len(findings)} differences, first: "
            f"{findings[0].message})",
            f"see: vectora-release drift --env {source.name}",
        )
    check_upstream(dest, manifest, upstream)  # before anything is copied
    store, copy_step = dest.store, None
    if dest.spec.artifact_bucket != source.spec.artifact_bucket:
        if dry_run:
            store = source.store
            if not dest.store.has(manifest):
                copy_step = (
                    f"CopyObject {len(manifest.artifacts)} artifacts of {manifest.release_id} "
                    f"s3://{source.spec.artifact_bucket} → s3://{dest.spec.artifact_bucket} "
                    "(server side, every digest verified)"
                )
        else:
            copied = dest.store.copy_from(source.store, manifest)
            dest.progress(f"copied {len(copied)} objects to s3://{dest.spec.artifact_bucket}")
    report = execute(
        dest,
        manifest,
        release_planner(dest, manifest, store.artifacts(manifest)),
        kind="promote",
        dry_run=dry_run,
        validator=make_validator(e2e=True, compare_to=source, reference=record),
        from_env=source.name,
    )
    if copy_step is not None:
        report.plan.insert(0, copy_step)
    return report


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
