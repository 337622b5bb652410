"""The takeover commands in the fault matrix: adopt, cleanup --apply, restore.

Their starting states are built from the brown-field fixture (``local.brownfield``, small):

- ``adopt``: dev as the operators made it by hand;
- ``cleanup``: the same, adopted, then R1 deployed (the legacy items are all still there);
- ``restore``: that, after ``cleanup --apply`` (the latest snapshot holds every legacy item).

Their environments are not on a release, so "exactly one state" is a fingerprint (:func:`state`)
equal to the one before the run or the one a clean run leaves: for ``adopt``, per function, the
code alias ``live`` runs and whether it carries the managed and ``AdoptedFrom`` tags; for the
others, the content of every legacy layer version and legacy object, and each alias's version.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from support import Releases, target
from vectora_release.aws.lambda_ import alias_version, if_exists
from vectora_release.deploy.pipeline import deploy_release
from vectora_release.deploy.target import Target
from vectora_release.local.brownfield import build_brownfield
from vectora_release.ops.adopt import adopt
from vectora_release.ops.bootstrap import bootstrap
from vectora_release.ops.cleanup import RELEASES, cleanup, legacy_code_bucket
from vectora_release.ops.snapshot import env_layers, layer_versions


def _dev(releases: Releases) -> Target:
    dev = target(releases.config, "dev")
    bootstrap(dev)
    for built in (releases.r1, releases.r2):
        dev.store.publish(built.manifest, built.dist)
    build_brownfield(dev, small=True)
    return dev


def prepare_adopt(releases: Releases) -> None:
    _dev(releases)


def prepare_cleanup(releases: Releases) -> None:
    dev = _dev(releases)
    adopt(dev)
    deploy_release(dev, releases.r1.manifest)


def prepare_restore(releases: Releases) -> None:
    prepare_cleanup(releases)
    cleanup(target(releases.config, "dev"), apply=True)


def _objects(t: Target, bucket: str) -> dict[str, str]:
    out = {}
    for page in t.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            if not item["Key"].startswith(RELEASES):
                body = t.s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
                out[f"{bucket}/{item['Key']}"] = hashlib.sha256(body).hexdigest()
    return out


def state(t: Target, command: str) -> str:
    """The fingerprint of what ``command`` changes (see the module docstring)."""
    lam = t.lam
    functions: dict[str, Any] = {}
    for fn in sorted(t.config.functions):
        resource = t.config.function_resource(fn, t.name)
        got = if_exists(lam.get_function, FunctionName=resource) or {}
        tags = got.get("Tags") or {}
        version = alias_version(lam, resource)
        if command == "adopt":
            code = "-"
            if version is not None:
                conf = lam.get_function_configuration(FunctionName=resource, Qualifier=version)
                code = conf["CodeSha256"]
            functions[fn] = [code, "ManagedBy" in tags, "AdoptedFrom" in tags]
        else:
            functions[fn] = version
    found: dict[str, Any] = {"functions": functions}
    if command != "adopt":
        layers = {}
        for layer in env_layers(t):
            shas = []
            for item in layer_versions(t, layer):
                got = lam.get_layer_version(LayerName=layer, VersionNumber=item["Version"])
                if "vectora-release sha256=" not in got.get("Description", ""):
                    shas.append(got["Content"]["CodeSha256"])
            layers[layer] = sorted(shas)
        found["layers"] = layers
        found["objects"] = {
            **_objects(t, t.spec.buckets["config"]),
            **_objects(t, legacy_code_bucket(t)),
        }
    return json.dumps(found, sort_keys=True)
