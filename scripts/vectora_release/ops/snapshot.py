"""Take a restorable, verified snapshot of what an environment runs and holds.

What is saved (see ``docs/operations.md``, "Taking over an existing environment"):

- every function of ``release.yaml`` and every ``<project>-*-<env>`` function: configuration
  (secret-looking values masked, and marked so), code of ``$LATEST`` and of every version an
  alias names (downloaded, checked against ``CodeSha256``), tags, aliases, versions, reserved
  concurrency, event source mappings and resource policy (the triggers that target it);
- every layer version those functions use and every version of the env's ``<project>-*``
  layers, content included;
- every object of the config bucket and of the legacy code bucket, with its version id;
- with ``include_data``, the data bucket's ``curated/`` and the newsletters (copied, never
  written back by anything).

Snapshots only read the environment; they write to the artifact store only.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..aws import s3util
from ..aws.code import CodeRef
from ..aws.lambda_ import if_exists
from ..checks.recorded import configuration
from ..common.clock import iso
from ..common.digest import sha256_hex
from ..common.errors import InputError
from ..deploy.target import Target
from ..store.snapshots import SnapshotStore

WORKERS = 8
CURATED = "curated/"
NEWSLETTERS = "newsletters/"


@dataclass
class SnapshotReport:
    env: str
    id: str
    manifest_sha256: str
    functions: list[str]
    layer_versions: list[str]
    objects: int
    bytes: int
    masked: list[str]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def legacy_code_bucket(target: Target) -> str:
    """The bucket hand-made deployments uploaded zips to (``<project>-lambda-code-<env>``)."""
    return f"{target.config.project}-lambda-code-{target.name}"


def snapshots(target: Target) -> SnapshotStore:
    return SnapshotStore(target.s3, target.spec.artifact_bucket, target.name, target.clock)


def env_functions(target: Target) -> list[str]:
    """Resources of the declared functions and of every ``<project>-*-<env>`` function."""
    names = {target.config.function_resource(fn, target.name) for fn in target.config.functions}
    prefix, suffix = f"{target.config.project}-", f"-{target.name}"
    for page in target.lam.get_paginator("list_functions").paginate():
        for item in page.get("Functions", []):
            name = item["FunctionName"]
            if name.startswith(prefix) and name.endswith(suffix):
                names.add(name)
    return sorted(names)


def env_layers(target: Target) -> list[str]:
    """The env's ``<project>-*`` layers: its own suffix, or no environment suffix at all."""
    prefix = f"{target.config.project}-"
    others = tuple(f"-{env}" for env in target.config.environments if env != target.name)
    found = []
    for page in target.lam.get_paginator("list_layers").paginate():
        for item in page.get("Layers", []):
            name = item["LayerName"]
            if name.startswith(prefix) and not name.endswith(others):
                found.append(name)
    return sorted(found)


def layer_versions(target: Target, layer: str) -> list[dict[str, Any]]:
    paginator = target.lam.get_paginator("list_layer_versions")
    pages = if_exists(lambda: list(paginator.paginate(LayerName=layer))) or []
    return [item for page in pages for item in page.get("LayerVersions", [])]


