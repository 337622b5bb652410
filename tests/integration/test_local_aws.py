"""`vectora-release local up | env | down`, run as a user would: a subprocess in its own folder.

Every server a test starts is stopped by the test, whatever happens (see ``workdir``).
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from vectora_release.local import server as local_aws

CLI = Path(sys.executable).with_name("vectora-release")
PID_FILE = Path(".vectora-local") / "server.json"


def run(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), *args], cwd=workdir, env=clean_env(), capture_output=True, text=True, timeout=90
    )


def clean_env() -> dict[str, str]:
    """This environment without any AWS variable: the commands must find the server alone."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.is_file() and "\nState:\tZ" in status.read_text())


def wait_gone(pid: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def answers_as_moto(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/moto-api/config", timeout=5) as response:
            return isinstance(json.loads(response.read()), dict)
    except OSError:
        return False


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    """An empty working folder; any server still recorded there is stopped at the end."""
    yield tmp_path
    state = tmp_path / PID_FILE
    if state.is_file():
        pid = int(json.loads(state.read_text())["pid"])
        if local_aws.MODULE.encode() in server_cmdline(pid):
            os.kill(pid, signal.SIGKILL)


def server_cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def test_up_env_down_round_trip(workdir: Path) -> None:
    up = run(workdir, "local", "up")
    assert up.returncode == 0, up.stderr
    state = json.loads((workdir / PID_FILE).read_text())
    pid, endpoint = int(state["pid"]), state["endpoint"]
    assert endpoint.startswith("http://127.0.0.1:")
    assert f"running at {endpoint} (pid {pid})" in up.stderr
    assert alive(pid) and answers_as_moto(endpoint)
    assert b"vectora_release.local.server" in server_cmdline(pid)

    printed = run(workdir, "local", "env")
    assert printed.returncode == 0, printed.stderr
    lines = printed.stdout.splitlines()
    assert lines and all(line.startswith("export ") for line in lines)
    assert f"export AWS_ENDPOINT_URL={endpoint}" in lines
    bedrock = state["bedrock_endpoint"]  # the Bedrock-runtime stand-in runs beside moto
    assert f"export AWS_ENDPOINT_URL_BEDROCK_RUNTIME={bedrock}" in lines
    converse = urllib.request.Request(
        f"{bedrock}/model/eu.m/converse",
        json.dumps({"messages": [{"role": "user", "content": [{"text": "hi"}]}]}).encode(),
        method="POST",
    )
    with urllib.request.urlopen(converse, timeout=10) as answer:
        assert json.loads(answer.read())["output"]["message"]["content"][0]["text"] == "ok"
    # What `eval "$(vectora-release local env)"` gives any AWS tool: a working endpoint.
    probe = (
        "import boto3, os; s3 = boto3.client('s3'); s3.create_bucket(Bucket='probe-bucket',"
        " CreateBucketConfiguration={'LocationConstraint': os.environ['AWS_REGION']});"
        " print([b['Name'] for b in s3.list_buckets()['Buckets']])"
    )
    shell = f'eval "$({shlex.quote(str(CLI))} local env)" && {shlex.quote(sys.executable)} -c '
    evaluated = subprocess.run(
        ["sh", "-c", shell + shlex.quote(probe)],
        cwd=workdir,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert evaluated.returncode == 0, evaluated.stderr
    assert evaluated.stdout.strip() == "['probe-bucket']"

    again = run(workdir, "local", "up")
    assert again.returncode == 0, again.stderr
    assert f"already running at {endpoint} (pid {pid})" in again.stderr
    assert json.loads((workdir / PID_FILE).read_text()) == state, "no second server"

    down = run(workdir, "local", "down")
    assert down.returncode == 0, down.stderr
    assert f"stopped the embedded AWS (pid {pid})" in down.stderr
    assert wait_gone(pid), "the server still runs"
    assert not (workdir / PID_FILE).exists()
    assert not answers_as_moto(endpoint)

    twice = run(workdir, "local", "down")
    assert twice.returncode == 0, twice.stderr
    assert twice.stderr.strip() == "the embedded AWS is not running: nothing to stop"
    gone = run(workdir, "local", "env")
    assert gone.returncode == 2
    assert "Traceback" not in gone.stderr
    assert "the embedded AWS is not running" in gone.stderr and gone.stdout == ""


def test_down_never_signals_a_process_that_reused_the_recorded_pid(workdir: Path) -> None:
    stranger = subprocess.Popen(["sleep", "120"])
    try:
        (workdir / PID_FILE).parent.mkdir()
        port = local_aws._free_port()
        record = {"pid": stranger.pid, "endpoint": f"http://127.0.0.1:{port}"}
        (workdir / PID_FILE).write_text(json.dumps(record) + "\n")

        down = run(workdir, "--json", "local", "down")

        assert down.returncode == 0, down.stderr
        assert json.loads(down.stdout) == {
            "stopped": False,
            "outcome": "stale",
            "pid": stranger.pid,
        }
        assert stranger.poll() is None, "down signalled a process that is not the server"
        assert not (workdir / PID_FILE).exists(), "the stale pid file is removed"

        (workdir / PID_FILE).write_text(json.dumps(record) + "\n")
        human = run(workdir, "local", "down")
        assert human.returncode == 0 and "Traceback" not in human.stderr
        assert f"pid {stranger.pid} recorded in" in human.stderr
        assert "is not the embedded AWS (stale pid file): nothing stopped" in human.stderr
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()
