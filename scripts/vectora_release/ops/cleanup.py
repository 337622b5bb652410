"""Report, and with ``apply`` delete, what hand-made deployments left in an environment.

The leftovers (``docs/operations.md``, "Taking over an existing environment"):

- **layer**: a version of a ``<project>-*`` layer of the env that ``release.yaml`` does not
  declare (``…-approche-b-<env>``, ``…-yaml-fix-<env>``, ``<project>-dependencies``…);
- **unreferenced version**: a version of a declared layer that the tool did not publish;
- **config object**: an object of the config bucket outside ``releases/`` that no live
  function reads (its ``CONFIG_PREFIX`` names another prefix);
- **stale zip**: an object under ``layers/`` of ``<project>-lambda-code-<env>``.
- **trigger** (reported, never deleted): an EventBridge rule the tool did not make that may
  invoke a function's ``$LATEST`` (a statement of the function's resource policy names it).
  It would run beside the declared schedules, the weekly run twice; the snapshot saves the
  policy, not the rule, so it is removed by hand once the declared schedule replaces it.

A layer version any version of any function of the env uses (``$LATEST``, a published one —
a rollback target —) is never deleted: it is reported as kept. Nor is a layer with no
environment suffix (``<project>-dependencies``): other environments may use it, and the deploy
role of one environment may change only that environment's resources. ``apply`` takes the lock and a
snapshot in the same run before the first deletion, so ``restore`` brings everything back.
Client data (the data and newsletters buckets) is never looked at.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..aws import s3util
from ..aws.lambda_ import ALIAS, if_exists, policy_statements
from ..common.errors import InputError
from ..config.model import CONFIG_PREFIX_VAR
from ..deploy.desired import recorded_sha256
from ..deploy.executor import ApplyResult, DisplayOnlyExecutor, Executor
from ..deploy.pipeline import executor_for
from ..deploy.steps import DeleteLayerVersion, DeleteObject, Plan, Step
from ..deploy.target import Target
from ..store.ledger import DeploymentRecord
from .recorded import RecordedRun, repair
from .snapshot import (
    env_functions,
    env_layers,
    layer_versions,
    legacy_code_bucket,
    snapshots,
    take_snapshot,
)

RELEASES = "releases/"
STALE_PREFIX = "layers/"


@dataclass(frozen=True)
class Leftover:
    kind: str  # layer | unreferenced version | config object | stale zip | trigger
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
    recovered: list[str] = field(default_factory=list)  # runs left half-done, repaired

    def to_dict(self) -> dict[str, Any]:
        return {
            "recovered": self.recovered,
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
            if not layer.endswith(f"-{target.name}"):
                detail = "shared by every environment (no suffix): delete it by hand once unused"
                out.append((Leftover(kind, arn, "keep", detail), None))
            elif users:
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


def _trigger_leftovers(target: Target) -> list[tuple[Leftover, Step | None]]:
    """Rules allowed to invoke a function's ``$LATEST``: statements of its resource policy
    for EventBridge on the unqualified function.

    The declared schedules run alias ``live`` (their permission is on the alias), so every
    rule found here was made by someone else.
    """
    out: list[tuple[Leftover, Step | None]] = []
    for resource in env_functions(target):
        for statement in policy_statements(target.lam, resource):
            principal = statement.get("Principal", {})
            service = principal.get("Service") if isinstance(principal, dict) else principal
            if "events.amazonaws.com" not in (service if isinstance(service, list) else [service]):
                continue
            if not str(statement.get("Resource", "")).endswith(f":function:{resource}"):
                continue  # an alias or a version: not what the bare name runs
            source = json.dumps(statement.get("Condition", {}))
            rule = source.split(":rule/", 1)[1].split('"', 1)[0] if ":rule/" in source else "?"
            detail = (
                f"may invoke {resource} ($LATEST): not made by vectora-release, it runs beside "
                "the declared schedules; delete the rule by hand once they replace it"
            )
            out.append((Leftover("trigger", f"events rule {rule}", "keep", detail), None))
    return out


def leftovers(target: Target) -> list[tuple[Leftover, Step | None]]:
    """Every leftover with the step that deletes it (None: kept). Reads only."""
    return _layer_leftovers(target) + _object_leftovers(target) + _trigger_leftovers(target)


def cleanup(target: Target, apply: bool = False, executor: Executor | None = None) -> CleanupReport:
    """Report the leftovers; with ``apply``, snapshot then delete them under the lock.

    The deletions are recorded (kind ``cleanup``, naming the snapshot; never made current).
    A failed run puts back what it deleted, from the snapshot it took.
    """
    found = leftovers(target)
    report = CleanupReport(target.name, apply, [item for item, _ in found])
    if not apply:
        return report
    if not any(step for _, step in found):
        report.recovered = repair(target, f"cleanup {target.name}")
        return report
    holder: dict[str, Any] = {}

    def prepare() -> tuple[Plan, dict[str, Any]]:
        snapshot = take_snapshot(target, reason="cleanup")
        report.snapshot = snapshot.id
        again = leftovers(target)  # after the snapshot, under the lock
        report.leftovers = [item for item, _ in again]
        steps = tuple(step for _, step in again if step is not None)
        holder["plan"] = plan = Plan(target.name, f"cleanup-{snapshot.id}", "", steps, {})
        fields = {
            "kind": "cleanup",
            "version": "cleanup",
            "commit": "",
            "release_id": plan.release_id,
            "manifest_sha256": snapshot.manifest_sha256,
            "artifact_bucket": target.spec.artifact_bucket,
            "snapshot": snapshot.id,
        }
        return plan, fields

    def fill(_record: DeploymentRecord, result: ApplyResult) -> None:
        report.deleted = list(result.steps_done)

    def undo(result: ApplyResult) -> list[str]:
        done = holder["plan"].steps[: len(result.steps_done)]
        return put_back(target, report.snapshot or "", done)

    executor = executor or executor_for(target)
    run = RecordedRun(
        target, f"cleanup {target.name}", prepare, fill, executor, lambda _p: False, undo
    )
    if isinstance(executor, DisplayOnlyExecutor):
        executor.run(Plan(target.name, "cleanup", "", tuple(s for _, s in found if s), {}), None)
        return report
    try:
        run.go()
    finally:
        report.recovered = run.recovered
    return report


def put_back(target: Target, snapshot_id: str, deleted: tuple[Step, ...]) -> list[str]:
    """Publish again, or put again, what ``deleted`` removed, from snapshot ``snapshot_id``."""
    store = snapshots(target)
    doc, _ = store.load(snapshot_id)
    layers = {(x["name"], x["version"]): x for x in doc.get("layers", [])}
    objects = {(x["bucket"], x["key"]): x for x in doc.get("objects", [])}
    notes = []
    for step in deleted:
        if isinstance(step, DeleteLayerVersion):
            saved = layers[(step.layer, step.version)]
            target.lam.publish_layer_version(
                LayerName=step.layer,
                Description=saved.get("description", ""),
                Content={"ZipFile": store.blob(snapshot_id, saved["sha256"])},
                CompatibleRuntimes=saved.get("compatible_runtimes", []),
            )
            notes.append(f"{step.layer} v{step.version} published again")
        elif isinstance(step, DeleteObject):
            saved = objects[(step.bucket, step.key)]
            target.s3.put_object(
                Bucket=step.bucket, Key=step.key, Body=store.blob(snapshot_id, saved["sha256"])
            )
            notes.append(f"s3://{step.bucket}/{step.key} put back")
    return notes
