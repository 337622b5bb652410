"""Faults at every step: deploy, promote and rollback, each broken at every mutating AWS call.

What each run checks is described in ``faultmatrix.py``; ``faultpool.py`` runs them. The
figures ("k/N consistent") are printed in the terminal summary and quoted in
docs/reliability.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from unittest import mock

import pytest
from faultmatrix import COMMANDS, Run
from faultpool import Matrix, Workers, workers
from harness import ERROR, KILL, MODES
from support import Figures, Releases, pointing_at
from vectora_release.deploy import recovery


@pytest.fixture(scope="module")
def pool(releases: Releases) -> Iterator[Workers]:
    with Workers(releases, workers()) as started:
        yield started


@pytest.fixture(scope="module", params=list(COMMANDS))
def matrix(request: pytest.FixtureRequest, releases: Releases) -> Iterator[Matrix]:
    built = Matrix(COMMANDS[request.param], releases)
    yield built
    built.close()


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_every_injection_point_leaves_one_release(
    matrix: Matrix, mode: str, pool: Workers, figures: Figures
) -> None:
    verdicts = matrix.run_all(mode, pool)
    n, good = len(verdicts), sum(v.ok for v in verdicts)
    line = f"{matrix.command.name:8} {mode:8} {good}/{n} consistent"
    if mode == KILL:
        at_kill = sum(v.one_release for v in verdicts)
        flagged = sum(v.flagged for v in verdicts)
        line += (
            f" ({at_kill}/{n} on one release at the kill; {flagged} left in_progress,"
            " each reported and repaired by the next run)"
        )
    figures.add(f"fault injection (mutating calls: {' '.join(matrix.calls)})", line)
    assert good == n, "\n".join(v.describe() for v in verdicts if not v.ok)


@pytest.mark.slow
def test_the_checks_catch_a_run_that_does_not_restore(releases: Releases) -> None:
    """A control: with the failure handling of ``deploy.execute`` sabotaged (an error after the
    alias flip is raised without restoring anything), the same injection is caught."""
    matrix = Matrix(COMMANDS["deploy"], releases)
    try:
        k = len(matrix.calls) - 3  # the record written complete, just before the commit
        assert matrix.calls[k - 1 :] == ["PutObject", "PutObject", "PutObject", "DeleteObject"]
        copy = matrix.holder.fork()
        try:
            with pointing_at(copy.endpoint), mock.patch.object(recovery, "abandon", _reraise):
                verdict = Run(matrix.command, releases, matrix.calls)(ERROR, k)
        finally:
            matrix.holder.drop(copy)
    finally:
        matrix.close()
    assert not verdict.ok
    assert any("records left in_progress" in p for p in verdict.problems), verdict.problems
    assert any("says R1, live runs" in p for p in verdict.problems), verdict.problems


def _reraise(target: object, record: object, exc: Exception) -> None:
    raise exc
