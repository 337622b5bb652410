"""The embedded AWS: a moto server on 127.0.0.1 for the demo, the tests and laptops."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..common.errors import InputError
from . import bucket_policies
from .bedrock import ENDPOINT_VAR as BEDROCK_ENDPOINT_VAR
from .bedrock import BedrockStandIn

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_REGION": "eu-west-3",
    "AWS_DEFAULT_REGION": "eu-west-3",
}
STATE_DIR = Path(".vectora-local")


def environment(endpoint: str, bedrock: str | None = None) -> dict[str, str]:
    """Variables that point every AWS SDK at the embedded server (Bedrock at its stand-in)."""
    extra = {BEDROCK_ENDPOINT_VAR: bedrock} if bedrock else {}
    return {"AWS_ENDPOINT_URL": endpoint, **CREDENTIALS, **extra}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _moto_server(port: int) -> Any:
    """moto's threaded server, its application also serving the code endpoint
    (``codeserver.with_code_endpoint``: moto serves no presigned code URL)."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from moto.server import ThreadedMotoServer
    from werkzeug.serving import make_server

    from .codeserver import with_code_endpoint

    bucket_policies.install()

    class _Server(ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = with_code_endpoint(DomainDispatcherApplication(create_backend_app))
            self._server = make_server(
                "127.0.0.1", port, app, True, request_handler=MotoRequestHandler
            )
            self._server_ready_event.set()
            self._server.serve_forever()

    return _Server(ip_address="127.0.0.1", port=port, verbose=False)


class EmbeddedAws:
    """A moto server in a background thread, bound to 127.0.0.1 on a free port."""

    bedrock: BedrockStandIn | None = None  # set by embedded_aws()

    def __init__(self, port: int = 0) -> None:
        self.port = port or _free_port()
        self._server = _moto_server(self.port)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> EmbeddedAws:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no per-request access log
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()


@contextmanager
def embedded_aws() -> Iterator[EmbeddedAws]:
    """Run an embedded AWS and point this process's environment at it; undo both after.

    The Bedrock-runtime stand-in (``local/bedrock.py``) runs beside it: moto serves no model.
    """
    server = EmbeddedAws().start()
    bedrock = BedrockStandIn().start()
    server.bedrock = bedrock
    keys = (*CREDENTIALS, "AWS_ENDPOINT_URL", BEDROCK_ENDPOINT_VAR, "AWS_PROFILE")
    saved = {key: os.environ.get(key) for key in keys}
    os.environ.pop("AWS_PROFILE", None)
    os.environ.update(environment(server.endpoint, bedrock.endpoint))
    try:
        yield server
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        bedrock.stop()
        server.stop()


# -- `vectora-release local up|down|env`: a server that outlives the command ----------------
MODULE = "vectora_release.local.server"  # what the detached server runs: python -m MODULE PORT
PROBE_PATH = "/moto-api/config"  # a small JSON document only a moto server serves


@dataclass(frozen=True)
class LocalStopReport:
    """What ``local down`` did: ``stopped``, ``not_running`` or ``stale`` (file removed)."""

    outcome: str
    pid: int | None = None

    @property
    def stopped(self) -> bool:
        return self.outcome == "stopped"

    def to_dict(self) -> dict[str, Any]:
        return {"stopped": self.stopped, "outcome": self.outcome, "pid": self.pid}


def state_file(state_dir: Path) -> Path:
    """The pid file of `local up`: ``{"pid": …, "endpoint": …}`` of the server it started."""
    return state_dir / "server.json"


def up(state_dir: Path = STATE_DIR) -> dict:
    """Start a detached embedded AWS; its pid and endpoint go to ``state_dir``.

    Returns the state with ``started`` False when it was already running (nothing started).
    """
    current = status(state_dir)
    if current is not None:
        return {**current, "started": False}
    state_dir.mkdir(parents=True, exist_ok=True)
    port, bedrock_port = _free_port(), _free_port()
    with (state_dir / "server.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", MODULE, str(port), str(bedrock_port)],
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    _wait_listening(port, process)
    state = {
        "pid": process.pid,
        "endpoint": f"http://127.0.0.1:{port}",
        "bedrock_endpoint": f"http://127.0.0.1:{bedrock_port}",
    }
    state_file(state_dir).write_text(json.dumps(state) + "\n", encoding="utf-8")
    return {**state, "started": True}


def _wait_listening(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise InputError("the embedded AWS exited at start", "see .vectora-local/server.log")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    process.kill()
    raise InputError("the embedded AWS did not start within 30 s", "see .vectora-local/server.log")


def _read_state(state_dir: Path) -> dict | None:
    """The recorded state; ``{}`` when the file is unreadable, None when there is none."""
    try:
        state = json.loads(state_file(state_dir).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _is_our_server(state: dict) -> bool:
    """Whether the recorded pid is still the embedded AWS this tool started on that port.

    A pid is reused after a crash or a reboot: signalling it blindly could stop anything.
    Where ``/proc`` exists the process's command line must be ``python -m MODULE PORT``;
    elsewhere the process must exist and the recorded port must answer as moto.
    """
    try:
        pid = int(state["pid"])
        endpoint = str(state["endpoint"])
        port = int(endpoint.rsplit(":", 1)[1])
    except (KeyError, TypeError, ValueError, IndexError):
        return False
    if Path("/proc/self/cmdline").is_file():
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:  # no such process (or not ours to read)
            return False
        return args[1:4] == [b"-m", MODULE.encode(), str(port).encode()]
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return _answers_as_moto(endpoint)


def _answers_as_moto(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}{PROBE_PATH}", timeout=2) as response:  # noqa: S310
            json.loads(response.read())
    except (OSError, ValueError):
        return False
    return True


def status(state_dir: Path = STATE_DIR) -> dict | None:
    """The running server's state, or None (a stale state file is removed)."""
    state = _read_state(state_dir)
    if state is None:
        return None
    if not _is_our_server(state):
        state_file(state_dir).unlink(missing_ok=True)
        return None
    return state


def down(state_dir: Path = STATE_DIR, timeout: float = 10.0) -> LocalStopReport:
    """Stop the detached server and remove its state file; never signal another process."""
    state = _read_state(state_dir)
    if state is None:
        return LocalStopReport("not_running")
    pid = state.get("pid") if isinstance(state.get("pid"), int) else None
    if pid is None or not _is_our_server(state):
        state_file(state_dir).unlink(missing_ok=True)
        return LocalStopReport("stale", pid)
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _is_our_server(state):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    state_file(state_dir).unlink(missing_ok=True)
    return LocalStopReport("stopped", pid)


def exports(endpoint: str, bedrock: str | None = None) -> str:
    """Shell lines to ``eval`` so that any AWS tool talks to the embedded server."""
    return "\n".join(f"export {k}={v}" for k, v in environment(endpoint, bedrock).items())


def _serve(port: int, bedrock_port: int | None) -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = _moto_server(port)
    server.start()
    bedrock = BedrockStandIn(port=bedrock_port).start() if bedrock_port else None

    def stop(*_: object) -> None:
        if bedrock is not None:
            bedrock.stop()
        server.stop()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    _serve(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else None)
