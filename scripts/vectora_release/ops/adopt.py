"""Adopt functions made by hand: publish what runs, point ``live`` at it, tag it, record it.

For each function of ``release.yaml`` that exists without the ``ManagedBy`` tag, ``adopt``
publishes ``$LATEST`` as a version (``PublishVersion``), points alias ``live`` at it
(``CreateAlias``/``UpdateAlias``, through ``aws.lambda_.move_alias``) and tags it as managed
plus ``AdoptedFrom: <snapshot id>`` (``TagResource``, last: a function is tagged only once
its alias is in place). A snapshot is taken first, under the lock. The ledger record (kind
``adopt``) names the snapshot and, per function, the version, its ``CodeSha256`` and
configuration: ``rollback`` returns to exactly that (see ``ops.rollback``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..aws.lambda_ import if_exists
from ..checks.recorded import configuration, masked_env
from ..deploy.desired import MANAGED_BY
from ..deploy.executor import ApplyResult, DisplayOnlyExecutor, Executor
from ..deploy.live import FunctionLive, read_function
from ..deploy.pipeline import executor_for
from ..deploy.steps import Plan, PublishVersion, Step, TagResource, UpdateAlias
from ..deploy.target import Target
from ..store.ledger import SUCCEEDED, DeploymentRecord, FunctionState
from .recorded import RecordedRun, repair
from .snapshot import take_snapshot

ADOPTED = "adopted"
ADOPTED_FROM = "AdoptedFrom"


@dataclass
class AdoptReport:
    env: str
    outcome: str  # planned | up_to_date | adopted
    plan: list[str] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)  # runtime/handler vs release.yaml
    snapshot: str | None = None
    record_id: str | None = None
    recovered: list[str] = field(default_factory=list)  # runs left half-done, repaired

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def adopted_tags(target: Target, snapshot_id: str) -> dict[str, str]:
    """The tags of a managed function, with no release yet, plus ``AdoptedFrom``."""
    return {
        "Project": target.config.project,
        "Environment": target.name,
        "Version": ADOPTED,
        "Commit": "unknown",
        "ManagedBy": MANAGED_BY,
        ADOPTED_FROM: snapshot_id,
    }


def candidates(target: Target) -> dict[str, FunctionLive]:
    """Declared functions to adopt: unmanaged, or tagged by an adopt that was not recorded."""
    recorded = {
        r.snapshot for r in target.ledger.history() if r.kind == "adopt" and r.outcome == SUCCEEDED
    }
    out = {}
    for fn in sorted(target.config.functions):
        live = read_function(target.lam, target.config.function_resource(fn, target.name))
        if not live.exists:
            continue
        adopted_from = live.tags.get(ADOPTED_FROM)
        if not live.managed or (adopted_from and adopted_from not in recorded):
            out[fn] = live
    return out


def adopt_plan(target: Target, found: dict[str, FunctionLive], snapshot_id: str) -> Plan:
    """Publish every version, then move every alias, then tag: aliases move all together."""
    publish: list[Step] = [PublishVersion(fn, live.resource) for fn, live in found.items()]
    aliases: list[Step] = [
        UpdateAlias(fn, live.resource, None, live.alias.version if live.alias else None)
        for fn, live in found.items()
    ]
    tags = adopted_tags(target, snapshot_id)
    tagging: list[Step] = [TagResource(live.resource, tags) for live in found.values()]
    previous = {fn: live.alias.version if live.alias else None for fn, live in found.items()}
    return Plan(
        target.name, f"{ADOPTED}-{snapshot_id}", "", (*publish, *aliases, *tagging), previous
    )


def differences(target: Target, found: dict[str, FunctionLive]) -> list[str]:
    """What the next deploy will converge: runtime or handler unlike release.yaml."""
    out = []
    for fn, live in found.items():
        declared = target.config.functions[fn]
        assert live.latest is not None
        for name, have, want in (
            ("runtime", live.latest.config.runtime, target.config.runtime),
            ("handler", live.latest.config.handler, declared.handler),
        ):
            if have != want:
                out.append(f"{live.resource}: {name} {have}, release.yaml says {want}")
    return out


def adopt(target: Target, dry_run: bool = False, executor: Executor | None = None) -> AdoptReport:
    """Adopt the env's hand-made functions (see the module docstring)."""
    found = candidates(target)
    report = AdoptReport(target.name, "planned", differences=differences(target, found))
    if dry_run:
        shown = DisplayOnlyExecutor()
        shown.run(adopt_plan(target, found, "<snapshot id>"), None)
        report.plan = ["snapshot (functions, layers, config bucket)", *shown.shown]
        return report
    if not found:
        report.outcome = "up_to_date"
        report.recovered = repair(target, f"adopt {target.name}")
        return report
    executor = executor or executor_for(target)

    before: dict[str, dict[str, str]] = {}

    def prepare() -> tuple[Plan, dict[str, Any]]:
        again = candidates(target)  # under the lock: another run may have adopted some
        report.adopted = sorted(again)
        before.update({live.resource: dict(live.tags) for live in again.values()})
        snapshot = take_snapshot(target, reason="adopt")
        report.snapshot = snapshot.id
        plan = adopt_plan(target, again, snapshot.id)
        report.plan = plan.describe()
        fields = {
            "kind": "adopt",
            "version": ADOPTED,
            "commit": "",
            "release_id": plan.release_id,
            "manifest_sha256": snapshot.manifest_sha256,
            "artifact_bucket": target.spec.artifact_bucket,
            "snapshot": snapshot.id,
            "functions": {
                fn: FunctionState(live.resource, None, None, plan.previous_versions[fn])
                for fn, live in again.items()
            },
        }
        return plan, fields

    def fill(record: DeploymentRecord, result: ApplyResult) -> None:
        record_versions(target, record, result.versions)

    def undo(_result: ApplyResult) -> list[str]:
        return untag(target, before, report.snapshot or "")

    run = RecordedRun(target, f"adopt {target.name}", prepare, fill, executor, undo=undo)
    try:
        record = run.go()
    finally:
        report.recovered = run.recovered
    report.outcome, report.record_id = "adopted", record.id
    return report


def untag(target: Target, before: dict[str, dict[str, str]], snapshot_id: str) -> list[str]:
    """Tags this adopt added taken off again (a failed adopt leaves functions hand-made)."""
    notes = []
    for resource, tags in before.items():
        got = if_exists(target.lam.get_function, FunctionName=resource)
        now = (got or {}).get("Tags") or {}
        if now.get(ADOPTED_FROM) != snapshot_id:
            continue
        arn = got["Configuration"]["FunctionArn"]  # type: ignore[index]
        added = sorted(k for k in now if k not in tags)
        if added:
            target.lam.untag_resource(Resource=arn, TagKeys=added)
        changed = {k: v for k, v in tags.items() if now.get(k) != v}
        if changed:
            target.lam.tag_resource(Resource=arn, Tags=changed)
        notes.append(f"{resource}: tags as before")
    return notes


def record_versions(target: Target, record: DeploymentRecord, versions: dict[str, str]) -> None:
    """Version, CodeSha256, configuration and env (masked) of each function, as published."""
    for fn, state in record.functions.items():
        state.version = versions.get(fn, state.version)
        conf = if_exists(
            target.lam.get_function_configuration, FunctionName=state.name, Qualifier=state.version
        )
        if conf is None:
            continue
        state.code_sha256 = conf["CodeSha256"]
        state.config = configuration(conf)
        state.env = masked_env((conf.get("Environment") or {}).get("Variables", {}))[0]
