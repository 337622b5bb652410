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


def _modules_loaded_by(argv: list[str]) -> tuple[bool, int, set[str]]:
    """(boto3 loaded by the import alone, exit code, modules loaded) of ``main(argv)``."""
    probe = (
        "import contextlib, io, json, sys\n"
        "from vectora_release.cli import main\n"
        "loaded = 'boto3' in sys.modules or 'botocore' in sys.modules\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = main({argv!r})\n"
        "print(json.dumps([loaded, code, sorted(sys.modules)]))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, timeout=60
    )
    assert run.returncode == 0, run.stderr
    loaded, code, modules = json.loads(run.stdout.splitlines()[-1])
    return loaded, code, set(modules)


# What --help and version show never need: the AWS SDK, PyYAML, GitPython, the installed
# metadata (--version reads it), any other command module (docs/architecture.md, start-up).
HEAVY = {"boto3", "botocore", "yaml", "git", "importlib.metadata", "moto"}


@pytest.mark.parametrize(
    ("argv", "needs"),
    [
        (["--config", CONFIG, "version", "show"], set()),
        (["--help"], set()),
        (["--version"], {"importlib.metadata"}),
    ],
    ids=["version-show", "help", "version"],
)
def test_importing_the_cli_and_the_quick_commands_load_no_aws_sdk_nor_heavy_module(
    argv: list[str], needs: set[str]
) -> None:
    loaded, code, modules = _modules_loaded_by(argv)
    assert (loaded, code) == (False, 0)
    assert (HEAVY - needs) & modules == set()
    commands = {m for m in modules if m.startswith("vectora_release.cli.") and "_cmds" in m}
    assert commands <= {"vectora_release.cli.version_cmds"}


def test_help_lists_each_command_with_its_own_help_without_importing_it() -> None:
    import click
    from vectora_release.cli.main import cli

    for width in (60, 100):
        ctx = click.Context(cli, info_name="vectora-release", max_content_width=width)
        lazy, eager = click.HelpFormatter(width=width), click.HelpFormatter(width=width)
        cli.format_commands(ctx, lazy)
        click.Group.format_commands(cli, ctx, eager)  # imports every command module
        assert lazy.getvalue() == eager.getvalue()
