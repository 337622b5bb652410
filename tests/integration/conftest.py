"""Helpers for the release tool's integration tests (moto, in-process).

Builds touch no AWS, so they are made once per test module (``release_builds``); the embedded
AWS is reset for every test (``aws_env``), so ``released`` bootstraps the environments and
publishes the first release again for each test, which takes a fraction of a second.
Every Target a test gets is new (see ``new_target``), so counters and faults see every call.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from vectora_release.aws import Aws, CallCounter
from vectora_release.build.builders import build_release
from vectora_release.build.deps import default_cache_dir
from vectora_release.build.manifest import Manifest
from vectora_release.cli import Wiring, run_cli
from vectora_release.common.clock import Clock, utcnow
from vectora_release.config.model import ReleaseConfig, load_config
from vectora_release.deploy.target import Target
from vectora_release.local import SimulatedTime
from vectora_release.local.codeserver import LocalCodeFetcher
from vectora_release.local.runner import LocalInvoker
from vectora_release.ops.bootstrap import bootstrap
from vectora_release.store.artifacts import PublishReport

TESTS = Path(__file__).resolve().parents[1]


def _load_root_conftest() -> Any:
    """``tests/conftest.py`` under its own name (pytest drops the bare ``conftest`` module)."""
    name = "vectora_tests_root_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, TESTS / "conftest.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_root = _load_root_conftest()
git: Callable[..., str] = _root.git
make_project: Callable[[Path], Path] = _root.make_project


# -- builds (no AWS) ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Built:
    """One release built from its own project copy: manifest and zips in ``dist``."""

    name: str
    project: Path
    config: ReleaseConfig
    manifest: Manifest

    @property
    def dist(self) -> Path:
        return self.project / "dist"

    @property
    def version(self) -> str:
        return self.manifest.version


def build_in(project: Path, name: str) -> Built:
    config = load_config(project / "release.yaml")
    manifest = build_release(config, project / "dist")
    return Built(name, project, config, manifest)


def touch_handler(project: Path, folder: str, note: str) -> None:
    """Append a comment line to ``src_v2/lambdas/<folder>/handler.py`` (a code-only change)."""
    handler = project / "src_v2" / "lambdas" / folder / "handler.py"
    handler.write_text(handler.read_text(encoding="utf-8") + f"# {note}\n", encoding="utf-8")


@dataclass
class ReleaseBuilds:
    """R1 (the project as it is) and releases derived from it, each built at most once.

    A derived release is R1's commit plus one commit touching some handlers, made in a fresh
    copy of the project, so every derived release differs from R1 by exactly its changes,
    whatever order the tests ask for them in.
    """

    workdir: Path
    r1: Built
    _derived: dict[tuple[str, ...], Built] = field(default_factory=dict)

    def derived(self, *folders: str, committed_at: str | None = None) -> Built:
        """R1 plus a commit appending a comment to the handlers of ``folders``.

        The commit has the fixed date of every test commit unless ``committed_at`` (ISO 8601)
        says when it was made.
        """
        key = (*sorted(folders), committed_at or "")
        if key not in self._derived:
            name = "r1+" + "+".join(sorted(folders)) + (f"@{committed_at}" if committed_at else "")
            project = make_project(self.workdir / name.replace(":", ""))
            assert git(project, "rev-parse", "HEAD") == self.r1.manifest.commit
            for folder in folders:
                touch_handler(project, folder, f"release {name}")
            message = f"change {', '.join(sorted(folders))}"
            if committed_at is None:
                git(project, "commit", "-q", "-am", message)
            else:
                dates = {"GIT_AUTHOR_DATE": committed_at, "GIT_COMMITTER_DATE": committed_at}
                env = {**os.environ, **_root.GIT_ENV, **dates}
                command = ["git", "commit", "-q", "-am", message]
                subprocess.run(command, cwd=project, env=env, check=True, capture_output=True)
            self._derived[key] = build_in(project, name)
        return self._derived[key]

    def versioned(self, version: str) -> Built:
        """R1 plus a commit setting VERSION to ``version`` (built at most once)."""
        key = ("VERSION", version)
        if key not in self._derived:
            project = make_project(self.workdir / f"v{version}")
            (project / "VERSION").write_text(f"{version}\n", encoding="utf-8")
            git(project, "commit", "-q", "-am", f"release {version}")
            self._derived[key] = build_in(project, f"v{version}")
        return self._derived[key]


@pytest.fixture(scope="module")
def release_builds(tmp_path_factory: pytest.TempPathFactory) -> ReleaseBuilds:
    """The builds of one test module: R1 now, derived releases on demand."""
    workdir = tmp_path_factory.mktemp("releases")
    return ReleaseBuilds(workdir, build_in(make_project(workdir / "r1"), "r1"))


# -- AWS -----------------------------------------------------------------------------------------
def new_target(config: ReleaseConfig, env: str = "dev", clock: Clock = utcnow) -> Target:
    """A Target over a new :class:`Aws`, so that hooks registered on it see every call.

    botocore copies the session's event hooks into a client when it creates it, and ``Aws``
    caches its clients: a hook registered after the first call of a client misses that
    client's calls. Attach counters and injected faults to a target no call has gone through.
    Its functions run in the local runner, as the CLI arranges on the embedded AWS.
    """
    runner = LocalInvoker(default_cache_dir(config.root) / "runner")
    time = SimulatedTime()  # a bake polls alarms without waiting (docs/architecture.md)
    clock = time.clock if clock is utcnow else clock
    return Target(
        config,
        config.env(env),
        Aws(),
        clock=clock,
        waiter_delay=1,
        runner=runner,
        code_fetcher=LocalCodeFetcher(),
        sleep=time.sleep,
    )


def counter(target: Target) -> CallCounter:
    """Count every AWS call made through ``target`` from now on (see :func:`new_target`)."""
    return CallCounter().attach(target.aws)


@dataclass
class CallLog:
    """Every call made through an Aws, with its parameters (bodies and zips left out)."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def attach(self, aws: Aws) -> CallLog:
        aws.events.register(
            "before-parameter-build.*.*", self._on_call, unique_id=f"log-{id(self)}"
        )
        return self

    def _on_call(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        kept = {k: v for k, v in params.items() if k not in ("Body", "ZipFile", "Content", "Code")}
        self.calls.append((model.name, kept))

    def of(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == operation]


def call_log(target: Target) -> CallLog:
    return CallLog().attach(target.aws)


def fail_on_call(target: Target, operation: str, nth: int = 2, service: str = "lambda") -> list:
    """Make the ``nth`` call of ``operation`` through ``target`` fail with a ClientError.

    Returns the list of the parameters of every such call (the failed one included).
    """
    seen: list[dict[str, Any]] = []

    def hook(params: dict[str, Any], **_: Any) -> None:
        seen.append(params)
        if len(seen) == nth:
            raise ClientError(
                {"Error": {"Code": "ServiceException", "Message": f"injected fault #{nth}"}},
                operation,
            )

    target.aws.events.register(
        f"before-parameter-build.{service}.{operation}", hook, unique_id=f"fault-{operation}"
    )
    return seen


@dataclass
class Released:
    """An embedded AWS where R1 is published and dev, stage and prod are bootstrapped.

    dev is bootstrapped at once; stage and prod the first time a test asks for their target
    (bootstrap is idempotent and costs about 0.4 s per environment on moto).
    """

    builds: ReleaseBuilds
    bootstrapped: set[tuple[str, Path]] = field(default_factory=set)

    @property
    def r1(self) -> Built:
        return self.builds.r1

    @property
    def config(self) -> ReleaseConfig:
        return self.builds.r1.config

    def target(
        self, env: str = "dev", clock: Clock = utcnow, config: ReleaseConfig | None = None
    ) -> Target:
        """A new Target (and Aws) for ``env``, bootstrapped; see :func:`new_target`.

        ``config`` (default: R1's release.yaml) is another one, e.g. from :meth:`variant`.
        """
        config = config or self.config
        if (env, config.path) not in self.bootstrapped:
            bootstrap(new_target(config, env))
            self.bootstrapped.add((env, config.path))
        return new_target(config, env, clock)

    def variant(self, name: str, edit: Callable[[str], str]) -> Path:
        """An edited copy of R1's release.yaml beside it (same root), for ``cli(config=…)``."""
        source = self.r1.project / "release.yaml"
        text = source.read_text(encoding="utf-8")
        edited = edit(text)
        assert edited != text, f"the edit of variant {name!r} changed nothing"
        path = source.with_name(f"release-{name}.yaml")
        path.write_text(edited, encoding="utf-8")
        return path

    def publish(self, built: Built) -> PublishReport:
        return self.target().store.publish(built.manifest, built.dist)

    def second_release(self) -> Built:
        """R1 with only ``normalize_score_v2/handler.py`` changed, built and published."""
        return self.release_changing("normalize_score_v2")

    def release_changing(self, *folders: str) -> Built:
        """R1 with a comment appended to the handlers of ``folders``, built and published."""
        built = self.builds.derived(*folders)
        self.publish(built)
        return built

    # The helpers below, as methods so that tests need no import from this conftest.
    def counter(self, target: Target) -> CallCounter:
        return counter(target)

    def call_log(self, target: Target) -> CallLog:
        return call_log(target)

    def fail_on_call(self, target: Target, operation: str, nth: int = 2) -> list:
        return fail_on_call(target, operation, nth)

    def hand_made_function(self, function: str, **extra: Any) -> str:
        """Create ``function``'s dev resource by hand, as someone else would (no ManagedBy)."""
        target = self.target()
        name = self.resource(function)
        role = target.aws.iam().get_role(RoleName=self.config.role_name(function, "dev"))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("handler.py", "def lambda_handler(event, context):\n    return 1\n")
        target.lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role["Role"]["Arn"],
            Handler="handler.lambda_handler",
            Code={"ZipFile": buffer.getvalue()},
            **extra,
        )
        return name

    def resource(self, function: str, env: str = "dev") -> str:
        return resource(self.config, function, env)

    def aliases(self, target: Target) -> dict[str, str | None]:
        return alias_versions(target)

    def functions(self, target: Target) -> list[str]:
        return existing_functions(target)


