"""Races: two processes deploying at once, environments side by side.

A crashed (SIGKILLed) lock holder and its takeover are in ``test_cancel.py``.

Each process is ``driver.py`` (the real CLI) against the shared embedded AWS. A run that gets
the lock sleeps before its first Lambda change (``--hold-lock``), so that the other one meets
the lock whatever the machine's load; both start at the same instant (``--start-at``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from faultmatrix import ledger_problems, live_releases
from harness import stub_runner
from support import Figures, Releases, target
from vectora_release.checks.validate import validate_current
from vectora_release.deploy.pipeline import deploy_release
from vectora_release.ops.bootstrap import bootstrap
from vectora_release.store.ledger import SUCCEEDED

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
