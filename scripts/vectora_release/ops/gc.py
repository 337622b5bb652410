"""Delete function and layer versions that nothing live or recent refers to."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..deploy import recovery
from ..deploy.desired import recorded_sha256
from ..deploy.live import read_function
from ..deploy.target import Target


@dataclass
class GcReport:
    env: str
    dry_run: bool
    deleted: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def gc(target: Target, keep: int = 5, dry_run: bool = False) -> GcReport:
    """Keep what alias ``live``, the last ``keep`` ledger records and every ``adopt`` record
    reference; delete the rest.

    Only resources the tool manages are touched: functions tagged ``ManagedBy`` and layer
    versions whose description carries the tool's digest mark. The environment's lock is held
    throughout, as a deploy holds it: a deploy publishes versions before its alias and record
    refer to them, so gc never runs beside one (a held lock → LockHeldError, exit 1). A dry
    run deletes nothing and writes nothing, so it takes no lock.
    """
    if dry_run:
        return _sweep(target, keep, dry_run)
    with target.locked(f"gc --keep {keep}") as beat:
        if beat.lock.took_over is not None:  # its holder is gone: repair before sweeping
            recovery.recover_interrupted(target)
        return _sweep(target, keep, dry_run)


def _sweep(target: Target, keep: int, dry_run: bool) -> GcReport:
    lam = target.lam
    report = GcReport(target.name, dry_run)
    history = target.ledger.history()
    # the last ``keep`` records, and every adopt: the way back to a hand-made engine stays
    records = history[:keep] + [r for r in history[keep:] if r.kind == "adopt"]
    wanted_versions: dict[str, set[str]] = {}
    wanted_layers: set[str] = set()
    for record in records:
        for fn, state in record.functions.items():
            versions = wanted_versions.setdefault(fn, set())
            versions.update(v for v in (state.version, state.previous_version) if v)
        wanted_layers.update(layer.arn for layer in record.layers.values())
    for fn in target.config.functions:
        live = read_function(lam, target.config.function_resource(fn, target.name))
        if not live.exists or not live.managed:
            continue
        keep_here = wanted_versions.get(fn, set())
        if live.alias is not None:
            keep_here.add(live.alias.version)
        paginator = lam.get_paginator("list_versions_by_function")
        for page in paginator.paginate(FunctionName=live.resource):
            for version in page.get("Versions", []):
                number = version["Version"]
                if number == "$LATEST":
                    continue
                label = f"{live.resource}:{number}"
                if number in keep_here:
                    wanted_layers.update(x["Arn"] for x in version.get("Layers", []))
                    report.kept.append(label)
                    continue
                report.deleted.append(label)
                if not dry_run:
                    target.cancel.check(f"deleting {label}")  # each delete stands alone
                    lam.delete_function(FunctionName=live.resource, Qualifier=number)
        wanted_layers.update(live.latest.config.layers if live.latest else ())
    for layer in target.config.layers:
        resource = target.config.layer_resource(layer, target.name)
        paginator = lam.get_paginator("list_layer_versions")
        for page in paginator.paginate(LayerName=resource):
            for item in page.get("LayerVersions", []):
                arn = item["LayerVersionArn"]
                if recorded_sha256(item.get("Description")) is None or arn in wanted_layers:
                    report.kept.append(arn)
                    continue
                report.deleted.append(arn)
                if not dry_run:
                    target.cancel.check(f"deleting {arn}")
                    lam.delete_layer_version(LayerName=resource, VersionNumber=item["Version"])
    return report


__all__ = ["GcReport", "gc"]
