"""Build benchmark: a cold build (empty dependency cache, pip runs) vs an unchanged rebuild.

    .venv/bin/python bench/build.py [--runs 5]

Every build is of a temporary copy of the project's release inputs, committed in its own git
repository (``make_project`` of tests/conftest.py), and is timed in process around
``build_release``. Cold: ``VECTORA_RELEASE_CACHE`` is a new empty folder for each run, so pip
installs common-deps for the Lambda platform (pip's own download cache is left as it is; run
with ``PIP_NO_CACHE_DIR=1`` to include the downloads). Unchanged rebuild: the same commit again
with a warm cache. Prints the medians, the ratio rebuild/cold, whether the target (an unchanged
rebuild takes at most 10 % of a cold build) is met, and the artifact sizes.

It reports figures, it asserts nothing: it always exits 0.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 0.10
sys.path.insert(0, str(ROOT / "scripts"))

from vectora_release.build.builders import build_release  # noqa: E402
from vectora_release.build.manifest import Manifest  # noqa: E402
from vectora_release.common.output import table  # noqa: E402
from vectora_release.config.model import load_config  # noqa: E402


def make_project_function() -> Callable[[Path], Path]:
    """``make_project`` from tests/conftest.py, loaded without pytest collecting anything."""
    spec = importlib.util.spec_from_file_location(
        "vectora_bench_conftest", ROOT / "tests" / "conftest.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_project


def timed_build(project: Path, out: Path, cache: Path) -> tuple[float, Manifest]:
    os.environ["VECTORA_RELEASE_CACHE"] = str(cache)
    config = load_config(project / "release.yaml")
    start = time.perf_counter()
    manifest = build_release(config, out)
    return time.perf_counter() - start, manifest


def seconds(values: list[float]) -> str:
    return " ".join(f"{v:.3f}" for v in values)


def run(runs: int, work: Path) -> None:
    project = make_project_function()(work / "project")
    print(
        f"vectora-release build benchmark: {runs} runs each, Python {platform.python_version()}"
        f", {platform.machine()}, project copy in {project}"
    )
    print()

    cold: list[float] = []
    digests: set[str] = set()
    manifest: Manifest | None = None
    for i in range(runs):
        elapsed, manifest = timed_build(project, work / f"cold-{i}", work / f"cache-cold-{i}")
        cold.append(elapsed)
        digests.add(manifest.sha256)
    warm_cache = work / f"cache-cold-{runs - 1}"
    rebuild: list[float] = []
    for _ in range(runs):
        elapsed, manifest = timed_build(project, work / "rebuild", warm_cache)
        rebuild.append(elapsed)
        digests.add(manifest.sha256)
    assert manifest is not None

    cold_median, rebuild_median = statistics.median(cold), statistics.median(rebuild)
    ratio = rebuild_median / cold_median
    verdict = "met" if ratio <= TARGET else "NOT met"
    rows = [
        ("cold build (empty deps cache, pip runs)", f"{cold_median:.3f} s", seconds(cold)),
        ("unchanged rebuild (warm deps cache)", f"{rebuild_median:.3f} s", seconds(rebuild)),
    ]
    print(table(("build", "median", "runs (s)"), rows))
    print()
    print(
        f"rebuild / cold = {ratio:.1%}; target: unchanged rebuild <= {TARGET:.0%} of cold: "
        f"{verdict}"
    )
    same = "yes" if len(digests) == 1 else f"NO ({len(digests)} different manifests)"
    print(f"all {2 * runs} builds gave the same manifest and zips: {same}")
    print()
    sizes = [
        (a.name, a.kind, a.file, f"{a.size:,}", f"{a.unzipped_size:,}") for a in manifest.artifacts
    ]
    print(table(("artifact", "kind", "file", "zipped bytes", "unzipped bytes"), sizes))
    total = sum(a.size for a in manifest.artifacts)
    print(f"\ntotal zipped: {total:,} bytes; manifest sha256 {manifest.sha256[:16]}…")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="builds of each kind (default 5)")
    args = parser.parse_args(argv)
    previous = os.environ.get("VECTORA_RELEASE_CACHE")
    try:
        with tempfile.TemporaryDirectory(prefix="vectora-bench-build-") as work:
            run(max(1, args.runs), Path(work))
    except Exception as exc:  # noqa: BLE001 - a benchmark reports a failure, it does not fail
        print(f"benchmark could not run: {type(exc).__name__}: {exc}", file=sys.stderr)
    finally:
        if previous is None:
            os.environ.pop("VECTORA_RELEASE_CACHE", None)
        else:
            os.environ["VECTORA_RELEASE_CACHE"] = previous
    return 0


if __name__ == "__main__":
    sys.exit(main())
