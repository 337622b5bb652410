"""An embedded AWS whose state can be copied: a moto server in a process that forks.

The fault-injection tests re-run a command from the same starting state once per injection
point. Rebuilding that state through the AWS API each time costs more than the run itself, so
the state is built once in a *holder* process, then copied for each run by ``os.fork``: the
child serves the copy on its own port and is killed after the run. The holder serves requests
one at a time in its only thread, which keeps ``fork`` safe.

Run as a script it is the holder; :class:`SnapshotServer` drives it from the tests.
"""

from __future__ import annotations

import gc
import os
import select
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from types import TracebackType


@dataclass(frozen=True)
class Copy:
    """One forked copy of the holder's state, served on its own port."""

    pid: int
    endpoint: str


class SnapshotServer:
    """Starts the holder; ``endpoint`` reaches the state being built, ``fork()`` copies it."""

    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, __file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.endpoint = f"http://127.0.0.1:{self._reply('ready')[0]}"

    def _reply(self, expected: str) -> list[str]:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline().split()
        if not line or line[0] != expected:
            raise RuntimeError(f"snapshot holder said {line!r}, expected {expected!r}")
        return line[1:]

    def _send(self, command: str) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.write(command + "\n")
        self._proc.stdin.flush()

    def fork(self) -> Copy:
        """A copy of the current state on a new port (listening before this returns)."""
        self._send("fork")
        pid, port = self._reply("forked")
        return Copy(int(pid), f"http://127.0.0.1:{port}")

    def drop(self, copy: Copy) -> None:
        """Stop a copy and forget its state."""
        self._send(f"kill {copy.pid}")
        self._reply("killed")

    def close(self) -> None:
        if self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def __enter__(self) -> SnapshotServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


# -- the holder (this file run as a script) -------------------------------------------------------
def _app():
    import logging

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from vectora_release.local import bucket_policies
    from vectora_release.local.codeserver import with_code_endpoint

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    bucket_policies.install()  # as the embedded AWS does (docs/security.md)
    return with_code_endpoint(DomainDispatcherApplication(create_backend_app))


def _serve_copy(app, listener: socket.socket, holder: int) -> None:
    """In the forked child: serve the copied state until killed or orphaned."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    host, port = listener.getsockname()
    server = make_server(
        host, port, app, threaded=True, request_handler=MotoRequestHandler, fd=listener.fileno()
    )
    server.service_actions = lambda: os.getppid() != holder and os._exit(0)  # type: ignore[method-assign]
    server.serve_forever(poll_interval=0.5)
    os._exit(0)


def _hold() -> None:
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    app = _app()
    server = make_server("127.0.0.1", 0, app, threaded=False, request_handler=MotoRequestHandler)
    print("ready", server.server_address[1], flush=True)
    copies: set[int] = set()
    try:
        while True:
            readable, _, _ = select.select([server.socket, sys.stdin], [], [])
            if server.socket in readable:
                server.handle_request()
            if sys.stdin not in readable:
                continue
            words = sys.stdin.readline().split()
            if not words:
                return
            if words[0] == "fork":
                gc.collect()
                gc.freeze()  # the copies then share these pages instead of touching them all
                listener = socket.socket()
                listener.bind(("127.0.0.1", 0))
                listener.listen(128)
                pid = os.fork()
                if pid == 0:
                    server.socket.close()
                    _serve_copy(app, listener, os.getppid())
                listener_port = listener.getsockname()[1]
                listener.close()
                copies.add(pid)
                print("forked", pid, listener_port, flush=True)
            elif words[0] == "kill":
                pid = int(words[1])
                if pid in copies:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    copies.discard(pid)
                print("killed", pid, flush=True)
    finally:
        for pid in copies:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


if __name__ == "__main__":
    _hold()
