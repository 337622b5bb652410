"""Run deployed artifacts locally, as Lambda would, without Docker.

Used where Lambda cannot execute code (the embedded AWS): the live function's code and layers
are fetched from the artifact store by digest, checked against the live ``CodeSha256``,
extracted safely and run in a subprocess with the function's live env vars, ``sys.path``
ordered like Lambda (code, then the layers' ``python/``) and the function's timeout.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from ..common.digest import b64_to_hex
from ..common.digest import code_sha256 as code_sha256_of
from ..common.errors import IntegrityError

if TYPE_CHECKING:  # the CLI hands a LocalInvoker to every target: it loads no check
    from ..build.manifest import Manifest
    from ..checks.findings import FunctionView
    from ..checks.invoke import Invocation
    from ..deploy.target import Target

# What the Lambda Python runtime provides besides the standard library.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil", "six")
LOOPBACK = ("127.0.0.1", "localhost", "::1")
PASSED_ENV = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",  # the Bedrock-runtime stand-in (local/bedrock.py)
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
)
BOOTSTRAP = """
import importlib, json, sys, traceback
paths, module, function, out = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
sys.path[:0] = paths
event = json.load(sys.stdin)
class Context:
    function_name = __import__("os").environ.get("AWS_LAMBDA_FUNCTION_NAME")
    aws_request_id = "local-runner"
    def get_remaining_time_in_millis(self): return 60000
try:
    handler = getattr(importlib.import_module(module), function)
    result = {"ok": True, "payload": handler(event, Context())}
except BaseException as exc:
    result = {"ok": False, "error": {"errorType": type(exc).__name__, "errorMessage": str(exc),
              "trace": traceback.format_exc().splitlines()[-6:]}}
with open(out, "w") as fh:
    json.dump(result, fh, default=str)
"""


def safe_extract(data: bytes, dest: Path) -> None:
    """Extract a zip, refusing any entry that would land outside ``dest`` or is a link."""
    root = dest.resolve()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            target = (root / info.filename).resolve()
            mode = info.external_attr >> 16
            if info.filename.startswith("/") or not target.is_relative_to(root):
                raise IntegrityError(
                    f"zip entry {info.filename!r} would escape the folder",
                    "the artifact is malformed or malicious: rebuild it",
                )
            if stat.S_ISLNK(mode):
                raise IntegrityError(f"zip entry {info.filename!r} is a symbolic link")
        archive.extractall(root)


def _runtime_dir(cache: Path) -> Path:
    """A folder exposing only what Lambda's runtime has (boto3 and its dependencies)."""
    folder = cache / "runtime"
    folder.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        source = Path(spec.origin)
        source = source.parent if source.name == "__init__.py" else source
        link = folder / source.name
        if not link.exists():
            link.symlink_to(source)
    return folder


