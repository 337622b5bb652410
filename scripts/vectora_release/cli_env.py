"""Commands that set up and change environments: local, bootstrap, publish, deploy, status."""

from __future__ import annotations

from pathlib import Path

import click

from . import gitinfo, local_aws
from . import manifest as manifest_io
from .cli_app import App, finish_deploy, pass_app
from .deploy import deploy_release, resolve_release
from .errors import InputError
from .report import say
from .status import history_table, status_row, status_table


# -- local ----------------------------------------------------------------------------------
@click.group()
def local() -> None:
    """Run an embedded AWS (moto on 127.0.0.1) for laptops with no AWS account.

    \b
      vectora-release local up          # start it in the background
      eval "$(vectora-release local env)"
      vectora-release local down
    While it runs and no AWS variables are set, every command uses it.
    """


@local.command("up")
@pass_app
def local_up(app: App) -> None:
    """Start the embedded AWS in the background (pid in .vectora-local/)."""
    state = local_aws.up(app.root / local_aws.STATE_DIR)
    already = "" if state["started"] else "already "
    app.output(
        state,
        f"embedded AWS {already}running at {state['endpoint']} (pid {state['pid']})\n"
        'point tools at it with: eval "$(vectora-release local env)"',
    )


@local.command("env")
@pass_app
def local_env(app: App) -> None:
    """Print the export lines that point AWS tools at the embedded AWS."""
    state = local_aws.status(app.root / local_aws.STATE_DIR)
    if state is None:
        raise InputError("the embedded AWS is not running", "start it: vectora-release local up")
    click.echo(local_aws.exports(state["endpoint"]))


@local.command("down")
@pass_app
def local_down(app: App) -> None:
    """Stop the embedded AWS (only the process `local up` started, checked before signalling)."""
    state_dir = app.root / local_aws.STATE_DIR
    report = local_aws.down(state_dir)
    pid_file = local_aws.state_file(state_dir)
    human = {
        "stopped": f"stopped the embedded AWS (pid {report.pid})",
        "not_running": "the embedded AWS is not running: nothing to stop",
        "stale": (
            f"pid {report.pid} recorded in {pid_file} is not the embedded AWS (stale pid file):"
            " nothing stopped, pid file removed"
        ),
    }[report.outcome]
    app.output(report.to_dict(), human)


# -- bootstrap / publish --------------------------------------------------------------------
@click.command()
@click.option("--env", "env", required=True, help="Environment to bootstrap.")
@pass_app
def bootstrap(app: App, env: str) -> None:
    """Create what ENV needs if missing: buckets, artifact bucket, function roles.

    Buckets get versioning, default encryption and a public-access block; each function gets
    a role with its own least-privilege policy from iam/. A resource bootstrap created earlier
    but could not finish gets the settings it lacks; no setting that exists is changed, and
    resources bootstrap did not create (no ManagedBy tag) are left exactly as they are.
    """
    from .bootstrap import bootstrap as run

    report = run(app.target(env))
    lines = [f"{env}: created {len(report.created)}, already there {len(report.existing)}"]
    lines += [f"  + {item}" for item in report.created]
    lines += [f"  + {item} (was missing)" for item in report.completed]
    lines += [
        f"  = {item} (not created by vectora-release: left as it is)" for item in report.unmanaged
    ]
    app.output(report.to_dict(), "\n".join(lines))


