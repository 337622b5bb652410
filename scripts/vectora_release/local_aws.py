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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import InputError

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_REGION": "eu-west-3",
    "AWS_DEFAULT_REGION": "eu-west-3",
}
STATE_DIR = Path(".vectora-local")


def environment(endpoint: str) -> dict[str, str]:
    """Variables that point every AWS SDK at the embedded server."""
    return {"AWS_ENDPOINT_URL": endpoint, **CREDENTIALS}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedAws:
    """A moto server in a background thread, bound to 127.0.0.1 on a free port."""

    def __init__(self, port: int = 0) -> None:
        from moto.server import ThreadedMotoServer

        self.port = port or _free_port()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

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
    """Run an embedded AWS and point this process's environment at it; undo both after."""
    server = EmbeddedAws().start()
    saved = {key: os.environ.get(key) for key in (*CREDENTIALS, "AWS_ENDPOINT_URL", "AWS_PROFILE")}
    os.environ.pop("AWS_PROFILE", None)
    os.environ.update(environment(server.endpoint))
    try:
        yield server
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.stop()


# -- `vectora-release local up|down|env`: a server that outlives the command ----------------
def _state_file(state_dir: Path) -> Path:
    return state_dir / "server.json"


def up(state_dir: Path = STATE_DIR) -> dict:
    """Start a detached embedded AWS; its pid and endpoint go to ``state_dir``."""
    current = status(state_dir)
    if current is not None:
        return current
    state_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    log = (state_dir / "server.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "vectora_release.local_aws", str(port)],
        stdout=log,
        stderr=log,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    _wait_listening(port, process)
    state = {"pid": process.pid, "endpoint": f"http://127.0.0.1:{port}"}
    _state_file(state_dir).write_text(json.dumps(state) + "\n", encoding="utf-8")
    return state


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


def status(state_dir: Path = STATE_DIR) -> dict | None:
    """The running server's state, or None (a stale state file is removed)."""
    path = _state_file(state_dir)
    if not path.is_file():
        return None
    state = json.loads(path.read_text(encoding="utf-8"))
    try:
        os.kill(int(state["pid"]), 0)
    except (ProcessLookupError, PermissionError):
        path.unlink(missing_ok=True)
        return None
    return state


def down(state_dir: Path = STATE_DIR) -> bool:
    """Stop the detached server; False when none was running."""
    state = status(state_dir)
    if state is None:
        return False
    os.kill(int(state["pid"]), signal.SIGTERM)
    _state_file(state_dir).unlink(missing_ok=True)
    return True


def exports(endpoint: str) -> str:
    """Shell lines to ``eval`` so that any AWS tool talks to the embedded server."""
    return "\n".join(f"export {k}={v}" for k, v in environment(endpoint).items())


def _serve(port: int) -> None:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    signal.signal(signal.SIGTERM, lambda *_: (server.stop(), sys.exit(0)))
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
