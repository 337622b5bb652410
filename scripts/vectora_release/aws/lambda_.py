"""Lambda helpers: the one place alias ``live`` moves, existence checks, compared configuration.

Every alias create, update or delete goes through :func:`move_alias`; every "does this function,
alias, version or layer exist" goes through :func:`if_exists`; the configuration fields a
deploy sets and compares are those of :class:`FunctionConfiguration`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from .clients import ClientError, error_code

ALIAS = "live"
NOT_FOUND = "ResourceNotFoundException"
T = TypeVar("T")


def if_exists(call: Callable[..., T], **kwargs: Any) -> T | None:
    """``call(**kwargs)``, or None when Lambda answers that what it names does not exist."""
    try:
        return call(**kwargs)
    except ClientError as exc:
        if error_code(exc) == NOT_FOUND:
            return None
        raise


def policy_statements(lam: Any, resource: str, qualifier: str | None = None) -> list[dict]:
    """The statements of the resource policy of ``resource`` (or of its ``qualifier``); none
    when it has no policy."""
    extra = {"Qualifier": qualifier} if qualifier else {}
    answer = if_exists(lam.get_policy, FunctionName=resource, **extra)
    return [] if answer is None else list(json.loads(answer["Policy"]).get("Statement", []))


def alias_version(lam: Any, resource: str) -> str | None:
    """The version alias ``live`` of ``resource`` points at (None: no alias or no function)."""
    alias = if_exists(lam.get_alias, FunctionName=resource, Name=ALIAS)
    return None if alias is None else str(alias["FunctionVersion"])


def move_alias(lam: Any, resource: str, version: str | None, current: str | None) -> None:
    """Point alias ``live`` of ``resource`` at ``version`` (None: remove it), from ``current``.

    The only code that creates, updates or deletes the alias: deploy, recovery and rollback
    all move it here.
    """
    if version == current:
        return
    if version is None:
        lam.delete_alias(FunctionName=resource, Name=ALIAS)
    elif current is None:
        lam.create_alias(FunctionName=resource, Name=ALIAS, FunctionVersion=version)
    else:
        lam.update_alias(FunctionName=resource, Name=ALIAS, FunctionVersion=version)


def layer_code_sha256(lam: Any, arn: str) -> str | None:
    """CodeSha256 of a layer version given its ARN (``…:layer:<name>:<version>``)."""
    layer, _, number = arn.rpartition(":")
    found = if_exists(lam.get_layer_version, LayerName=layer, VersionNumber=int(number))
    return None if found is None else found["Content"].get("CodeSha256")


@dataclass(frozen=True)
class FunctionConfiguration:
    """The part of a function's configuration a release determines, comparable with live.

    ``layers`` are layer names in a desired state and ARNs once resolved or read from Lambda.
    """

    handler: str
    runtime: str
    memory: int
    timeout: int
    layers: tuple[str, ...]
    env: tuple[tuple[str, str], ...]

    # field → Lambda's name for it; layers and env are compared on their own
    SCALARS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("handler", "Handler"),
        ("runtime", "Runtime"),
        ("memory", "MemorySize"),
        ("timeout", "Timeout"),
    )

    @classmethod
    def from_lambda(cls, conf: dict[str, Any]) -> FunctionConfiguration:
        """Normalise a Lambda ``FunctionConfiguration`` (layers as ARNs)."""
        return cls(
            handler=conf.get("Handler", ""),
            runtime=conf.get("Runtime", ""),
            memory=int(conf.get("MemorySize", 0)),
            timeout=int(conf.get("Timeout", 0)),
            layers=tuple(layer["Arn"] for layer in conf.get("Layers", [])),
            env=tuple(sorted((conf.get("Environment") or {}).get("Variables", {}).items())),
        )

    def to_lambda(self, layer_arns: list[str]) -> dict[str, Any]:
        """The arguments CreateFunction and UpdateFunctionConfiguration take."""
        return {
            **{key: getattr(self, name) for name, key in self.SCALARS},
            "Layers": layer_arns,
            "Environment": {"Variables": self.env_dict()},
        }

    def env_dict(self) -> dict[str, str]:
        return dict(self.env)

    def changes(self, want: FunctionConfiguration, skip: str | None = None) -> tuple[str, ...]:
        """Names of what differs from ``want``; env keys are named, values never shown."""
        names = [name for name, _ in self.SCALARS] + ["layers"]
        changes = [n for n in names if n != skip and getattr(self, n) != getattr(want, n)]
        live_env, want_env = self.env_dict(), want.env_dict()
        keys = sorted(k for k in {*live_env, *want_env} if live_env.get(k) != want_env.get(k))
        if keys:
            changes.append("env " + ",".join(keys))
        return tuple(changes)
