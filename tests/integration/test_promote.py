"""promote through the CLI on the embedded AWS (DESIGN §5, §6, §8).

Every test starts from a freshly reset embedded AWS where R1 is published (``released``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from conftest import CliResult, Released

    Cli = Callable[..., CliResult]


def ok(cli: Cli, *args: str, config: Path | None = None) -> Any:
    """Run ``--json ARGS``; exit 0 expected; the JSON it printed."""
    result = cli("--json", *args, config=config)
    assert result.code == 0, f"{' '.join(args)} → exit {result.code}: {result.err[-4000:]}"
    return result.json() if result.out.strip() else None


def validated_in_dev(
    released: Released, cli: Cli, commit: str, config: Path | None = None, e2e: bool = True
) -> None:
    """Deploy ``commit`` to dev and validate it there (with the e2e run unless told not to)."""
    ok(cli, "deploy", "--env", "dev", "--commit", commit, config=config)
    report = ok(cli, "validate", "--env", "dev", *(["--e2e"] if e2e else []), config=config)
    assert report["status"] == "passed"


def stage_functions(released: Released) -> list[str]:
    target = released.target("stage")
    return [name for name in released.functions(target) if name.endswith("-stage")]


# -- the gate ------------------------------------------------------------------------------------
def test_a_release_validated_without_e2e_is_not_promoted(released: Released, cli: Cli) -> None:
    """stage is compared to dev's e2e metrics: without them, refuse before changing anything."""
    stage = released.target("stage")
    validated_in_dev(released, cli, released.r1.manifest.commit, e2e=False)

    for extra in ((), ("--dry-run",)):
        result = cli("promote", "--from", "dev", "--to", "stage", *extra)
        assert result.code == 2, result.err
        assert "passed validation in dev without the e2e run" in result.err
        assert "run: vectora-release validate --env dev --e2e" in result.err
        assert result.calls.mutating == []
    assert stage_functions(released) == []
    assert stage.ledger.history() == []
