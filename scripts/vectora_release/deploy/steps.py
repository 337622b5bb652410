"""Plan steps: small frozen dataclasses named after the AWS action they perform.

A :class:`Plan` is an ordered tuple of them, made by ``planner.make_plan`` (reads only) and
run by an executor (``executor.AwsExecutor`` writes, ``executor.DisplayOnlyExecutor`` only
shows). Each step can describe itself; that text is what ``--dry-run`` prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..aws.lambda_ import ALIAS
from .desired import FunctionSpecD, LayerSpecD
from .monitoring import AlarmD, RuleD


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


@dataclass(frozen=True)
class CopyObject:
    """Copy a release server side from another artifact store, every digest verified.

    Run before the plan by ``promote`` when the destination keeps its own store (its keys are
    written once: a copy that fails verification is deleted again).
    """

    source_bucket: str
    dest_bucket: str
    release_id: str
    count: int

    def describe(self) -> str:
        return (
            f"CopyObject {self.count} artifacts of {self.release_id} "
            f"s3://{self.source_bucket} → s3://{self.dest_bucket} "
            "(server side, every digest verified)"
        )


@dataclass(frozen=True)
class DeleteLayerVersion:
    """Delete a legacy layer version (``cleanup --apply``, after a snapshot holds it)."""

    layer: str
    version: int

    def describe(self) -> str:
        return f"DeleteLayerVersion {self.layer}:{self.version}"


@dataclass(frozen=True)
class PublishLayerVersionFromSnapshot:
    """Publish a saved layer version again (``restore``); later steps name it ``LayerRef(arn)``
    with the ARN it had when saved."""

    layer: str
    saved_arn: str
    code_sha256: str
    description: str
    compatible_runtimes: tuple[str, ...]
    data: bytes = field(repr=False, compare=False)

    def describe(self) -> str:
        return f"PublishLayerVersion {self.layer} (saved as {self.saved_arn.rsplit(':', 1)[-1]})"


@dataclass(frozen=True)
class UpdateFunctionCodeFromSnapshot:
    resource: str
    code_sha256: str
    data: bytes = field(repr=False, compare=False)

    def describe(self) -> str:
        return f"UpdateFunctionCode {self.resource} (saved code {self.code_sha256})"


@dataclass(frozen=True)
class UpdateFunctionConfigurationFromSnapshot:
    """Handler, runtime, memory, timeout, layers and env as saved (masked values kept live)."""

    resource: str
    handler: str
    runtime: str
    memory: int
    timeout: int
    layers: tuple[str | LayerRef, ...]
    env: Mapping[str, str] = field(repr=False)
    changes: tuple[str, ...] = ()

    def describe(self) -> str:
        return f"UpdateFunctionConfiguration {self.resource} ({', '.join(self.changes)})"


@dataclass(frozen=True)
class PutObjectFromSnapshot:
    bucket: str
    key: str
    sha256: str
    content_type: str | None
    data: bytes = field(repr=False, compare=False)

    def describe(self) -> str:
        return f"PutObject s3://{self.bucket}/{self.key} (saved sha256 {self.sha256[:12]}…)"


@dataclass(frozen=True)
class CreateTopic:
    """The environment's alerts topic (idempotent; operators add its subscribers)."""

    name: str
    tags: Mapping[str, str]

    def describe(self) -> str:
        return f"CreateTopic {self.name}"


@dataclass(frozen=True)
class PutRule:
    rule: RuleD
    tags: Mapping[str, str]
    why: str

    def describe(self) -> str:
        return f"PutRule {self.rule.name} {self.rule.expression} {self.rule.state} ({self.why})"


@dataclass(frozen=True)
class PutTargets:
    rule: RuleD

    def describe(self) -> str:
        return f"PutTargets {self.rule.name} → {self.rule.function}:{ALIAS}"


@dataclass(frozen=True)
class AddPermission:
    """Let the rule invoke alias ``live`` (a resource policy on the alias)."""

    rule: RuleD

    def describe(self) -> str:
        return f"AddPermission {self.rule.function}:{ALIAS} for events rule {self.rule.name}"


@dataclass(frozen=True)
class PutMetricAlarm:
    alarm: AlarmD
    tags: Mapping[str, str]
    why: str

    def describe(self) -> str:
        return f"PutMetricAlarm {self.alarm.name} ({self.why})"


@dataclass(frozen=True)
class PutDashboard:
    name: str
    body: str

    def describe(self) -> str:
        return f"PutDashboard {self.name}"


@dataclass(frozen=True)
class RemoveTargets:
    """Detach the targets of a rule no longer declared (a rule with targets cannot be deleted)."""

    rule: str
    ids: tuple[str, ...]

    def describe(self) -> str:
        return f"RemoveTargets {self.rule} ({', '.join(self.ids)}): no longer declared"


@dataclass(frozen=True)
class RemovePermission:
    """Withdraw the invoke permission a rule no longer declared had on an alias."""

    function: str
    qualifier: str
    statement: str  # the rule's name

    def describe(self) -> str:
        return f"RemovePermission {self.function}:{self.qualifier} for events rule {self.statement}"


@dataclass(frozen=True)
class DeleteRule:
    """A rule the tool made for the environment that release.yaml no longer declares."""

    name: str

    def describe(self) -> str:
        return f"DeleteRule {self.name}: no longer declared"


@dataclass(frozen=True)
class DeleteAlarms:
    """Alarms the tool made for the environment that release.yaml no longer declares."""

    names: tuple[str, ...]

    def describe(self) -> str:
        return f"DeleteAlarms {', '.join(self.names)}: no longer declared"


MonitorStep = (
    CreateTopic
    | PutRule
    | PutTargets
    | AddPermission
    | PutMetricAlarm
    | PutDashboard
    | RemoveTargets
    | RemovePermission
    | DeleteRule
    | DeleteAlarms
)

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
    | DeleteLayerVersion
    | PublishLayerVersionFromSnapshot
    | UpdateFunctionCodeFromSnapshot
    | UpdateFunctionConfigurationFromSnapshot
    | PutObjectFromSnapshot
    | MonitorStep
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
