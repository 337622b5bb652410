"""What the reliability tests share: two releases, AWS endpoints and targets, figures.

R1 is the project as it is. R2 (VERSION 0.2.0) changes every function and the vectora-core
layer, so that a deploy of R2 over R1 touches every alias: "all on R1 or all on R2" then says
something. Builds touch no AWS and are made once per session (``releases`` in conftest.py).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from unittest import mock

from harness import new_session
from vectora_release.aws import Aws
from vectora_release.build.builders import build_release
from vectora_release.build.deps import default_cache_dir
from vectora_release.build.manifest import Manifest
from vectora_release.common.clock import Clock, utcnow
from vectora_release.config.model import ReleaseConfig, load_config
from vectora_release.deploy.target import Target
from vectora_release.local import SimulatedTime
from vectora_release.local.codeserver import LocalCodeFetcher
from vectora_release.local.runner import LocalInvoker
from vectora_release.local.server import environment

TESTS = Path(__file__).resolve().parents[1]
CHANGED_IN_R2 = (
    "src_v2/lambdas/ingest_v2/handler.py",
    "src_v2/lambdas/normalize_score_v2/handler.py",
    "src_v2/lambdas/newsletter_v2/handler.py",
    "src_v2/vectora_core/text.py",
)


def _root_conftest() -> Any:
    """``tests/conftest.py`` under its own name (pytest registers it as plain ``conftest``)."""
    name = "vectora_tests_root_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, TESTS / "conftest.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


git: Callable[..., str] = _root_conftest().git
make_project: Callable[[Path], Path] = _root_conftest().make_project


@dataclass(frozen=True)
class Built:
    """A release built in its own project copy (``dist/`` holds the zips and manifest)."""

    project: Path
    manifest: Manifest

    @property
    def dist(self) -> Path:
        return self.project / "dist"

    @property
    def config_path(self) -> str:
        return str(self.project / "release.yaml")

    @cached_property
    def config(self) -> ReleaseConfig:
        return load_config(self.project / "release.yaml")


@dataclass(frozen=True)
class Releases:
    r1: Built
    r2: Built

    @property
    def config(self) -> ReleaseConfig:
        return self.r1.config

    def label(self, manifest_sha256: str | None) -> str:
        return {self.r1.manifest.sha256: "R1", self.r2.manifest.sha256: "R2"}.get(
            manifest_sha256 or "", "?"
        )


def build(project: Path) -> Built:
    config = load_config(project / "release.yaml")
    return Built(project, build_release(config, project / "dist"))


def make_r2(project: Path) -> Path:
    """R1's commit plus one that changes every function and vectora-core, as VERSION 0.2.0."""
    for name in CHANGED_IN_R2:
        path = project / name
        path.write_text(path.read_text(encoding="utf-8") + "# R2\n", encoding="utf-8")
    (project / "VERSION").write_text("0.2.0\n")
    git(project, "commit", "-q", "-am", "R2: every function and vectora-core change")
    return project


@contextmanager
def pointing_at(endpoint: str) -> Iterator[None]:
    """Every AWS client made inside talks to ``endpoint`` (test credentials, no profile)."""
    with mock.patch.dict(os.environ, environment(endpoint)):
        os.environ.pop("AWS_PROFILE", None)
        yield


def target(config: ReleaseConfig, env: str, clock: Clock = utcnow) -> Target:
    """A Target over a new Aws (clients are made on first use, under the current endpoint).

    Its functions run in the local runner, as the CLI arranges on the embedded AWS.
    """
    runner = LocalInvoker(default_cache_dir(config.root) / "runner")
    time = SimulatedTime()  # a bake polls alarms without waiting
    return Target(
        config,
        config.env(env),
        Aws(new_session()),
        clock=time.clock if clock is utcnow else clock,
        waiter_delay=1,
        runner=runner,
        code_fetcher=LocalCodeFetcher(),
        sleep=time.sleep,
    )


# -- figures --------------------------------------------------------------------------------------
@dataclass
class Figures:
    """Lines collected by the tests and printed in the terminal summary (docs/reliability.md).

    Each line is also appended to a file of this process under ``$VECTORA_TEST_FIGURES`` (set
    by tests/conftest.py), so the summary has them when pytest-xdist runs the tests elsewhere.
    """

    lines: dict[str, list[str]] = field(default_factory=dict)

    def add(self, section: str, line: str) -> None:
        self.lines.setdefault(section, []).append(line)
        folder = os.environ.get(FIGURES_DIR_VAR)
        if folder:
            with open(Path(folder) / f"figures-{os.getpid()}.jsonl", "a", encoding="utf-8") as out:
                out.write(json.dumps({"section": section, "line": line}) + "\n")


FIGURES_DIR_VAR = "VECTORA_TEST_FIGURES"
FIGURES = Figures()


def build_releases(work: Path) -> Releases:
    """R1 and R2, each built in its own committed copy of the project under ``work``."""
    r1 = build(make_project(work / "r1"))
    r2 = build(make_r2(make_project(work / "r2")))
    assert r1.manifest.version == "0.1.0" and r2.manifest.version == "0.2.0"
    changed = {
        a.name for a in r2.manifest.artifacts if a.sha256 != r1.manifest.artifact(a.name).sha256
    }
    assert changed == {"ingest-v2", "normalize-score-v2", "newsletter-v2", "vectora-core"}
    return Releases(r1, r2)
