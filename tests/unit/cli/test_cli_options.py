"""The command line's own contract: global options where people type them, exit codes
returned rather than exited, and start-up that loads only what a command needs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from vectora_release.cli import main, run_cli
from vectora_release.common.errors import InputError

ROOT = Path(__file__).resolve().parents[3]
CONFIG = str(ROOT / "release.yaml")


@pytest.mark.parametrize(
    "argv",
    [
        ["--json", "version", "show"],
        ["version", "show", "--json"],
        ["--config", CONFIG, "version", "show", "--json"],
        ["version", "show", "--json", "--config", CONFIG],
    ],
)
def test_json_works_before_or_after_the_subcommand(argv: list[str]) -> None:
    result = run_cli(argv)

    assert result.code == 0, result.err
    assert json.loads(result.out) == {"version": (ROOT / "VERSION").read_text().strip()}


def test_config_after_the_subcommand_is_the_one_used(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"

    result = run_cli(["--config", CONFIG, "config", "check", "--config", str(missing)])

    assert result.code == 2
    assert (
        result.err.strip().splitlines()[-1]
        == "error: nowhere.yaml: file not found (check the path)"
    )


def test_verbose_after_the_subcommand_shows_the_traceback() -> None:
    argv = ["--config", CONFIG, "deploy", "--env", "nowhere", "--version", "0.1.0"]
    quiet = run_cli(argv)
    assert quiet.code == 2 and "Traceback" not in quiet.err
    assert "error: unknown environment 'nowhere'" in quiet.err

    with pytest.raises(InputError, match="unknown environment 'nowhere'"):
        run_cli([*argv, "-v"])


def test_main_returns_the_exit_code_instead_of_exiting(capsys: pytest.CaptureFixture) -> None:
    assert main(["--help"]) == 0
    assert main(["no-such-command"]) == 2
    assert "No such command" in capsys.readouterr().err


def test_the_console_entry_point_exits_with_that_code() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "vectora_release", "--config", CONFIG, "validate", "--env", "x"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert run.returncode == 2, run.stderr
    assert run.stderr.strip().splitlines()[-1].startswith("error: unknown environment 'x'")


def test_importing_the_cli_and_showing_the_version_load_no_aws_sdk() -> None:
    probe = (
        "import sys\n"
        "from vectora_release.cli import main\n"
        "loaded = 'boto3' in sys.modules or 'botocore' in sys.modules\n"
        f"code = main(['--config', {CONFIG!r}, 'version', 'show'])\n"
        "print(loaded, code, 'boto3' in sys.modules)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split()[-3:] == ["False", "0", "False"]
