"""Fault injection for the release commands: count their mutating AWS calls, break the k-th.

Shared by the tests (in-process runs) and ``driver.py`` (runs in a process that is killed).
A fault is raised from botocore's ``before-call`` event, which fires once per API call (not per
retry attempt), after botocore would have given up retrying: it is what a command sees when a
throttling or a service error outlasts the adaptive retries, or — with ``kill`` — what AWS sees
when the CI runner dies just before that call.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import boto3
import botocore.loaders
import botocore.session
import yaml
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from vectora_release.aws import Aws, is_mutating
from vectora_release.checks import e2e as e2e_module
from vectora_release.checks import validate as validate_module
from vectora_release.checks.findings import view_function
from vectora_release.checks.invoke import Invocation
from vectora_release.checks.validate import core_build_info
from vectora_release.cli import Wiring
from vectora_release.cli import run_cli as run_main

THROTTLE, ERROR, KILL = "throttle", "error", "kill"
MODES = (THROTTLE, ERROR, KILL)
KILLED = 137  # what a SIGKILLed runner reports
# The figures a healthy e2e run of the fixture client gives (docs/architecture.md).
E2E_METRICS = {"items": 32, "relevant_pct": 62.5, "avg_score": 76.0, "dated_pct": 100.0}


_LOADER = botocore.loaders.create_loader()


def new_session() -> boto3.Session:
    """A boto3 session sharing one model loader with every other one made here.

    The suite makes thousands of short-lived sessions (one per command run, as the CLI does);
    parsing botocore's JSON models again for each would take most of its time.
    """
    core = botocore.session.get_session()
    core.register_component("data_loader", _LOADER)
    return boto3.Session(botocore_session=core)


def injected_error(mode: str, service: str, operation: str) -> ClientError:
    """The ClientError botocore raises when a throttle or a server fault outlasts its retries."""
    if mode == THROTTLE:
        code, status = ("SlowDown", 503) if service == "s3" else ("TooManyRequestsException", 429)
        message = "Rate exceeded (injected)"
    else:
        code, status = ("InternalError", 500) if service == "s3" else ("ServiceException", 500)
        message = "We encountered an internal error (injected)"
    response = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status, "MaxAttemptsReached": True},
    }
    return ClientError(response, operation)  # type: ignore[arg-type]


@dataclass
class Faults:
    """Counts the mutating calls made through an :class:`Aws`; breaks call number ``at``.

    ``mode`` None only records. Attach before the Aws makes its first client: botocore copies
    the session's hooks into each client when it creates it.
    """

    mode: str | None = None
    at: int = 0
    calls: list[str] = field(default_factory=list)
    fired: bool = False

    def attach(self, aws: Aws) -> Faults:
        aws.events.register("before-call.*.*", self._before_call, unique_id=f"faults-{id(self)}")
        return self

    def _before_call(self, model: Any, **_: Any) -> None:
        if not is_mutating(model.name):
            return
        self.calls.append(model.name)
        if self.mode is None or len(self.calls) != self.at:
            return
        self.fired = True
        if self.mode == KILL:
            os._exit(KILLED)  # no finally, no atexit: a runner killed mid-command
        raise injected_error(self.mode, model.service_model.service_name, model.name)


class _Body:
    """The raw body of a canned HTTP response (what botocore reads via ``stream()``)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


def throttling_response(service: str, url: str) -> AWSResponse:
    """What the service answers when it throttles: Lambda 429, S3 503 SlowDown."""
    if service == "s3":
        body = b"<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>"
        return AWSResponse(url, 503, {"Content-Type": "application/xml"}, _Body(body))
    headers = {"x-amzn-ErrorType": "TooManyRequestsException", "Content-Type": "application/json"}
    return AWSResponse(url, 429, headers, _Body(b'{"message": "Rate exceeded", "Type": "User"}'))


