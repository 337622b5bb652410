"""Commands that set up and change one environment: bootstrap, deploy, status, history,
unlock.

Each command imports the core it runs in its own body, so that ``deploy`` loads neither the
checks (unless it validates) nor the other commands' operations.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..common.output import say
from .app import App, bake_option, finish_deploy, global_options, pass_app


# -- bootstrap --------------------------------------------------------------------------------
@click.command()
@click.option("--env", "env", required=True, help="Environment to bootstrap.")
@global_options
@pass_app
def bootstrap(app: App, env: str) -> None:
    """Create what ENV needs if missing: buckets, artifact bucket, function roles.

    Buckets get versioning, default encryption and a public-access block; each function gets
    a role with its own least-privilege policy from iam/. A resource bootstrap created earlier
    but could not finish gets the settings it lacks; no setting that exists is changed, and
    resources bootstrap did not create (no ManagedBy tag) are left exactly as they are.
    """
    from ..ops.bootstrap import bootstrap as run_bootstrap

    report = run_bootstrap(app.target(env))
    lines = [f"{env}: created {len(report.created)}, already there {len(report.existing)}"]
    lines += [f"  + {item}" for item in report.created]
    lines += [f"  + {item} (was missing)" for item in report.completed]
    lines += [
        f"  = {item} (not created by vectora-release: left as it is)" for item in report.unmanaged
    ]
    app.output(report.to_dict(), "\n".join(lines))


# -- deploy ---------------------------------------------------------------------------------
@click.command()
@click.option("--env", "env", required=True, help="Environment to deploy to.")
@click.option("--version", "version", help="Published version to deploy.")
@click.option("--commit", "commit", help="Commit (SHA, ≥7 chars, or a git ref) to deploy.")
@click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(path_type=Path),
    help="Deploy the release this local manifest describes (it must be published).",
)
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option(
    "--validate",
    "validate_after",
    is_flag=True,
    help="Validate after deploying (with the e2e run); roll back on failure.",
)
@bake_option
@global_options
@pass_app
def deploy(
    app: App,
    env: str,
    version: str | None,
    commit: str | None,
    manifest_path: Path | None,
    dry_run: bool,
    validate_after: bool,
    bake_minutes: int | None,
) -> None:
    """Deploy a published release to ENV (lock → verify → plan → apply → record).

    Only what differs is changed: a layer version is published only for new content, code is
    updated only when CodeSha256 differs, and alias `live` moves last, for all functions
    together. On any failure every alias returns to its previous version (exit 1).
    """
    from ..deploy.pipeline import deploy_release, executor_for
    from ..deploy.release import resolve_release

    target = app.target(env)
    if commit and not _is_hex(commit):
        from ..config import gitinfo

        commit = gitinfo.resolve_commit(app.root, commit)
    manifest = resolve_release(target, version, commit, manifest_path)
    upstream = _upstream(app, env)
    validator = None
    if validate_after:
        from ..checks.validate import make_validator

        validator = make_validator(e2e=True)
    report = deploy_release(
        target,
        manifest,
        executor=executor_for(target, dry_run),
        upstream=upstream,
        validator=validator,
        bake_minutes=bake_minutes,
    )
    finish_deploy(app, report)


def _is_hex(value: str) -> bool:
    return len(value) >= 7 and all(c in "0123456789abcdef" for c in value.lower())


def _upstream(app: App, env: str):
    name = app.config.env(env).requires_validated_in
    return app.target(name) if name else None


# -- status / history -----------------------------------------------------------------------
@click.command()
@click.option("--env", "env", default=None, help="Only this environment.")
@global_options
@pass_app
def status(app: App, env: str | None) -> None:
    """What runs where: version, commit, when, by whom, outcome, validation, next run.

    The next run is the earliest enabled schedule's next time (UTC), from its live rule.
    """
    from ..ops.status import schedules_status, status_row, status_table

    names = [env] if env else list(app.config.environments)
    rows = []
    for name in names:
        target = app.target(name)
        rows.append({**status_row(target), **schedules_status(target)})
    app.output(rows, status_table(rows))


@click.command()
@click.option("--env", "env", required=True)
@click.option("--limit", type=int, default=20, show_default=True)
@global_options
@pass_app
def history(app: App, env: str, limit: int) -> None:
    """Deployment records of ENV, newest first."""
    from ..ops.status import history_table

    records = app.target(env).ledger.history(limit=limit)
    if not records:
        say(f"{env}: no deployment recorded yet")
    app.output([r.to_dict() for r in records], history_table(records) if records else None)


# -- unlock ---------------------------------------------------------------------------------
@click.command()
@click.option("--env", "env", required=True, help="Environment whose lock to free.")
@click.option("--reason", required=True, help="Why (recorded in the ledger with who).")
@click.option("--force", is_flag=True, help="Free it even though its heartbeat is fresh.")
@global_options
@pass_app
def unlock(app: App, env: str, reason: str, force: bool) -> None:
    """Free ENV's lock by hand; who and why are recorded in the ledger.

    Refused (exit 1) while the holder's heartbeat is fresh, unless --force. Not needed after
    a crash: a lock whose heartbeat is stale is taken over by the next deploy, promote or
    rollback, which repairs what its holder left. After an unlock, that next run repairs too.
    """
    from ..ops.unlock import unlock as run_unlock

    report = run_unlock(app.target(env), reason, force)
    if report.outcome == "not_locked":
        human = f"{env} is not locked: nothing to do"
    else:
        freed = report.freed or {}
        why = report.stale or "forced while its heartbeat was fresh"
        human = f"{env}: freed the lock of {freed.get('owner')} ({why}); recorded {report.entry}"
    app.output(report.to_dict(), human)
