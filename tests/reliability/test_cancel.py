"""Cancelling a deploy as GitHub does: SIGINT, SIGTERM, or SIGKILL, sent to the CLI's process.

Each run is ``driver.py`` (the real CLI) on the shared embedded AWS, deploying R2 over R1 with
a slow step injected just before its second alias move: one alias already runs R2, so an
interrupted run that did not put it back would leave a mix. The driver says on its stderr when
it enters the slow step; the test then signals it. GitHub sends SIGINT, then SIGTERM 7.5 s
later, then kills: the run must be stopped and clean well within that window.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from faultmatrix import ledger_problems, live_releases, open_records, prepare_deploy
from harness import run_cli, stub_runner
from support import Figures, Releases, target
from vectora_release.common.errors import LockHeldError
from vectora_release.deploy.pipeline import deploy_release
from vectora_release.store.ledger import FAILED, INTERRUPTED, SUCCEEDED

DRIVER = Path(__file__).resolve().parent / "driver.py"
SECOND_ALIAS_MOVE = 17  # the mutating call of R2 over R1 that moves the second alias
GITHUB_WINDOW = 7.5  # seconds between GitHub's SIGINT and its SIGTERM (then the kill)
ARGS = ("deploy", "--env", "dev", "--version", "0.2.0")


def start_slow(releases: Releases, actor: str, slow: float) -> subprocess.Popen[str]:
    """A deploy of R2 whose second alias move starts ``slow`` seconds late; returns once the
    process is inside that slow step (it said so on its stderr)."""
    command = [
        sys.executable,
        str(DRIVER),
        "--slow-at",
        str(SECOND_ALIAS_MOVE),
        "--slow",
        str(slow),
        "--",
        releases.r1.config_path,
        *ARGS,
    ]
    env = {**os.environ, "GITHUB_ACTOR": actor}
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()  # blocks until the driver is in the slow step (or ended)
    assert line.startswith("slow step: UpdateAlias"), (line, proc.communicate(timeout=120))
    return proc


@pytest.fixture
def dev_on_r1(aws_env: str, releases: Releases) -> Releases:
    with stub_runner():
        prepare_deploy(releases)  # dev runs R1; R2 is published
    return releases


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_inside_a_slow_step_stops_the_deploy_cleanly(
    dev_on_r1: Releases, figures: Figures, signum: signal.Signals
) -> None:
    releases = dev_on_r1
    proc = start_slow(releases, "alice", slow=1.0)
    sent = time.monotonic()
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    took = time.monotonic() - sent

    name = signal.Signals(signum).name
    assert proc.returncode == 1, err
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert errors and "to dev stopped before UpdateAlias" in errors[-1], err
    assert f"{name} received" in errors[-1] and "every alias is back" in errors[-1]
    assert took < GITHUB_WINDOW, f"stopped {took:.1f} s after {name}"
    dev = target(releases.config, "dev")
    live = live_releases(dev, releases)
    assert set(live.values()) == {"R1"}, live
    assert not ledger_problems(dev, releases, live) and not open_records(dev)
    assert dev.ledger.read_lock() is None
    latest = dev.ledger.history(limit=1)[0]
    assert latest.outcome == INTERRUPTED and latest.actor == "alice"
    assert any(step.startswith("restored") for step in latest.steps_done)

    again = run_cli(releases.r1.config_path, ARGS)  # the next deploy starts at once
    assert again.code == 0, again.err
    live = live_releases(target(releases.config, "dev"), releases)
    assert set(live.values()) == {"R2"}
    figures.add(
        "cancellation",
        f"{name} inside a slow step (one alias already moved): stopped at the next step "
        f"boundary, aliases back on R1, record interrupted, lock free, {took:.1f} s after the "
        f"signal (at most 1 s of it the rest of the slow step); the next deploy succeeded at once",
    )


@pytest.mark.slow
def test_a_killed_holder_is_taken_over_once_its_heartbeat_is_stale(
    dev_on_r1: Releases, figures: Figures
) -> None:
    releases = dev_on_r1
    proc = start_slow(releases, "alice", slow=600.0)
    proc.kill()  # SIGKILL: no handler, no finally
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL

    dev = target(releases.config, "dev")
    assert sorted(live_releases(dev, releases).values()) == ["R1", "R1", "R2"]  # a mix, flagged:
    assert len(open_records(dev)) == 1
    lock = dev.ledger.read_lock()
    assert lock is not None and lock.owner.startswith("alice (deploy 0.2.0+")
    assert lock.heartbeat_at is not None

    bob = {**os.environ, "GITHUB_ACTOR": "bob"}
    refused = subprocess.run(
        [sys.executable, str(DRIVER), "--", releases.r1.config_path, *ARGS],
        env=bob,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert refused.returncode == 1  # its heartbeat is fresh: it may be alive
    assert f"error: dev is locked by {lock.owner} since {lock.acquired_at}" in refused.stderr

    stale = releases.config.lock_stale_after_seconds
    beat = dt.datetime.fromisoformat(lock.heartbeat_at)
    early = target(releases.config, "dev", clock=lambda: beat + dt.timedelta(seconds=stale - 1))
    with pytest.raises(LockHeldError):
        deploy_release(early, releases.r2.manifest)

    moment = beat + dt.timedelta(seconds=stale + 1)
    assert moment < dt.datetime.fromisoformat(lock.expires_at), "long before the lease ends"
    late = target(releases.config, "dev", clock=lambda: moment)
    report = deploy_release(late, releases.r2.manifest)
    assert report.outcome == SUCCEEDED
    assert len(report.recovered) == 1 and "was interrupted" in report.recovered[0]
    live = live_releases(dev, releases)
    assert set(live.values()) == {"R2"} and not ledger_problems(dev, releases, live)
    outcomes = sorted(r.outcome for r in dev.ledger.history())
    assert outcomes == [FAILED, SUCCEEDED, SUCCEEDED]  # R1, alice's (killed), the takeover's
    assert dev.ledger.read_lock() is None
    figures.add(
        "cancellation",
        f"SIGKILL inside a slow step (aliases R1,R1,R2): refused (exit 1, naming the holder) "
        f"while its heartbeat was fresh, taken over {stale} s after its last heartbeat "
        f"(lease: {releases.config.lock_lease_seconds} s), repaired and completed",
    )
