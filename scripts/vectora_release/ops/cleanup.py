"""Report, and with ``apply`` delete, what hand-made deployments left in an environment.

The leftovers (``docs/operations.md``, "Taking over an existing environment"):

- **layer**: a version of a ``<project>-*`` layer of the env that ``release.yaml`` does not
  declare (``…-approche-b-<env>``, ``…-yaml-fix-<env>``, ``<project>-dependencies``…);
- **unreferenced version**: a version of a declared layer that the tool did not publish;
- **config object**: an object of the config bucket outside ``releases/`` that no live
  function reads (its ``CONFIG_PREFIX`` names another prefix);
- **stale zip**: an object under ``layers/`` of ``<project>-lambda-code-<env>``.

A layer version any version of any function of the env uses (``$LATEST``, a published one —
a rollback target —) is never deleted: it is reported as kept. ``apply`` takes the lock and a
snapshot in the same run before the first deletion, so ``restore`` brings everything back.
Client data (the data and newsletters buckets) is never looked at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..aws import s3util
from ..aws.lambda_ import ALIAS, if_exists
from ..common.errors import DeployFailedError, InputError
from ..config.model import CONFIG_PREFIX_VAR
from ..deploy.desired import recorded_sha256
from ..deploy.executor import ApplyError, DisplayOnlyExecutor, Executor
from ..deploy.pipeline import executor_for
from ..deploy.steps import DeleteLayerVersion, DeleteObject, Plan, Step
from ..deploy.target import Target
from .snapshot import env_functions, env_layers, layer_versions, legacy_code_bucket, take_snapshot

RELEASES = "releases/"
STALE_PREFIX = "layers/"


@dataclass(frozen=True)
class Leftover:
    kind: str  # layer | unreferenced version | config object | stale zip
    subject: str
    action: str  # delete | keep
    detail: str = ""

    def row(self) -> tuple[str, str, str, str]:
        return (self.kind, self.subject, self.action, self.detail)


@dataclass
class CleanupReport:
    env: str
    applied: bool
    leftovers: list[Leftover] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    snapshot: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "applied": self.applied,
            "snapshot": self.snapshot,
            "deleted": self.deleted,
            "leftovers": [
                dict(zip(("kind", "subject", "action", "detail"), x.row(), strict=True))
                for x in self.leftovers
            ],
        }


def used_layer_versions(target: Target) -> dict[str, list[str]]:
    """Layer version ARN → the function versions using it (every version of every function)."""
    used: dict[str, list[str]] = {}
    lam = target.lam
    for resource in env_functions(target):
        if if_exists(lam.get_function, FunctionName=resource) is None:
            continue
        paginator = lam.get_paginator("list_versions_by_function")
        for page in paginator.paginate(FunctionName=resource):
            for version in page.get("Versions", []):
                for layer in version.get("Layers", []):
                    used.setdefault(layer["Arn"], []).append(f"{resource}:{version['Version']}")
    return used


def _layer_leftovers(target: Target) -> list[tuple[Leftover, Step | None]]:
    declared = {target.config.layer_resource(x, target.name) for x in target.config.layers}
    used = used_layer_versions(target)
    out: list[tuple[Leftover, Step | None]] = []
    for layer in env_layers(target):
        for item in layer_versions(target, layer):
            arn, number = item["LayerVersionArn"], int(item["Version"])
            if layer in declared:
                if recorded_sha256(item.get("Description")) is not None:
                    continue  # published by the tool: gc's business
                kind = "unreferenced version"
            else:
                kind = "layer"
            users = used.get(arn)
            if users:
                out.append((Leftover(kind, arn, "keep", "used by " + ", ".join(users)), None))
            else:
                out.append((Leftover(kind, arn, "delete"), DeleteLayerVersion(layer, number)))
    return out


def live_config_prefixes(target: Target) -> set[str]:
    """The prefixes the functions' ``live`` aliases read config under ("" for the root)."""
    prefixes = set()
    for resource in env_functions(target):
        conf = if_exists(
            target.lam.get_function_configuration, FunctionName=resource, Qualifier=ALIAS
        )
        if conf is not None:
            prefixes.add(
                (conf.get("Environment") or {}).get("Variables", {}).get(CONFIG_PREFIX_VAR, "")
            )
    return prefixes


def _object_leftovers(target: Target) -> list[tuple[Leftover, Step | None]]:
    out: list[tuple[Leftover, Step | None]] = []
    bucket = target.spec.buckets["config"]
    read = live_config_prefixes(target)
    if "" not in read:
        for key in s3util.keys(target.s3, bucket, ""):
            if key.startswith(RELEASES) or any(p and key.startswith(p) for p in read):
                continue
            out.append(
                (
                    Leftover("config object", f"s3://{bucket}/{key}", "delete"),
                    DeleteObject(bucket, key),
                )
            )
    code = legacy_code_bucket(target)
    try:
        stale = list(s3util.keys(target.s3, code, STALE_PREFIX))
    except InputError:  # no legacy code bucket
        stale = []
    for key in stale:
        out.append((Leftover("stale zip", f"s3://{code}/{key}", "delete"), DeleteObject(code, key)))
    return out


def leftovers(target: Target) -> list[tuple[Leftover, Step | None]]:
    """Every leftover with the step that deletes it (None: kept). Reads only."""
    return _layer_leftovers(target) + _object_leftovers(target)


def cleanup(target: Target, apply: bool = False, executor: Executor | None = None) -> CleanupReport:
    """Report the leftovers; with ``apply``, snapshot then delete them under the lock."""
    found = leftovers(target)
    report = CleanupReport(target.name, apply, [item for item, _ in found])
    executor = executor or executor_for(target, dry_run=not apply)
    if not apply or not any(step for _, step in found):
        return report
    lock = target.ledger.acquire(target.config.lock_lease_seconds, f"cleanup {target.name}")
    try:
        snapshot = take_snapshot(target, reason="cleanup")
        report.snapshot = snapshot.id
        found = leftovers(target)  # again, after the snapshot and under the lock
        report.leftovers = [item for item, _ in found]
        steps = tuple(step for _, step in found if step is not None)
        plan = Plan(target.name, f"cleanup-{snapshot.id}", "", steps, {})
        if isinstance(executor, DisplayOnlyExecutor):
            executor.run(plan, None)
            return report
        try:
            result = executor.run(plan, None)
        except ApplyError as exc:
            raise DeployFailedError(
                f"cleanup of {target.name} stopped at {exc.step.describe()} after "
                f"{len(exc.result.steps_done)} deletion(s): {exc.cause}",
                f"run cleanup --apply again to finish, or put everything back: "
                f"vectora-release restore --env {target.name} --snapshot {snapshot.id}",
            ) from exc
        report.deleted = list(result.steps_done)
        return report
    finally:
        target.release_lock(lock)
