"""What every command shares: global options, config, AWS clients, targets, rendering.

:class:`Wiring` is what the CLI plugs into the core: how AWS clients are made and how
functions are run. ``main`` takes one, so the demo and the tests run the real CLI with their
own (a call counter on the clients, a stand-in runner) without patching anything.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..common.cancel import Cancellation
from ..common.output import emit_json, say, table
from . import github

if TYPE_CHECKING:
    from ..config.model import ReleaseConfig

VALIDATION_HEADERS = ("check", "subject", "result", "detail")


@dataclass(frozen=True)
class Wiring:
    """How the CLI reaches AWS (``aws()`` makes a client factory) and runs functions.

    ``runner`` None: the local runner on the embedded AWS, Lambda's Invoke elsewhere.
    ``code_fetcher`` None: the local code endpoint on the embedded AWS, the presigned URL
    elsewhere.
    ``clock`` None: the system clock (tests inject one, e.g. for the soak gate).
    """

    aws: Callable[[], Any] | None = None
    runner: Callable[..., Any] | None = None
    code_fetcher: Callable[..., bytes] | None = None
    clock: Callable[[], Any] | None = None  # the soak gate's and the bake's clock (tests)
    sleep: Callable[[float], None] | None = None  # the bake's sleep (tests simulate time)


class App:
    """Global options and lazily built collaborators, shared by every command."""

    def __init__(
        self,
        config_path: str,
        as_json: bool,
        verbose: int,
        wiring: Wiring | None = None,
        rerun: Callable[[list[str]], Any] | None = None,
        cancel: Cancellation | None = None,
    ) -> None:
        self.config_path = Path(config_path)
        self.as_json = as_json
        self.verbose = verbose
        self.wiring = wiring or Wiring()
        # Runs the command line again in this process (the demo's steps), same wiring.
        self.rerun = rerun
        # Stop requests (the CLI's signal handlers set them), shared by every target.
        self.cancel = cancel or Cancellation()
        self._config: ReleaseConfig | None = None
        self._aws: Any = None
        self._time: Any = None  # local.SimulatedTime on the embedded AWS

    @property
    def config(self) -> ReleaseConfig:
        if self._config is None:
            from ..config.model import load_config  # PyYAML: only for commands that read it

            self._config = load_config(self.config_path)
        return self._config

    @property
    def root(self) -> Path:
        return self.config_path.resolve().parent

    @property
    def aws(self) -> Any:
        """The client factory (an ``aws.Aws``), made on first use."""
        if self._aws is None:
            if self.wiring.aws is not None:
                self._aws = self.wiring.aws()
            else:
                from ..aws.clients import Aws  # boto3: only for commands that reach AWS

                _use_running_embedded_aws(self.root)
                self._aws = Aws()
        return self._aws

    def target(self, env: str) -> Any:
        """Environment ``env`` as a ``deploy.Target`` (unknown env → exit 2 before any call)."""
        from ..deploy.target import Target

        spec = self.config.env(env)
        aws = self.aws
        return Target(
            self.config,
            spec,
            aws,
            progress=self.progress,
            runner=self.runner(),
            code_fetcher=self.code_fetcher(),
            cancel=self.cancel,
            **self.timing(),
        )

    def timing(self) -> dict[str, Any]:
        """Clock and sleep (soak gate, bake): the wiring's; what it leaves out is simulated
        on the embedded AWS (moto never evaluates an alarm: a bake there never waits)."""
        from ..local import SimulatedTime, uses_local_runner

        given = {"clock": self.wiring.clock, "sleep": self.wiring.sleep}
        if not uses_local_runner():
            return {k: v for k, v in given.items() if v is not None}
        if self._time is None:
            self._time = SimulatedTime()
        simulated = {"clock": self._time.clock, "sleep": self._time.sleep}
        return {k: given[k] or simulated[k] for k in given}

    def runner(self) -> Callable[..., Any] | None:
        """How checks run functions: the wiring's, else the local runner on the embedded AWS."""
        from ..build.deps import default_cache_dir
        from ..local.runner import LocalInvoker, uses_local_runner

        if self.wiring.runner is not None:
            return self.wiring.runner
        if uses_local_runner():
            return LocalInvoker(default_cache_dir(self.root) / "runner")
        return None

    def code_fetcher(self) -> Callable[..., bytes] | None:
        """How snapshots download code: the wiring's, else the local endpoint on the embedded
        AWS (it serves no presigned URL), else the presigned URL Lambda returns."""
        from ..local.runner import uses_local_runner

        if self.wiring.code_fetcher is not None:
            return self.wiring.code_fetcher
        if uses_local_runner():
            from ..local.codeserver import LocalCodeFetcher

            return LocalCodeFetcher()
        return None

    def progress(self, message: str) -> None:
        say(f"  {message}")

    def output(self, data: Any, human: str | None = None) -> None:
        """``--json`` prints ``data`` to stdout; otherwise ``human`` goes to stderr."""
        if self.as_json:
            emit_json(data)
        elif human is not None:
            say(human)


