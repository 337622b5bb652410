"""Throttling is absorbed by botocore's adaptive retry mode, not by loops of our own.

The service's throttling answers (Lambda 429 TooManyRequestsException, S3 503 SlowDown) are
given at the HTTP layer, so botocore's real retry logic handles them. Its backoff sleeps are
recorded instead of slept (the delays botocore chose are checked); its adaptive rate limiter
runs as it is.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from faultmatrix import COMMANDS, ledger_problems, live_releases, open_records
from harness import CliRun, Throttling, run_cli, stub_runner
from support import Figures, Releases, target
from vectora_release.aws import Aws

PACKAGE = Path(__file__).resolve().parents[2] / "scripts" / "vectora_release"
FIRST_ALIAS_MOVE = 16  # the 16th mutating call of the deploy: the first UpdateAlias
MAX_RETRIES = 10  # Aws(max_attempts=10): botocore's legacy-compatible count, 11 attempts


@pytest.fixture
def dev_on_r1(aws_env: str, releases: Releases) -> Iterator[Releases]:
    with stub_runner():
        COMMANDS["deploy"].prepare(releases)
    yield releases


def deploy_r2(releases: Releases, throttling: Throttling) -> tuple[CliRun, list[float]]:
    """Deploy R2 through the CLI with ``throttling``; (its run, the backoff delays chosen)."""
    delays: list[float] = []
    clock = mock.Mock(sleep=delays.append)
    with mock.patch("botocore.endpoint.time", clock):
        run = run_cli(releases.r1.config_path, COMMANDS["deploy"].args, [throttling])
    return run, delays


def state(releases: Releases) -> tuple[dict[str, str], list[str], list[str], object]:
    dev = target(releases.config, "dev")
    live = live_releases(dev, releases)
    return live, ledger_problems(dev, releases, live), open_records(dev), dev.ledger.read_lock()


@pytest.mark.slow
def test_a_burst_of_throttling_on_the_alias_flip_is_survived(
    dev_on_r1: Releases, figures: Figures
) -> None:
    throttling = Throttling(at=FIRST_ALIAS_MOVE, burst=MAX_RETRIES)
    run, delays = deploy_r2(dev_on_r1, throttling)
    assert run.code == 0, run.err
    assert throttling.throttled == MAX_RETRIES
    assert throttling.calls[FIRST_ALIAS_MOVE - 1] == "UpdateAlias"
    assert len(delays) == MAX_RETRIES and all(0 <= d <= 20 for d in delays)  # capped backoff
    live, problems, left, lock = state(dev_on_r1)
    assert set(live.values()) == {"R2"} and not problems and not left and lock is None
    figures.add(
        "throttling",
        f"{MAX_RETRIES} TooManyRequestsException in a row on UpdateAlias: survived "
        f"(botocore backed off {sum(delays):.0f} s in total, {max(delays):.1f} s at most)",
    )


@pytest.mark.slow
def test_throttling_that_outlasts_the_retries_fails_cleanly(dev_on_r1: Releases) -> None:
    """What the fault matrix injects (``harness.injected_error``) is what botocore raises then.

    The rate limiter's pacing is skipped here (the test above runs it): after eleven throttles
    it would hold each following call for seconds.
    """
    throttling = Throttling(at=FIRST_ALIAS_MOVE, burst=MAX_RETRIES + 1)
    pacing = "botocore.retries.adaptive.ClientRateLimiter.on_sending_request"
    with mock.patch(pacing, lambda *_, **__: None):
        run, _ = deploy_r2(dev_on_r1, throttling)
    assert run.code == 1  # deploy failed and was rolled back
    assert "(TooManyRequestsException) when calling the UpdateAlias operation (reached max" in (
        run.error_line
    )
    live, problems, left, lock = state(dev_on_r1)
    assert set(live.values()) == {"R1"} and not problems and not left and lock is None


def test_retries_are_botocore_adaptive_mode_not_loops_of_our_own() -> None:
    retries = Aws()._config.retries
    assert retries == {"mode": "adaptive", "max_attempts": MAX_RETRIES}
    # Waits that are not retries: the embedded server starting and stopping; the bake's wait
    # between two looks at the alarms (``Target.sleep``, injected; the CLI wires it).
    waits = {"server.py", "target.py", "bake.py", "app.py"}
    for path in PACKAGE.rglob("*.py"):
        if path.name in waits:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "sleep":
                raise AssertionError(f"{path.name}:{node.lineno} sleeps: retry by hand?")
