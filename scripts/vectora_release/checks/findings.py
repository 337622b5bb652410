"""Compare what an environment runs with what its ledger record and manifest say it should.

One mechanism for ``validate`` (integrity, contract and config checks) and ``drift``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..aws import s3util
from ..aws.lambda_ import (
    ALIAS,
    FunctionConfiguration,
    alias_version,
    if_exists,
    layer_code_sha256,
)
from ..build.manifest import CONFIG_BUNDLE, Manifest
from ..common.digest import sha256_hex
from ..common.errors import InputError, IntegrityError
from ..config.model import CONFIG_PREFIX_VAR
from ..config.variables import MASK, SSM_PREFIX, is_secret_key
from ..deploy.desired import bundle_objects
from ..deploy.target import Target
from ..store.artifacts import ArtifactStore
from ..store.ledger import DeploymentRecord

INTEGRITY, CONTRACT, CONFIG = "integrity", "contract", "config"


@dataclass(frozen=True)
class Finding:
    """One difference between the expected and the live state."""

    check: str
    subject: str
    field: str
    expected: str | None
    actual: str | None

    @property
    def short(self) -> str:
        """The difference without its subject."""
        if self.actual is None:
            return f"{self.field} missing (expected {self.expected})"
        if self.expected is None:
            return f"unexpected {self.field} ({self.actual})"
        return f"{self.field} is {self.actual}, expected {self.expected}"

    @property
    def message(self) -> str:
        return f"{self.subject}: {self.short}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "subject": self.subject,
            "field": self.field,
            "expected": self.expected,
            "actual": self.actual,
            "message": self.message,
        }


@dataclass(frozen=True)
class FunctionView:
    """What the alias of one function runs (None when the alias is missing)."""

    function: str
    resource: str
    configuration: dict[str, Any] | None
    layers: list[tuple[str, str | None]]  # (ARN, CodeSha256) in order
    latest: dict[str, Any] | None = None  # $LATEST: what a bare-name invoke runs


def view_function(target: Target, function: str) -> FunctionView:
    resource = target.config.function_resource(function, target.name)
    lam = target.lam
    version = alias_version(lam, resource)
    conf = None
    if version is not None:
        conf = if_exists(lam.get_function_configuration, FunctionName=resource, Qualifier=version)
    if conf is None:
        return FunctionView(function, resource, None, [])
    layers = [(x["Arn"], layer_code_sha256(lam, x["Arn"])) for x in conf.get("Layers", [])]
    latest = if_exists(lam.get_function_configuration, FunctionName=resource)
    return FunctionView(function, resource, conf, layers, latest)


def function_findings(
    target: Target, manifest: Manifest, record: DeploymentRecord, view: FunctionView
) -> list[Finding]:
    """Integrity and contract differences of one function against record and manifest."""
    fn, subject = view.function, view.resource
    expected_version = record.functions[fn].version if fn in record.functions else None
    conf = view.configuration
    if conf is None:
        return [Finding(INTEGRITY, subject, f"alias {ALIAS}", expected_version, None)]
    found: list[Finding] = []
    if expected_version is not None and str(conf.get("Version")) != expected_version:
        found.append(
            Finding(
                INTEGRITY,
                subject,
                f"alias {ALIAS} version",
                expected_version,
                str(conf.get("Version")),
            )
        )
    artifact = manifest.artifact(fn)
    if conf.get("CodeSha256") != artifact.code_sha256:
        found.append(
            Finding(
                INTEGRITY, subject, "code CodeSha256", artifact.code_sha256, conf.get("CodeSha256")
            )
        )
    spec = manifest.functions[fn]
    wanted_layers = list(spec.layers)
    for index, (arn, code) in enumerate(view.layers):
        if index >= len(wanted_layers):
            found.append(Finding(CONTRACT, subject, "layer", None, arn))
            continue
        name = wanted_layers[index]
        want = manifest.artifact(name).code_sha256
        if code != want:
            found.append(
                Finding(INTEGRITY, subject, f"layer {name} CodeSha256 ({arn})", want, code)
            )
    for name in wanted_layers[len(view.layers) :]:
        found.append(
            Finding(CONTRACT, subject, f"layer {name}", manifest.artifact(name).file, None)
        )
    for field_name, key in FunctionConfiguration.SCALARS:
        want = getattr(spec, field_name)
        if conf.get(key) != want:
            found.append(Finding(CONTRACT, subject, field_name, str(want), str(conf.get(key))))
    found.extend(env_findings(target, fn, subject, record, conf))
    found.extend(latest_findings(target, fn, record, view))
    return found


def latest_findings(
    target: Target, function: str, record: DeploymentRecord, view: FunctionView
) -> list[Finding]:
    """``$LATEST`` against what alias ``live`` runs: code, layers, scalars, env (masked).

    Operators' scripts and console edits use the bare function name, i.e. ``$LATEST``: a
    difference there is drift even when the alias is as recorded.
    """
    live, latest = view.configuration, view.latest
    if live is None or latest is None:
        return []
    found: list[Finding] = []

    def differs(what: str, expected: str | None, actual: str | None) -> None:
        if expected != actual:
            found.append(Finding(CONTRACT, view.resource, f"$LATEST {what}", expected, actual))

    differs("code CodeSha256", live["CodeSha256"], latest.get("CodeSha256"))
    ours, theirs = (
        FunctionConfiguration.from_lambda(live),
        FunctionConfiguration.from_lambda(latest),
    )
    differs("layers", ", ".join(ours.layers) or "-", ", ".join(theirs.layers) or "-")
    for name, _ in FunctionConfiguration.SCALARS:
        differs(name, str(getattr(ours, name)), str(getattr(theirs, name)))
    shown = _masker(target, function, record)
    want, have = ours.env_dict(), theirs.env_dict()
    for key in sorted(set(want) | set(have)):
        if want.get(key) != have.get(key):  # compared unmasked, shown masked
            found.append(
                Finding(
                    CONTRACT,
                    view.resource,
                    f"$LATEST env {key}",
                    shown(key, want.get(key)),
                    shown(key, have.get(key)),
                )
            )
    return found


def _masker(target: Target, function: str, record: DeploymentRecord) -> Any:
    """``shown(key, value)``: the value, or the mask for a secret or ``ssm:`` variable."""
    state = record.functions.get(function)
    declared = target.declared_env([function], {function: state.env if state else None})
    declared_fn = declared[function]

    def shown(key: str, value: str | None) -> str | None:
        hidden = is_secret_key(key) or declared_fn.get(key, "").startswith(SSM_PREFIX)
        return MASK if value is not None and hidden else value

    return shown


def env_findings(
    target: Target, function: str, subject: str, record: DeploymentRecord, conf: dict[str, Any]
) -> list[Finding]:
    """Env vars added, removed or changed against the declared values.

    ``ssm:`` references are compared as references (functions resolve them at run time, so a
    rotated secret is no drift); a value that may be a secret is masked.
    """
    state = record.functions.get(function)
    declared = target.declared_env([function], {function: state.env if state else None})[function]
    wanted = {**declared, CONFIG_PREFIX_VAR: record.config_prefix or ""}
    live = (conf.get("Environment") or {}).get("Variables", {})

    def shown(key: str, value: str | None) -> str | None:
        if value is None or value.startswith(SSM_PREFIX):
            return value  # a reference names where the secret is, not what it is
        hidden = is_secret_key(key) or declared.get(key, "").startswith(SSM_PREFIX)
        return MASK if hidden else value

    found = []
    for key in sorted(set(wanted) | set(live)):
        if wanted.get(key) != live.get(key):
            expected = shown(key, wanted.get(key))
            found.append(
                Finding(CONTRACT, subject, f"env {key}", expected, shown(key, live.get(key)))
            )
    return found


def config_findings(
    target: Target, manifest: Manifest, record: DeploymentRecord, bundle: bytes
) -> list[Finding]:
    """Every object of the bundle present under the prefix with its digest; nothing else."""
    bucket = target.spec.buckets["config"]
    prefix = record.config_prefix or ""
    wanted = {k: sha256_hex(v) for k, v in bundle_objects(bundle).items()}
    found = []
    live_keys = {key[len(prefix) :] for key in s3util.keys(target.s3, bucket, prefix)}
    for key in sorted(set(wanted) | live_keys):
        subject = f"s3://{bucket}/{prefix}{key}"
        if key not in live_keys:
            found.append(Finding(CONFIG, subject, "object", wanted[key][:12], None))
        elif key not in wanted:
            found.append(Finding(CONFIG, subject, "object (not in the release)", None, "present"))
        else:
            data = s3util.get_bytes(target.s3, bucket, prefix + key) or b""
            actual = sha256_hex(data)
            if actual != wanted[key]:
                found.append(Finding(CONFIG, subject, "sha256", wanted[key][:12], actual[:12]))
    return found


def all_findings(
    target: Target, manifest: Manifest, record: DeploymentRecord
) -> tuple[list[Finding], dict[str, FunctionView]]:
    """Integrity, contract and config findings of the whole environment."""
    views = {fn: view_function(target, fn) for fn in sorted(manifest.functions)}
    found = [
        f for fn, view in views.items() for f in function_findings(target, manifest, record, view)
    ]
    bundle = target.store.fetch(manifest, CONFIG_BUNDLE)
    found += config_findings(target, manifest, record, bundle)
    return found, views


def manifest_of(target: Target, record: DeploymentRecord) -> Manifest:
    """The manifest a ledger record deployed, from the environment's store."""
    if record.snapshot is not None:
        raise InputError(
            f"{target.name} runs the state {record.kind} recorded from snapshot "
            f"{record.snapshot}, which no release manifest describes",
            f"deploy a release first: vectora-release deploy --env {target.name} --version …",
        )
    store = ArtifactStore(target.s3, record.artifact_bucket)
    manifest = store.find(commit=record.commit)
    if manifest.sha256 != record.manifest_sha256:
        raise IntegrityError(
            f"the stored manifest of {record.release_id} differs from the one "
            f"recorded in {record.id}"
        )
    return manifest