@dataclass
class Throttling(Faults):
    """The service throttles the first ``burst`` attempts of mutating call ``at`` (0: of each).

    Unlike :class:`Faults`, this acts at the HTTP layer (``before-send``, once per attempt):
    botocore sees real throttling responses, so its adaptive retry mode does what it does in
    production. ``throttled`` counts the responses given.
    """

    burst: int = 1
    throttled: int = 0
    _left: int = 0

    def attach(self, aws: Aws) -> Throttling:
        aws.events.register("before-send.*.*", self._before_send, unique_id=f"throttle-{id(self)}")
        super().attach(aws)
        return self

    def _before_call(self, model: Any, **_: Any) -> None:
        self._left = 0
        if is_mutating(model.name):
            self.calls.append(model.name)
            if self.at in (0, len(self.calls)):
                self._left = self.burst

    def _before_send(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        if self._left <= 0:
            return None
        self._left -= 1
        self.throttled += 1
        return throttling_response(event_name.split(".")[1], request.url)


def fake_runner(target: Any, view: Any, event: Any, manifest: Any) -> Invocation:
    """Stands in for the local runner inside the injected runs (it is not a caller of AWS).

    Running every function in a subprocess for each of hundreds of runs would dominate the
    suite's time; the answer is what a healthy function gives, so that validation goes on to
    its own AWS calls (e2e feed uploads, the record write), which are what faults are injected
    into. The newsletter a healthy newsletter-v2 writes is written by a client of its own (the
    function's write, not the command's). The converged state is checked by the real
    ``validate`` afterwards.
    """
    if isinstance(event, dict) and event.get("healthcheck"):
        info = core_build_info(manifest)
        payload = {"status": "ok", "core_version": info["version"], "commit": info["commit"]}
        return Invocation(view.resource, True, payload, via="stub")
    if isinstance(event, dict) and event.get("check") == "bedrock":
        payload = {"status": "ok", "check": "bedrock", "model_id": "stub", "region": "stub"}
        return Invocation(view.resource, True, payload, via="stub")
    payload = {"items": 32, "metrics": dict(E2E_METRICS), "scoring_method": "bedrock"}
    if view.function == "newsletter-v2":
        payload.update(_fake_newsletter(target, event))
    return Invocation(view.resource, True, payload, via="stub")


def _fake_newsletter(target: Any, event: dict[str, Any]) -> dict[str, str]:
    """Write what newsletter-v2 writes for ``event`` (sections of the client config)."""
    client = yaml.safe_load(
        (target.config.root / "client-config-examples" / "lai_weekly.yaml").read_text()
    )
    lines = ["# LAI Weekly — stub", "", "## TL;DR", ""]
    for n, section in enumerate(client["newsletter"]["sections"]):
        lines += [f"## {section['title']}", ""]
        lines += [f"### [item {n}-{i}](https://example.com/{n}/{i})" for i in range(3)]
    lines += ["---", "", "_Generated by Vectora Inbox · stub_", ""]
    bucket = target.spec.buckets["newsletters"]
    key = f"{event['namespace']}/{event['client_id']}/newsletter.md"
    try:  # written by an earlier run already (a read with the caller's own rights)
        target.s3.head_object(Bucket=bucket, Key=key)
    except ClientError:  # the function's own write: not one of the caller's calls
        boto3.client("s3").put_object(Bucket=bucket, Key=key, Body="\n".join(lines).encode())
    return {"bucket": bucket, "key": key}


def fake_invoke(target: Any, function: str, event: Any, manifest: Any, view: Any = None) -> Any:
    """:func:`fake_runner` in place of ``checks.invoke.invoke``, for calls made without the CLI."""
    view = view or view_function(target, function)
    if view.configuration is None:
        return Invocation(view.resource, False, error={"errorType": "NoAlias"})
    return fake_runner(target, view, event, manifest)


@contextlib.contextmanager
def stub_runner() -> Iterator[None]:
    """Validation by core calls (no CLI) in this block answers with :func:`fake_runner`."""
    with (
        mock.patch.object(validate_module, "invoke", fake_invoke),
        mock.patch.object(e2e_module, "invoke", fake_invoke),
    ):
        yield


@dataclass(frozen=True)
class CliRun:
    code: int
    out: str
    err: str

    @property
    def error_line(self) -> str:
        lines = [x for x in self.err.splitlines() if x.startswith(("error: ", "internal error: "))]
        return lines[-1] if lines else ""


def run_cli(
    config_path: str,
    args: Sequence[str],
    hooks: Sequence[Faults] = (),
    stub: bool = True,
    summary: str = "",
) -> CliRun:
    """``vectora-release --config CONFIG ARGS`` in this process, ``hooks`` on its AWS clients.

    ``stub``: validation runs with :func:`fake_invoke`; ``summary``: the file GitHub job
    summaries go to (none by default: hundreds of runs, no annotations either).
    """

    class HookedAws(Aws):
        def __init__(self, session: boto3.Session | None = None, **kw: Any) -> None:
            super().__init__(session or new_session(), **kw)
            for hook in hooks:
                hook.attach(self)

    wiring = Wiring(aws=HookedAws, runner=fake_runner if stub else None)
    with mock.patch.dict(os.environ, {"GITHUB_STEP_SUMMARY": summary, "GITHUB_ACTIONS": ""}):
        result = run_main(["--config", config_path, *args], wiring)
    return CliRun(result.code, result.out, result.err)


Runner = Callable[[Faults], CliRun]
