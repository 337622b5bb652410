"""Executors run a plan. :class:`AwsExecutor` is the only code that changes an environment;
:class:`DisplayOnlyExecutor` runs the same plan and makes no call (``--dry-run``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..aws.lambda_ import ALIAS, if_exists, move_alias
from ..build.manifest import Manifest
from ..common.cancel import Cancellation
from ..common.digest import code_sha256, hex_to_b64
from ..common.errors import CancelledError, IntegrityError
from ..store.artifacts import ArtifactStore
from .desired import DesiredState, FunctionSpecD
from .steps import (
    AddPermission,
    CopyObject,
    CreateFunction,
    CreateTopic,
    DeleteAlarms,
    DeleteLayerVersion,
    DeleteObject,
    DeleteRule,
    LayerRef,
    Plan,
    PublishLayerVersion,
    PublishLayerVersionFromSnapshot,
    PublishVersion,
    PutDashboard,
    PutFunctionConcurrency,
    PutMetricAlarm,
    PutObject,
    PutObjectFromSnapshot,
    PutRule,
    PutTargets,
    RemovePermission,
    RemoveTargets,
    Step,
    TagResource,
    UpdateAlias,
    UpdateFunctionCode,
    UpdateFunctionCodeFromSnapshot,
    UpdateFunctionConfiguration,
    UpdateFunctionConfigurationFromSnapshot,
)

Progress = Callable[[str], None]


@dataclass
class ApplyResult:
    """What has been done so far (also when a step failed)."""

    layer_arns: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    aliases_moved: list[tuple[str, str | None]] = field(default_factory=list)  # resource, prev
    steps_done: list[str] = field(default_factory=list)


class ApplyError(Exception):
    """A step failed; ``result`` says what had been done before it."""

    def __init__(self, step: Step, cause: BaseException, result: ApplyResult) -> None:
        super().__init__(f"{step.describe()} failed: {cause}")
        self.step = step
        self.cause = cause
        self.result = result


class Executor(Protocol):
    """Runs plans. ``writes`` is False for an executor that only shows them."""

    writes: bool

    def run(self, plan: Plan, desired: DesiredState | None) -> ApplyResult: ...

    def copy_release(self, step: CopyObject, manifest: Manifest) -> None: ...


class DisplayOnlyExecutor:
    """The dry run: takes the same plan, makes no call, keeps what it was shown."""

    writes = False

    def __init__(self) -> None:
        self.shown: list[str] = []

    def run(self, plan: Plan, desired: DesiredState | None) -> ApplyResult:
        self.shown += plan.describe()
        return ApplyResult(layer_arns=dict(plan.layer_arns))

    def copy_release(self, step: CopyObject, manifest: Manifest) -> None:
        self.shown.append(step.describe())


class AwsExecutor:
    """Runs plan steps against AWS, waiting for each function update to settle."""

    writes = True

    def __init__(
        self,
        lam: Any,
        s3: Any,
        iam: Callable[[], Any],
        progress: Progress | None = None,
        waiter_delay: int = 2,
        cancel: Cancellation | None = None,
        clients: Callable[[str], Any] | None = None,
    ) -> None:
        self.lam, self.s3 = lam, s3
        self.iam = iam  # made on first use: only a new function asks IAM (its role's ARN)
        self.clients = clients  # service → client: events, cloudwatch, sns
        self.progress = progress or (lambda _msg: None)
        self.waiter_delay = waiter_delay
        self.cancel = cancel or Cancellation()

    def run(self, plan: Plan, desired: DesiredState | None) -> ApplyResult:
        result = ApplyResult(layer_arns=dict(plan.layer_arns))
        for index, step in enumerate(plan.steps):
            if self.cancel.requested:  # the step boundary: stop before the next change
                stop = CancelledError(f"stopped before {step.describe()}: {self.cancel.reason}")
                raise ApplyError(step, stop, result)
            self._announce(plan.steps, index)
            try:
                self._apply(step, desired, result)
            except Exception as exc:
                raise ApplyError(step, exc, result) from exc
            result.steps_done.append(step.describe())
        return result

    def copy_release(self, step: CopyObject, manifest: Manifest) -> None:
        """Copy a release between artifact stores (verified; a bad copy is deleted again)."""
        dest = ArtifactStore(self.s3, step.dest_bucket)
        copied = dest.copy_from(ArtifactStore(self.s3, step.source_bucket), manifest)
        self.progress(f"copied {len(copied)} objects to s3://{step.dest_bucket}")

    def _announce(self, steps: tuple[Step, ...], index: int) -> None:
        """Progress line per step; a run of config uploads is announced once."""
        step = steps[index]
        if not isinstance(step, PutObject):
            self.progress(step.describe())
            return
        if index > 0 and isinstance(steps[index - 1], PutObject):
            return
        count = 1
        while index + count < len(steps) and isinstance(steps[index + count], PutObject):
            count += 1
        self.progress(f"PutObject x{count} under s3://{step.bucket}/{step.prefix}")

    # -- one step ---------------------------------------------------------------------------
    def _apply(self, step: Step, desired: Any, result: ApplyResult) -> None:
        # ``desired`` is None for plans of alias, version and tag steps only (adopt, restore)
        match step:
            case PublishLayerVersion():
                self._publish_layer(step, desired, result)
            case PutObject():
                self._put_object(step, desired)
            case DeleteObject(bucket=bucket, key=key):
                self.s3.delete_object(Bucket=bucket, Key=key)
            case CreateFunction():
                self._create_function(step, desired, result)
            case UpdateFunctionCode(function=spec):
                response = self.lam.update_function_code(
                    FunctionName=spec.resource, ZipFile=_code(spec, desired)
                )
                _check_code(spec.resource, response["CodeSha256"], spec.code_sha256)
                self._wait(spec.resource)
            case UpdateFunctionConfiguration(function=spec, layers=layers):
                arns = _layer_arns(layers, result)
                self.lam.update_function_configuration(
                    FunctionName=spec.resource, **spec.config.to_lambda(arns)
                )
                self._wait(spec.resource)
            case PutFunctionConcurrency(resource=resource, reserved=reserved):
                self.lam.put_function_concurrency(
                    FunctionName=resource, ReservedConcurrentExecutions=reserved
                )
            case TagResource(resource=resource, tags=tags):
                arn = self.lam.get_function(FunctionName=resource)["Configuration"]["FunctionArn"]
                self.lam.tag_resource(Resource=arn, Tags=dict(tags))
            case PublishVersion(function=function, resource=resource):
                version = self.lam.publish_version(FunctionName=resource)["Version"]
                result.versions[function] = version
            case UpdateAlias():
                self._update_alias(step, result)
            case DeleteLayerVersion(layer=layer, version=version):
                self.lam.delete_layer_version(LayerName=layer, VersionNumber=version)
            case _:
                self._apply_saved(step, result)

    def _apply_saved(self, step: Step, result: ApplyResult) -> None:
        """Steps that put back what a snapshot saved (``restore``)."""
        match step:
            case PublishLayerVersionFromSnapshot():
                response = self.lam.publish_layer_version(
                    LayerName=step.layer,
                    Description=step.description,
                    Content={"ZipFile": step.data},
                    CompatibleRuntimes=list(step.compatible_runtimes),
                )
                _check_code(step.layer, response["Content"]["CodeSha256"], step.code_sha256)
                result.layer_arns[step.saved_arn] = response["LayerVersionArn"]
            case UpdateFunctionCodeFromSnapshot(resource=resource, data=data):
                response = self.lam.update_function_code(FunctionName=resource, ZipFile=data)
                _check_code(resource, response["CodeSha256"], step.code_sha256)
                self._wait(resource)
            case UpdateFunctionConfigurationFromSnapshot():
                self.lam.update_function_configuration(
                    FunctionName=step.resource,
                    Handler=step.handler,
                    Runtime=step.runtime,
                    MemorySize=step.memory,
                    Timeout=step.timeout,
                    Layers=_layer_arns(step.layers, result),
                    Environment={"Variables": dict(step.env)},
                )
                self._wait(step.resource)
            case PutObjectFromSnapshot():
                extra = {"ContentType": step.content_type} if step.content_type else {}
                self.s3.put_object(
                    Bucket=step.bucket,
                    Key=step.key,
                    Body=step.data,
                    ChecksumAlgorithm="SHA256",
                    ChecksumSHA256=hex_to_b64(step.sha256),
                    **extra,
                )
            case _:
                self._monitor(step)

    def _monitor(self, step: Step) -> None:
        """Topic, schedule rules, alarms and dashboard (each call idempotent)."""
        assert self.clients is not None, "monitoring steps need the executor's clients"
        match step:
            case CreateTopic(name=name, tags=tags):
                self.clients("sns").create_topic(Name=name, Tags=_tag_list(tags))
            case PutRule(rule=rule, tags=tags):
                self.clients("events").put_rule(
                    Name=rule.name,
                    ScheduleExpression=rule.expression,
                    State=rule.state,
                    Description=f"vectora-release: runs {rule.function}:live",
                    Tags=_tag_list(tags),
                )
            case PutTargets(rule=rule):
                self.clients("events").put_targets(
                    Rule=rule.name,
                    Targets=[{"Id": "live", "Arn": rule.target_arn, "Input": rule.input}],
                )
            case AddPermission(rule=rule):
                self._add_permission(step)
            case PutMetricAlarm(alarm=alarm, tags=tags):
                self.clients("cloudwatch").put_metric_alarm(**alarm.params, Tags=_tag_list(tags))
            case PutDashboard(name=name, body=body):
                self.clients("cloudwatch").put_dashboard(DashboardName=name, DashboardBody=body)
            case RemoveTargets(rule=rule, ids=ids):
                if_exists(self.clients("events").remove_targets, Rule=rule, Ids=list(ids))
            case RemovePermission(function=function, qualifier=qualifier, statement=sid):
                kwargs = {"Qualifier": qualifier} if qualifier else {}
                if_exists(
                    self.lam.remove_permission, FunctionName=function, StatementId=sid, **kwargs
                )
            case DeleteRule(name=name):
                self.clients("events").delete_rule(Name=name)  # a missing rule is no error
            case DeleteAlarms(names=names):
                self.clients("cloudwatch").delete_alarms(AlarmNames=list(names))

    def _add_permission(self, step: AddPermission) -> None:
        """The rule's statement on alias live; one left by an earlier try is replaced."""
        rule = step.rule
        kwargs = {"FunctionName": rule.function, "Qualifier": ALIAS}
        if_exists(self.lam.remove_permission, StatementId=rule.name, **kwargs)
        self.lam.add_permission(
            StatementId=rule.name,
            Action="lambda:InvokeFunction",
            Principal="events.amazonaws.com",
            SourceArn=rule.arn,
            **kwargs,
        )

    def _publish_layer(
        self, step: PublishLayerVersion, desired: DesiredState, result: ApplyResult
    ) -> None:
        layer = step.layer
        response = self.lam.publish_layer_version(
            LayerName=layer.resource,
            Description=layer.description,
            Content={"ZipFile": desired.artifacts[layer.layer]},
            CompatibleRuntimes=list(desired.manifest.compatible_runtimes),
        )
        _check_code(layer.resource, response["Content"]["CodeSha256"], layer.code_sha256)
        result.layer_arns[layer.layer] = response["LayerVersionArn"]

    def _put_object(self, step: PutObject, desired: DesiredState) -> None:
        self.s3.put_object(
            Bucket=step.bucket,
            Key=step.key,
            Body=desired.bundle.objects[step.relative],
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=hex_to_b64(step.sha256),
            Metadata={"sha256": step.sha256},
        )

    def _create_function(
        self, step: CreateFunction, desired: DesiredState, result: ApplyResult
    ) -> None:
        spec = step.function
        role = self.iam().get_role(RoleName=spec.role)["Role"]["Arn"]
        response = self.lam.create_function(
            FunctionName=spec.resource,
            Role=role,
            Code={"ZipFile": _code(spec, desired)},
            Publish=False,
            Tags=dict(spec.tags),
            **spec.config.to_lambda(_layer_arns(step.layers, result)),
        )
        _check_code(spec.resource, response["CodeSha256"], spec.code_sha256)
        self._wait(spec.resource, "function_active_v2")

    def _update_alias(self, step: UpdateAlias, result: ApplyResult) -> None:
        target = step.version or result.versions[step.function]
        move_alias(self.lam, step.resource, target, step.previous)
        result.aliases_moved.append((step.resource, step.previous))
        result.versions[step.function] = target

    def _wait(self, resource: str, waiter: str = "function_updated_v2") -> None:
        """Block until ``LastUpdateStatus == Successful`` (or the function is Active)."""
        self.lam.get_waiter(waiter).wait(
            FunctionName=resource, WaiterConfig={"Delay": self.waiter_delay, "MaxAttempts": 300}
        )


def _tag_list(tags: Any) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(dict(tags).items())]


def _code(spec: FunctionSpecD, desired: DesiredState) -> bytes:
    data = desired.artifacts[spec.function]
    if code_sha256(data) != spec.code_sha256:
        raise IntegrityError(f"{spec.function}: bytes in memory differ from the manifest")
    return data


def _layer_arns(layers: tuple[str | LayerRef, ...], result: ApplyResult) -> list[str]:
    """Layer ARNs, those published earlier in the same plan included."""
    return [result.layer_arns[x.layer] if isinstance(x, LayerRef) else x for x in layers]


def _check_code(resource: str, reported: str, expected: str) -> None:
    if reported != expected:
        raise IntegrityError(
            f"{resource}: Lambda reports CodeSha256 {reported}, the manifest says {expected}"
        )
