"""`vectora-release demo`, the README's first command, tells its story and keeps score."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from vectora_release.common.errors import CheckFailedError
from vectora_release.local.demo import Story, _verdict

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_demo_tells_the_whole_story_and_exits_0() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GITHUB_", "VECTORA_"))}
    env["VECTORA_RELEASE_CACHE"] = os.environ.get(
        "VECTORA_RELEASE_CACHE", str(ROOT / ".cache" / "vectora-release")
    )
    run = subprocess.run(
        [sys.executable, "-m", "vectora_release", "demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    score = re.search(r"^(\d+)/(\d+) checks behaved as expected$", run.stderr, re.M)
    assert score and score[1] == score[2] and int(score[2]) >= 30, run.stderr[-2000:]
    for chapter in range(1, 11):
        assert f"\n== {chapter}. " in run.stderr
    assert "take over a hand-made stage" in run.stderr
    assert "client data is byte-identical throughout" in run.stderr
    assert "✘" not in run.stderr
    assert "is recorded as rolled back" in run.stderr
    assert "prod's weekly schedule runs alias live" in run.stderr
    assert "the alarm stopped the bake" in run.stderr
    assert re.search(r"^prod +\d+\.\d+\.\d+ +[0-9a-f]{7} ", run.stderr, re.M), "status table"


def test_a_check_that_did_not_behave_fails_the_demo(tmp_path: Path) -> None:
    story = Story(tmp_path)
    story.check("dev validation passed", True)
    story.check("stage still runs 0.1.0+abc1234", False, "0.1.1")
    with pytest.raises(CheckFailedError, match="off script at: stage still runs") as caught:
        _verdict(story)
    assert caught.value.exit_code == 1
