"""What every command shares: global options, config, AWS clients, environment targets."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from . import github
from .aws import Aws
from .config import ReleaseConfig, load_config
from .deploy import DeployReport
from .report import emit_json, say, table
from .target import Target
from .validate import HEADERS as VALIDATION_HEADERS


class App:
    """Global options and lazily built collaborators, shared by every command."""

    def __init__(self, config_path: str, as_json: bool, verbose: int) -> None:
        self.config_path = Path(config_path)
        self.as_json = as_json
        self.verbose = verbose
        self._config: ReleaseConfig | None = None
        self._aws: Aws | None = None

    @property
    def config(self) -> ReleaseConfig:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    @property
    def root(self) -> Path:
        return self.config_path.resolve().parent

    @property
    def aws(self) -> Aws:
        if self._aws is None:
            _use_running_embedded_aws(self.root)
            self._aws = Aws()
        return self._aws

    def target(self, env: str) -> Target:
        spec = self.config.env(env)  # unknown env → exit 2 before any AWS call
        return Target(self.config, spec, self.aws, progress=self.progress)

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
    from . import local_aws

    configured = any(
        os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_ACCESS_KEY_ID")
    )
    if configured:
        return
    state = local_aws.status(root / local_aws.STATE_DIR)
    if state is not None:
        os.environ.update(local_aws.environment(state["endpoint"]))
        say(f"  using the embedded AWS at {state['endpoint']} (vectora-release local up)")


def render_deploy(report: dict[str, Any]) -> str:
    """A deploy, promote or rollback report (``DeployReport.to_dict()``) for a human."""
    release, env, record = report["release_id"], report["env"], report.get("record_id")
    done = {
        "deploy": f"deployed {release} to {env}",
        "promote": f"promoted {release} to {env}",
        "rollback": f"rolled {env} back to {release}",
    }.get(report.get("kind", "deploy"), f"deployed {release} to {env}")
    head = {
        "planned": f"plan for {release} → {env} (dry run, nothing changed):",
        "up_to_date": f"{env} is up to date with {release}",
        "succeeded": f"{done} (record {record})",
        "rolled_back": f"{env}: {release} failed validation and was rolled back (record {record})",
        "failed": f"{env}: {report.get('kind', 'deploy')} of {release} failed (record {record})",
        "refused": f"{env}: {report.get('kind', 'deploy')} of {release} refused, nothing changed",
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


def finish_deploy(app: App, report: DeployReport) -> None:
    """Render a deploy-like report to the terminal, --json and the GitHub job summary."""
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


pass_app = click.make_pass_decorator(App)
