"""Races: two processes deploying at once, a crashed lock holder, environments side by side.

Each process is ``driver.py`` (the real CLI) against the shared embedded AWS. A run that gets
the lock sleeps before its first Lambda change (``--hold-lock``), so that the other one meets
the lock whatever the machine's load; both start at the same instant (``--start-at``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from faultmatrix import ledger_problems, live_releases, open_records, prepare_deploy
from harness import KILLED, stub_runner
from support import Figures, Releases, target
from vectora_release.checks.validate import validate_current
from vectora_release.common.errors import LockHeldError
from vectora_release.deploy.pipeline import deploy_release
from vectora_release.ops.bootstrap import bootstrap
from vectora_release.store.ledger import FAILED, SUCCEEDED

DRIVER = Path(__file__).resolve().parent / "driver.py"
HOLD = 2.0  # seconds a winner holds the lock before changing anything


@dataclass(frozen=True)
class Ended:
    actor: str
    code: int
    held: list[float]
    error: str


def start(releases: Releases, actor: str, args: list[str], at: float, *extra: str):
    env = {**os.environ, "GITHUB_ACTOR": actor}
    command = [
        sys.executable,
        str(DRIVER),
        "--start-at",
        str(at),
        *extra,
        "--",
        releases.r1.config_path,
        *args,
    ]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait(actor: str, proc: subprocess.Popen[str]) -> Ended:
    out, err = proc.communicate(timeout=120)
    held = json.loads(out.splitlines()[-1])["held"] if out.strip() else []
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    return Ended(actor, proc.returncode, held, errors[-1] if errors else "")


def together(releases: Releases, runs: dict[str, list[str]]) -> dict[str, Ended]:
    """Start one driver per actor at the same instant (after every one has imported)."""
    at = time.time() + 3.0
    procs = {
        actor: start(releases, actor, args, at, "--hold-lock", str(HOLD))
        for actor, args in runs.items()
    }
    return {actor: wait(actor, proc) for actor, proc in procs.items()}


@pytest.fixture
def published(aws_env: str, releases: Releases) -> Releases:
    """dev, stage bootstrapped; R1 and R2 published; nothing deployed."""
    dev = target(releases.config, "dev")
    bootstrap(dev)
    bootstrap(target(releases.config, "stage"))
    for built in (releases.r1, releases.r2):
        dev.store.publish(built.manifest, built.dist)
    return releases


@pytest.mark.slow
def test_two_deploys_to_one_environment_at_once(published: Releases, figures: Figures) -> None:
    ended = together(
        published,
        {
            "alice": ["deploy", "--env", "dev", "--version", "0.1.0"],
            "bob": ["deploy", "--env", "dev", "--version", "0.2.0"],
        },
    )
    winners = [e for e in ended.values() if e.code == 0]
    losers = [e for e in ended.values() if e.code != 0]
    assert len(winners) == 1 and len(losers) == 1, ended
    winner, loser = winners[0], losers[0]
    release = {"alice": published.r1, "bob": published.r2}[winner.actor].manifest
    assert loser.code == 1
    assert loser.error.startswith(
        f"error: dev is locked by {winner.actor} (deploy {release.release_id}) since "
    )
    dev = target(published.config, "dev")
    live = live_releases(dev, published)
    label = published.label(release.sha256)
    assert set(live.values()) == {label}
    assert not ledger_problems(dev, published, live)
    history = dev.ledger.history()
    assert [(r.actor, r.outcome) for r in history] == [(winner.actor, SUCCEEDED)]  # loser: no trace
    assert dev.ledger.read_lock() is None
    figures.add(
        "races",
        f"two deploys to dev started together: {winner.actor} deployed {label}; {loser.actor} "
        f"exited 1 naming the holder ({loser.error.removeprefix('error: ')[:60]}…)",
    )


@pytest.mark.slow
def test_a_crashed_holder_is_taken_over_only_after_its_lease(
    aws_env: str, releases: Releases, figures: Figures
) -> None:
    with stub_runner():
        prepare_deploy(releases)  # dev runs R1
    env = {**os.environ, "GITHUB_ACTOR": "alice"}
    args = ["deploy", "--env", "dev", "--version", "0.2.0"]
    killed = subprocess.run(
        [sys.executable, str(DRIVER), "--kill-at", "17", "--", releases.r1.config_path, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert killed.returncode == KILLED  # killed between the first and second alias moves
    dev = target(releases.config, "dev")
    assert sorted(live_releases(dev, releases).values()) == ["R1", "R1", "R2"]  # a mix, flagged:
    assert len(open_records(dev)) == 1
    lock = dev.ledger.read_lock()
    assert lock is not None and lock.owner.startswith("alice (deploy 0.2.0+")

    bob = {**os.environ, "GITHUB_ACTOR": "bob"}
    refused = subprocess.run(
        [sys.executable, str(DRIVER), "--", releases.r1.config_path, *args],
        env=bob,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert refused.returncode == 1
    assert f"error: dev is locked by {lock.owner} since {lock.acquired_at}" in refused.stderr

    lease = releases.config.lock_lease_seconds
    expires = dt.datetime.fromisoformat(lock.expires_at)
    early = target(releases.config, "dev", clock=lambda: expires - dt.timedelta(seconds=1))
    with pytest.raises(LockHeldError):
        deploy_release(early, releases.r2.manifest)

    late = target(releases.config, "dev", clock=lambda: expires + dt.timedelta(seconds=1))
    report = deploy_release(late, releases.r2.manifest)
    assert report.outcome == "succeeded"
    assert len(report.recovered) == 1 and "was interrupted" in report.recovered[0]
    live = live_releases(dev, releases)
    assert set(live.values()) == {"R2"} and not ledger_problems(dev, releases, live)
    outcomes = sorted(r.outcome for r in dev.ledger.history())
    assert outcomes == [FAILED, SUCCEEDED, SUCCEEDED]  # R1, alice's (interrupted), bob's
    assert dev.ledger.read_lock() is None
    figures.add(
        "races",
        f"a holder killed mid-flip (aliases R1,R1,R2): refused (exit 1, naming it) until its "
        f"{lease} s lease expired, then taken over; its record was reported and closed failed",
    )


@pytest.mark.slow
def test_deploys_to_different_environments_do_not_block_each_other(
    published: Releases, figures: Figures
) -> None:
    dev = target(published.config, "dev")
    with stub_runner():
        deploy_release(dev, published.r1.manifest)
        validate_current(dev, e2e=False, compare_to=None)  # stage accepts only what dev validated
    ended = together(
        published,
        {
            "alice": ["deploy", "--env", "dev", "--version", "0.2.0"],
            "bob": ["deploy", "--env", "stage", "--version", "0.1.0"],
        },
    )
    assert all(e.code == 0 for e in ended.values()), ended
    (a0, a1), (b0, b1) = ended["alice"].held, ended["bob"].held
    overlap = min(a1, b1) - max(a0, b0)
    assert overlap > 0, "both held their environment's lock at the same time"
    assert set(live_releases(dev, published).values()) == {"R2"}
    assert set(live_releases(target(published.config, "stage"), published).values()) == {"R1"}
    figures.add(
        "races",
        f"deploys to dev and stage at once: both succeeded, holding their locks together "
        f"for {overlap:.1f} s",
    )
