"""`vectora-release demo`: the whole release story on an embedded AWS, checked step by step."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..aws.clients import Aws
from ..build.deps import default_cache_dir
from ..common.errors import CheckFailedError
from ..common.output import say, table
from ..config.model import load_config
from ..ops.status import status_table
from .demo_takeover import take_over_stage, way_back_and_cleanup
from .scratch import commit_all, make_scratch_repo
from .server import embedded_aws

# Runs ``vectora-release ARGV`` in this process; the result has ``code`` and ``out`` (stdout).
CliRun = Callable[[list[str]], Any]


class Story:
    """Runs CLI steps in-process and keeps score of what behaved as expected."""

    def __init__(self, repo: Path, run: CliRun | None = None) -> None:
        self.repo = repo
        self.run = run
        self.results: list[tuple[str, bool, str]] = []

    def cli(self, *args: str, expect: int = 0) -> tuple[int, Any]:
        """Run ``vectora-release --json --config … ARGS``; return (exit code, JSON output)."""
        assert self.run is not None, "a Story that runs commands needs the CLI runner"
        say(f"\n$ vectora-release {' '.join(args)}")
        result = self.run(["--json", "--config", str(self.repo / "release.yaml"), *args])
        code = result.code
        text = result.out.strip()
        data = json.loads(text) if text.startswith(("{", "[")) else None
        validation = data.get("validation") if isinstance(data, dict) else None
        if validation:
            rows = [
                (c["check"], c["subject"], c["result"], c["detail"][:60])
                for c in validation["checks"]
            ]
            say(table(("check", "subject", "result", "detail"), rows))
        self.check(
            f"vectora-release {args[0]} {' '.join(args[1:3])} exits {expect}",
            code == expect,
            f"exit {code}",
        )
        return code, data

    def check(self, what: str, ok: bool, detail: str = "") -> bool:
        self.results.append((what, ok, detail))
        say(f"  {'✔' if ok else '✘'} {what}" + (f" ({detail})" if detail and not ok else ""))
        return ok

    def chapter(self, title: str) -> None:
        say(f"\n== {title} " + "=" * max(0, 70 - len(title)))


def run_demo(source: Path, run: CliRun) -> None:
    """Build → dev (validated) → a hand-made stage taken over → stage → prod (baked) → the way
    back to the hand-made engine → prod's weekly schedule → an alarm rolling a deploy back → a
    defective release rolled back in dev.

    ``source`` is the repository to copy into a scratch one; ``run`` runs the command line.
    """
    os.environ.setdefault("VECTORA_RELEASE_CACHE", str(default_cache_dir(source)))
    with tempfile.TemporaryDirectory(prefix="vectora-demo-") as tmp, embedded_aws() as server:
        repo = make_scratch_repo(source, Path(tmp) / "vectora-inbox")
        story = Story(repo, run)
        say(f"embedded AWS at {server.endpoint}; scratch repository {repo}")
        _tell(story, repo)
    _verdict(story)


def _tell(story: Story, repo: Path) -> None:
    story.chapter("1. environments")
    for env in ("dev", "stage", "prod"):
        story.cli("bootstrap", "--env", env)
    first = _build_twice(story, repo)
    release = f"{first['version']}+{first['commit'][:7]}"
    _deploy_dev(story, first, release)
    made, data, hand_made = take_over_stage(story, repo)
    _promote(story)
    way_back_and_cleanup(story, repo, made, data, hand_made)
    _weekly_run_and_bake(story, repo, release)
    _refuse_unvalidated(story, repo, first, release)
    _defective_release(story, repo)
    _where_everything_runs(story, first, release)


def _build_twice(story: Story, repo: Path) -> dict[str, Any]:
    cli, check = story.cli, story.check
    story.chapter("2. build twice: the same commit gives the same bytes")
    _, first = cli("build", "--out", str(repo / "dist"))
    _, second = cli("build", "--out", str(repo / "dist2"))
    digests = lambda m: {a["name"]: a["sha256"] for a in m["artifacts"]}  # noqa: E731
    check(
        "both builds have identical sha256 for all six artifacts",
        bool(first and second) and digests(first) == digests(second) and len(digests(first)) == 6,
    )
    cli("publish", "--manifest", str(repo / "dist" / "manifest.json"))
    return first


def _deploy_dev(story: Story, first: dict[str, Any], release: str) -> None:
    cli, check = story.cli, story.check
    story.chapter(f"3. deploy {release} to dev, validate with the e2e run")
    _, report = cli("deploy", "--env", "dev", "--commit", first["commit"], "--validate")
    check("dev validation passed", _validation(report) == "passed")
    _, report = cli("deploy", "--env", "dev", "--commit", first["commit"])
    check("a second deploy of the same release changes nothing", _outcome(report) == "up_to_date")


def _promote(story: Story) -> None:
    cli, check = story.cli, story.check
    story.chapter("5. promote dev → stage → prod: the exact same bytes")
    _, report = cli("promote", "--from", "dev", "--to", "stage")
    check(
        "stage validation passed and its e2e metrics match dev's",
        _validation(report) == "passed" and _passed(report, "compare"),
    )
    _, same = cli("diff", "dev", "stage")
    check("dev and stage run byte-identical code and layers", bool(same) and not same["differs"])
    cli("promote", "--from", "stage", "--to", "prod", expect=2)  # prod's min_soak: 14 days
    reason = "demo: the soak gate is overridden, and the override recorded"
    _, report = cli("promote", "--from", "stage", "--to", "prod", "--skip-soak", "--reason", reason)
    check("prod validation passed", _validation(report) == "passed")
    soak = (report or {}).get("soak") or {}
    check("the soak override is in the report and the ledger", soak.get("reason") == reason)
    bake = (report or {}).get("bake") or {}
    check(
        f"prod baked {bake.get('minutes')} minutes watching its alarms: none fired",
        bake.get("status") == "passed" and bool(bake.get("alarms")),
        str(bake.get("status")),
    )
    _, same = cli("diff", "stage", "prod")
    check("stage and prod run byte-identical code and layers", bool(same) and not same["differs"])


def _weekly_run_and_bake(story: Story, repo: Path, release: str) -> None:
    """prod's schedule runs alias live; an alarm in ALARM during a bake rolls the deploy back.

    The embedded AWS never evaluates an alarm: the story sets one with ``SetAlarmState``, as
    CloudWatch would when errors rise; the bake's minutes pass in simulated time.
    """
    cli, check = story.cli, story.check
    story.chapter("7. the weekly run, and a bake that an alarm stops")
    config = load_config(repo / "release.yaml")
    region = config.env("prod").region
    aws = Aws()
    rule = config.monitor_resource("weekly", "prod")
    (target,) = aws.client("events", region).list_targets_by_rule(Rule=rule)["Targets"]
    ingest = config.function_resource("ingest-v2", "prod")
    say(f"  {rule}: {target['Arn']}")
    check(
        f"prod's weekly schedule runs alias live of {ingest}",
        target["Arn"].endswith(f":function:{ingest}:live"),
    )
    _, rows = cli("status", "--env", "prod")
    check(
        "status shows prod's next weekly run (Mondays 08:00 UTC)",
        bool(rows) and str(rows[0].get("next_run") or "").endswith("T08:00:00Z"),
        str(rows and rows[0].get("next_run")),
    )
    _bump(repo, "0.1.1", lambda text: text)
    _, build = cli("build", "--out", str(repo / "dist"))
    cli("publish", "--manifest", str(repo / "dist" / "manifest.json"))
    alarm = config.monitor_resource("errors", "dev")
    cloudwatch = aws.client("cloudwatch", config.env("dev").region)
    say(f"  (errors rise in dev: {alarm} set to ALARM)")
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="demo")
    commit = (build or {}).get("commit", "")
    cli("deploy", "--env", "dev", "--commit", commit, "--validate", "--bake", "5", expect=1)
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="demo")
    _, records = cli("history", "--env", "dev")
    latest = (records or [{}])[0]
    check(
        f"the alarm stopped the bake and dev is back on {release}",
        latest.get("outcome") == "rolled_back"
        and (latest.get("bake") or {}).get("alarm") == alarm
        and _validation(latest) == "passed",
        str(latest.get("outcome")),
    )


def _refuse_unvalidated(story: Story, repo: Path, first: dict[str, Any], release: str) -> None:
    cli, check = story.cli, story.check
    story.chapter("8. a release never validated in dev cannot reach stage")
    _bump(repo, "0.1.2", lambda text: text)
    _, fix = cli("build", "--out", str(repo / "dist"))
    cli("publish", "--manifest", str(repo / "dist" / "manifest.json"))
    cli("deploy", "--env", "stage", "--commit", fix["commit"], expect=2)
    _, rows = cli("status", "--env", "stage")
    check(
        f"stage still runs {release}",
        bool(rows) and rows[0]["commit"] == first["commit"],
        str(rows and rows[0].get("version")),
    )


def _defective_release(story: Story, repo: Path) -> None:
    cli, check = story.cli, story.check
    story.chapter("9. a defective release: newsletter-v2 loses NEWSLETTERS_BUCKET")
    _bump(repo, "0.2.0", _drop_newsletters_bucket)
    _, bad = cli("build", "--out", str(repo / "dist"))
    cli("publish", "--manifest", str(repo / "dist" / "manifest.json"))
    _, failed = cli("deploy", "--env", "dev", "--commit", bad["commit"], "--validate", expect=1)
    check(
        "its validation failed the smoke and e2e checks of newsletter-v2",
        _validation(failed) == "failed"
        and not _passed(failed, "smoke")
        and not _passed(failed, "e2e"),
    )
    _, records = cli("history", "--env", "dev")
    check(
        "the defective deploy is recorded as rolled back",
        bool(records)
        and records[0]["outcome"] == "rolled_back"
        and records[0]["version"] == "0.2.0",
    )


def _where_everything_runs(story: Story, first: dict[str, Any], release: str) -> None:
    story.chapter("10. where everything runs now")
    _, rows = story.cli("status")
    rows = rows or []
    story.check(
        "status lists dev, stage and prod", [r["env"] for r in rows] == ["dev", "stage", "prod"]
    )
    for row in rows:
        story.check(
            f"{row['env']} runs {release} (validated)",
            row["version"] == first["version"]
            and row["commit"] == first["commit"]
            and row["validated"] == "passed",
        )
    say("\n" + status_table(rows))


def _validation(report: Any) -> str | None:
    return ((report or {}).get("validation") or {}).get("status")


def _passed(report: Any, check: str) -> bool:
    """Whether the report's validation ran ``check`` and every such check passed."""
    checks = [c for c in _checks(report) if c["check"] == check]
    return bool(checks) and all(c["result"] == "pass" for c in checks)


def _checks(report: Any) -> list[dict[str, Any]]:
    return ((report or {}).get("validation") or {}).get("checks") or []


def _outcome(report: Any) -> str | None:
    return (report or {}).get("outcome")


def _bump(repo: Path, version: str, edit: Callable[[str], str]) -> None:
    (repo / "VERSION").write_text(version + "\n")
    config = repo / "release.yaml"
    config.write_text(edit(config.read_text()))
    commit_all(repo, f"release {version}")


def _drop_newsletters_bucket(text: str) -> str:
    """The 2025 incident: a function deployed without an env var its code requires."""
    return re.sub(r"\n    env: \[NEWSLETTERS_BUCKET\]", "", text)


def _verdict(story: Story) -> None:
    failed = [(what, detail) for what, ok, detail in story.results if not ok]
    say(f"\n{len(story.results) - len(failed)}/{len(story.results)} checks behaved as expected")
    if failed:
        raise CheckFailedError(f"the demo went off script at: {failed[0][0]} ({failed[0][1]})")
