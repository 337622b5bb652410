"""GitHub Actions integration: job summaries and error annotations, when running there."""

from __future__ import annotations

import os
import sys
from typing import Any

from ..common.output import markdown_table


def in_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def add_summary(markdown: str) -> None:
    """Append Markdown to the job summary (``$GITHUB_STEP_SUMMARY``) when there is one."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(markdown.rstrip() + "\n\n")


def annotate_error(message: str) -> None:
    """A ``::error::`` annotation on the run (GitHub reads workflow commands from stdout)."""
    if in_actions():
        escaped = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        sys.stdout.write(f"::error title=vectora-release::{escaped}\n")
        sys.stdout.flush()


def deploy_summary(
    report: dict[str, Any], digests: list[tuple[str, str]], error: str | None = None
) -> str:
    """Markdown for a deploy, promote or rollback: release, commit, digests, validation.

    ``error``: the one-line error of a run that failed (its report is what it did so far).
    """
    lines = [
        f"## {report.get('kind', 'deploy')} {report['release_id']} → {report['env']}: "
        f"{report['outcome']}",
        "",
    ]
    if error:
        lines += [f"> **error:** {error}", ""]
    lines += [f"- version: `{report['version']}`", f"- commit: `{report['commit']}`"]
    if report.get("record_id"):
        lines.append(f"- ledger record: `{report['record_id']}`")
    soak = report.get("soak")
    if soak:
        lines.append(
            f"- soak in {soak['from_env']}: {soak['soaked_seconds']} s of "
            f"{soak['required_seconds']} s required, {soak['checks_passed']} checks passed"
            + (f" — **skipped by override:** {soak['reason']}" if soak["skipped"] else "")
        )
    if digests:
        lines += ["", markdown_table(("artifact", "CodeSha256"), digests)]
    validation = report.get("validation")
    if validation:
        rows = [(c["check"], c["subject"], c["result"], c["detail"]) for c in validation["checks"]]
        lines += [
            "",
            f"### validation: {validation['status']}",
            "",
            markdown_table(("check", "subject", "result", "detail"), rows),
        ]
    bake = report.get("bake")
    if bake and bake.get("status") != "skipped":
        states = [(name, state) for name, state in sorted((bake.get("states") or {}).items())]
        lines += [
            "",
            f"### bake ({bake['minutes']} min): {bake['status']}"
            + (f" — `{bake['alarm']}` in ALARM, rolled back" if bake.get("alarm") else ""),
            "",
            markdown_table(("alarm", "state"), states),
        ]
    return "\n".join(lines)
