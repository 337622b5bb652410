"""Desired state of an environment for one release: pure data built from manifest + config."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..aws.lambda_ import FunctionConfiguration
from ..build.manifest import CONFIG_BUNDLE, Manifest
from ..common.digest import sha256_hex
from ..config.model import CONFIG_PREFIX_VAR, EnvironmentSpec, ReleaseConfig

MANAGED_BY = "vectora-release"
LAYER_MARK = f"{MANAGED_BY} sha256="


@dataclass(frozen=True)
class LayerSpecD:
    """A layer as it must exist in the environment."""

    layer: str
    resource: str
    sha256: str
    code_sha256: str
    description: str


@dataclass(frozen=True)
class FunctionSpecD:
    function: str
    resource: str
    role: str
    sha256: str
    code_sha256: str
    config: FunctionConfiguration
    secret_keys: frozenset[str]  # keys holding ssm: references (resolved by the function)
    reserved_concurrency: int | None
    tags: Mapping[str, str]
    declared_env: Mapping[str, str] = field(default_factory=dict)  # ssm: refs unresolved


@dataclass(frozen=True)
class BundleSpec:
    bucket: str
    tree_sha256: str
    objects: Mapping[str, bytes]  # relative key → bytes

    def digests(self) -> dict[str, str]:
        return {key: sha256_hex(data) for key, data in self.objects.items()}


@dataclass(frozen=True)
class DesiredState:
    env: str
    region: str
    manifest: Manifest
    layers: tuple[LayerSpecD, ...]
    functions: tuple[FunctionSpecD, ...]
    bundle: BundleSpec
    artifacts: Mapping[str, bytes] = field(repr=False)

    @property
    def new_config_prefix(self) -> str:
        return f"releases/{self.manifest.release_id}/"


def layer_description(manifest: Manifest, sha256: str) -> str:
    """What a managed layer version records about its content (Lambda layers take no tags)."""
    return f"{LAYER_MARK}{sha256} release={manifest.release_id}"


def recorded_sha256(description: str | None) -> str | None:
    if not description or not description.startswith(LAYER_MARK):
        return None
    return description[len(LAYER_MARK) :].split(" ", 1)[0]


def tags(config: ReleaseConfig, env: str, manifest: Manifest) -> dict[str, str]:
    return {
        "Project": config.project,
        "Environment": env,
        "Version": manifest.version,
        "Commit": manifest.commit,
        "ManagedBy": MANAGED_BY,
    }


def bundle_objects(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist() if not name.endswith("/")}


def desired_state(
    config: ReleaseConfig,
    env: EnvironmentSpec,
    manifest: Manifest,
    artifacts: Mapping[str, bytes],
    checked_env: Mapping[str, tuple[dict[str, str], frozenset[str]]],
    config_prefix: str,
    declared_env: Mapping[str, Mapping[str, str]] | None = None,
) -> DesiredState:
    """Everything the environment must run for ``manifest``, with ``config_prefix`` chosen."""
    layers = tuple(
        LayerSpecD(
            a.name,
            config.layer_resource(a.name, env.name),
            a.sha256,
            a.code_sha256,
            layer_description(manifest, a.sha256),
        )
        for a in manifest.of_kind("layer")
    )
    functions = []
    for name, record in sorted(manifest.functions.items()):
        artifact = manifest.artifact(name)
        values, secret_keys = checked_env[name]
        env_vars = {**values, CONFIG_PREFIX_VAR: config_prefix}
        functions.append(
            FunctionSpecD(
                function=name,
                resource=config.function_resource(name, env.name),
                role=config.role_name(name, env.name),
                sha256=artifact.sha256,
                code_sha256=artifact.code_sha256,
                config=FunctionConfiguration(
                    handler=record.handler,
                    runtime=record.runtime,
                    memory=record.memory,
                    timeout=record.timeout,
                    layers=record.layers,
                    env=tuple(sorted(env_vars.items())),
                ),
                secret_keys=secret_keys,
                reserved_concurrency=env.reserved_concurrency,
                tags=tags(config, env.name, manifest),
                declared_env=dict(
                    (declared_env or {}).get(name) or config.declared_env(name, env.name)
                ),
            )
        )
    bundle_artifact = manifest.artifact(CONFIG_BUNDLE)
    bundle = BundleSpec(
        bucket=env.buckets["config"],
        tree_sha256=bundle_artifact.tree_sha256,
        objects=bundle_objects(artifacts[CONFIG_BUNDLE]),
    )
    return DesiredState(env.name, env.region, manifest, layers, tuple(functions), bundle, artifacts)
