"""Repository guards: CODEOWNERS covers what decides deploys and rights; Dependabot updates the
pinned actions and the Python dependencies, in a file GitHub's schema accepts."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml
from test_workflow_lint import tool

ROOT = Path(__file__).resolve().parents[3]
GUARDED = ("/.github/workflows/", "/iam/", "/release.yaml", "/requirements/")


def test_codeowners_guard_workflows_iam_and_release_yaml() -> None:
    lines = (ROOT / ".github" / "CODEOWNERS").read_text(encoding="utf-8").splitlines()
    rules = {line.split()[0]: line.split()[1:] for line in lines if line and line[0] != "#"}
    for path in GUARDED:
        assert rules.get(path), f"{path} has no code owner"
        assert all(owner.startswith("@") for owner in rules[path])
    assert "*" not in rules, "a catch-all rule would make every change wait for the same team"


def test_dependabot_updates_actions_and_pip_weekly() -> None:
    path = ROOT / ".github" / "dependabot.yml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    ecosystems = {(u["package-ecosystem"], u["directory"]) for u in config["updates"]}
    assert {("github-actions", "/"), ("pip", "/"), ("pip", "/requirements")} <= ecosystems
    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.dependabot", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
