"""The e2e run of ``validate --e2e``: the pipeline on fixture feeds, in its own namespace.

Every key the run reads or writes lies under ``validation.e2e.namespace`` (``_release_check/``
by default) in the environment's buckets: the fixture feeds, the ingested and curated items and
the newsletter. A namespace starts with ``_`` and a client id never does, so the real client's
objects are never touched (the app refuses any other namespace). Then the checks: Bedrock
scoring used (a fallback fails, named), metrics, the newsletter (``checks/newsletter.py``) and
no ERROR line in the run's logs.
"""

from __future__ import annotations

from typing import Any

from ..aws import s3util
from ..build.manifest import CONFIG_BUNDLE, Manifest
from ..common.errors import InputError, ReleaseError
from ..config import yamlio
from ..deploy.desired import bundle_objects
from ..deploy.target import Target
from .invoke import Invocation, invoke
from .newsletter import logs_row, newsletter_rows
from .result import CheckResult

METRICS = ("items", "relevant_pct", "avg_score", "dated_pct")


def e2e_event(target: Target) -> dict[str, Any]:
    """Upload the fixture feeds under the namespace; the event every function gets."""
    spec = target.config.e2e
    folder = target.config.root / spec.fixtures
    feeds = sorted(p for p in folder.glob("*") if p.is_file() and p.suffix == ".xml")
    if not feeds:
        raise InputError(f"no fixture feeds in {folder}", "check validation.e2e.fixtures")
    bucket = target.spec.buckets["data"]
    keys = [f"{spec.namespace}/feeds/{feed.name}" for feed in feeds]
    for feed, key in zip(feeds, keys, strict=True):
        target.s3.put_object(Bucket=bucket, Key=key, Body=feed.read_bytes())
    return {
        "client_id": spec.client_id,
        "namespace": spec.namespace,
        "period_days": spec.period_days,
        "run_date": spec.run_date,
        "scoring": "auto" if spec.scoring == "bedrock" else "rules",
        "sources": [f"s3://{bucket}/{key}" for key in keys],
    }


def run_e2e(
    target: Target, manifest: Manifest, views: dict[str, Any]
) -> tuple[list[CheckResult], dict[str, Any], dict[str, int]]:
    """(check rows, metrics, each function's duration in ms) of the e2e run."""
    event = e2e_event(target)
    checks: list[CheckResult] = []
    payloads: dict[str, dict[str, Any]] = {}
    runs: list[tuple[str, Invocation]] = []
    for fn in target.config.functions:
        resource = views[fn].resource
        try:
            result = invoke(target, fn, event, manifest, views[fn])
        except ReleaseError as exc:
            checks.append(CheckResult("e2e", resource, False, exc.message))
            return checks, {}, {}
        runs.append((resource, result))
        if not result.ok:
            error = result.error or {}
            detail = f"{error.get('errorType')}: {error.get('errorMessage')}"
            checks.append(CheckResult("e2e", resource, False, detail))
            return checks, {}, {}
        payloads[fn] = result.payload or {}
        items = payloads[fn].get("items", "-")
        checks.append(
            CheckResult("e2e", resource, True, f"{items} items ({result.duration_ms} ms)")
        )
    durations = {resource: result.duration_ms for resource, result in runs}
    metrics = next((p["metrics"] for p in reversed(payloads.values()) if p.get("metrics")), {})
    checks.append(_metrics_row(target, metrics))
    checks += _scoring_rows(target, payloads)
    checks += _newsletter_rows(target, manifest, payloads)
    row = logs_row([(resource, result.logs) for resource, result in runs])
    checks.append(CheckResult("logs", row.subject, row.passed, row.detail))
    return checks, metrics, durations


def _metrics_row(target: Target, metrics: dict[str, Any]) -> CheckResult:
    spec = target.config.e2e
    problems = []
    if not metrics.get("items"):
        problems.append("no item went through the pipeline")
    if float(metrics.get("dated_pct", 0)) < spec.min_dated_pct:
        problems.append(f"dated {metrics.get('dated_pct')} % < {spec.min_dated_pct} %")
    summary = ", ".join(f"{k} {metrics.get(k)}" for k in METRICS)
    return CheckResult("e2e", "metrics", not problems, "; ".join(problems) or summary)


def _scoring_rows(target: Target, payloads: dict[str, dict[str, Any]]) -> list[CheckResult]:
    """The scoring the run used: the declared one, else the declared fallback — a failure."""
    spec = target.config.e2e
    scored = [p for p in payloads.values() if "scoring_method" in p]
    if not scored:
        return []
    used = scored[0]["scoring_method"]
    if used == spec.scoring:
        return [CheckResult("scoring", spec.scoring, True, f"items scored by {used}")]
    if used == spec.fallback:
        why = scored[0].get("scoring_fallback") or "the primary scoring did not answer"
        detail = f"scoring fell back to {used} (the declared fallback): {why}"
    else:
        detail = f"items scored by {used}, expected {spec.scoring} (no such fallback declared)"
    return [CheckResult("scoring", spec.scoring, False, detail)]


def _newsletter_rows(
    target: Target, manifest: Manifest, payloads: dict[str, dict[str, Any]]
) -> list[CheckResult]:
    spec = target.config.e2e
    news = next((p for p in payloads.values() if p.get("bucket") and p.get("key")), None)
    if news is None:
        return [CheckResult("newsletter", "-", False, "no function reported a newsletter")]
    where = f"s3://{news['bucket']}/{news['key']}"
    if not str(news["key"]).startswith(spec.namespace + "/"):
        return [CheckResult("newsletter", where, False, f"written outside {spec.namespace}/")]
    data = s3util.get_bytes(target.s3, news["bucket"], news["key"])
    if data is None:
        return [CheckResult("newsletter", where, False, "the newsletter is not there")]
    bundle = bundle_objects(target.store.fetch(manifest, CONFIG_BUNDLE))
    name = f"clients/{spec.client_id}.yaml"
    client_cfg = yamlio.loads(bundle[name].decode(), name) if name in bundle else {}
    return [
        CheckResult("newsletter", f"{row.subject} ({where})", row.passed, row.detail)
        for row in newsletter_rows(data.decode("utf-8"), client_cfg, spec.min_items)
    ]
