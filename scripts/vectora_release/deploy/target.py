"""One environment with its clients, store and ledger: what deploy, validate… operate on."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..aws.clients import Aws, BotoCoreError, ClientError, error_code
from ..aws.code import CodeFetcher, CodeRef, download_location, fetch_checked
from ..common.cancel import Cancellation
from ..common.clock import Clock, utcnow
from ..common.errors import InputError
from ..config.model import EnvironmentSpec, ReleaseConfig
from ..config.variables import SSM_PREFIX
from ..store.artifacts import ArtifactStore
from ..store.ledger import Ledger
from ..store.lock import Heartbeat, Lock, LockFile

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
    # A stop request (SIGINT/SIGTERM, turned into it by the CLI), honoured at step boundaries.
    cancel: Cancellation = field(default_factory=Cancellation)
    # How snapshots download function and layer code. None: the presigned ``Location`` Lambda
    # returns. On the embedded AWS the CLI hands in the local code endpoint (``local.codeserver``).
    code_fetcher: CodeFetcher | None = None
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

    def fetch_code(self, ref: CodeRef) -> bytes:
        """The bytes of a function or layer version, checked against its CodeSha256."""
        return fetch_checked(self.code_fetcher or download_location, ref)

    def declared_env(
        self, functions: list[str], recorded: Mapping[str, Mapping[str, str] | None] | None = None
    ) -> dict[str, dict[str, str]]:
        """Declared values per function: as ``recorded`` in a ledger record, else release.yaml."""
        return {
            fn: dict((recorded or {}).get(fn) or self.config.declared_env(fn, self.name))
            for fn in functions
        }

    def checked_env(
        self, functions: list[str], declared: Mapping[str, Mapping[str, str]] | None = None
    ) -> dict[str, tuple[dict[str, str], frozenset[str]]]:
        """Declared env values per function, ``ssm:`` references kept as they are.

        Functions receive the references and resolve them at run time with their own role
        (``vectora_core.parameters``): no secret value passes through the deploy. Each
        parameter is checked to exist (read without decryption), so a wrong name fails the
        plan before any change (a role that may not read it, e.g. the read-only one planning
        before an approval, gets a warning instead). Returns values and the set of keys
        holding references.
        """
        declared = declared or self.declared_env(functions)
        checked: set[str] = set()
        out = {}
        for function in functions:
            values, references = dict(declared[function]), set()
            for key, value in values.items():
                if value.startswith(SSM_PREFIX):
                    name = value[len(SSM_PREFIX) :]
                    if name not in checked:  # the SSM client is made only when needed
                        self._check_parameter(name, key)
                        checked.add(name)
                    references.add(key)
            out[function] = (values, frozenset(references))
        return out

    def _check_parameter(self, name: str, key: str) -> None:
        """The parameter exists (its value is not asked for: no decryption)."""
        try:
            self.aws.ssm(self.spec.region).get_parameter(Name=name, WithDecryption=False)
        except ClientError as exc:
            code = error_code(exc)
            if code == "ParameterNotFound":
                raise InputError(
                    f"{self.name}: {key} refers to SSM parameter {name}, which does not exist",
                    f"create it: aws ssm put-parameter --name {name} --type SecureString …",
                ) from exc
            if code not in ("AccessDenied", "AccessDeniedException"):
                raise
            self.progress(
                f"warning: cannot check that SSM parameter {name} ({key}) exists ({code}); "
                "the function resolves it when it runs"
            )

    @contextlib.contextmanager
    def locked(self, purpose: str) -> Iterator[Heartbeat]:
        """Hold the environment's lock, its heartbeat beating, for the block; then release it.

        A stale lock (its holder is gone) is taken over, with a warning; the caller repairs
        what its holder left (``recovery.recover_interrupted``). Signals received inside are
        deferred to the run's next step boundary (:class:`Cancellation`). Yields the
        heartbeat, whose ``lost`` says whether another run took the lock over meanwhile.
        """
        config = self.config
        with self.cancel.deferring_section():
            self.cancel.check(f"taking the lock of {self.name}")
            lock = self.ledger.acquire(
                config.lock_lease_seconds, purpose, config.lock_stale_after_seconds
            )
            if lock.took_over is not None:
                why = lock.took_over.stale(self.clock(), config.lock_stale_after_seconds)
                self.progress(
                    f"warning: took over the lock of {self.name} from {lock.took_over.owner} "
                    f"({why or 'released meanwhile'}); repairing what it left first"
                )
            beat = Heartbeat(
                self._heartbeat_lockfile(),
                lock,
                config.lock_lease_seconds,
                config.lock_heartbeat_seconds,
                on_lost=self.cancel.request,
            ).start()
            try:
                yield beat
            finally:
                beat.stop()
                if not beat.lost:
                    self.release_lock(lock)

    def _heartbeat_lockfile(self) -> Callable[[], LockFile]:
        """The lock object through clients of its own (made at the first beat).

        The heartbeat writes at times of its own, from another thread: its calls stay out of
        the command's sequence of calls (counted, and faulted, by the reliability tests).
        """
        clients: list[Any] = []

        def lockfile() -> LockFile:
            if not clients:
                clients.append(self.aws.detached().s3(self.spec.region))
            ledger = self.ledger
            return LockFile(clients[0], ledger.bucket, ledger.lock_key, self.name, self.clock)

        return lockfile

    def release_lock(self, lock: Lock) -> None:
        """Drop the lock. If that fails the run's outcome stands: say so; it goes stale."""
        try:
            self.ledger.release(lock)
        except (ClientError, BotoCoreError) as exc:
            self.progress(
                f"warning: could not release the lock of {self.name} ({exc}); "
                f"it is taken over once its heartbeat is {self.config.lock_stale_after_seconds} s "
                "old, or: vectora-release unlock"
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
