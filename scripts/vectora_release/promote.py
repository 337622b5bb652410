"""Promote exactly the release validated in one environment to the next one."""

from __future__ import annotations

from .deploy import DeployReport, deploy_release
from .errors import DriftError, PromotionError
from .observe import all_findings, manifest_of
from .target import Target
from .validate import make_validator


def promote(
    source: Target, dest: Target, upstream: Target | None, *, dry_run: bool = False
) -> DeployReport:
    """Deploy ``source``'s current, validated release to ``dest`` (byte-identical).

    Refused (exit 2) when the release did not pass validation in ``source``; refused (exit 1)
    when ``source`` drifted from its record. ``dest`` is validated against ``source``'s
    metrics and rolled back automatically when that fails.
    """
    record = source.ledger.current()
    if record is None:
        raise PromotionError(f"nothing is deployed in {source.name}", "deploy there first")
    if not record.validated:
        raise PromotionError(
            f"release {record.release_id} in {source.name} has not passed validation",
            f"run: vectora-release validate --env {source.name} --e2e",
        )
    manifest = manifest_of(source, record)
    findings, _ = all_findings(source, manifest, record)
    if findings:
        raise DriftError(
            f"{source.name} drifted from its record ({len(findings)} differences, first: "
            f"{findings[0].message})",
            f"see: vectora-release drift --env {source.name}",
        )
    if dest.spec.artifact_bucket != source.spec.artifact_bucket and not dry_run:
        copied = dest.store.copy_from(source.store, manifest)
        dest.progress(f"copied {len(copied)} objects to s3://{dest.spec.artifact_bucket}")
    validator = make_validator(e2e=True, compare_to=source)
    return deploy_release(
        dest,
        manifest,
        upstream=upstream,
        dry_run=dry_run,
        validator=validator,
        kind="promote",
        from_env=source.name,
    )
