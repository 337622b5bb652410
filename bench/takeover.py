"""Takeover benchmark on the embedded AWS: snapshot and restore of the brown-field fixture.

    .venv/bin/python bench/takeover.py [--runs 5]

For each run, on a freshly reset embedded AWS with dev bootstrapped, R1 published and dev made
hand-made (``local.brownfield``): ``snapshot --include-data`` (time, bytes saved, AWS calls),
``adopt`` (AWS calls per function, mutating ones apart), the first deploy of R1, an unchanged
deploy after it (mutating calls: the target is 0), ``cleanup --apply`` and ``restore`` of the
snapshot cleanup took (time, steps, the bytes that snapshot holds, AWS calls). Prints
medians. Always exits 0: it is a report, the tests are what fail.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vectora_release.aws import Aws, CallCounter
from vectora_release.build.builders import build_release
from vectora_release.common.output import table
from vectora_release.config.model import ReleaseConfig, load_config
from vectora_release.deploy.pipeline import deploy_release
from vectora_release.deploy.target import Target
from vectora_release.local.brownfield import build_brownfield
from vectora_release.local.codeserver import LocalCodeFetcher
from vectora_release.local.server import embedded_aws
from vectora_release.ops.adopt import adopt
from vectora_release.ops.bootstrap import bootstrap
from vectora_release.ops.cleanup import cleanup
from vectora_release.ops.restore import restore
from vectora_release.ops.snapshot import snapshots, take_snapshot

ROOT = Path(__file__).resolve().parents[1]
ENV = "dev"


def _make_project() -> Callable[[Path], Path]:
    spec = importlib.util.spec_from_file_location(
        "vectora_bench_conftest", ROOT / "tests" / "conftest.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_project


def target(config: ReleaseConfig) -> tuple[Target, CallCounter]:
    aws = Aws()
    calls = CallCounter().attach(aws)
    t = Target(config, config.env(ENV), aws, waiter_delay=1, code_fetcher=LocalCodeFetcher())
    return t, calls


def timed(config: ReleaseConfig, step: Callable[[Target], Any]) -> tuple[float, CallCounter, Any]:
    t, calls = target(config)
    start = time.perf_counter()
    result = step(t)
    return time.perf_counter() - start, calls, result


def once(endpoint: str, config: ReleaseConfig, manifest: Any, dist: Path) -> dict[str, Any]:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()  # our loopback server
    t, _ = target(config)
    bootstrap(t)
    t.store.publish(manifest, dist)
    build_brownfield(t)
    out: dict[str, Any] = {}
    seconds, calls, snap = timed(config, lambda x: take_snapshot(x, include_data=True))
    out["snapshot"] = (seconds, snap.bytes, len(calls.calls), len(calls.mutating))
    seconds, calls, report = timed(config, adopt)
    count = len(report.adopted)
    out["adopt"] = (seconds, count, len(calls.calls) / count, len(calls.mutating) / count)
    seconds, calls, _ = timed(config, lambda x: deploy_release(x, manifest))
    out["deploy after adopt"] = (seconds, len(calls.calls), len(calls.mutating))
    seconds, calls, _ = timed(config, lambda x: deploy_release(x, manifest))
    out["unchanged deploy"] = (seconds, len(calls.calls), len(calls.mutating))
    seconds, calls, cleaned = timed(config, lambda x: cleanup(x, apply=True))
    out["cleanup --apply"] = (seconds, len(cleaned.deleted), len(calls.calls), len(calls.mutating))
    seconds, calls, restored = timed(config, lambda x: restore(x, cleaned.snapshot))
    doc, _ = snapshots(t).load(cleaned.snapshot)
    held = sum(doc["blobs"].values())  # what the snapshot restored from holds
    out["restore"] = (seconds, len(restored.plan), len(calls.calls), len(calls.mutating), held)
    return out


def median(samples: list[dict[str, Any]], key: str, index: int) -> float:
    return statistics.median(s[key][index] for s in samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with embedded_aws() as server, tempfile.TemporaryDirectory(prefix="vectora-bench-") as tmp:
        project = _make_project()(Path(tmp) / "project")
        config = load_config(project / "release.yaml")
        manifest = build_release(config, project / "dist")
        samples = [
            once(server.endpoint, config, manifest, project / "dist") for _ in range(args.runs)
        ]
    m = lambda key, i: median(samples, key, i)  # noqa: E731
    rows = [
        ("snapshot --include-data", f"{m('snapshot', 0):.3f}",
         f"{m('snapshot', 1):.0f} bytes saved",
         f"{m('snapshot', 2):.0f}", f"{m('snapshot', 3):.0f}"),
        ("adopt (per function)", f"{m('adopt', 0):.3f}", f"{m('adopt', 1):.0f} functions",
         f"{m('adopt', 2):.1f}", f"{m('adopt', 3):.1f}"),
        ("deploy after adopt", f"{m('deploy after adopt', 0):.3f}", "",
         f"{m('deploy after adopt', 1):.0f}", f"{m('deploy after adopt', 2):.0f}"),
        ("unchanged deploy", f"{m('unchanged deploy', 0):.3f}", "",
         f"{m('unchanged deploy', 1):.0f}", f"{m('unchanged deploy', 2):.0f}"),
        ("cleanup --apply", f"{m('cleanup --apply', 0):.3f}",
         f"{m('cleanup --apply', 1):.0f} deleted",
         f"{m('cleanup --apply', 2):.0f}", f"{m('cleanup --apply', 3):.0f}"),
        ("restore", f"{m('restore', 0):.3f}",
         f"{m('restore', 1):.0f} steps ({m('restore', 4):.0f} bytes held)",
         f"{m('restore', 2):.0f}", f"{m('restore', 3):.0f}"),
    ]  # fmt: skip
    print(f"medians over {args.runs} runs on the embedded AWS (brown-field fixture)")
    print(table(("step", "seconds", "size", "AWS calls", "mutating"), rows))
    unchanged = m("unchanged deploy", 2)
    print(f"unchanged deploy after adopt: {unchanged:.0f} mutating calls (target 0: "
          f"{'met' if unchanged == 0 else 'NOT met'})")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
