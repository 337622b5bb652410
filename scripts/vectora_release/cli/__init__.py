"""The command line: ``main(argv) -> int``, one module of click commands per group.

``app`` holds what commands share (global options, config, targets, rendering); ``github``
writes job summaries and annotations when running in Actions.
"""

from __future__ import annotations

from .app import App, Wiring
from .main import CliResult, cli, console, main, run_cli

__all__ = ["App", "CliResult", "Wiring", "cli", "console", "main", "run_cli"]