class LocalRunner:
    """Runs a function's live bytes in a subprocess; artifacts come from the store by digest."""

    def __init__(self, manifest: Manifest, fetch: Any, cache: Path | None = None) -> None:
        self.manifest = manifest
        self.fetch = fetch  # (manifest, artifact name) -> verified bytes
        self.cache = cache or Path(tempfile.gettempdir()) / "vectora-release-runner"

    def _extracted(self, code_sha256: str, what: str) -> Path:
        artifact = next((a for a in self.manifest.artifacts if a.code_sha256 == code_sha256), None)
        if artifact is None:
            raise IntegrityError(
                f"{what} runs code {code_sha256} that is not part of release "
                f"{self.manifest.release_id}",
                "the environment drifted: run drift, then redeploy or roll back",
            )
        folder = self.cache / "artifacts" / b64_to_hex(code_sha256)
        if not (folder / ".complete").is_file():
            data = self.fetch(self.manifest, artifact.name)
            if code_sha256_of(data) != code_sha256:
                raise IntegrityError(
                    f"{what}: the bytes fetched for {artifact.file} are not CodeSha256 "
                    f"{code_sha256} (got {code_sha256_of(data)})",
                    "the artifact store or the fetcher is wrong: never run these bytes",
                )
            work = Path(tempfile.mkdtemp(dir=self.cache))
            try:
                safe_extract(data, work)
            except IntegrityError:
                shutil.rmtree(work, ignore_errors=True)
                raise
            (work / ".complete").write_text("ok\n")
            folder.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(OSError):  # extracted concurrently: identical content
                work.rename(folder)
        return folder

    def run(
        self,
        resource: str,
        configuration: dict[str, Any],
        layers: list[tuple[str, str]],
        event: Any,
    ) -> Invocation:
        """Run ``resource`` as configured live; ``layers`` is [(arn, CodeSha256)] in order."""
        from ..checks.invoke import Invocation

        self.cache.mkdir(parents=True, exist_ok=True)
        code = self._extracted(configuration["CodeSha256"], resource)
        paths = [str(code)]
        paths += [str(self._extracted(sha, arn) / "python") for arn, sha in layers]
        paths.append(str(_runtime_dir(self.cache)))
        module, _, function = configuration["Handler"].rpartition(".")
        argv = [sys.executable, "-I", "-S", "-c", BOOTSTRAP, json.dumps(paths), module, function]
        env = _environment(resource, configuration, code)
        timeout = int(configuration.get("Timeout", 3))
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "result.json"
            started = time.monotonic()
            try:
                proc = subprocess.run(
                    [*argv, str(out)],
                    input=json.dumps(event),
                    capture_output=True,
                    text=True,
                    env=env,
                    cwd=tmp,
                    timeout=timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                error = {"errorType": "Timeout", "errorMessage": f"timed out after {timeout} s"}
                return Invocation(resource, False, error=error)
            duration = int((time.monotonic() - started) * 1000)
            logs = (proc.stdout + proc.stderr).splitlines()[-200:]  # checked for ERROR lines
            if not out.is_file():
                error = {
                    "errorType": "Runtime.ExitError",
                    "errorMessage": f"exit {proc.returncode}",
                }
                return Invocation(resource, False, error=error, logs=logs, duration_ms=duration)
            result = json.loads(out.read_text())
        return Invocation(
            resource, result["ok"], result.get("payload"), result.get("error"), duration, logs=logs
        )


def _environment(resource: str, configuration: dict[str, Any], code: Path) -> dict[str, str]:
    """What the function's process sees: its configured variables and Lambda's own."""
    env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
    env.update((configuration.get("Environment") or {}).get("Variables", {}))
    env.update(
        PATH=os.environ.get("PATH", "/usr/bin:/bin"),
        LANG="C.UTF-8",
        AWS_LAMBDA_FUNCTION_NAME=resource,
        LAMBDA_TASK_ROOT=str(code),
        AWS_LAMBDA_FUNCTION_VERSION=str(configuration.get("Version", "$LATEST")),
    )
    return env


class LocalInvoker:
    """The function runner the CLI hands to targets on the embedded AWS.

    Called as ``invoker(target, view, event, manifest)``: runs what alias ``live`` runs (the
    view's configuration and layers) with the release's verified bytes.
    """

    def __init__(self, cache: Path) -> None:
        self.cache = cache

    def __call__(
        self, target: Target, view: FunctionView, event: Any, manifest: Manifest
    ) -> Invocation:
        runner = LocalRunner(manifest, target.store.fetch, self.cache)
        layers = [(arn, code or "") for arn, code in view.layers]
        assert view.configuration is not None  # invoke() answers NoAlias before calling us
        return runner.run(view.resource, view.configuration, layers, event)


def uses_local_runner(environ: Mapping[str, str] | None = None) -> bool:
    """True on the embedded AWS (moto cannot run code without Docker) or when asked to."""
    environ = os.environ if environ is None else environ
    choice = environ.get("VECTORA_RELEASE_INVOKER", "auto")
    if choice in ("local", "lambda"):
        return choice == "local"
    endpoint = environ.get("AWS_ENDPOINT_URL", "")
    return bool(endpoint) and urlparse(endpoint).hostname in LOOPBACK
