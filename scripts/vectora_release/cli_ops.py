"""Commands that check and restore environments, and the demo."""

from __future__ import annotations

import click

from .cli_app import App, pass_app


@click.command()
@pass_app
def demo(app: App) -> None:
    """Tell the whole release story on an embedded AWS (no account, no Docker)."""
    from .demo import run_demo

    run_demo(app)


COMMANDS = (demo,)
