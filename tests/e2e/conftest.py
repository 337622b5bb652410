"""The whole release story through the CLI, on the embedded AWS, in a scratch git repository.

An e2e module shares one embedded AWS state and one scratch repository (``module_aws``,
``world``): building, deploying and validating are done once per module, and the tests of the
module read or change that state in order. Out-of-band changes are made with boto3 directly,
the way a hand-run hotfix would: change the configuration, publish a version, move alias
``live`` (triggers invoke the alias, so that is what ``validate`` and ``drift`` look at).
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from vectora_release.aws import Aws
from vectora_release.aws.lambda_ import ALIAS
from vectora_release.cli import run_cli
from vectora_release.config.model import ReleaseConfig, load_config
from vectora_release.local.scratch import commit_all, make_scratch_repo

ROOT = Path(__file__).resolve().parents[2]
ENVS = ("dev", "stage", "prod")


def reset_embedded_aws(endpoint: str) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()


@pytest.fixture(scope="module")
def module_aws(embedded_server: str, bedrock_stand_in: Any) -> Iterator[str]:
    """``aws_env`` for a whole module: a freshly reset embedded AWS, variables pointing at it
    (and at the Bedrock-runtime stand-in)."""
    from vectora_release.local.server import environment

    reset_embedded_aws(embedded_server)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("AWS_PROFILE", raising=False)
        patch.delenv("GITHUB_STEP_SUMMARY", raising=False)
        patch.delenv("GITHUB_ACTIONS", raising=False)
        for key, value in environment(embedded_server, bedrock_stand_in.endpoint).items():
            patch.setenv(key, value)
        yield embedded_server


@dataclass(frozen=True)
class Result:
    """One CLI run: exit code, stdout (``--json``) and stderr (human text and errors)."""

    args: tuple[str, ...]
    code: int
    out: str
    err: str

    @property
    def data(self) -> Any:
        return json.loads(self.out) if self.out.strip() else None

    @property
    def text(self) -> str:
        return self.out + self.err

    def __str__(self) -> str:  # what an assertion failure shows
        return f"$ vectora-release {' '.join(self.args)} → exit {self.code}\n{self.err[-3000:]}"


@dataclass
class World:
    """A scratch repository of the project and the embedded AWS it is deployed to."""

    repo: Path
    endpoint: str
    releases: dict[str, dict[str, Any]] = field(default_factory=dict)  # name → manifest JSON
    _aws: Aws | None = None

    # -- the command line ------------------------------------------------------------------
    def cli(self, *args: str, json_output: bool = True, config: Path | None = None) -> Result:
        """``vectora-release [--json] --config <repo>/release.yaml ARGS`` in-process."""
        argv = ["--config", str(config or self.repo / "release.yaml"), *args]
        if json_output:
            argv.insert(0, "--json")
        result = run_cli(argv)
        return Result(tuple(args), result.code, result.out, result.err)

    def ok(self, *args: str, **kwargs: Any) -> Result:
        result = self.cli(*args, **kwargs)
        assert result.code == 0, str(result)
        return result

    @property
    def config(self) -> ReleaseConfig:
        return load_config(self.repo / "release.yaml")

    def commit(self, message: str, edit: Callable[[Path], None]) -> str:
        edit(self.repo)
        return commit_all(self.repo, message)

    def build_and_publish(self, name: str) -> dict[str, Any]:
        """Build HEAD into ``dist-<name>`` and publish it; returns the manifest as JSON."""
        out = self.repo / f"dist-{name}"
        manifest = self.ok("build", "--out", str(out)).data
        assert manifest["dirty"] is False
        self.ok("publish", "--manifest", str(out / "manifest.json"))
        self.releases[name] = manifest
        return manifest

    def history(self, env: str) -> list[dict[str, Any]]:
        return self.ok("history", "--env", env).data

    def record(self, env: str, record_id: str) -> dict[str, Any]:
        records = {r["id"]: r for r in self.history(env)}
        assert record_id in records, f"no record {record_id} in {env}: {sorted(records)}"
        return records[record_id]

    # -- AWS, read directly ----------------------------------------------------------------
    @property
    def aws(self) -> Aws:
        if self._aws is None:
            self._aws = Aws()
        return self._aws

    @property
    def lam(self) -> Any:
        return self.aws.lambda_()

    @property
    def s3(self) -> Any:
        return self.aws.s3()

    def function(self, fn: str, env: str) -> str:
        return self.config.function_resource(fn, env)

    def layer(self, layer: str, env: str) -> str:
        return self.config.layer_resource(layer, env)

    def alias_version(self, fn: str, env: str) -> str:
        return self.lam.get_alias(FunctionName=self.function(fn, env), Name=ALIAS)[
            "FunctionVersion"
        ]

    def live(self, fn: str, env: str) -> dict[str, Any]:
        """The configuration of the version alias ``live`` points at."""
        return self.lam.get_function_configuration(
            FunctionName=self.function(fn, env), Qualifier=self.alias_version(fn, env)
        )

    def layer_code(self, arn: str) -> str:
        name, _, number = arn.rpartition(":")
        return self.lam.get_layer_version(LayerName=name, VersionNumber=int(number))["Content"][
            "CodeSha256"
        ]

    def digests(self, env: str) -> dict[str, str]:
        """``<fn> code`` and ``<fn> layer <layer>`` → CodeSha256 of what alias live runs."""
        out = {}
        for fn in self.config.functions:
            conf = self.live(fn, env)
            out[f"{fn} code"] = conf["CodeSha256"]
            for arn in (x["Arn"] for x in conf.get("Layers", [])):
                layer = arn.rsplit(":", 2)[-2].removeprefix("vectora-inbox-")
                out[f"{fn} layer {layer.removesuffix(f'-{env}')}"] = self.layer_code(arn)
        return out

    def snapshot(self, env: str) -> dict[str, Any]:
        """What a deploy could change in ``env``: functions, aliases, layers, ledger, config."""
        lam, spec = self.lam, self.config.env(env)
        state: dict[str, Any] = {}
        for fn in self.config.functions:
            name = self.function(fn, env)
            try:
                lam.get_function(FunctionName=name)
            except lam.exceptions.ResourceNotFoundException:
                state[fn] = None
                continue
            versions = lam.list_versions_by_function(FunctionName=name)["Versions"]
            state[fn] = {
                "alias": self.alias_version(fn, env),
                "versions": [(v["Version"], v["CodeSha256"]) for v in versions],
                "latest": _comparable(lam.get_function_configuration(FunctionName=name)),
            }
        for layer in self.config.layers:
            items = lam.list_layer_versions(LayerName=self.layer(layer, env))["LayerVersions"]
            state[f"layer {layer}"] = sorted(x["LayerVersionArn"] for x in items)
        state["ledger"] = self._keys(spec.artifact_bucket, f"ledger/{env}/")
        state["config"] = self._keys(spec.buckets["config"], "")
        return state

    def _keys(self, bucket: str, prefix: str) -> list[tuple[str, str]]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted((o["Key"], o["ETag"]) for page in pages for o in page.get("Contents", []))

    # -- out-of-band changes ---------------------------------------------------------------
    def hotfix(self, fn: str, env: str, latest_only: bool = False, **configuration: Any) -> str:
        """Change a function by hand; returns the version alias live runs.

        ``latest_only``: as the console does, edit ``$LATEST`` only (no version, no alias move).
        """
        lam, name = self.lam, self.function(fn, env)
        lam.update_function_configuration(FunctionName=name, **configuration)
        lam.get_waiter("function_updated_v2").wait(
            FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
        )
        if latest_only:
            return lam.get_alias(FunctionName=name, Name=ALIAS)["FunctionVersion"]
        version = lam.publish_version(FunctionName=name)["Version"]
        lam.update_alias(FunctionName=name, Name=ALIAS, FunctionVersion=version)
        return version


def _comparable(conf: dict[str, Any]) -> dict[str, Any]:
    keys = ("CodeSha256", "Layers", "Environment", "MemorySize", "Timeout", "LastModified")
    return {key: conf.get(key) for key in keys}


def bump_version(version: str) -> Callable[[Path], None]:
    def edit(repo: Path) -> None:
        (repo / "VERSION").write_text(version + "\n")

    return edit


def append_line(relative: str, line: str) -> Callable[[Path], None]:
    def edit(repo: Path) -> None:
        path = repo / relative
        path.write_text(path.read_text(encoding="utf-8") + line + "\n", encoding="utf-8")

    return edit


@pytest.fixture(scope="module")
def world(module_aws: str, tmp_path_factory: pytest.TempPathFactory) -> World:
    """A scratch repository of the project, dev/stage/prod bootstrapped on a reset AWS."""
    repo = make_scratch_repo(ROOT, tmp_path_factory.mktemp("e2e") / "vectora-inbox")
    state = World(repo, module_aws)
    for env in ENVS:
        state.ok("bootstrap", "--env", env)
    return state


@pytest.fixture(scope="module")
def helpers() -> Any:
    """The edit helpers, for test modules (which cannot import this conftest by name)."""

    class Helpers:
        bump = staticmethod(bump_version)
        append = staticmethod(append_line)

    return Helpers