def _use_running_embedded_aws(root: Path) -> None:
    """With no AWS configured, talk to the embedded AWS started by ``local up``, if any."""
    configured = any(
        os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_ACCESS_KEY_ID")
    )
    if configured:
        return
    from ..local import server

    state = server.status(root / server.STATE_DIR)
    if state is not None:
        os.environ.update(server.environment(state["endpoint"], state.get("bedrock_endpoint")))
        say(f"  using the embedded AWS at {state['endpoint']} (vectora-release local up)")


# -- global options, accepted before or after the subcommand --------------------------------
def _set_json(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(App).as_json = True


def _add_verbose(ctx: click.Context, _param: click.Parameter, value: int) -> None:
    ctx.ensure_object(App).verbose += value or 0


def _set_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        app = ctx.ensure_object(App)
        app.config_path, app._config = Path(value), None


def global_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--json``, ``-v`` and ``--config`` on a subcommand, as on the group."""
    options = (
        click.option(
            "--config",
            "config_path_again",
            metavar="PATH",
            expose_value=False,
            callback=_set_config,
            help="Path to release.yaml (as before the subcommand).",
        ),
        click.option(
            "--json",
            "json_again",
            is_flag=True,
            expose_value=False,
            callback=_set_json,
            help="Machine-readable output on stdout.",
        ),
        click.option(
            "-v",
            "--verbose",
            "verbose_again",
            count=True,
            expose_value=False,
            callback=_add_verbose,
            help="More detail; -v also shows tracebacks.",
        ),
    )
    for option in reversed(options):
        command = option(command)
    return command


pass_app = click.make_pass_decorator(App)

# deploy and promote: watch the alarms after validation (CodeDeploy's alarm rollback)
bake_option = click.option(
    "--bake",
    "bake_minutes",
    type=click.IntRange(0, 180),
    default=None,
    help="Minutes to watch the alarms after validation passes (default: release.yaml's "
    "bake_minutes of the environment); an alarm in ALARM rolls back (exit 1).",
)


# -- deploy-like reports ----------------------------------------------------------------------
def render_deploy(report: dict[str, Any]) -> str:
    """A deploy, promote or rollback report (``DeployReport.to_dict()``) for a human."""
    release, env, record = report["release_id"], report["env"], report.get("record_id")
    kind = report.get("kind", "deploy")
    done = {
        "deploy": f"deployed {release} to {env}",
        "promote": f"promoted {release} to {env}",
        "rollback": f"rolled {env} back to {release}",
    }.get(kind, f"deployed {release} to {env}")
    head = {
        "planned": f"plan for {release} → {env} (dry run, nothing changed):",
        "up_to_date": f"{env} is up to date with {release}",
        "succeeded": f"{done} (record {record})",
        "rolled_back": f"{env}: {release} failed validation and was rolled back (record {record})",
        "failed": f"{env}: {kind} of {release} failed (record {record})",
        "refused": f"{env}: {kind} of {release} refused, nothing changed",
    }.get(report["outcome"], f"{env}: {report['outcome']}")
    lines = [head]
    if report["outcome"] == "planned":
        plan = report.get("plan") or []
        lines += [f"  {i + 1}. {step}" for i, step in enumerate(plan)] or ["  (no change)"]
    validation = report.get("validation")
    if validation:
        rows = [(c["check"], c["subject"], c["result"], c["detail"]) for c in validation["checks"]]
        lines += [f"validation: {validation.get('status')}", table(VALIDATION_HEADERS, rows)]
    return "\n".join(lines)


def finish_deploy(app: App, report: Any) -> None:
    """Render a ``DeployReport`` to the terminal, --json and the GitHub job summary."""
    data = report.to_dict()
    app.output(data, render_deploy(data))
    digests = []
    if report.outcome != "planned":
        target = app.target(report.env)
        record = target.ledger.get(report.record_id) if report.record_id else None
        if record is not None:
            digests = [(fn, s.code_sha256 or "-") for fn, s in record.functions.items()]
            digests += [(f"layer {n}", s.code_sha256) for n, s in record.layers.items()]
    github.add_summary(github.deploy_summary(data, digests))