@pytest.fixture
def released(aws_env: str, release_builds: ReleaseBuilds) -> Released:
    """A freshly reset embedded AWS with the environments bootstrapped and R1 published."""
    state = Released(release_builds)
    state.publish(release_builds.r1)
    return state


# -- the command line ----------------------------------------------------------------------------
@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str
    calls: CallCounter

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def cli(release_builds: ReleaseBuilds, monkeypatch: pytest.MonkeyPatch) -> Callable[..., CliResult]:
    """Run ``vectora-release --config <R1's release.yaml> ARGS``; count its AWS calls.

    ``config=PATH`` runs it with another release.yaml (see :meth:`Released.variant`);
    ``clock=`` gives it a clock (``status``'s next run, the bake). Every
    ``Aws`` the command makes gets a counter attached before its first call.
    """
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)  # CI: keep the job summary clean

    def run(*args: str, config: Path | None = None, clock: Clock | None = None) -> CliResult:
        calls = CallCounter()

        def counted_aws() -> Aws:
            aws = Aws()
            calls.attach(aws)
            return aws

        path = config or release_builds.r1.project / "release.yaml"
        wiring = Wiring(aws=counted_aws, clock=clock)
        result = run_cli(["--config", str(path), *args], wiring)
        return CliResult(result.code, result.out, result.err, calls)

    return run


# -- reading the environment ---------------------------------------------------------------------
def resource(config: ReleaseConfig, function: str, env: str = "dev") -> str:
    return config.function_resource(function, env)


def alias_versions(target: Target) -> dict[str, str | None]:
    """Function → the version its alias ``live`` points at (None: no alias or no function)."""
    out: dict[str, str | None] = {}
    for function in target.config.functions:
        try:
            name = resource(target.config, function, target.name)
            out[function] = target.lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"]
        except target.lam.exceptions.ResourceNotFoundException:
            out[function] = None
    return out


def existing_functions(target: Target) -> list[str]:
    return sorted(f["FunctionName"] for f in target.lam.list_functions().get("Functions", []))
