"""Start-up benchmark: how long the console script takes before it does anything useful.

    .venv/bin/python bench/startup.py [--runs 11]

The package's byte-code is compiled first, as an installed wheel has it. Each figure is the
median wall time of ``--runs`` fresh processes of the installed console
script (``vectora-release`` next to this Python), run alternately so that the machine's load
falls on every row alike:

- ``--help``, ``--version`` and ``version show``: the whole run, to exit;
- an AWS command (``status``, ``deploy``, ``validate``, ``publish``): from the process start to
  its first AWS request, received by a small HTTP server on 127.0.0.1 that stands for AWS
  (``AWS_ENDPOINT_URL``) and answers every request with an error, so the command then stops.

``python -c pass`` is the floor every Python program pays. Prints the medians, the targets
(150 ms to exit, 350 ms to the first AWS call) and the load average. It asserts nothing.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TO_EXIT = 0.150
TO_FIRST_CALL = 0.350
CONFIG = str(ROOT / "release.yaml")

EXITS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "--help": ["--help"],
    "--version": ["--version"],
    "version show": ["--config", CONFIG, "version", "show"],
}
FIRST_CALLS = {
    "status --env dev": ["--config", CONFIG, "status", "--env", "dev"],
    "deploy --env dev --version 0.1.0": [
        "--config",
        CONFIG,
        "deploy",
        "--env",
        "dev",
        "--version",
        "0.1.0",
    ],
    "validate --env dev": ["--config", CONFIG, "validate", "--env", "dev"],
}


class FirstRequest(BaseHTTPRequestHandler):
    """Notes when the first request arrives; answers every request 403 (the command stops)."""

    arrived: float | None = None

    def _answer(self) -> None:
        if FirstRequest.arrived is None:
            FirstRequest.arrived = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = b"<Error><Code>AccessDenied</Code><Message>bench</Message></Error>"
        self.send_response(403)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _answer

    def log_message(self, *_args: object) -> None:
        pass


def compile_package() -> None:
    """Byte-code for the package, as an installed wheel has it (pip compiles at install).

    The package is installed editable here; under ``PYTHONDONTWRITEBYTECODE`` every run
    would otherwise compile each module it imports again (about 90 ms a command).
    """
    compileall.compile_dir(ROOT / "scripts" / "vectora_release", quiet=1)


def console_script() -> list[str]:
    script = Path(sys.executable).with_name("vectora-release")
    return [str(script)] if script.exists() else [sys.executable, "-m", "vectora_release"]


def time_to_exit(argv: list[str], env: dict[str, str]) -> float:
    start = time.monotonic()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - start


def time_to_first_call(argv: list[str], env: dict[str, str]) -> float:
    FirstRequest.arrived = None
    start = time.monotonic()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if FirstRequest.arrived is None:
        return float("nan")
    return FirstRequest.arrived - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    runs = parser.parse_args().runs
    compile_package()
    server = ThreadingHTTPServer(("127.0.0.1", 0), FirstRequest)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    home = Path(tempfile.mkdtemp(prefix="vectora-bench-startup-"))
    env = {
        **os.environ,
        "HOME": str(home),  # no ~/.aws of this machine
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{server.server_port}",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",  # a dummy for the local stand-in
        "AWS_REGION": "eu-west-3",
        "AWS_MAX_ATTEMPTS": "1",
    }
    script = console_script()
    exits: dict[str, list[float]] = {name: [] for name in EXITS}
    firsts: dict[str, list[float]] = {name: [] for name in FIRST_CALLS}
    load_before = os.getloadavg()
    try:
        for _ in range(runs):
            for name, args in EXITS.items():
                argv = args if args[0] == sys.executable else script + args
                exits[name].append(time_to_exit(argv, env))
            for name, args in FIRST_CALLS.items():
                firsts[name].append(time_to_first_call(script + args, env))
    finally:
        server.shutdown()
        shutil.rmtree(home, ignore_errors=True)
    load_after = os.getloadavg()
    print(f"start-up of {' '.join(script)}, medians of {runs} runs")
    print(f"{'command':<48} {'median':>8} {'min':>8} {'target':>8}  met")
    for name, values in exits.items():
        target = None if name.startswith("python") else TO_EXIT
        _row(f"{name} (to exit)" if target else name, values, target)
    for name, values in firsts.items():
        _row(f"{name} (to 1st call)", values, TO_FIRST_CALL)
    print(
        f"load average (1 min) before/after: {load_before[0]:.2f}/{load_after[0]:.2f}"
        f" on {os.cpu_count()} CPUs"
    )
    return 0


def _row(name: str, values: list[float], target: float | None) -> None:
    median = statistics.median(values) * 1000
    low = min(values) * 1000
    goal = f"{target * 1000:.0f}" if target else "-"
    met = "-" if target is None else ("yes" if median <= target * 1000 else "NO")
    print(f"{name:<48} {median:>6.0f}ms {low:>6.0f}ms {goal:>6}ms  {met}")


if __name__ == "__main__":
    sys.exit(main())
