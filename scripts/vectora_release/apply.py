"""The executor: the only code that changes an environment. Runs a plan step by step."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .aws import BotoCoreError, ClientError
from .digest import code_sha256, hex_to_b64
from .errors import IntegrityError
from .live import ALIAS
from .plan import (
    CreateFunction,
    DeleteObject,
    LayerRef,
    Plan,
    PublishLayerVersion,
    PublishVersion,
    PutFunctionConcurrency,
    PutObject,
    Step,
    TagResource,
    UpdateAlias,
    UpdateFunctionCode,
    UpdateFunctionConfiguration,
)
from .spec import DesiredState, FunctionSpecD

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


class Executor:
    """Runs plan steps against AWS, waiting for each function update to settle."""

    def __init__(
        self,
        lam: Any,
        s3: Any,
        iam: Any,
        desired: DesiredState,
        progress: Progress | None = None,
        waiter_delay: int = 2,
    ) -> None:
        self.lam, self.s3, self.iam = lam, s3, iam
        self.desired = desired
        self.progress = progress or (lambda _msg: None)
        self.waiter_delay = waiter_delay

    def run(self, plan: Plan) -> ApplyResult:
        result = ApplyResult(layer_arns=dict(plan.layer_arns))
        for index, step in enumerate(plan.steps):
            self._announce(plan.steps, index)
            try:
                self._apply(step, result)
            except Exception as exc:
                raise ApplyError(step, exc, result) from exc
            result.steps_done.append(step.describe())
        return result

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

    def restore_aliases(self, result: ApplyResult) -> tuple[list[str], list[str]]:
        """Move every alias this run moved back where it was (delete it if it was new).

        Carries on past a failure: returns (restored, could not be restored).
        """
        restored, failed = [], []
        for resource, previous in reversed(result.aliases_moved):
            try:
                if previous is None:
                    self.lam.delete_alias(FunctionName=resource, Name=ALIAS)
                else:
                    self.lam.update_alias(
                        FunctionName=resource, Name=ALIAS, FunctionVersion=previous
                    )
            except (ClientError, BotoCoreError) as exc:
                failed.append(f"{resource}:{ALIAS} → {previous or '(removed)'}: {exc}")
                continue
            restored.append(f"{resource}:{ALIAS} → {previous or '(removed)'}")
        return restored, failed

    # -- one step ---------------------------------------------------------------------------
    def _apply(self, step: Step, result: ApplyResult) -> None:
        lam = self.lam
        match step:
            case PublishLayerVersion(layer=layer):
                response = lam.publish_layer_version(
                    LayerName=layer.resource,
                    Description=layer.description,
                    Content={"ZipFile": self.desired.artifacts[layer.layer]},
                    CompatibleRuntimes=list(self.desired.manifest.compatible_runtimes),
                )
                self._check_code(
                    layer.resource, response["Content"]["CodeSha256"], layer.code_sha256
                )
                result.layer_arns[layer.layer] = response["LayerVersionArn"]
            case PutObject(bucket=bucket, relative=relative, sha256=sha256):
                self.s3.put_object(
                    Bucket=bucket,
                    Key=step.key,
                    Body=self.desired.bundle.objects[relative],
                    ChecksumAlgorithm="SHA256",
                    ChecksumSHA256=hex_to_b64(sha256),
                    Metadata={"sha256": sha256},
                )
            case DeleteObject(bucket=bucket, key=key):
                self.s3.delete_object(Bucket=bucket, Key=key)
            case CreateFunction(function=spec, layers=layers):
                role = self.iam.get_role(RoleName=spec.role)["Role"]["Arn"]
                response = lam.create_function(
                    FunctionName=spec.resource,
                    Role=role,
                    Code={"ZipFile": self._code(spec)},
                    Publish=False,
                    Tags=dict(spec.tags),
                    **self._configuration(spec, layers, result),
                )
                self._check_code(spec.resource, response["CodeSha256"], spec.code_sha256)
                self._wait(spec.resource, "function_active_v2")
            case UpdateFunctionCode(function=spec):
                response = lam.update_function_code(
                    FunctionName=spec.resource, ZipFile=self._code(spec)
                )
                self._check_code(spec.resource, response["CodeSha256"], spec.code_sha256)
                self._wait(spec.resource)
            case UpdateFunctionConfiguration(function=spec, layers=layers):
                lam.update_function_configuration(
                    FunctionName=spec.resource, **self._configuration(spec, layers, result)
                )
                self._wait(spec.resource)
            case PutFunctionConcurrency(resource=resource, reserved=reserved):
                lam.put_function_concurrency(
                    FunctionName=resource, ReservedConcurrentExecutions=reserved
                )
            case TagResource(resource=resource, tags=tags):
                arn = lam.get_function(FunctionName=resource)["Configuration"]["FunctionArn"]
                lam.tag_resource(Resource=arn, Tags=dict(tags))
            case PublishVersion(function=function, resource=resource):
                result.versions[function] = lam.publish_version(FunctionName=resource)["Version"]
            case UpdateAlias(
                function=function, resource=resource, version=version, previous=previous
            ):
                target = version or result.versions[function]
                if previous is None:
                    lam.create_alias(FunctionName=resource, Name=ALIAS, FunctionVersion=target)
                else:
                    lam.update_alias(FunctionName=resource, Name=ALIAS, FunctionVersion=target)
                result.aliases_moved.append((resource, previous))
                result.versions[function] = target

    def _code(self, spec: FunctionSpecD) -> bytes:
        data = self.desired.artifacts[spec.function]
        if code_sha256(data) != spec.code_sha256:
            raise IntegrityError(f"{spec.function}: bytes in memory differ from the manifest")
        return data

    def _configuration(
        self, spec: FunctionSpecD, layers: tuple[str | LayerRef, ...], result: ApplyResult
    ) -> dict[str, Any]:
        arns = [result.layer_arns[x.layer] if isinstance(x, LayerRef) else x for x in layers]
        config = spec.config
        return {
            "Handler": config.handler,
            "Runtime": config.runtime,
            "MemorySize": config.memory,
            "Timeout": config.timeout,
            "Layers": arns,
            "Environment": {"Variables": config.env_dict()},
        }

    def _check_code(self, resource: str, reported: str, expected: str) -> None:
        if reported != expected:
            raise IntegrityError(
                f"{resource}: Lambda reports CodeSha256 {reported}, the manifest says {expected}"
            )

    def _wait(self, resource: str, waiter: str = "function_updated_v2") -> None:
        """Block until ``LastUpdateStatus == Successful`` (or the function is Active)."""
        self.lam.get_waiter(waiter).wait(
            FunctionName=resource, WaiterConfig={"Delay": self.waiter_delay, "MaxAttempts": 300}
        )
