"""Commands that check, promote and restore environments: promote, validate, rollback,
drift, diff, invoke, gc."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..checks.drift import diff as run_diff
from ..checks.drift import drift as run_drift
from ..checks.findings import manifest_of
from ..checks.invoke import invoke as run_invoke
from ..checks.validate import validate_current
from ..common.errors import CheckFailedError, DriftError, InputError
from ..common.output import say
from ..deploy.pipeline import executor_for
from ..ops.gc import gc as run_gc
from ..ops.promote import promote as run_promote
from ..ops.rollback import rollback as run_rollback
from . import github
from .app import App, bake_option, finish_deploy, global_options, pass_app


@click.command()
@click.option("--from", "source", required=True, help="Environment whose release is promoted.")
@click.option("--to", "dest", required=True, help="Environment to promote to.")
@click.option(
    "--commit",
    "commit",
    help="Promote this commit's release (it must have passed "
    "validation in --from) instead of the one --from runs now.",
)
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option(
    "--allow-downgrade",
    is_flag=True,
    help="Promote even if --to runs a higher version (rollback is the usual way down).",
)
@click.option(
    "--skip-soak", is_flag=True, help="Promote before --to's min_soak (needs --reason; recorded)."
)
@click.option("--reason", "reason", help="Why the soak gate is skipped (with --skip-soak).")
@bake_option
@global_options
@pass_app
def promote(
    app: App,
    source: str,
    dest: str,
    commit: str | None,
    dry_run: bool,
    allow_downgrade: bool,
    skip_soak: bool,
    reason: str | None,
    bake_minutes: int | None,
) -> None:
    """Deploy exactly the release validated in --from to --to, then validate it there.

    Refused (exit 2) unless the release passed validation in --from (and the approval chain of
    release.yaml allows it), when its version is lower than the one --to runs (unless
    --allow-downgrade) or before --to's min_soak (unless --skip-soak --reason TEXT);
    refused (exit 1) when --from drifted from its ledger record.
    --to is validated with e2e metrics compared to --from and rolled back on failure (exit 1).
    """
    dest_target = app.target(dest)
    upstream_name = app.config.env(dest).requires_validated_in
    upstream = app.target(upstream_name) if upstream_name else None
    report = run_promote(
        app.target(source),
        dest_target,
        upstream,
        commit=commit,
        executor=executor_for(dest_target, dry_run),
        allow_downgrade=allow_downgrade,
        skip_soak_reason=_skip_reason(skip_soak, reason),
        bake_minutes=bake_minutes,
    )
    finish_deploy(app, report)


def _skip_reason(skip_soak: bool, reason: str | None) -> str | None:
    if skip_soak and not (reason or "").strip():
        raise InputError("--skip-soak needs --reason TEXT", "say why the soak gate is skipped")
    if reason and not skip_soak:
        raise InputError("--reason goes with --skip-soak", "add --skip-soak, or drop --reason")
    return reason.strip() if skip_soak and reason else None


@click.command()
@click.option("--env", "env", required=True)
@click.option("--e2e", is_flag=True, help="Also run the pipeline on the fixture client.")
@click.option("--compare-to", "compare_to", help="Compare e2e metrics with this environment's.")
@global_options
@pass_app
def validate(app: App, env: str, e2e: bool, compare_to: str | None) -> None:
    """Check what ENV runs against its ledger record: integrity, contract, config, smoke, e2e.

    The outcome is written into the record (promotion requires a passed validation).
    Exit 1 when any check fails.
    """

    other = app.target(compare_to) if compare_to else None
    report = validate_current(app.target(env), e2e=e2e or other is not None, compare_to=other)
    app.output(report.to_dict(), report.render())
    github.add_summary(report.markdown())
    if not report.passed:
        raise CheckFailedError(
            f"validation of {report.release_id} in {env} failed: "
            + "; ".join(report.failures()[:3])
        )


@click.command()
@click.option("--env", "env", required=True)
@click.option("--to", "to_version", help="Version (or version+sha7) to restore.")
@click.option("--reason", help="Why; written into the ledger record.")
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@global_options
@pass_app
def rollback(app: App, env: str, to_version: str | None, reason: str | None, dry_run: bool) -> None:
    """Restore the previous validated release of ENV (or --to V), then validate.

    Aliases are moved back when the recorded function versions still exist (seconds);
    otherwise the release is redeployed from the artifact store. Code, layers, env vars and
    config roll back together. Unknown version → exit 2.
    """

    if reason is not None and not reason.strip():
        raise InputError("--reason is empty", "say why, e.g. --reason 'newsletter empty'")
    target = app.target(env)
    report = run_rollback(target, to_version, reason, executor=executor_for(target, dry_run))
    finish_deploy(app, report)


@click.command()
@click.option("--env", "env", required=True)
@global_options
@pass_app
def drift(app: App, env: str) -> None:
    """Compare ENV's live state with its last ledger record; exit 1 when anything drifted.

    Checks code and layer digests, alias target, env vars (added, removed, changed; secret
    values masked), runtime/handler/memory/timeout and config objects (changed, missing, extra).
    """

    report = run_drift(app.target(env))
    app.output(report.to_dict(), report.render())
    github.add_summary(report.markdown())
    if report.drifted:
        raise DriftError(
            f"{env} drifted from {report.release_id}: "
            f"{len(report.findings)} differences ({report.findings[0].message})",
            f"redeploy or roll back: vectora-release rollback --env {env}",
        )


@click.command()
@click.argument("env_a")
@click.argument("env_b")
@global_options
@pass_app
def diff(app: App, env_a: str, env_b: str) -> None:
    """ENV_A and ENV_B side by side; exit 1 when they differ in release content."""

    report = run_diff(app.target(env_a), app.target(env_b))
    app.output(report.to_dict(), report.render())
    if report.differs:
        raise CheckFailedError(f"{env_a} and {env_b} differ in release content")


@click.command()
@click.option("--env", "env", required=True)
@click.option("--function", "function", required=True, help="e.g. ingest-v2")
@click.option(
    "--event",
    "event_file",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="JSON event file (default: a health check).",
)
@global_options
@pass_app
def invoke(app: App, env: str, function: str, event_file: Path | None) -> None:
    """Invoke alias `live` of a function (the local runner on the embedded AWS)."""

    target = app.target(env)
    app.config.function(function)
    try:
        event = json.loads(event_file.read_text()) if event_file else {"healthcheck": True}
    except ValueError as exc:
        raise InputError(f"{event_file}: not valid JSON ({exc})") from exc
    record = target.ledger.current()
    if record is None:
        raise InputError(f"nothing is deployed in {env}", "deploy first")
    result = run_invoke(target, function, event, manifest_of(target, record))
    if app.as_json:
        app.output(result.to_dict())
    else:
        click.echo(json.dumps(result.payload if result.ok else result.error, indent=2))
        say(f"{'ok' if result.ok else 'FAILED'} in {result.duration_ms} ms via {result.via}")
    if not result.ok:
        raise CheckFailedError(
            f"{function} in {env} failed: {(result.error or {}).get('errorMessage')}"
        )


@click.command()
@click.option("--env", "env", required=True)
@click.option(
    "--keep",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Keep what the last N ledger records reference.",
)
@click.option("--dry-run", is_flag=True, help="List what would be deleted.")
@global_options
@pass_app
def gc(app: App, env: str, keep: int, dry_run: bool) -> None:
    """Delete function and layer versions no alias and no recent record references."""

    report = run_gc(app.target(env), keep, dry_run)
    verb = "would delete" if dry_run else "deleted"
    lines = [f"{env}: {verb} {len(report.deleted)}, kept {len(report.kept)}"]
    lines += [f"  - {item}" for item in report.deleted]
    app.output(report.to_dict(), "\n".join(lines))
