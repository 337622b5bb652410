"""The fault matrix of one command: its starting state, its clean run, its injections spread
over worker processes (this file run as a script is a worker).

See ``faultmatrix.py`` for what one injection runs and checks.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

from faultmatrix import COMMANDS, Command, Run, Verdict, ledger_problems, live_releases
from harness import Faults, run_cli, stub_runner
from snapshots import SnapshotServer
from support import Built, Releases, pointing_at, target
from vectora_release.build import manifest as manifest_io


# -- the matrix: snapshot, baseline, workers -----------------------------------------------------
class Matrix:
    """The starting state of one command, its clean run, and its injections run in parallel."""

    def __init__(self, command: Command, releases: Releases) -> None:
        self.command = command
        self.releases = releases
        self.holder = SnapshotServer()
        self._holder_lock = threading.Lock()
        self.labels: dict[str, str] = {}
        with pointing_at(self.holder.endpoint), stub_runner():
            command.prepare(releases)
        self.calls = self._baseline()

    def close(self) -> None:
        self.holder.close()

    def _baseline(self) -> list[str]:
        copy = self.holder.fork()
        try:
            with pointing_at(copy.endpoint):
                config = self.releases.r1.config_path
                t = target(self.releases.config, self.command.env)
                state = self.command.state
                start = state(t) if state is not None else None
                calls = Faults()
                run = run_cli(config, self.command.args, [calls])
                assert run.code == 0, run.err
                assert t.ledger.read_lock() is None
                if state is not None:  # a takeover: its two states (see faulttakeover.py)
                    end = state(t)
                    assert end != start, "the clean run changed nothing"
                    self.labels = {start: "start", end: "end"}
                    return calls.calls
                live = live_releases(t, self.releases)
                assert set(live.values()) == {self.command.end}, live
                assert not ledger_problems(t, self.releases, live)
                # the real validation: smoke runs of the deployed bytes included
                checked = run_cli(config, ["validate", "--env", self.command.env], stub=False)
                assert checked.code == 0, checked.err
            return calls.calls
        finally:
            self.holder.drop(copy)

    def run_all(self, mode: str, pool: Workers) -> list[Verdict]:
        """Every injection point in ``mode``, spread over the workers of ``pool``."""
        jobs = [(mode, k) for k in range(1, len(self.calls) + 1)]
        return list(pool.map(lambda job: self._one(pool, *job), jobs))

    def _one(self, pool: Workers, mode: str, k: int) -> Verdict:
        with self._holder_lock:
            copy = self.holder.fork()
        try:
            job = {
                "command": self.command.name,
                "calls": self.calls,
                "labels": self.labels,
                "mode": mode,
                "k": k,
            }
            return pool.ask({**job, "endpoint": copy.endpoint})
        finally:
            with self._holder_lock:
                self.holder.drop(copy)


def workers() -> int:
    """How many injections run at once (``VECTORA_FAULT_WORKERS``, default: the CPU count)."""
    return max(1, int(os.environ.get("VECTORA_FAULT_WORKERS") or os.cpu_count() or 2))


class Workers:
    """Worker processes (this file as a script), each running one injection at a time."""

    def __init__(self, releases: Releases, count: int) -> None:
        work = releases.r1.project.parent  # where load_releases finds them again
        self._procs = [
            subprocess.Popen(
                [sys.executable, __file__, str(work)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                bufsize=1,
            )
            for _ in range(count)
        ]
        self._idle: queue.Queue[subprocess.Popen[str]] = queue.Queue()
        for proc in self._procs:
            self._idle.put(proc)
        self._threads = ThreadPoolExecutor(max_workers=count)

    def map(self, fn: Callable[[Any], Verdict], jobs: list[Any]) -> Iterator[Verdict]:
        return self._threads.map(fn, jobs)

    def ask(self, job: dict[str, Any]) -> Verdict:
        proc = self._idle.get()
        try:
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(json.dumps(job) + "\n")
            proc.stdin.flush()
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"fault worker died on {job['mode']} at call {job['k']}")
            return Verdict(**json.loads(line))
        finally:
            self._idle.put(proc)

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self._threads.shutdown()
        for proc in self._procs:
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait(timeout=30)


def load_releases(work: Path) -> Releases:
    """The releases ``support.build_releases`` built under ``work``."""
    built = [Built(work / n, manifest_io.load(work / n / "dist")) for n in ("r1", "r2")]
    return Releases(*built)


def _serve(work: Path) -> None:
    """Worker: read injection jobs (JSON lines) on stdin, answer verdicts on stdout."""
    releases = load_releases(work)
    out = sys.stdout
    for line in sys.stdin:
        job = json.loads(line)
        run = Run(COMMANDS[job["command"]], releases, job["calls"], job.get("labels"))
        with pointing_at(job["endpoint"]):
            try:
                verdict = run(job["mode"], job["k"])
            except Exception as exc:  # a check that crashed is a failed check, with its cause
                verdict = Verdict(job["mode"], job["k"], job["calls"][job["k"] - 1])
                verdict.problems.append(f"crashed: {type(exc).__name__}: {exc}")
        out.write(json.dumps(asdict(verdict)) + "\n")
        out.flush()


if __name__ == "__main__":
    _serve(Path(sys.argv[1]))
