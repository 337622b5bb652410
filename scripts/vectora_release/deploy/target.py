"""One environment with its clients, store and ledger: what deploy, validate… operate on."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..aws.clients import Aws, BotoCoreError, ClientError, error_code
from ..common.clock import Clock, utcnow
from ..common.errors import InputError
from ..config.model import SSM_PREFIX, EnvironmentSpec, ReleaseConfig
from ..store.artifacts import ArtifactStore
from ..store.ledger import Ledger
from ..store.lock import Lock

Progress = Callable[[str], None]
Sleep = Callable[[float], None]
# How the checks run a function's deployed code: ``runner(target, view, event, manifest)``
# returns an invocation. None: Lambda's Invoke on alias ``live``. On the embedded AWS, which
# cannot run code, the CLI hands in the local runner (``local.runner``).
FunctionRunner = Callable[..., Any]


@dataclass
class Target:
    """An environment as the commands see it."""

    config: ReleaseConfig
    spec: EnvironmentSpec
    aws: Aws
    clock: Clock = utcnow
    progress: Progress = field(default=lambda _msg: None)
    waiter_delay: int = 2
    runner: FunctionRunner | None = None
    sleep: Sleep = time.sleep  # the bake waits through this (tests advance a clock instead)

    def __post_init__(self) -> None:
        check_account(self.spec, self.aws)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def lam(self) -> Any:
        return self.aws.lambda_(self.spec.region)

    @property
    def s3(self) -> Any:
        return self.aws.s3(self.spec.region)

    def client(self, service: str) -> Any:
        """A client of ``service`` in the environment's region (events, cloudwatch, sns…)."""
        return self.aws.client(service, self.spec.region)

    @property
    def store(self) -> ArtifactStore:
        return ArtifactStore(self.aws.s3(self.spec.region), self.spec.artifact_bucket)

    @property
    def ledger(self) -> Ledger:
        return Ledger(self.s3, self.spec.artifact_bucket, self.name, self.clock)

    def declared_env(
        self, functions: list[str], recorded: Mapping[str, Mapping[str, str] | None] | None = None
    ) -> dict[str, dict[str, str]]:
        """Declared values per function: as ``recorded`` in a ledger record, else release.yaml."""
        return {
            fn: dict((recorded or {}).get(fn) or self.config.declared_env(fn, self.name))
            for fn in functions
        }

    def resolved_env(
        self, functions: list[str], declared: Mapping[str, Mapping[str, str]] | None = None
    ) -> dict[str, tuple[dict[str, str], frozenset[str]]]:
        """Declared env values per function with ``ssm:`` references resolved.

        Returns values and the set of keys whose values are secrets (never to be shown).
        """
        declared = declared or self.declared_env(functions)
        cache: dict[str, str] = {}
        out = {}
        for function in functions:
            values, secret = {}, set()
            for key, value in declared[function].items():
                if value.startswith(SSM_PREFIX):
                    name = value[len(SSM_PREFIX) :]
                    if name not in cache:  # the SSM client is made only when needed
                        ssm = self.aws.ssm(self.spec.region)
                        cache[name] = _ssm_value(ssm, name, self.name, key)
                    values[key] = cache[name]
                    secret.add(key)
                else:
                    values[key] = value
            out[function] = (values, frozenset(secret))
        return out

    def release_lock(self, lock: Lock) -> None:
        """Drop the lock. If that fails the run's outcome stands: say so; the lease frees it."""
        try:
            self.ledger.release(lock)
        except (ClientError, BotoCoreError) as exc:
            self.progress(
                f"warning: could not release the lock of {self.name} ({exc}); "
                f"it expires at {lock.expires_at}"
            )


def check_account(spec: EnvironmentSpec, aws: Aws) -> None:
    """Refuse (exit 2) credentials of another account than the one ``spec`` declares.

    Every command reaches an environment through a :class:`Target`, so none of them reads or
    changes an environment in the wrong account.
    """
    if spec.account is None:
        return
    actual = aws.account(spec.region)
    if actual != spec.account:
        raise InputError(
            f"credentials are for account {actual} but release.yaml declares {spec.account} "
            f"for {spec.name}",
            f"assume {spec.name}'s deploy role",
        )


def _ssm_value(ssm: Any, name: str, env: str, key: str) -> str:
    try:
        return ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    except ClientError as exc:
        if error_code(exc) == "ParameterNotFound":
            raise InputError(
                f"{env}: {key} refers to SSM parameter {name}, which does not exist",
                f"create it: aws ssm put-parameter --name {name} --type SecureString …",
            ) from exc
        raise
