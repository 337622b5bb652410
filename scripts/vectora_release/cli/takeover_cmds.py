"""Commands that take over an existing environment: snapshot, adopt."""

from __future__ import annotations

import click

from ..common.errors import InputError
from ..common.output import table
from .app import App, global_options, pass_app


@click.group(invoke_without_command=True)
@click.option("--env", "env", help="Environment to snapshot.")
@click.option("--include-data", is_flag=True, help="Also copy curated/ and the newsletters.")
@global_options
@pass_app
@click.pass_context
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