@click.command()
@click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(path_type=Path),
    default=Path("dist/manifest.json"),
    show_default=True,
)
@click.option(
    "--env",
    "env",
    default=None,
    help="Publish to this environment's artifact store (default: the shared one).",
)
@pass_app
def publish(app: App, manifest_path: Path, env: str | None) -> None:
    """Upload a built release to the artifact store: verified, immutable, idempotent.

    Keys live under releases/<version>/<commit>/. Re-publishing identical bytes does nothing;
    different bytes at an existing key are refused (exit 2); a dirty build is refused.
    """
    from .store import ArtifactStore

    manifest = manifest_io.load(manifest_path)
    if env is None:
        store = ArtifactStore(app.aws.s3(app.config.artifact_region), app.config.artifact_bucket)
    else:
        store = app.target(env).store
    report = store.publish(
        manifest, manifest_path.parent if manifest_path.suffix else manifest_path
    )
    human = (
        f"published {report.release_id} to s3://{report.bucket}/{report.prefix} "
        f"({len(report.uploaded)} uploaded, {len(report.unchanged)} already there)"
    )
    app.output(report.to_dict(), human)


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
@pass_app
def deploy(
    app: App,
    env: str,
    version: str | None,
    commit: str | None,
    manifest_path: Path | None,
    dry_run: bool,
    validate_after: bool,
) -> None:
    """Deploy a published release to ENV (lock → verify → plan → apply → record).

    Only what differs is changed: a layer version is published only for new content, code is
    updated only when CodeSha256 differs, and alias `live` moves last, for all functions
    together. On any failure every alias returns to its previous version (exit 1).
    """
    target = app.target(env)
    if commit and not _is_hex(commit):
        commit = gitinfo.resolve_commit(app.root, commit)
    manifest = resolve_release(target, version, commit, manifest_path)
    upstream = _upstream(app, env)
    validator = _validator(app) if validate_after else None
    report = deploy_release(
        target, manifest, upstream=upstream, dry_run=dry_run, validator=validator
    )
    finish_deploy(app, report)


def _is_hex(value: str) -> bool:
    return len(value) >= 7 and all(c in "0123456789abcdef" for c in value.lower())


def _upstream(app: App, env: str):
    name = app.config.env(env).requires_validated_in
    return app.target(name) if name else None


def _validator(app: App):
    from .validate import make_validator

    return make_validator(e2e=True)


# -- status / history -----------------------------------------------------------------------
@click.command()
@click.option("--env", "env", default=None, help="Only this environment.")
@pass_app
def status(app: App, env: str | None) -> None:
    """What runs where: version, commit, when, by whom, outcome, validation."""
    names = [env] if env else list(app.config.environments)
    rows = [status_row(app.target(name)) for name in names]
    app.output(rows, status_table(rows))


@click.command()
@click.option("--env", "env", required=True)
@click.option("--limit", type=int, default=20, show_default=True)
@pass_app
def history(app: App, env: str, limit: int) -> None:
    """Deployment records of ENV, newest first."""
    records = app.target(env).ledger.history(limit=limit)
    if not records:
        say(f"{env}: no deployment recorded yet")
    app.output([r.to_dict() for r in records], history_table(records) if records else None)


@click.command()
@click.option("--commit", "commit", help="Commit (SHA or ≥7-char prefix) of the release.")
@click.option("--version", "version", help="Published version of the release.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("release"),
    show_default=True,
    help="Folder to write manifest.json (and the zips) to.",
)
@click.option("--manifest-only", is_flag=True, help="Only manifest.json, not the zips.")
@click.option("--env", "env", default=None, help="Use this environment's artifact store.")
@pass_app
def fetch(
    app: App,
    commit: str | None,
    version: str | None,
    out: Path,
    manifest_only: bool,
    env: str | None,
) -> None:
    """Download a published release from the artifact store, every digest verified."""
    from .store import ArtifactStore

    if env is None:
        store = ArtifactStore(app.aws.s3(app.config.artifact_region), app.config.artifact_bucket)
    else:
        store = app.target(env).store
    manifest = store.find(version=version, commit=commit)
    written = store.download(manifest, out, manifest_only=manifest_only)
    app.output(
        {"release": manifest.release_id, "out": str(out), "files": written},
        f"fetched {manifest.release_id} into {out}/ ({len(written)} files, verified)",
    )


COMMANDS = (local, bootstrap, publish, fetch, deploy, status, history)
