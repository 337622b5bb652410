"""Turn release.yaml's layers, functions and config bundle into zips plus a manifest."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..common.digest import code_sha256, sha256_hex, tree_sha256
from ..common.errors import BuildError
from ..config import gitinfo, versioning
from ..config.check import check_bundle
from ..config.model import CONFIG_PREFIX_VAR, LayerSpec, ReleaseConfig
from . import deps
from .manifest import CONFIG_BUNDLE, ArtifactRecord, FunctionRecord, Manifest, save
from .zipper import Entry, ZipResult, collect, source_date_epoch, write_zip

BUILD_INFO = "_build_info.json"
MAX_ZIPPED = 50 * 1024 * 1024
MAX_UNZIPPED = 250 * 1024 * 1024
MAX_LAYERS = 5
MAX_ENV_BYTES = 4 * 1024

Progress = Callable[[str], None]


def build_release(
    config: ReleaseConfig,
    out: Path,
    version: str | None = None,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
) -> Manifest:
    """Build every artifact of the release into ``out`` and write ``manifest.json``."""
    say = progress or (lambda _msg: None)
    root = config.root
    semver = versioning.parse(version, "--version") if version else versioning.read_version(root)
    source = gitinfo.source_info(root)
    _check_env_size(config, f"releases/{semver}+{source.commit[:7]}/")
    check_bundle(config)  # a config file the application cannot read never becomes a release
    epoch = source_date_epoch()
    cache = cache_dir or deps.default_cache_dir(root)

    zips: dict[str, tuple[str, ZipResult]] = {}
    build_infos: dict[str, dict[str, str]] = {}
    # The layers (the dependency install: a subprocess, mostly waiting on the network and
    # disk) are made in a worker while this thread zips the functions and the config bundle.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="layers") as pool:
        layers = {}
        for layer in config.layers.values():
            say(f"layer {layer.name}")
            args = (config, layer, str(semver), source.commit, epoch, cache)
            layers[layer.name] = pool.submit(_layer_zip, *args)
        others: dict[str, tuple[str, ZipResult]] = {}
        for function in config.functions.values():
            say(f"function {function.name}")
            entries = collect(root / function.source, "", root)
            others[function.name] = ("function", write_zip(entries, epoch))
        say(CONFIG_BUNDLE)
        others[CONFIG_BUNDLE] = ("config", write_zip(_bundle_entries(config), epoch))
        for name, future in layers.items():  # the manifest lists layers first
            zipped, info = future.result()
            zips[name] = ("layer", zipped)
            if info is not None:
                build_infos[name] = info
    zips.update(others)

    _check_limits(config, {name: result for name, (_, result) in zips.items()})
    out.mkdir(parents=True, exist_ok=True)
    artifacts = tuple(
        _write_artifact(out, name, kind, result, str(semver), build_infos.get(name))
        for name, (kind, result) in zips.items()
    )
    manifest = _manifest(config, str(semver), source, epoch, artifacts)
    save(manifest, out)
    return manifest


def _layer_zip(
    config: ReleaseConfig,
    layer: LayerSpec,
    version: str,
    head: str,
    epoch: int,
    cache: Path,
) -> tuple[ZipResult, dict[str, str] | None]:
    """A package layer (with the build info it reports) or an installed-requirements layer."""
    root = config.root
    if layer.package is not None:
        package = root / layer.package
        info = package_build_info(root, layer.package, version, head)
        entries = collect(package, f"python/{package.name}/", root)
        entries.append((f"python/{package.name}/{BUILD_INFO}", _json_bytes(info)))
        return write_zip(entries, epoch), info
    python_version = config.runtime.removeprefix("python")
    site = deps.install(root / str(layer.requirements), python_version, cache, layer.name)
    # Installed dependencies are large and rarely change: their zip is cached too.
    return write_zip(collect(site, "python/", site), epoch, cache / "zips"), None


def _bundle_entries(config: ReleaseConfig) -> list[Entry]:
    root = config.root
    return [
        *collect(root / config.bundle_canonical, "canonical/", root),
        *collect(root / config.bundle_clients, "clients/", root),
    ]


def _write_artifact(
    out: Path,
    name: str,
    kind: str,
    result: ZipResult,
    version: str,
    build_info: dict[str, str] | None,
) -> ArtifactRecord:
    file = f"{name}-{version}.zip"
    _write_atomic(out / file, result.data)
    return ArtifactRecord(
        name=name,
        kind=kind,
        file=file,
        size=len(result.data),
        sha256=sha256_hex(result.data),
        code_sha256=code_sha256(result.data),
        tree_sha256=tree_sha256(result.entries),
        unzipped_size=result.unzipped_size,
        build_info=build_info,
    )


def _manifest(
    config: ReleaseConfig,
    version: str,
    source: gitinfo.SourceInfo,
    epoch: int,
    artifacts: tuple[ArtifactRecord, ...],
) -> Manifest:
    built_at = dt.datetime.fromtimestamp(source_date_epoch(source.commit_time), dt.UTC)
    return Manifest(
        project=config.project,
        version=version,
        commit=source.commit,
        dirty=source.dirty,
        built_at=built_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        source_date_epoch=epoch,
        runtime=config.runtime,
        compatible_runtimes=config.compatible_runtimes,
        artifacts=artifacts,
        functions={
            f.name: FunctionRecord(
                handler=f.handler,
                runtime=config.runtime,
                memory=f.memory,
                timeout=f.timeout,
                layers=f.layers,
                required_env=config.required_env(f.name),
            )
            for f in config.functions.values()
        },
    )


def package_build_info(root: Path, package: str, version: str, head: str) -> dict[str, str]:
    """The version and commit a package layer reports at run time.

    They name the commit that last changed the package (and VERSION at that commit), so an
    unchanged package gives the same layer in every release, while a stale layer is still
    recognisable. Uncommitted changes report the current VERSION and HEAD.
    """
    commit, dirty = gitinfo.last_change(root, package)
    if dirty or commit is None:
        return {"version": version, "commit": head}
    text = gitinfo.file_at(root, commit, "VERSION")
    at_commit = str(versioning.parse(text)) if text else version
    return {"version": at_commit, "commit": commit}


def _check_limits(config: ReleaseConfig, zips: dict[str, ZipResult]) -> None:
    """Lambda's limits, checked before anything is written."""
    for name, result in zips.items():
        if len(result.data) > MAX_ZIPPED:
            raise BuildError(
                f"{name} is {_mb(len(result.data))} zipped, over Lambda's 50 MB limit",
                "trim its contents",
            )
    for function in config.functions.values():
        if len(function.layers) > MAX_LAYERS:
            raise BuildError(f"{function.name} uses {len(function.layers)} layers (Lambda: 5)")
        total = zips[function.name].unzipped_size + sum(
            zips[layer].unzipped_size for layer in function.layers
        )
        if total > MAX_UNZIPPED:
            raise BuildError(
                f"{function.name} with its layers is {_mb(total)} unzipped, "
                "over Lambda's 250 MB limit",
                "trim the function or its layers",
            )


def _check_env_size(config: ReleaseConfig, config_prefix: str) -> None:
    """Lambda's 4 KB limit on a function's env vars, with the CONFIG_PREFIX the deploy adds.

    ``ssm:`` references are counted as written: their resolved values are unknown here.
    """
    for env in config.environments.values():
        for function in config.functions:
            values = {**config.declared_env(function, env.name), CONFIG_PREFIX_VAR: config_prefix}
            size = sum(len(k.encode()) + len(v.encode()) for k, v in values.items())
            if size > MAX_ENV_BYTES:
                raise BuildError(
                    f"{function} in {env.name} has {size:,} bytes of env vars, "
                    "over Lambda's 4 KB limit",
                    "shorten the values in release.yaml or move them to the config bundle",
                )


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


def _json_bytes(data: dict) -> bytes:
    return (json.dumps(data, sort_keys=True, indent=2) + "\n").encode("utf-8")


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
