"""Commands that take over an existing environment: snapshot, adopt, cleanup, restore."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

import click

from ..common.errors import InputError
from ..common.output import table
from .app import App, global_options, pass_app

DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")


@contextmanager
def _permissions(env: str | None) -> Iterator[None]:
    """A call the credentials may not make is an unmet precondition (exit 2), said in a line.

    Every command here reads before it changes anything, so a refusal on a read has changed
    nothing; one on a change is caught by the command, which puts the aliases back (exit 1).
    """
    from ..aws.clients import ClientError, error_code

    try:
        yield
    except ClientError as exc:
        if error_code(exc) not in DENIED:
            raise
        operation = getattr(exc, "operation_name", "a call")
        raise InputError(
            f"the credentials may not call {operation} in {env}",
            f"grant it (iam/deploy-policy.json) to {env}'s deploy role and run again",
        ) from exc


def _denied_is_input(command: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _permissions(kwargs.get("env")):
            return command(*args, **kwargs)

    return wrapper


@click.group(invoke_without_command=True)
@click.option("--env", "env", help="Environment to snapshot.")
@click.option("--include-data", is_flag=True, help="Also copy curated/ and the newsletters.")
@global_options
@pass_app
@click.pass_context
@_denied_is_input
def snapshot(ctx: click.Context, app: App, env: str | None, include_data: bool) -> None:
    """Take a restorable, verified snapshot of what ENV runs and holds.

    Functions (configuration, code checked against CodeSha256, tags, aliases, versions,
    concurrency, triggers), the layer versions they use and the env's layers, every object of
    the config bucket. Stored under snapshots/<env>/<id>/ in the artifact bucket with a
    manifest of sha256s; secret-looking values are masked. Nothing in ENV is changed.
    """
    if ctx.invoked_subcommand is not None:
        return
    if not env:
        raise InputError("snapshot needs --env", "e.g. vectora-release snapshot --env dev")
    from ..ops.snapshot import take_snapshot

    report = take_snapshot(app.target(env), include_data=include_data)
    human = (
        f"snapshot {report.id} of {env}: {len(report.functions)} functions, "
        f"{len(report.layer_versions)} layer versions, {report.objects} objects, "
        f"{report.bytes} bytes (manifest sha256 {report.manifest_sha256[:12]}…)"
        + (f"; masked: {', '.join(report.masked)}" if report.masked else "")
    )
    app.output(report.to_dict(), human)


@snapshot.command("list")
@click.option("--env", "env", required=True)
@global_options
@pass_app
@_denied_is_input
def snapshot_list(app: App, env: str) -> None:
    """The snapshots of ENV, oldest first."""
    from ..ops.snapshot import snapshots

    rows = [s.to_dict() for s in snapshots(app.target(env)).summaries()]
    headers = ("id", "taken_at", "reason", "functions", "layer_versions", "objects", "bytes")
    human = (
        table(headers, [[str(r[h]) for h in headers] for r in rows])
        if rows
        else (f"{env} has no snapshot")
    )
    app.output({"env": env, "snapshots": rows}, human)


@click.command()
@click.option("--env", "env", required=True)
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@global_options
@pass_app
@_denied_is_input
def adopt(app: App, env: str, dry_run: bool) -> None:
    """Adopt ENV's hand-made functions so that a normal deploy proceeds.

    Under the lock and after a snapshot: for each function of release.yaml that exists
    without the ManagedBy tag, publish $LATEST, point alias live at it, tag it (AdoptedFrom:
    the snapshot). Recorded in the ledger as kind adopt: rollback returns to it.
    """
    from ..ops.adopt import adopt as run_adopt

    report = run_adopt(app.target(env), dry_run=dry_run)
    head = {
        "planned": f"plan to adopt {env}'s hand-made functions (dry run, nothing changed):",
        "up_to_date": f"{env}: no hand-made function to adopt",
        "adopted": f"adopted {', '.join(report.adopted)} in {env} "
        f"(snapshot {report.snapshot}, record {report.record_id})",
    }[report.outcome]
    lines = [head, *(f"  {line}" for line in report.plan)]
    lines += [f"  differs (the next deploy converges it): {d}" for d in report.differences]
    app.output(report.to_dict(), "\n".join(lines))


@click.command()
@click.option("--env", "env", required=True)
@click.option("--apply", "apply", is_flag=True, help="Delete them (after a snapshot).")
@global_options
@pass_app
@_denied_is_input
def cleanup(app: App, env: str, apply: bool) -> None:
    """Report what hand-made deployments left in ENV; --apply deletes it.

    Layers of ENV that release.yaml does not declare, legacy versions of declared layers,
    config objects outside releases/ that no live function reads, stale zips in
    <project>-lambda-code-ENV. --apply takes the lock and a snapshot first, and never deletes
    a layer version a function uses. Client data is never touched.
    """
    from ..ops.cleanup import cleanup as run_cleanup

    report = run_cleanup(app.target(env), apply=apply)
    rows = [x.row() for x in report.leftovers]
    lines = [table(("kind", "subject", "action", "detail"), rows) if rows else f"{env}: clean"]
    if report.snapshot:
        lines.append(
            f"deleted {len(report.deleted)} item(s) after snapshot {report.snapshot} "
            f"(restore --env {env} --snapshot {report.snapshot} puts them back)"
        )
    elif rows and not apply:
        lines.append(f"nothing deleted; run cleanup --env {env} --apply to delete them")
    app.output(report.to_dict(), "\n".join(lines))


@click.command()
@click.option("--env", "env", required=True)
@click.option(
    "--snapshot", "snapshot_id", required=True, help="Snapshot id (snapshot list), or latest."
)
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@global_options
@pass_app
@_denied_is_input
def restore(app: App, env: str, snapshot_id: str, dry_run: bool) -> None:
    """Put ENV back as snapshot --snapshot holds it: layers, config objects, functions, aliases.

    Layers are published again from the saved content; masked (secret) values keep what runs
    now. Recorded in the ledger as kind restore. Unknown snapshot → exit 2.
    """
    from ..ops.restore import restore as run_restore

    report = run_restore(app.target(env), snapshot_id, dry_run=dry_run)
    head = {
        "planned": f"plan to restore {env} from snapshot {snapshot_id} (dry run, nothing changed):",
        "up_to_date": f"{env} already holds what snapshot {snapshot_id} holds",
        "restored": f"restored {env} from snapshot {snapshot_id} (record {report.record_id})",
    }[report.outcome]
    lines = [head, *(f"  {line}" for line in report.plan)]
    lines += [f"  note: {note}" for note in report.notes]
    app.output(report.to_dict(), "\n".join(lines))
