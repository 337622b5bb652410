"""The ``vectora-release`` command line: parse, call the core, render; errors become exits.

``main(argv) -> int`` is the one place a typed error becomes an exit code; only the console
script (and ``python -m vectora_release``) turns that into ``sys.exit``. Commands live in one
module per group and are imported when first used (:class:`LazyGroup`), so a command loads
only what it needs.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import io
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial

import click

from ..common.cancel import Cancellation
from ..common.errors import InternalError, ReleaseError
from ..common.output import emit_json, say
from . import github
from .app import App, Wiring, render_deploy

# command name → ("module:attribute" under vectora_release.cli, the first paragraph of its
# help), in the order --help lists them. --help renders the summaries from here, so it imports
# no command module (a unit test keeps them equal to the commands' own help).
COMMANDS: dict[str, tuple[str, str]] = {
    "build": (
        "release_cmds:build",
        "Build reproducible, semver-named zips and manifest.json from the current commit.",
    ),
    "publish": (
        "release_cmds:publish",
        "Upload a built release to the artifact store: verified, immutable, idempotent.",
    ),
    "fetch": (
        "release_cmds:fetch",
        "Download a published release from the artifact store, every digest verified.",
    ),
    "version": ("version_cmds:version", "Show, check or bump VERSION (semver) and the CHANGELOG."),
    "bootstrap": (
        "env_cmds:bootstrap",
        "Create what ENV needs if missing: buckets, artifact bucket, function roles.",
    ),
    "deploy": (
        "env_cmds:deploy",
        "Deploy a published release to ENV (lock → verify → plan → apply → record).",
    ),
    "status": (
        "env_cmds:status",
        "What runs where: version, commit, when, by whom, outcome, validation, next run.",
    ),
    "history": ("env_cmds:history", "Deployment records of ENV, newest first."),
    "unlock": (
        "env_cmds:unlock",
        "Free ENV's lock by hand; who and why are recorded in the ledger.",
    ),
    "promote": (
        "ops_cmds:promote",
        "Deploy exactly the release validated in --from to --to, then validate it there.",
    ),
    "validate": (
        "ops_cmds:validate",
        "Check what ENV runs against its ledger record: integrity, contract, config, smoke, e2e.",
    ),
    "rollback": (
        "ops_cmds:rollback",
        "Restore the previous validated release of ENV (or --to V), then validate.",
    ),
    "drift": (
        "ops_cmds:drift",
        "Compare ENV's live state with its last ledger record; exit 1 when anything drifted.",
    ),
    "diff": (
        "ops_cmds:diff",
        "ENV_A and ENV_B side by side; exit 1 when they differ in release content.",
    ),
    "invoke": (
        "ops_cmds:invoke",
        "Invoke alias `live` of a function (the local runner on the embedded AWS).",
    ),
    "gc": (
        "ops_cmds:gc",
        "Delete function and layer versions no alias and no recent record references.",
    ),
    "snapshot": (
        "takeover_cmds:snapshot",
        "Take a restorable, verified snapshot of what ENV runs and holds.",
    ),
    "adopt": (
        "takeover_cmds:adopt",
        "Adopt ENV's hand-made functions so that a normal deploy proceeds.",
    ),
    "cleanup": (
        "takeover_cmds:cleanup",
        "Report what hand-made deployments left in ENV; --apply deletes it.",
    ),
    "restore": (
        "takeover_cmds:restore",
        "Put ENV back as snapshot --snapshot holds it: layers, config objects, functions, aliases.",
    ),
    "config": (
        "config_cmds:config",
        "Check release.yaml, canonical/, client configs and the CHANGELOG (pull-request checks).",
    ),
    "local": (
        "local_cmds:local",
        "Run an embedded AWS (moto on 127.0.0.1) for laptops with no AWS account.",
    ),
    "demo": (
        "local_cmds:demo",
        "Tell the whole release story on an embedded AWS (no account, no Docker, no network).",
    ),
}


class LazyGroup(click.Group):
    """A group whose commands are imported from :data:`COMMANDS` when first needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module, _, attribute = entry[0].partition(":")
        return getattr(importlib.import_module(f"{__package__}.{module}"), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of --help, from :data:`COMMANDS` (as click would, no import)."""
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [
            (name, click.Command(name, help=summary).get_short_help_str(limit))
            for name, (_, summary) in COMMANDS.items()
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _show_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """``--version``: the installed version, read only when asked for."""
    if not value or ctx.resilient_parsing:
        return
    from .. import __version__

    click.echo(f"vectora-release, version {__version__}")
    ctx.exit()


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
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_version,
    help="Show the version and exit.",
)
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


# The console script's collector: a command allocates hundreds of thousands of long-lived
# objects (the AWS SDK's service models) in its first half second, which the default
# thresholds (700, 10, 10) traverse again and again. Collections stay on, just rarer.
CONSOLE_GC_THRESHOLDS = (50_000, 20, 20)


def console() -> int:
    """The ``vectora-release`` console script (and ``python -m vectora_release``).

    :func:`main` for a process that ends with the command: fewer collections while it runs,
    and none of what it holds traversed again on the way out (``gc.freeze``: the process
    exits, the memory goes back to the system with it): about a quarter of an AWS
    command's time (``docs/architecture.md``, start-up). In-process callers use :func:`main`.
    """
    gc.set_threshold(*CONSOLE_GC_THRESHOLDS)
    try:
        return main()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        gc.freeze()


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
