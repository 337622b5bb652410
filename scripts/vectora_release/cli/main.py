"""The ``vectora-release`` command line: parse, call the core, render; errors become exits.

``main(argv) -> int`` is the one place a typed error becomes an exit code; only the console
script (and ``python -m vectora_release``) turns that into ``sys.exit``. Commands live in one
module per group and are imported when first used (:class:`LazyGroup`), so a command loads
only what it needs.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial

import click

from .. import __version__
from ..common.cancel import Cancellation
from ..common.errors import InternalError, ReleaseError
from ..common.output import emit_json, say
from . import github
from .app import App, Wiring, render_deploy

# command name → "module:attribute" under vectora_release.cli, in the order --help lists them
COMMANDS = {
    "build": "release_cmds:build",
    "publish": "release_cmds:publish",
    "fetch": "release_cmds:fetch",
    "version": "version_cmds:version",
    "bootstrap": "env_cmds:bootstrap",
    "deploy": "env_cmds:deploy",
    "status": "env_cmds:status",
    "history": "env_cmds:history",
    "unlock": "env_cmds:unlock",
    "promote": "ops_cmds:promote",
    "validate": "ops_cmds:validate",
    "rollback": "ops_cmds:rollback",
    "drift": "ops_cmds:drift",
    "diff": "ops_cmds:diff",
    "invoke": "ops_cmds:invoke",
    "gc": "ops_cmds:gc",
    "snapshot": "takeover_cmds:snapshot",
    "adopt": "takeover_cmds:adopt",
    "cleanup": "takeover_cmds:cleanup",
    "restore": "takeover_cmds:restore",
    "config": "config_cmds:config",
    "local": "local_cmds:local",
    "demo": "local_cmds:demo",
}


class LazyGroup(click.Group):
    """A group whose commands are imported from :data:`COMMANDS` when first needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attribute = target.partition(":")
        return getattr(importlib.import_module(f"{__package__}.{module}"), attribute)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--config",
    "config_path",
    default="release.yaml",
    show_default=True,
    envvar="VECTORA_RELEASE_CONFIG",
    help="Path to release.yaml.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@click.option("-v", "--verbose", count=True, help="More detail; -v also shows tracebacks.")
@click.version_option(__version__, prog_name="vectora-release")
@click.pass_context
def cli(ctx: click.Context, config_path: str, as_json: bool, verbose: int) -> None:
    """Build, publish, deploy, validate, promote and roll back Vectora Inbox releases.

    \b
    Typical flow:
      vectora-release build                  # dist/manifest.json + zips
      vectora-release publish                # to the artifact store (immutable)
      vectora-release deploy --env dev --commit HEAD --validate
      vectora-release promote --from dev --to stage
      vectora-release rollback --env stage
    With no AWS at hand, `vectora-release demo` tells the whole story on an embedded AWS.
    --json, -v and --config work before or after the subcommand.

    \b
    Exit codes: 0 success; 1 a check failed, drift, lock held, or a deploy failed and was
    rolled back; 2 bad input or unmet precondition; 3 unexpected internal error.
    """
    wiring = ctx.meta.get("vectora_release.wiring")
    rerun = partial(run_cli, wiring=wiring, capture_err=False)
    cancel = ctx.meta.get("vectora_release.cancel")
    ctx.obj = App(config_path, as_json, verbose, wiring, rerun, cancel)


def main(argv: Sequence[str] | None = None, wiring: Wiring | None = None) -> int:
    """Run the command line; return its exit code (the one place errors become exit codes)."""
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = any(a in ("-v", "-vv", "--verbose") for a in args)
    cancel = Cancellation()
    try:
        with cli.make_context("vectora-release", list(args)) as ctx:  # click consumes it
            ctx.meta["vectora_release.wiring"] = wiring
            ctx.meta["vectora_release.cancel"] = cancel
            with stop_on_signals(cancel):
                code = cli.invoke(ctx)
    except click.exceptions.Exit as exc:  # --help, --version
        return exc.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):
        say("interrupted (no environment lock was held; running the command again completes it)")
        return 130
    except click.ClickException as exc:
        exc.show()
        return 2
    except ReleaseError as exc:
        _report_what_was_done(exc, as_json="--json" in args)
        if verbose:
            raise
        say(f"error: {exc.one_line()}")
        github.annotate_error(exc.one_line())
        return exc.exit_code
    except Exception as exc:
        if verbose:
            raise
        say(f"internal error: {type(exc).__name__}: {exc} (re-run with -v for the traceback)")
        github.annotate_error(f"internal error: {type(exc).__name__}: {exc}")
        return InternalError.exit_code
    return code if isinstance(code, int) else 0


@contextlib.contextmanager
def stop_on_signals(cancel: Cancellation) -> Iterator[None]:
    """SIGINT and SIGTERM stop the command: at once, or at the next step boundary.

    While the core holds a lock (``cancel.deferring``), a signal only asks the run to stop;
    the run puts every alias back, closes its record ``interrupted`` and releases the lock
    (``docs/reliability.md``). Elsewhere nothing is being changed and the command stops at
    once (KeyboardInterrupt, exit 130). The previous handlers come back afterwards.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread receives signals
        return

    def handle(signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        if not cancel.deferring:
            raise KeyboardInterrupt(name)
        cancel.request(f"{name} received")

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _report_what_was_done(exc: ReleaseError, as_json: bool) -> None:
    """What a failed deploy, promote or rollback did so far (plan, record, validation)."""
    if exc.report is None:
        return
    if as_json:
        emit_json(exc.report)
    else:
        say(render_deploy(exc.report))
    github.add_summary(github.deploy_summary(exc.report, [], error=exc.one_line()))


@dataclass(frozen=True)
class CliResult:
    """What one in-process run of the command line gave."""

    code: int
    out: str
    err: str


def run_cli(
    argv: Sequence[str], wiring: Wiring | None = None, capture_err: bool = True
) -> CliResult:
    """Run ``vectora-release ARGV`` in this process, capturing stdout (and stderr).

    How the demo and the tests run the command line: the same :func:`main`, with their own
    :class:`Wiring` instead of patched modules.
    """
    out, err = io.StringIO(), io.StringIO()
    with contextlib.ExitStack() as stack:
        stack.enter_context(contextlib.redirect_stdout(out))
        if capture_err:
            stack.enter_context(contextlib.redirect_stderr(err))
        code = main(argv, wiring)
    return CliResult(code, out.getvalue(), err.getvalue())
