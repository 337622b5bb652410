"""Desired state vs live state → an ordered list of small, frozen steps (pure data).

Steps are named after the AWS action they perform. A plan is shown by ``--dry-run`` and run
by :mod:`apply`; the same object drives both. Aliases move last, all together, so a failure
before that point leaves every alias where it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from .config import CONFIG_PREFIX_VAR
from .errors import InputError
from .live import ALIAS, FunctionLive
from .spec import DesiredState, FunctionConfigSpec, FunctionSpecD, LayerSpecD

MASK = "****"


@dataclass(frozen=True)
class LayerRef:
    """The ARN of a layer version published earlier in the same plan."""

    layer: str


@dataclass(frozen=True)
class PublishLayerVersion:
    layer: LayerSpecD

    def describe(self) -> str:
        return f"PublishLayerVersion {self.layer.resource} (sha256 {self.layer.sha256[:12]}…)"


@dataclass(frozen=True)
class PutObject:
    bucket: str
    prefix: str
    relative: str
    sha256: str

    @property
    def key(self) -> str:
        return self.prefix + self.relative

    def describe(self) -> str:
        return f"PutObject s3://{self.bucket}/{self.key}"


@dataclass(frozen=True)
class DeleteObject:
    bucket: str
    key: str

    def describe(self) -> str:
        return f"DeleteObject s3://{self.bucket}/{self.key} (not part of the release)"


@dataclass(frozen=True)
class CreateFunction:
    function: FunctionSpecD
    layers: tuple[str | LayerRef, ...]

    def describe(self) -> str:
        return f"CreateFunction {self.function.resource} (code {self.function.code_sha256})"


@dataclass(frozen=True)
class UpdateFunctionCode:
    function: FunctionSpecD

    def describe(self) -> str:
        return f"UpdateFunctionCode {self.function.resource} (code {self.function.code_sha256})"


@dataclass(frozen=True)
class UpdateFunctionConfiguration:
    function: FunctionSpecD
    layers: tuple[str | LayerRef, ...]
    changes: tuple[str, ...]

    def describe(self) -> str:
        return f"UpdateFunctionConfiguration {self.function.resource} ({', '.join(self.changes)})"


@dataclass(frozen=True)
class PutFunctionConcurrency:
    resource: str
    reserved: int

    def describe(self) -> str:
        return f"PutFunctionConcurrency {self.resource} = {self.reserved}"


@dataclass(frozen=True)
class TagResource:
    resource: str
    tags: Mapping[str, str]

    def describe(self) -> str:
        return f"TagResource {self.resource} Version={self.tags.get('Version')}"


@dataclass(frozen=True)
class PublishVersion:
    function: str
    resource: str

    def describe(self) -> str:
        return f"PublishVersion {self.resource}"


@dataclass(frozen=True)
class UpdateAlias:
    """Point alias ``live`` at ``version`` (None: the version PublishVersion made)."""

    function: str
    resource: str
    version: str | None
    previous: str | None

    def describe(self) -> str:
        target = self.version or "the new version"
        verb = "CreateAlias" if self.previous is None else "UpdateAlias"
        return f"{verb} {self.resource}:{ALIAS} {self.previous or '-'} → {target}"


Step = (
    PublishLayerVersion
    | PutObject
    | DeleteObject
    | CreateFunction
    | UpdateFunctionCode
    | UpdateFunctionConfiguration
    | PutFunctionConcurrency
    | TagResource
    | PublishVersion
    | UpdateAlias
)


@dataclass(frozen=True)
class Plan:
    env: str
    release_id: str
    config_prefix: str
    steps: tuple[Step, ...]
    previous_versions: Mapping[str, str | None]  # function → alias version before the plan
    layer_arns: Mapping[str, str] = field(default_factory=dict)  # reused layer versions

    @property
    def empty(self) -> bool:
        return not self.steps

    def describe(self) -> list[str]:
        return [step.describe() for step in self.steps]


def make_plan(
    desired: DesiredState,
    functions: Mapping[str, FunctionLive],
    layer_arns: Mapping[str, str | None],
    bundle_live: Mapping[str, str | None],
    config_prefix: str,
) -> Plan:
    """Order the steps that take the environment from ``functions``/… to ``desired``.

    ``layer_arns`` maps each layer to a live version holding its content (None: publish);
    ``bundle_live`` is what lies under ``config_prefix`` (relative key → sha256).
    """
    steps: list[Step] = []
    refs: dict[str, str | LayerRef] = {}
    for layer in desired.layers:
        arn = layer_arns.get(layer.layer)
        if arn is None:
            steps.append(PublishLayerVersion(layer))
            refs[layer.layer] = LayerRef(layer.layer)
        else:
            refs[layer.layer] = arn

    wanted = desired.bundle.digests()
    for key in sorted(wanted):
        if bundle_live.get(key) != wanted[key]:
            steps.append(PutObject(desired.bundle.bucket, config_prefix, key, wanted[key]))
    for key in sorted(set(bundle_live) - set(wanted)):
        steps.append(DeleteObject(desired.bundle.bucket, config_prefix + key))

    switches: list[UpdateAlias] = []
    previous: dict[str, str | None] = {}
    for spec in desired.functions:
        live = functions[spec.function]
        previous[spec.function] = live.alias.version if live.alias else None
        layers = tuple(refs[name] for name in spec.config.layers)
        fn_steps, switch = _function_steps(spec, live, layers)
        steps.extend(fn_steps)
        if switch is not None:
            switches.append(switch)
    steps.extend(switches)
    reused = {name: ref for name, ref in refs.items() if isinstance(ref, str)}
    return Plan(
        desired.env, desired.manifest.release_id, config_prefix, tuple(steps), previous, reused
    )


def _function_steps(
    spec: FunctionSpecD, live: FunctionLive, layers: tuple[str | LayerRef, ...]
) -> tuple[list[Step], UpdateAlias | None]:
    wanted = replace(spec.config, layers=tuple(str(x) for x in layers))
    steps: list[Step] = []
    if not live.exists:
        steps.append(CreateFunction(spec, layers))
        steps.extend(_concurrency(spec, None))
        steps.append(PublishVersion(spec.function, spec.resource))
        return steps, UpdateAlias(spec.function, spec.resource, None, None)
    if not live.managed:
        raise InputError(
            f"function {spec.resource} exists but is not managed by vectora-release "
            "(no ManagedBy tag)",
            "the tool never modifies resources it did not create: rename or remove it",
        )
    steps.extend(_concurrency(spec, live.reserved_concurrency))
    pending = any(isinstance(x, LayerRef) for x in layers)
    if (
        live.alias is not None
        and not pending
        and _same(live.alias.code_sha256, live.alias.config, spec.code_sha256, wanted)
    ):
        return steps, None
    latest = live.latest
    assert latest is not None
    if latest.code_sha256 != spec.code_sha256:
        steps.append(UpdateFunctionCode(spec))
    changes = _config_changes(latest.config, wanted, "layers" if pending else None)
    if pending:  # a layer version is yet to be published: the layers will change
        changes = ("layers", *changes)
    if changes:
        steps.append(UpdateFunctionConfiguration(spec, layers, changes))
    if dict(live.tags) != {**live.tags, **spec.tags}:
        steps.append(TagResource(spec.resource, spec.tags))
    steps.append(PublishVersion(spec.function, spec.resource))
    previous = live.alias.version if live.alias else None
    return steps, UpdateAlias(spec.function, spec.resource, None, previous)


def _concurrency(spec: FunctionSpecD, current: int | None) -> list[Step]:
    wanted = spec.reserved_concurrency
    if wanted is None or wanted == current:
        return []
    return [PutFunctionConcurrency(spec.resource, wanted)]


def _same(code: str, config: FunctionConfigSpec, want_code: str, want: FunctionConfigSpec) -> bool:
    return code == want_code and config == want


def _config_changes(
    live: FunctionConfigSpec, want: FunctionConfigSpec, skip: str | None = None
) -> tuple[str, ...]:
    """Names of what differs; env keys are named, values never shown."""
    changes = []
    for name in ("handler", "runtime", "memory", "timeout", "layers"):
        if name != skip and getattr(live, name) != getattr(want, name):
            changes.append(name)
    live_env, want_env = live.env_dict(), want.env_dict()
    keys = sorted(k for k in set(live_env) | set(want_env) if live_env.get(k) != want_env.get(k))
    if keys:
        changes.append("env " + ",".join(keys))
    return tuple(changes)


def masked_env(spec: FunctionSpecD) -> dict[str, str]:
    """The function's env vars with secret values masked (for reports and logs)."""
    return {k: (MASK if k in spec.secret_keys else v) for k, v in spec.config.env}


__all__ = ["CONFIG_PREFIX_VAR", "Plan", "Step", "make_plan", "masked_env"]
