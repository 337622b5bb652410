"""Runs a release command from one starting state with a fault at each of its mutating calls.

For a command changing environment E from release A to release B:

1. the starting state is built once, in a :class:`SnapshotServer` holder;
2. a clean run on a copy records the N mutating calls the command makes (injection points),
   and the real ``validate`` (smoke runs of the deployed bytes included) passes after it;
3. for every k in 1..N and every mode, a fresh copy runs the command with call k broken, then
   checks: every alias of E on A's code and layers or every alias on B's (never a mix); the
   ledger's current record names that release and each alias's version, and no run that ended
   left a record ``in_progress``; the lock released or expiring; the command run again
   converges to B, with nothing ``in_progress`` and the current record passing every check of
   ``validate`` and ``drift`` but the smoke runs (``observe.all_findings``: integrity, contract,
   config).

``kill`` runs the command in a forked process that dies (``os._exit``) at call k, skipping every
``finally``. Whatever it left live must match the ledger or be flagged by a record left
``in_progress``; the lock must refuse others (naming the holder) until its lease expires;
``status`` must show the interrupted attempt; the next run, after the lease, must report and
repair it — that run is the command run again.

``faultpool.py`` builds the starting states and spreads the runs over worker processes.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faulttakeover
from harness import KILL, KILLED, Faults, run_cli, stub_runner
from support import Releases, target
from vectora_release.aws.lambda_ import ALIAS
from vectora_release.checks.drift import monitoring_findings
from vectora_release.checks.findings import all_findings, manifest_of
from vectora_release.checks.validate import validate_current
from vectora_release.common.clock import utcnow
from vectora_release.common.errors import LockHeldError
from vectora_release.config.model import ReleaseConfig, load_config
from vectora_release.deploy.pipeline import deploy_release
from vectora_release.deploy.target import Target
from vectora_release.ops.adopt import adopt
from vectora_release.ops.bootstrap import bootstrap
from vectora_release.ops.cleanup import cleanup
from vectora_release.ops.promote import promote
from vectora_release.ops.restore import restore
from vectora_release.ops.rollback import rollback
from vectora_release.ops.status import status_row
from vectora_release.store.ledger import IN_PROGRESS


# -- the commands and their starting states -------------------------------------------------------
@dataclass(frozen=True)
class Command:
    """A release command as the fault matrix runs it."""

    name: str
    env: str  # the environment it changes
    args: tuple[str, ...]  # its CLI arguments
    again: tuple[str, ...]  # how an operator runs it again to converge (idempotent)
    end: str  # the release (R1/R2) the environment must end on
    prepare: Callable[[Releases], None]  # builds the starting state (AWS env already set)
    follow_up: Callable[[Releases, Target], Any]  # ``again`` in-process, with a later clock
    # Takeover commands (``faulttakeover.py``): the fingerprint of the state they change; the
    # run must leave the one before it or the one a clean run leaves. None: releases R1/R2.
    state: Callable[[Target], str] | None = None


def _environments(releases: Releases, *envs: str) -> dict[str, Target]:
    targets = {env: target(releases.config, env) for env in envs}
    for t in targets.values():
        bootstrap(t)
    for built in (releases.r1, releases.r2):
        targets[envs[0]].store.publish(built.manifest, built.dist)
    return targets


def _older_release_yaml(releases: Releases) -> ReleaseConfig:
    """R1's release.yaml as it was before: a schedule and an alarm since dropped, dev's weekly
    run enabled with another input, the errors alarm at another threshold."""
    source = Path(releases.r1.config_path)
    text = source.read_text(encoding="utf-8")
    edits = (
        ("schedules:\n  weekly:", 'schedules:\n  legacy: {expression: "rate(1 day)", '
         "target: ingest-v2}\n  weekly:"),
        ("period_days: 7}", "period_days: 14}"),
        ("alarms: {}\n", "alarms: {legacy: {metric: error_rate_pct, threshold: 50}, "
         "errors: {threshold: 7}}\n"),
        ("schedules: {weekly: {enabled: false}}", "schedules: {weekly: {enabled: true}}"),
    )  # fmt: skip
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    path = source.with_name("release-older.yaml")
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def prepare_deploy(releases: Releases) -> None:
    """dev runs R1 as the older release.yaml declared it; its alerts topic and the weekly
    rule's invoke permission deleted by hand. The deploy of R2 (current release.yaml) then also
    creates, updates and removes monitoring: each of those calls joins the matrix."""
    dev = _environments(releases, "dev")["dev"]
    deploy_release(target(_older_release_yaml(releases), "dev"), releases.r1.manifest)
    config = releases.config
    sns = dev.client("sns")
    arn = next(
        t["TopicArn"]
        for t in sns.list_topics()["Topics"]
        if t["TopicArn"].endswith(f":{config.alerts_topic('dev')}")
    )
    sns.delete_topic(TopicArn=arn)
    dev.lam.remove_permission(
        FunctionName=config.function_resource("ingest-v2", "dev"),
        Qualifier=ALIAS,
        StatementId=config.monitor_resource("weekly", "dev"),
    )


def prepare_promote(releases: Releases) -> None:
    """stage runs R1 (promoted from dev); dev runs R2, validated with e2e metrics."""
    envs = _environments(releases, "dev", "stage")
    dev, stage = envs["dev"], envs["stage"]
    deploy_release(dev, releases.r1.manifest)
    validate_current(dev, e2e=True, compare_to=None)
    promote(dev, stage, dev)
    deploy_release(dev, releases.r2.manifest)
    validate_current(dev, e2e=True, compare_to=None)


def prepare_rollback(releases: Releases) -> None:
    """dev runs R2 after R1, both validated."""
    dev = _environments(releases, "dev")["dev"]
    for built in (releases.r1, releases.r2):
        deploy_release(dev, built.manifest)
        validate_current(dev, e2e=False, compare_to=None)


def _promote_again(releases: Releases, stage: Target) -> Any:
    dev = target(releases.config, "dev")
    return promote(dev, stage, dev)


COMMANDS = {
    "deploy": Command(
        "deploy", "dev",
        args=("deploy", "--env", "dev", "--version", "0.2.0"),
        again=("deploy", "--env", "dev", "--version", "0.2.0"),
        end="R2", prepare=prepare_deploy,
        follow_up=lambda rel, t: deploy_release(t, rel.r2.manifest),
    ),
    "promote": Command(
        "promote", "stage",
        args=("promote", "--from", "dev", "--to", "stage"),
        again=("promote", "--from", "dev", "--to", "stage"),
        end="R2", prepare=prepare_promote, follow_up=_promote_again,
    ),
    "rollback": Command(
        "rollback", "dev",
        args=("rollback", "--env", "dev"),
        again=("rollback", "--env", "dev", "--to", "0.1.0"),
        end="R1", prepare=prepare_rollback,
        follow_up=lambda rel, t: rollback(t, "0.1.0"),
    ),
    "adopt": Command(
        "adopt", "dev",
        args=("adopt", "--env", "dev"), again=("adopt", "--env", "dev"),
        end="end", prepare=faulttakeover.prepare_adopt,
        follow_up=lambda rel, t: adopt(t),
        state=lambda t: faulttakeover.state(t, "adopt"),
    ),
    "cleanup": Command(
        "cleanup", "dev",
        args=("cleanup", "--env", "dev", "--apply"), again=("cleanup", "--env", "dev", "--apply"),
        end="end", prepare=faulttakeover.prepare_cleanup,
        follow_up=lambda rel, t: cleanup(t, apply=True),
        state=lambda t: faulttakeover.state(t, "cleanup"),
    ),
    "restore": Command(
        "restore", "dev",
        args=("restore", "--env", "dev", "--snapshot", "latest"),
        again=("restore", "--env", "dev", "--snapshot", "latest"),
        end="end", prepare=faulttakeover.prepare_restore,
        follow_up=lambda rel, t: restore(t, "latest"),
        state=lambda t: faulttakeover.state(t, "restore"),
    ),
}  # fmt: skip


# -- what a run left behind -----------------------------------------------------------------------
@dataclass
class Verdict:
    """What one run with a fault at call ``k`` left behind, and whether it was repaired."""

    mode: str
    k: int
    operation: str
    code: int | None = None
    error: str = ""
    live: dict[str, str] = field(default_factory=dict)  # function → R1/R2/?/-
    flagged: bool = False  # a record was left in_progress (a killed run)
    problems: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)

    @property
    def one_release(self) -> bool:
        states = ("R1", "R2", "start", "end")  # releases, or a takeover's states
        return len(set(self.live.values())) == 1 and next(iter(self.live.values())) in states

    @property
    def ok(self) -> bool:
        return not self.problems

    def describe(self) -> str:
        return (
            f"{self.mode} at call {self.k} ({self.operation}): exit {self.code}, live {self.live}"
            + (f", problems: {'; '.join(self.problems)}" if self.problems else "")
        )


def live_releases(t: Target, releases: Releases) -> dict[str, str]:
    """Function → which release its alias runs: R1, R2, ``?`` (neither, or mixed within) or -."""
    wanted = {
        label: {
            fn: (
                built.manifest.artifact(fn).code_sha256,
                [
                    built.manifest.artifact(x).code_sha256
                    for x in built.manifest.functions[fn].layers
                ],
            )
            for fn in built.manifest.functions
        }
        for label, built in (("R1", releases.r1), ("R2", releases.r2))
    }
    lam, out = t.lam, {}

    @functools.cache
    def layer_code(arn: str) -> str:
        name, _, number = arn.rpartition(":")
        return lam.get_layer_version(LayerName=name, VersionNumber=int(number))["Content"][
            "CodeSha256"
        ]

    for fn in sorted(t.config.functions):
        resource = t.config.function_resource(fn, t.name)
        try:
            version = lam.get_alias(FunctionName=resource, Name=ALIAS)["FunctionVersion"]
        except lam.exceptions.ResourceNotFoundException:
            out[fn] = "-"
            continue
        conf = lam.get_function_configuration(FunctionName=resource, Qualifier=version)
        layers = [layer_code(layer["Arn"]) for layer in conf.get("Layers", [])]
        seen = (conf["CodeSha256"], layers)
        out[fn] = next((label for label, fns in wanted.items() if fns[fn] == seen), "?")
    return out


def ledger_problems(
    t: Target, releases: Releases, live: dict[str, str], full: bool = True
) -> list[str]:
    """Why the ledger's current record does not describe what runs (empty: it does).

    ``full``: every check of ``validate`` and ``drift`` but the smoke runs (integrity, contract,
    config: ``observe.all_findings``); else the release and each alias's version.
    """
    current = t.ledger.current()
    if current is None:
        return ["no current record"]
    label = releases.label(current.manifest_sha256)
    if set(live.values()) != {label}:
        return [f"current record {current.id} says {label}, live runs {live}"]
    if not full:
        lam = t.lam
        return [
            f"{state.name}: alias on {version}, recorded {state.version}"
            for state in current.functions.values()
            if (version := lam.get_alias(FunctionName=state.name, Name=ALIAS)["FunctionVersion"])
            != state.version
        ]
    findings, _ = all_findings(t, manifest_of(t, current), current)
    return [f"drift from current record: {f.message}" for f in findings[:3]]


def open_records(t: Target) -> list[str]:
    """Records left in_progress that the current pointer does not name (runs not committed)."""
    current = t.ledger.current_id()
    return [
        r.id for r in t.ledger.history(limit=20) if r.outcome == IN_PROGRESS and r.id != current
    ]


def lock_problem(t: Target, lease_seconds: int) -> str | None:
    """A lock that is still there must at least expire within its lease."""
    lock = t.ledger.read_lock()
    if lock is None:
        return None
    if dt.datetime.fromisoformat(lock.expires_at) > utcnow() + dt.timedelta(seconds=lease_seconds):
        return f"a lock that does not expire: {lock}"
    return None


# -- one run --------------------------------------------------------------------------------------
class Run:
    """One injection: ``mode`` at call ``k`` of ``command``, on the copy the AWS env points at."""

    def __init__(
        self,
        command: Command,
        releases: Releases,
        calls: list[str],
        labels: dict[str, str] | None = None,
    ) -> None:
        self.command = command
        self.releases = releases
        self.calls = calls
        self.lease = releases.config.lock_lease_seconds
        self.stale = releases.config.lock_stale_after_seconds
        self.labels = labels or {}  # takeover: fingerprint → "start" / "end"

    @property
    def config_path(self) -> str:
        return self.releases.r1.config_path

    def target(self, clock: Callable[[], dt.datetime] = utcnow) -> Target:
        return target(self.releases.config, self.command.env, clock)

    def __call__(self, mode: str, k: int) -> Verdict:
        verdict = Verdict(mode, k, self.calls[k - 1])
        if mode == KILL:
            self._killed(verdict)  # its follow-up is the run again
        else:
            self._failed(verdict)
            self._again(verdict)
        self._converged(verdict)
        return verdict

    def _observe(self, verdict: Verdict) -> Target:
        t = self.target()
        verdict.live = self._live(t)
        return t

    def _live(self, t: Target) -> dict[str, str]:
        if self.command.state is None:
            return live_releases(t, self.releases)
        return {"state": self.labels.get(self.command.state(t), "?")}

    def _ledger_problems(self, t: Target, live: dict[str, str], full: bool) -> list[str]:
        """The release commands' ledger check; a takeover's is its state and open records."""
        if self.command.state is None:
            return ledger_problems(t, self.releases, live, full)
        if live != {"state": "end"}:
            return []
        current = t.ledger.current()
        if self.command.name == "adopt" and (current is None or current.kind != "adopt"):
            return [f"adopted, but the current record is {current and current.kind}"]
        return []

    def _failed(self, verdict: Verdict) -> None:
        faults = Faults(verdict.mode, verdict.k)
        run = run_cli(self.config_path, self.command.args, [faults])
        verdict.code, verdict.error = run.code, run.error_line
        if not faults.fired or faults.calls[: verdict.k] != self.calls[: verdict.k]:
            verdict.problems.append(f"the calls differ from the clean run: {faults.calls}")
        t = self._observe(verdict)
        if not verdict.one_release:
            verdict.problems.append(f"a mix of releases is live: {verdict.live}")
        verdict.problems += self._ledger_problems(t, verdict.live, full=False)
        left = open_records(t)
        if left:
            verdict.problems.append(f"records left in_progress by a run that ended: {left}")
        verdict.problems += filter(None, [lock_problem(t, self.lease)])
        if run.code == 0 and set(verdict.live.values()) != {self.command.end}:
            verdict.problems.append("exit 0 but the environment is not on the new release")
        if run.code == 0 and run.error_line:
            verdict.problems.append(f"exit 0 with an error: {run.error_line}")

    def _killed(self, verdict: Verdict) -> None:
        verdict.code = _run_killed(self.config_path, self.command.args, verdict.k)
        if verdict.code != KILLED:
            verdict.problems.append(f"the run was not killed at call {verdict.k}")
            return
        t = self._observe(verdict)
        left = open_records(t)
        verdict.flagged = bool(left)
        disagree = self._ledger_problems(t, verdict.live, full=False)
        if (not verdict.one_release or disagree) and not left:
            verdict.problems.append(f"live state neither recorded nor flagged: {disagree}")
        if t.ledger.read_lock() is not None:
            try:  # what the next run meets while the heartbeat is fresh (exit 1: test_cancel)
                t.ledger.release(t.ledger.acquire(self.lease, "check"))
                verdict.problems.append("the lock of the killed run was taken before its lease")
            except LockHeldError as exc:
                if f"({self.command.name} " not in exc.message:
                    verdict.problems.append(f"the refusal names no holder: {exc.message}")
        if left:
            row = status_row(t)
            if row.get("latest_attempt", {}).get("outcome") != IN_PROGRESS:
                verdict.problems.append(f"status does not show the interrupted run: {row}")
        later = dt.timedelta(seconds=self.stale + 1)  # its heartbeat is stale: taken over
        with stub_runner():
            report = self.command.follow_up(self.releases, self.target(lambda: utcnow() + later))
        verdict.recovered = list(getattr(report, "recovered", []))
        if left and not verdict.recovered:
            verdict.problems.append(f"the next run did not report the interrupted record {left}")

    def _again(self, verdict: Verdict) -> None:
        """The operator runs the command again (once its heartbeat is stale, if a lock was left)."""
        if self.target().ledger.read_lock() is not None:
            later = dt.timedelta(seconds=self.stale + 1)
            with stub_runner():
                self.command.follow_up(self.releases, self.target(lambda: utcnow() + later))
        again = run_cli(self.config_path, self.command.again)
        if again.code != 0:
            verdict.problems.append(f"running it again failed: {again.error_line}")

    def _converged(self, verdict: Verdict) -> None:
        t = self.target()
        live = self._live(t)
        if set(live.values()) != {self.command.end}:
            verdict.problems.append(f"did not converge: {live}")
        verdict.problems += self._ledger_problems(t, live, full=True)
        if open_records(t):
            verdict.problems.append(f"records still in_progress: {open_records(t)}")
        verdict.problems += filter(None, [lock_problem(t, self.lease)])
        if self.command.state is None:  # a release command: the run also puts monitoring in
            verdict.problems += [
                f"monitoring not converged: {f.subject} {f.field} {f.expected} → {f.actual}"
                for f in monitoring_findings(t)
            ]


def _run_killed(config_path: str, args: tuple[str, ...], k: int) -> int:
    """Run the CLI in a forked process that dies just before its k-th mutating call.

    Only called in a worker, which has a single thread: forking it is safe.
    """
    pid = os.fork()
    if pid == 0:
        code = 3
        try:
            code = run_cli(config_path, args, [Faults(KILL, k)]).code
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)
