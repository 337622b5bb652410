"""The demo's takeover chapters: a hand-made stage is adopted, promoted into, rolled back to,
promoted into again and cleaned up, its client data untouched throughout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..aws.clients import Aws
from ..config.model import load_config
from ..deploy.target import Target
from .brownfield import Brownfield, build_brownfield, data_digests

ENV = "stage"


def _target(repo: Path) -> Target:
    config = load_config(repo / "release.yaml")
    return Target(config, config.env(ENV), Aws())


def take_over_stage(story: Any, repo: Path) -> tuple[Brownfield, dict[str, Any], dict[str, str]]:
    """Chapter: stage as the operators made it by hand, snapshotted and adopted."""
    cli, check = story.cli, story.check
    story.chapter(f"4. take over a hand-made {ENV}: snapshot, adopt")
    target = _target(repo)
    made = build_brownfield(target)
    data = data_digests(target, made)
    hand_made = {
        r: target.lam.get_function(FunctionName=r)["Configuration"]["CodeSha256"]
        for r in made.functions
    }
    cli("promote", "--from", "dev", "--to", ENV, expect=2)
    _, snap = cli("snapshot", "--env", ENV, "--include-data")
    check(
        "the snapshot holds the 3 functions, every legacy layer version, secrets masked",
        bool(snap)
        and len(snap["functions"]) == 3
        and {a for arns in made.layers.values() for a in arns} <= set(snap["layer_versions"])
        and len(snap["masked"]) == 3,
    )
    _, plan = cli("adopt", "--env", ENV, "--dry-run")
    check("adopt --dry-run shows the plan", bool(plan) and bool(plan["plan"]))
    _, adopted = cli("adopt", "--env", ENV)
    check("adopt adopted the 3 hand-made functions", bool(adopted) and len(adopted["adopted"]) == 3)
    return made, data, hand_made


def way_back_and_cleanup(
    story: Any, repo: Path, made: Brownfield, data: dict[str, Any], hand_made: dict[str, str]
) -> None:
    """Chapter: rollback to the hand-made engine, promote again, clean up the leftovers."""
    cli, check = story.cli, story.check
    story.chapter(f"6. {ENV}: the way back to the hand-made engine, then the cleanup")
    _, report = cli("rollback", "--env", ENV, "--reason", "rehearse the way back")
    target = _target(repo)
    back = {
        r: target.lam.get_function_configuration(FunctionName=r, Qualifier="live")["CodeSha256"]
        for r in made.functions
    }
    check("rollback puts the hand-made code back on alias live", back == hand_made)
    _, report = cli("promote", "--from", "dev", "--to", ENV)
    check(f"{ENV} runs the release again, validated", (report or {}).get("outcome") == "succeeded")
    _, found = cli("cleanup", "--env", ENV)
    subjects = " ".join(row["subject"] for row in (found or {}).get("leftovers", []))
    check(
        "cleanup names every legacy layer, config object and stale zip",
        all(x in subjects for x in [*made.legacy_layers, *made.config_objects, *made.stale_zips]),
    )
    _, applied = cli("cleanup", "--env", ENV, "--apply")
    check("cleanup --apply deleted them after a snapshot", bool(applied and applied["snapshot"]))
    _, restored = cli("restore", "--env", ENV, "--snapshot", "latest", "--dry-run")
    check("restore --dry-run would bring them back", bool(restored and restored["plan"]))
    check("client data is byte-identical throughout", data_digests(_target(repo), made) == data)
