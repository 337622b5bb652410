"""Which release, whether it may go to an environment, and the planner that plans it there."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from pathlib import Path

from ..build import manifest as manifest_io
from ..build.manifest import CONFIG_BUNDLE, Manifest
from ..common.digest import sha256_hex
from ..common.errors import InputError, PromotionError
from ..config.model import CONFIG_PREFIX_VAR
from ..store.ledger import SUCCEEDED
from .desired import DesiredState, bundle_objects, desired_state
from .live import READ_WORKERS, FunctionLive, find_layer_version, read_bundle, read_function
from .live_run import not_made_here, read_monitoring
from .monitoring import MonitoringD, desired_monitoring
from .planner import make_plan, monitoring_steps
from .steps import Plan, Step
from .target import Target

# Reads live state and returns the desired state and the plan; called again under the lock.
Planner = Callable[[], tuple[DesiredState, Plan]]


def resolve_release(
    target: Target, version: str | None, commit: str | None, manifest_path: Path | None
) -> Manifest:
    """The manifest named on the command line, as published in the target's store."""
    chosen = [x for x in (version, commit, manifest_path) if x]
    if len(chosen) != 1:
        raise InputError("name exactly one release", "pass --version, --commit or --manifest")
    if manifest_path is not None:
        local = manifest_io.load(manifest_path)
        published = target.store.find(commit=local.commit)
        if published.sha256 != local.sha256:
            raise InputError(
                f"{manifest_path} differs from the manifest published for {local.release_id}",
                "deploy what was published",
            )
        return published
    return target.store.find(version=version, commit=commit)


def check_upstream(target: Target, manifest: Manifest, upstream: Target | None) -> None:
    """Refuse a release that the approval chain says must be validated upstream first."""
    if upstream is None:
        return
    for record in upstream.ledger.history():
        same = record.manifest_sha256 == manifest.sha256
        if same and record.outcome == SUCCEEDED and record.validated:
            return
    raise PromotionError(
        f"release {manifest.release_id} has not passed validation in {upstream.name}, "
        f"which {target.name} requires",
        f"deploy and validate it in {upstream.name} first",
    )


def release_planner(
    target: Target,
    manifest: Manifest,
    artifacts: dict[str, bytes],
    recorded_env: Mapping[str, Mapping[str, str] | None] | None = None,
) -> Planner:
    """A planner that reads live state and plans ``manifest`` onto ``target``.

    Env values are release.yaml's, or ``recorded_env`` (a rollback restores what it recorded).
    """

    def planner() -> tuple[DesiredState, Plan]:
        names = list(manifest.functions)
        resources = [target.config.function_resource(name, target.name) for name in names]
        with ThreadPoolExecutor(max_workers=READ_WORKERS) as pool:  # reads are latency-bound
            # Schedules, alarms and dashboard depend on nothing below: read them meanwhile.
            monitoring = pool.submit(_monitoring_steps, target)
            functions = dict(
                zip(names, pool.map(partial(read_function, target.lam), resources), strict=True)
            )
            prefix, bundle_live = _choose_config_prefix(target, manifest, artifacts, functions)
            declared = target.declared_env(sorted(manifest.functions), recorded_env)
            resolved = target.checked_env(sorted(manifest.functions), declared)
            desired = desired_state(
                target.config, target.spec, manifest, artifacts, resolved, prefix, declared
            )
            found = pool.map(
                lambda layer: find_layer_version(
                    target.lam, layer.resource, layer.sha256, layer.code_sha256
                ),
                desired.layers,
            )
            layer_arns = dict(zip((layer.layer for layer in desired.layers), found, strict=True))
            steps = monitoring.result()
        plan = make_plan(desired, functions, layer_arns, bundle_live, prefix)
        return desired, replace(plan, steps=plan.steps + steps)

    return planner


def _monitoring_steps(target: Target) -> tuple[Step, ...]:
    """The steps that make ``target``'s schedules, alarms, topic and dashboard as declared.

    A declared rule or alarm that exists but was made by hand is refused (exit 2, nothing
    changed), as a function the tool did not create is: writing over it would lose it.
    """
    monitor = target_monitoring(target)
    live = read_monitoring(target.client, monitor)
    steps = tuple(monitoring_steps(monitor, live))
    foreign = not_made_here(target.client, monitor, live, steps)
    if foreign:
        exists, were, them = (
            ("exists", "was", "it") if len(foreign) == 1 else ("exist", "were", "them")
        )
        raise InputError(
            f"{target.name}: {', '.join(foreign)} already {exists} and {were} not made by "
            f"vectora-release (no ManagedBy tag for {target.name}); "
            f"a deploy would overwrite {them}",
            f"note {them} and delete {them} by hand, or rename the schedule or alarm in "
            "release.yaml",
        )
    return steps


def target_monitoring(target: Target) -> MonitoringD:
    """The desired schedules, alarms, topic and dashboard of ``target`` (asks STS once)."""
    return desired_monitoring(target.config, target.spec, target.aws.account(target.spec.region))


def _choose_config_prefix(
    target: Target,
    manifest: Manifest,
    artifacts: dict[str, bytes],
    functions: dict[str, FunctionLive],
) -> tuple[str, dict[str, str | None]]:
    """Reuse the live config prefix when it holds exactly this bundle, else the release's own."""
    bucket = target.spec.buckets["config"]
    wanted = {k: sha256_hex(v) for k, v in bundle_objects(artifacts[CONFIG_BUNDLE]).items()}
    live_prefixes = sorted(
        {
            f.alias.config.env_dict().get(CONFIG_PREFIX_VAR, "")
            for f in functions.values()
            if f.alias is not None
        }
        - {""}
    )
    for prefix in live_prefixes:
        objects = read_bundle(target.s3, bucket, prefix)
        if objects == wanted:
            return prefix, objects
    prefix = f"releases/{manifest.release_id}/"
    return prefix, read_bundle(target.s3, bucket, prefix)
