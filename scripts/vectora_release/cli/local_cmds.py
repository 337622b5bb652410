"""Commands for a laptop without AWS: ``local up | env | down`` and ``demo``."""

from __future__ import annotations

import click

from ..common.errors import InputError
from ..local import server
from ..local.demo import run_demo
from .app import App, global_options, pass_app


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
@global_options
@pass_app
def local_up(app: App) -> None:
    """Start the embedded AWS in the background (pid in .vectora-local/)."""
    state = server.up(app.root / server.STATE_DIR)
    already = "" if state["started"] else "already "
    app.output(
        state,
        f"embedded AWS {already}running at {state['endpoint']} (pid {state['pid']})\n"
        'point tools at it with: eval "$(vectora-release local env)"',
    )


@local.command("env")
@global_options
@pass_app
def local_env(app: App) -> None:
    """Print the export lines that point AWS tools at the embedded AWS."""
    state = server.status(app.root / server.STATE_DIR)
    if state is None:
        raise InputError("the embedded AWS is not running", "start it: vectora-release local up")
    click.echo(server.exports(state["endpoint"], state.get("bedrock_endpoint")))


@local.command("down")
@global_options
@pass_app
def local_down(app: App) -> None:
    """Stop the embedded AWS (only the process `local up` started, checked before signalling)."""
    state_dir = app.root / server.STATE_DIR
    report = server.down(state_dir)
    pid_file = server.state_file(state_dir)
    human = {
        "stopped": f"stopped the embedded AWS (pid {report.pid})",
        "not_running": "the embedded AWS is not running: nothing to stop",
        "stale": (
            f"pid {report.pid} recorded in {pid_file} is not the embedded AWS (stale pid file):"
            " nothing stopped, pid file removed"
        ),
    }[report.outcome]
    app.output(report.to_dict(), human)


@click.command()
@global_options
@pass_app
def demo(app: App) -> None:
    """Tell the whole release story on an embedded AWS (no account, no Docker, no network).

    Builds, publishes, deploys and validates dev, promotes to stage and prod (baked), shows
    prod's weekly schedule on alias live and a deploy rolled back by an alarm during its bake,
    then ships a defective release that fails validation in dev and is rolled back.
    Exits 0 only if every step behaved as expected.
    """
    run_demo(app.root, app.rerun)
