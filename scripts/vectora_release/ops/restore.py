"""Put an environment back as a snapshot holds it: layers, config objects, functions, aliases.

- **layers**: a saved layer version that no longer exists with its content is published again
  from the saved bytes (Lambda gives it a new number; functions are pointed at that one);
- **objects** of the config bucket and of the legacy code bucket: a missing or different one
  is put back from the saved bytes (objects added since are left alone; client data is never
  written);
- **functions**: ``$LATEST`` code and configuration as saved (a masked value keeps what runs
  now: secrets are never saved); alias ``live`` on the saved version when it still holds the
  saved code, else on a version published from the restored ``$LATEST``.

Tags, triggers and concurrency are reported by the snapshot, not changed. The run is recorded
as kind ``restore`` (see ``ops.recorded``) and checked against the snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..aws import s3util
from ..aws.lambda_ import ALIAS, alias_version, if_exists
from ..checks.recorded import config_differences, configuration
from ..common.digest import sha256_hex
from ..config.variables import MASK
from ..deploy.executor import ApplyResult, DisplayOnlyExecutor, Executor
from ..deploy.pipeline import executor_for
from ..deploy.steps import (
    LayerRef,
    Plan,
    PublishLayerVersionFromSnapshot,
    PublishVersion,
    PutObjectFromSnapshot,
    Step,
    UpdateAlias,
    UpdateFunctionCodeFromSnapshot,
    UpdateFunctionConfigurationFromSnapshot,
)
from ..deploy.target import Target
from ..store.ledger import DeploymentRecord, FunctionState
from ..store.snapshots import SnapshotStore
from .recorded import RecordedRun, repair
from .snapshot import layer_versions, snapshots

RESTORED_ROLES = ("config", "code")  # never "data"
FUNCTION_STEPS = (
    UpdateFunctionCodeFromSnapshot,
    UpdateFunctionConfigurationFromSnapshot,
    PublishVersion,
    UpdateAlias,
)


def changes_functions(plan: Plan) -> bool:
    """Whether the plan changes a function (else the restore is not made current)."""
    return any(isinstance(step, FUNCTION_STEPS) for step in plan.steps)


@dataclass
class RestoreReport:
    env: str
    snapshot: str
    outcome: str  # planned | up_to_date | restored
    plan: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    record_id: str | None = None
    recovered: list[str] = field(default_factory=list)  # runs left half-done, repaired

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class _Planned:
    steps: list[Step] = field(default_factory=list)
    aliases: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    republished: set[str] = field(default_factory=set)
    reused: dict[str, str] = field(default_factory=dict)  # saved ARN → live ARN, same content
    # (bucket, key) → the bytes there before (None: absent), for the undo of a failed run
    before: dict[tuple[str, str], bytes | None] = field(default_factory=dict)
    # function key → (resource, version or None: published by the plan, saved configuration)
    expected: dict[str, tuple[str, str | None, dict[str, Any]]] = field(default_factory=dict)


def _layers(target: Target, store: SnapshotStore, sid: str, doc: dict, out: _Planned) -> None:
    """A saved layer version whose content no version of its layer holds is published again."""
    contents: dict[str, dict[str, str]] = {}  # layer → CodeSha256 → live ARN
    for saved in doc.get("layers", []):
        name = saved["name"]
        if name not in contents:
            contents[name] = _layer_contents(target, name)
        live = contents[name].get(saved["code_sha256"])
        if live is not None:
            if live != saved["arn"]:
                out.reused[saved["arn"]] = live
            continue
        contents[name][saved["code_sha256"]] = saved["arn"]  # published once, by this plan
        out.republished.add(saved["arn"])
        out.steps.append(
            PublishLayerVersionFromSnapshot(
                saved["name"],
                saved["arn"],
                saved["code_sha256"],
                saved.get("description", ""),
                tuple(saved.get("compatible_runtimes", [])),
                store.blob(sid, saved["sha256"]),
            )
        )


def _layer_contents(target: Target, layer: str) -> dict[str, str]:
    out = {}
    for item in sorted(layer_versions(target, layer), key=lambda x: -int(x["Version"])):
        number = int(item["Version"])
        found = if_exists(target.lam.get_layer_version, LayerName=layer, VersionNumber=number)
        if found is not None:
            out.setdefault(found["Content"]["CodeSha256"], item["LayerVersionArn"])
    return out


def _objects(target: Target, store: SnapshotStore, sid: str, doc: dict, out: _Planned) -> None:
    for saved in doc.get("objects", []):
        if saved["role"] not in RESTORED_ROLES:
            continue
        live = s3util.get_bytes(target.s3, saved["bucket"], saved["key"])
        if live is not None and sha256_hex(live) == saved["sha256"]:
            continue
        out.before[(saved["bucket"], saved["key"])] = live
        out.steps.append(
            PutObjectFromSnapshot(
                saved["bucket"],
                saved["key"],
                saved["sha256"],
                saved.get("content_type"),
                store.blob(sid, saved["sha256"]),
            )
        )


def _function(
    target: Target,
    store: SnapshotStore,
    sid: str,
    key: str,
    resource: str,
    saved: dict,
    out: _Planned,
) -> None:
    lam = target.lam
    live = if_exists(lam.get_function, FunctionName=resource)
    if live is None:
        out.notes.append(f"{resource}: no longer exists; not recreated")
        return
    want = saved["configuration"]
    now = configuration(live["Configuration"])
    if now["CodeSha256"] != want["CodeSha256"]:
        data = store.blob(sid, saved["code"]["$LATEST"])
        out.steps.append(UpdateFunctionCodeFromSnapshot(resource, want["CodeSha256"], data))
    live_env = (live["Configuration"].get("Environment") or {}).get("Variables", {})
    env = {k: (live_env[k] if v == MASK else v) for k, v in want["Environment"].items()
           if v != MASK or k in live_env}  # fmt: skip
    out.notes += [
        f"{resource}: {k} was masked in the snapshot and is gone: set it by hand"
        for k, v in want["Environment"].items()
        if v == MASK and k not in live_env
    ]
    layers = tuple(
        LayerRef(a) if a in out.republished else out.reused.get(a, a) for a in want["Layers"]
    )
    changes = tuple(config_differences(want, now))
    if changes or any(isinstance(x, LayerRef) for x in layers):
        out.steps.append(
            UpdateFunctionConfigurationFromSnapshot(
                resource,
                want["Handler"],
                want["Runtime"],
                want["MemorySize"],
                want["Timeout"],
                layers,
                env,
                changes or ("layers",),
            )
        )
    _alias(target, key, resource, saved, out)


def _alias(target: Target, key: str, resource: str, saved: dict, out: _Planned) -> None:
    wanted = next((a["FunctionVersion"] for a in saved["aliases"] if a["Name"] == ALIAS), None)
    current = alias_version(target.lam, resource)
    if wanted is None:
        if current is not None:
            out.notes.append(f"{resource}: alias {ALIAS} kept on {current} (the snapshot had none)")
        return
    versions = {v["Version"]: v for v in saved["versions"]}
    saved_version = versions.get(wanted, saved["configuration"])
    live = if_exists(target.lam.get_function_configuration, FunctionName=resource, Qualifier=wanted)
    if live is not None and live["CodeSha256"] == saved_version["CodeSha256"]:
        out.expected[key] = (resource, wanted, saved_version)
        if current != wanted:
            out.aliases.append(UpdateAlias(key, resource, wanted, current))
        return
    if saved_version["CodeSha256"] != saved["configuration"]["CodeSha256"]:
        out.notes.append(f"{resource}: version {wanted} is gone and $LATEST held other code")
        return
    out.expected[key] = (resource, None, saved["configuration"])
    out.steps.append(PublishVersion(key, resource))
    out.aliases.append(UpdateAlias(key, resource, None, current))


def restore_plan(target: Target, snapshot_id: str) -> tuple[Plan, _Planned, str]:
    """The steps that put back what ``snapshot_id`` holds (reads only); unknown id: exit 2."""
    store = snapshots(target)
    doc, digest = store.load(snapshot_id)
    snapshot_id = doc["id"]  # "latest" resolved
    out = _Planned()
    _layers(target, store, snapshot_id, doc, out)
    _objects(target, store, snapshot_id, doc, out)
    keys = {target.config.function_resource(fn, target.name): fn for fn in target.config.functions}
    for resource, saved in sorted(doc.get("functions", {}).items()):
        _function(target, store, snapshot_id, keys.get(resource, resource), resource, saved, out)
    previous = {
        key: alias_version(target.lam, resource) for key, (resource, _, _) in out.expected.items()
    }
    steps = (*out.steps, *out.aliases)
    plan = Plan(target.name, f"snapshot-{snapshot_id}", "", steps, previous, out.reused)
    return plan, out, digest


def restore(
    target: Target, snapshot_id: str, dry_run: bool = False, executor: Executor | None = None
) -> RestoreReport:
    """Put ``target`` back as snapshot ``snapshot_id`` holds it (see the module docstring)."""
    plan, planned, _ = restore_plan(target, snapshot_id)
    snapshot_id = plan.release_id.removeprefix("snapshot-")
    report = RestoreReport(target.name, snapshot_id, "planned", plan.describe(), planned.notes)
    if dry_run:
        DisplayOnlyExecutor().run(plan, None)
        return report
    if plan.empty:
        report.outcome = "up_to_date"
        report.recovered = repair(target, f"restore {snapshot_id}")
        return report
    holder: dict[str, Any] = {}

    def prepare() -> tuple[Plan, dict[str, Any]]:
        again, planned_again, digest = restore_plan(target, snapshot_id)  # under the lock
        holder["planned"], holder["plan"] = planned_again, again
        report.plan, report.notes = again.describe(), planned_again.notes
        return again, _record_fields(target, snapshot_id, again, planned_again, digest)

    def fill(record: DeploymentRecord, result: ApplyResult) -> None:
        _fill_record(record, holder["planned"], result)

    def undo(result: ApplyResult) -> list[str]:
        return _undo(target, holder["plan"], holder["planned"], result)

    run = RecordedRun(
        target,
        f"restore {snapshot_id}",
        prepare,
        fill,
        executor or executor_for(target),
        changes_functions,
        undo,
    )
    try:
        record = run.go()
    finally:
        report.recovered = run.recovered
    report.outcome, report.record_id = "restored", record.id
    return report


def _record_fields(
    target: Target, snapshot_id: str, plan: Plan, planned: _Planned, digest: str
) -> dict[str, Any]:
    """The ledger record of a restore: kind ``restore``, naming the snapshot and its digest."""
    return {
        "kind": "restore",
        "version": "snapshot",
        "commit": "",
        "release_id": plan.release_id,
        "manifest_sha256": digest,
        "artifact_bucket": target.spec.artifact_bucket,
        "snapshot": snapshot_id,
        "functions": {
            key: FunctionState(resource, None, None, plan.previous_versions[key])
            for key, (resource, _, _) in planned.expected.items()
        }
        if changes_functions(plan)
        else {},
    }


def _fill_record(record: DeploymentRecord, planned: _Planned, result: ApplyResult) -> None:
    """What each restored function runs now: version, CodeSha256, configuration."""
    for key, (_, version, saved) in planned.expected.items():
        state = record.functions.get(key)
        if state is None:  # functions untouched: not recorded
            continue
        state.version = version or result.versions.get(key)
        state.code_sha256 = saved["CodeSha256"]
        if version is None:  # published from the restored $LATEST: layers as restored
            layers = [result.layer_arns.get(a, a) for a in saved["Layers"]]
            saved = {**saved, "Layers": layers}
        state.config = saved


def _undo(target: Target, plan: Plan, planned: _Planned, result: ApplyResult) -> list[str]:
    """Take back the layer versions and objects a failed restore put back (aliases are moved
    back by the caller; ``$LATEST`` changes stand, as in a failed deploy)."""
    notes = []
    for step in reversed(plan.steps[: len(result.steps_done)]):
        if isinstance(step, PublishLayerVersionFromSnapshot):
            arn = result.layer_arns[step.saved_arn]
            layer, _, number = arn.rpartition(":")
            target.lam.delete_layer_version(LayerName=layer, VersionNumber=int(number))
            notes.append(f"DeleteLayerVersion {step.layer}:{number}")
        elif isinstance(step, PutObjectFromSnapshot):
            previous = planned.before.get((step.bucket, step.key))
            if previous is None:
                target.s3.delete_object(Bucket=step.bucket, Key=step.key)
            else:
                target.s3.put_object(Bucket=step.bucket, Key=step.key, Body=previous)
            notes.append(f"s3://{step.bucket}/{step.key} as before")
    return notes
