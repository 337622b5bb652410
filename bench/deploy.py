"""Deploy benchmark on the embedded AWS: time and AWS calls of the deploys that matter.

    .venv/bin/python bench/deploy.py [--runs 5] [--sizes 3,12,48]

Prints medians over ``--runs`` runs of a fresh deploy, an unchanged redeploy and a
one-function change (the project as it is), with the AWS calls each makes (total and
mutating); then, for synthetic releases of 3, 12 and 48 functions (each with the weekly
schedule, the chain, the alarms and the dashboard), the calls of a fresh deploy and of an
unchanged redeploy, the unchanged/fresh time ratio, and whether calls grow
linearly with the number of functions while an unchanged redeploy stays at zero mutating
calls. Always exits 0: it is a report, the tests are what fail.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from vectora_release.aws import Aws, CallCounter
from vectora_release.build.builders import build_release
from vectora_release.build.manifest import Manifest
from vectora_release.config.model import ReleaseConfig, load_config
from vectora_release.deploy.pipeline import deploy_release
from vectora_release.deploy.target import Target
from vectora_release.local.server import embedded_aws
from vectora_release.ops.bootstrap import bootstrap

ROOT = Path(__file__).resolve().parents[1]
ENV = "dev"
CHANGED_FOLDER = "normalize_score_v2"


def _test_helpers() -> Any:
    """``tests/conftest.py``: the same committed project copy the tests deploy."""
    path = ROOT / "tests" / "conftest.py"
    spec = importlib.util.spec_from_file_location("vectora_bench_conftest", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


helpers = _test_helpers()


# -- releases --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Release:
    config: ReleaseConfig
    manifest: Manifest
    dist: Path


def build(project: Path, out: Path | None = None) -> Release:
    """Build ``project`` into ``out`` (default: its dist/; elsewhere, the tree stays clean)."""
    out = out or project / "dist"
    config = load_config(project / "release.yaml")
    return Release(config, build_release(config, out), out)


def change_one_function(project: Path, out: Path) -> Release:
    """The next commit: a comment appended to one handler, built into ``out``."""
    handler = project / "src_v2" / "lambdas" / CHANGED_FOLDER / "handler.py"
    handler.write_text(handler.read_text(encoding="utf-8") + "# bench: next release\n")
    helpers.git(project, "commit", "-q", "-am", "change one function")
    return build(project, out)


def synthesise(project: Path, count: int) -> Release:
    """``project`` with ``count`` functions: copies of the three, each with its IAM template."""
    path = project / "release.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    originals = list(data["functions"].items())
    functions = {}
    for i in range(count):
        base, body = originals[i % len(originals)]
        name = f"{base}-{i:02d}"
        functions[name] = dict(body)
        iam = project / "iam"
        shutil.copy(iam / f"function-{base}.json", iam / f"function-{name}.json")
    data["functions"] = functions
    # The weekly run over the first copies of the three, so each size deploys its schedule,
    # the chain, the alarms (on every function's alias) and the dashboard too.
    names = list(functions)
    data["chain"] = names[: len(originals)]
    for schedule in (data.get("schedules") or {}).values():
        schedule["target"] = names[0]
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    helpers.git(project, "add", "-A")
    helpers.git(project, "commit", "-q", "-m", f"{count} functions")
    return build(project)


# -- measuring -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sample:
    seconds: float
    total: int
    mutating: int
    outcome: str
    startup: float = 0.0


def reset(endpoint: str) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()  # our loopback server


def prepare(endpoint: str, releases: list[Release]) -> None:
    """An empty embedded AWS, ``ENV`` bootstrapped and ``releases`` published."""
    reset(endpoint)
    config = releases[0].config
    bootstrap(Target(config, config.env(ENV), Aws()))
    for release in releases:
        Target(config, config.env(ENV), Aws()).store.publish(release.manifest, release.dist)


def deploy(release: Release) -> Sample:
    """One deploy through a new Aws (the counter sees every call from the first one).

    Its boto3 clients are made before the clock starts: loading botocore's models is a fixed
    start-up cost of every command, fresh or unchanged, measured and printed apart.
    """
    aws = Aws()
    target = Target(release.config, release.config.env(ENV), aws, waiter_delay=1)
    start = time.perf_counter()
    _ = target.lam, target.s3, aws.iam()
    startup = time.perf_counter() - start
    calls = CallCounter().attach(aws)
    start = time.perf_counter()
    report = deploy_release(target, release.manifest)
    seconds = time.perf_counter() - start
    return Sample(seconds, calls.total, len(calls.mutating), report.outcome, startup)


@dataclass(frozen=True)
class Summary:
    seconds: float
    total: int
    mutating: int
    outcomes: str
    startup: float = 0.0

    @classmethod
    def of(cls, samples: list[Sample]) -> Summary:
        outcomes = ",".join(sorted({s.outcome for s in samples}))
        return cls(
            statistics.median(s.seconds for s in samples),
            int(statistics.median(s.total for s in samples)),
            int(statistics.median(s.mutating for s in samples)),
            outcomes,
            statistics.median(s.startup for s in samples),
        )


def repeat(runs: int, once: Callable[[], dict[str, Sample]]) -> dict[str, Summary]:
    samples: dict[str, list[Sample]] = {}
    for _ in range(runs):
        for name, sample in once().items():
            samples.setdefault(name, []).append(sample)
    return {name: Summary.of(values) for name, values in samples.items()}


def table(headers: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    cells = [headers, *[tuple(str(c) for c in row) for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# -- the report ------------------------------------------------------------------------------------
def scenarios(endpoint: str, workdir: Path, runs: int) -> None:
    project = helpers.make_project(workdir / "project")
    r1 = build(project)
    r2 = change_one_function(project, workdir / "next-dist")

    def once() -> dict[str, Sample]:
        prepare(endpoint, [r1, r2])
        fresh, unchanged, changed = deploy(r1), deploy(r1), deploy(r2)
        return {
            "fresh deploy": fresh,
            "unchanged redeploy": unchanged,
            "one-function change": changed,
        }

    results = repeat(runs, once)
    functions = len(r1.config.functions)
    print(f"deploy of {r1.manifest.release_id} ({functions} functions), median of {runs} runs")
    fresh = results["fresh deploy"].seconds
    rows = [
        (
            name,
            f"{s.seconds * 1000:.0f}",
            f"{s.seconds / fresh:.2f}",
            s.total,
            s.mutating,
            s.outcomes,
            f"{s.startup * 1000:.0f}",
        )
        for name, s in results.items()
    ]
    headers = ("scenario", "ms", "/fresh", "calls", "mutating", "outcome", "client start-up ms")
    print(table(headers, rows))


def growth(endpoint: str, workdir: Path, runs: int, sizes: list[int]) -> None:
    results: dict[int, dict[str, Summary]] = {}
    for count in sizes:
        release = synthesise(helpers.make_project(workdir / f"n{count}"), count)

        def once(release: Release = release) -> dict[str, Sample]:
            prepare(endpoint, [release])
            return {"fresh": deploy(release), "unchanged": deploy(release)}

        results[count] = repeat(runs, once)
    print()
    print(f"growth with the number of functions, median of {runs} runs")
    rows = []
    for count, r in results.items():
        fresh, same = r["fresh"], r["unchanged"]
        rows.append(
            (
                count,
                fresh.total,
                fresh.mutating,
                f"{fresh.seconds * 1000:.0f}",
                same.total,
                same.mutating,
                f"{same.seconds * 1000:.0f}",
                f"{same.seconds / fresh.seconds:.2f}",
            )
        )
    headers = ("functions", "fresh calls", "mutating", "ms", "unchanged calls", "mutating", "ms")
    print(table((*headers, "unchanged/fresh"), rows))
    monitoring = load_config(workdir / f"n{sizes[0]}" / "release.yaml").env(ENV).monitoring
    print(
        f"each size also deploys {len(monitoring.schedules)} schedule(s) and "
        f"{len(monitoring.alarms)} alarm(s) in {ENV}, an alerts topic and a dashboard"
    )

    print()
    for kind in ("fresh", "unchanged"):
        slopes = []
        for small, large in itertools.pairwise(sizes):
            delta = results[large][kind].total - results[small][kind].total
            slopes.append(delta / (large - small))
        spread = max(slopes) - min(slopes) if slopes else 0.0
        linear = spread <= 0.05 * max(max(slopes, default=1.0), 1.0)
        text = ", ".join(f"{s:.2f}" for s in slopes)
        verdict = "linear" if linear else "NOT linear"
        print(f"{kind:>9} deploy: extra calls per extra function {text} -> {verdict}")
    zero = all(r["unchanged"].mutating == 0 for r in results.values())
    state = "yes" if zero else "NO"
    print(f"unchanged redeploy makes zero mutating calls at every size: {state}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (median)")
    parser.add_argument("--sizes", default="3,12,48", help="function counts for the growth table")
    args = parser.parse_args(argv)
    sizes = sorted({int(x) for x in args.sizes.split(",") if x.strip()})
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the moto server logs every request
    os.environ.setdefault("VECTORA_RELEASE_CACHE", str(ROOT / ".cache" / "vectora-release"))
    with embedded_aws() as server, tempfile.TemporaryDirectory(prefix="vectora-bench-") as tmp:
        scenarios(server.endpoint, Path(tmp), args.runs)
        growth(server.endpoint, Path(tmp), args.runs, sizes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
