"""Post-deploy validation: integrity, contract, config, smoke, e2e, comparison."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..build.manifest import Manifest
from ..common.clock import iso
from ..common.errors import InputError, ReleaseError
from ..common.output import markdown_table, table
from ..config.bedrock import MODEL_VAR as BEDROCK_VAR
from ..deploy.target import Target
from ..store.ledger import DeploymentRecord
from .e2e import METRICS, run_e2e
from .findings import CONFIG, CONTRACT, INTEGRITY, Finding, all_findings, manifest_of
from .invoke import invoke
from .result import CheckResult

__all__ = ["METRICS", "CheckResult", "ValidationReport", "make_validator", "validate"]

HEADERS = ("check", "subject", "result", "detail")


@dataclass
class ValidationReport:
    env: str
    release_id: str
    at: str
    checks: list[CheckResult] = field(default_factory=list)
    metrics: dict[str, Any] | None = None
    compared_to: str | None = None
    durations_ms: dict[str, int] = field(default_factory=dict)  # each function's e2e run

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def failures(self) -> list[str]:
        return [f"{c.check} {c.subject}: {c.detail}" for c in self.checks if not c.passed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": "passed" if self.passed else "failed",
            "env": self.env,
            "release": self.release_id,
            "at": self.at,
            "metrics": self.metrics,
            "compared_to": self.compared_to,
            "checks": [
                dict(zip(("check", "subject", "result", "detail"), c.row(), strict=True))
                for c in self.checks
            ],
            "summary": {
                "passed": sum(c.passed for c in self.checks),
                "total": len(self.checks),
                "durations_ms": dict(self.durations_ms),
            },
        }

    def summary_row(self) -> tuple[str, str, str, str]:
        """The table's last row: checks passed out of the total, each function's duration."""
        passed = sum(c.passed for c in self.checks)
        durations = ", ".join(f"{fn} {ms} ms" for fn, ms in self.durations_ms.items())
        return ("summary", f"{passed}/{len(self.checks)} checks passed", "", durations or "-")

    def rows(self) -> list[tuple[str, str, str, str]]:
        return [c.row() for c in self.checks] + [self.summary_row()]

    def render(self) -> str:
        head = f"validation of {self.release_id} in {self.env}: " + (
            "passed" if self.passed else "FAILED"
        )
        return head + "\n" + table(HEADERS, self.rows())

    def markdown(self) -> str:
        head = f"### Validation of {self.release_id} in {self.env}: " + (
            "passed ✅" if self.passed else "FAILED ❌"
        )
        return head + "\n\n" + markdown_table(HEADERS, self.rows())


def _grouped(findings: list[Finding], check: str, subjects: list[str]) -> list[CheckResult]:
    out = []
    for subject in subjects:
        mine = [f.short for f in findings if f.check == check and f.subject == subject]
        out.append(CheckResult(check, subject, not mine, "; ".join(mine) or "as recorded"))
    return out


def validate(
    target: Target,
    record: DeploymentRecord,
    manifest: Manifest,
    *,
    e2e: bool = False,
    compare_to: Target | None = None,
    reference: DeploymentRecord | None = None,
) -> ValidationReport:
    """Run every check against ``record`` (what was deployed) and ``manifest``."""
    report = ValidationReport(target.name, manifest.release_id, iso(target.clock()))
    target.progress(f"validating {manifest.release_id} in {target.name}")
    findings, views = all_findings(target, manifest, record)
    resources = [views[fn].resource for fn in views]
    report.checks += _grouped(findings, INTEGRITY, resources)
    report.checks += _grouped(findings, CONTRACT, resources)
    config_bad = [f.message for f in findings if f.check == CONFIG]
    report.checks.append(
        CheckResult(
            CONFIG,
            f"s3://{target.spec.buckets['config']}/{record.config_prefix}",
            not config_bad,
            "; ".join(config_bad) or "every object matches",
        )
    )
    for fn, view in views.items():
        report.checks.append(_smoke(target, fn, manifest, view))
        if BEDROCK_VAR in target.config.required_env(fn):
            report.checks.append(_bedrock_smoke(target, fn, manifest, view))
    if e2e:
        checks, report.metrics, report.durations_ms = run_e2e(target, manifest, views)
        report.checks.extend(checks)
    if compare_to is not None:
        report.compared_to = compare_to.name
        report.checks.extend(_compare(target, compare_to, report.metrics, reference))
    return report


def _smoke(target: Target, fn: str, manifest: Manifest, view: Any) -> CheckResult:
    try:
        result = invoke(target, fn, {"healthcheck": True}, manifest, view)
    except ReleaseError as exc:
        return CheckResult("smoke", view.resource, False, exc.message)
    payload = result.payload if isinstance(result.payload, dict) else {}
    problems = []
    if not result.ok:
        problems.append(f"invocation failed: {(result.error or {}).get('errorMessage')}")
    else:
        if payload.get("status") != "ok":
            problems.append(
                f"status {payload.get('status')} (missing env "
                f"{', '.join(payload.get('missing_env') or []) or '-'})"
            )
        want = core_build_info(manifest)
        if payload.get("core_version") != want["version"]:
            problems.append(f"vectora_core {payload.get('core_version')} ≠ {want['version']}")
        if payload.get("commit") != want["commit"]:
            problems.append(f"commit {str(payload.get('commit'))[:7]} ≠ {want['commit'][:7]}")
    detail = "; ".join(problems) or (
        f"core {payload.get('core_version')} commit {str(payload.get('commit'))[:7]} ({result.via})"
    )
    return CheckResult("smoke", view.resource, not problems, detail)


def _bedrock_smoke(target: Target, fn: str, manifest: Manifest, view: Any) -> CheckResult:
    """``{"check": "bedrock"}``: the function calls its model with its own role and region."""
    try:
        result = invoke(target, fn, {"check": "bedrock"}, manifest, view)
    except ReleaseError as exc:
        return CheckResult("bedrock", view.resource, False, exc.message)
    payload = result.payload if isinstance(result.payload, dict) else {}
    where = f"{payload.get('model_id')} in {payload.get('region')}"
    if not result.ok:
        detail = f"invocation failed: {(result.error or {}).get('errorMessage')}"
        return CheckResult("bedrock", view.resource, False, detail)
    if payload.get("status") != "ok":
        return CheckResult("bedrock", view.resource, False, f"{where}: {payload.get('error')}")
    return CheckResult("bedrock", view.resource, True, f"{where} answers ({result.via})")


def core_build_info(manifest: Manifest) -> dict[str, str]:
    """Version and commit the release's package layer reports (the release's own if none)."""
    for artifact in manifest.artifacts:
        if artifact.build_info:
            return artifact.build_info
    return {"version": manifest.version, "commit": manifest.commit}


def _compare(
    target: Target,
    other: Target,
    metrics: dict[str, Any] | None,
    reference: DeploymentRecord | None = None,
) -> list[CheckResult]:
    record = reference or other.ledger.current()
    theirs = (record.validation or {}).get("metrics") if record else None
    subject = f"metrics vs {other.name}"
    if not metrics:
        return [CheckResult("compare", subject, False, "no e2e metrics here (run with --e2e)")]
    if not theirs:
        return [CheckResult("compare", subject, False, f"no validated e2e metrics in {other.name}")]
    tolerance = target.config.tolerance
    problems, shown = [], []
    for key in METRICS:
        a, b = float(metrics.get(key, 0)), float(theirs.get(key, 0))
        shown.append(f"{key} {a:g}/{b:g}")
        if abs(a - b) > tolerance * max(abs(b), 1e-9):
            problems.append(f"{key} {a:g} vs {b:g} in {other.name}")
    detail = "; ".join(problems) or f"within {tolerance:.0%}: " + ", ".join(shown)
    return [CheckResult("compare", subject, not problems, detail)]


def make_validator(
    e2e: bool = True, compare_to: Target | None = None, reference: DeploymentRecord | None = None
):
    """A validator for :func:`deploy.execute` (runs after apply, before the record closes).

    ``reference`` is the record of ``compare_to`` whose metrics to match (default: current).
    """

    def validator(target: Target, record: DeploymentRecord, manifest: Manifest):
        return validate(
            target, record, manifest, e2e=e2e, compare_to=compare_to, reference=reference
        )

    return validator


def validate_current(target: Target, *, e2e: bool, compare_to: Target | None) -> ValidationReport:
    """``validate --env``: check the live release and write the outcome into its record."""
    record = target.ledger.current()
    if record is None:
        raise InputError(
            f"nothing has been deployed to {target.name} yet",
            f"deploy first: vectora-release deploy --env {target.name} …",
        )
    manifest = manifest_of(target, record)
    report = validate(target, record, manifest, e2e=e2e, compare_to=compare_to)
    record.validation = report.to_dict()
    target.ledger.save(record)
    return report