class _Taker:
    """One snapshot being taken: blobs first, manifest last."""

    def __init__(self, target: Target, reason: str) -> None:
        self.target = target
        self.store = snapshots(target)
        self.id = self.store.new_id()
        self.blobs: dict[str, int] = {}
        self.doc: dict[str, Any] = {
            "id": self.id,
            "env": target.name,
            "region": target.spec.region,
            "taken_at": iso(target.clock()),
            "reason": reason,
            "functions": {},
            "layers": [],
            "objects": [],
        }

    def save(self, data: bytes) -> str:
        digest = sha256_hex(data)
        if digest not in self.blobs:  # the same bytes are saved once per snapshot
            self.store.put_blob(self.id, data)
            self.blobs[digest] = len(data)
        return digest

    def code(self, kind: str, name: str, qualifier: str, location: str | None, sha: str) -> str:
        ref = CodeRef(kind, self.target.spec.region, name, qualifier, location, sha)
        return self.save(self.target.fetch_code(ref))

    def function(self, resource: str) -> dict[str, Any] | None:
        lam = self.target.lam
        got = if_exists(lam.get_function, FunctionName=resource)
        if got is None:
            return None
        latest = got["Configuration"]
        versions = [
            configuration(v)
            for page in lam.get_paginator("list_versions_by_function").paginate(
                FunctionName=resource
            )
            for v in page.get("Versions", [])
        ]
        aliases = [
            {"Name": a["Name"], "FunctionVersion": a["FunctionVersion"]}
            for a in lam.list_aliases(FunctionName=resource).get("Aliases", [])
        ]
        code = {
            "$LATEST": self.code(
                "function",
                resource,
                "$LATEST",
                (got.get("Code") or {}).get("Location"),
                latest["CodeSha256"],
            )
        }
        for alias in aliases:
            version = alias["FunctionVersion"]
            if version not in code:
                found = lam.get_function(FunctionName=resource, Qualifier=version)
                code[version] = self.code(
                    "function",
                    resource,
                    version,
                    (found.get("Code") or {}).get("Location"),
                    found["Configuration"]["CodeSha256"],
                )
        return {
            "configuration": configuration(latest),
            "code": code,
            "tags": got.get("Tags") or {},
            "aliases": aliases,
            "versions": versions,
            "reserved_concurrency": (got.get("Concurrency") or {}).get(
                "ReservedConcurrentExecutions"
            ),
            "triggers": self.triggers(resource),
        }

    def triggers(self, resource: str) -> dict[str, Any]:
        lam = self.target.lam
        mappings = lam.list_event_source_mappings(FunctionName=resource).get(
            "EventSourceMappings", []
        )
        policy = if_exists(lam.get_policy, FunctionName=resource)
        return {
            "event_source_mappings": [
                {k: m.get(k) for k in ("UUID", "EventSourceArn", "BatchSize", "State")}
                for m in mappings
            ],
            "policy": None if policy is None else policy.get("Policy"),
        }

    def layer(self, arn: str, used_by: list[str]) -> dict[str, Any] | None:
        layer, _, number = arn.rpartition(":")
        found = if_exists(
            self.target.lam.get_layer_version, LayerName=layer, VersionNumber=int(number)
        )
        if found is None:
            return None
        content = found["Content"]
        sha = self.code(
            "layer",
            layer.rpartition(":")[2],
            number,
            content.get("Location"),
            content["CodeSha256"],
        )
        return {
            "arn": arn,
            "name": layer.rpartition(":")[2],
            "version": int(number),
            "code_sha256": content["CodeSha256"],
            "sha256": sha,
            "description": found.get("Description", ""),
            "compatible_runtimes": found.get("CompatibleRuntimes", []),
            "used_by": sorted(used_by),
        }

    def objects(self, bucket: str, prefix: str, role: str) -> None:
        s3 = self.target.s3
        try:
            keys = list(s3util.keys(s3, bucket, prefix))
        except InputError:  # no such bucket: nothing of that kind to save
            return

        def one(key: str) -> dict[str, Any]:
            response = s3util.get(s3, bucket, key) or {}
            data = response["Body"].read() if response else b""
            return {
                "bucket": bucket,
                "key": key,
                "version_id": response.get("VersionId"),
                "sha256": self.save(data),
                "size": len(data),
                "content_type": response.get("ContentType"),
                "role": role,
            }

        with ThreadPoolExecutor(max_workers=WORKERS) as pool:  # reads are latency-bound
            self.doc["objects"].extend(pool.map(one, keys))


def take_snapshot(
    target: Target, include_data: bool = False, reason: str = "snapshot"
) -> SnapshotReport:
    """Save everything listed in this module's docstring; returns what was saved."""
    taker = _Taker(target, reason)
    target.progress(f"snapshot {taker.id} of {target.name}")
    used: dict[str, list[str]] = {}
    for resource in env_functions(target):
        saved = taker.function(resource)
        if saved is None:
            continue
        taker.doc["functions"][resource] = saved
        for version in [saved["configuration"], *saved["versions"]]:
            for arn in version["Layers"]:
                used.setdefault(arn, []).append(f"{resource}:{version['Version']}")
    arns = set(used)
    for layer in env_layers(target):
        arns.update(item["LayerVersionArn"] for item in layer_versions(target, layer))
    for arn in sorted(arns):
        saved = taker.layer(arn, sorted(set(used.get(arn, []))))
        if saved is not None:
            taker.doc["layers"].append(saved)
    buckets = target.spec.buckets
    taker.objects(buckets["config"], "", "config")
    taker.objects(legacy_code_bucket(target), "", "code")
    if include_data:
        taker.objects(buckets["data"], CURATED, "data")
        taker.objects(buckets["data"], NEWSLETTERS, "data")
        taker.objects(buckets["newsletters"], "", "data")
    taker.doc["include_data"] = include_data
    taker.doc["blobs"] = dict(sorted(taker.blobs.items()))
    digest = taker.store.write_manifest(taker.id, taker.doc)
    masked = sorted(
        f"{fn}:{key}"
        for fn, saved in taker.doc["functions"].items()
        for key in saved["configuration"]["MaskedKeys"]
    )
    return SnapshotReport(
        env=target.name,
        id=taker.id,
        manifest_sha256=digest,
        functions=sorted(taker.doc["functions"]),
        layer_versions=[layer["arn"] for layer in taker.doc["layers"]],
        objects=len(taker.doc["objects"]),
        bytes=sum(taker.blobs.values()),
        masked=masked,
    )
