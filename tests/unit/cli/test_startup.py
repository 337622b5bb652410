"""What keeps start-up short, as behaviour: each module loads only what it needs, and the
console script tunes the collector for a process that ends with its command
(``docs/architecture.md``, start-up). Timings are in ``bench/startup.py``, not here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from vectora_release.common.lazy import exports

ROOT = Path(__file__).resolve().parents[3]
CONFIG = str(ROOT / "release.yaml")


def _loaded_after(code: str) -> tuple[list, set[str]]:
    """(what ``code`` prints as JSON on its last line, the modules loaded) in a new process."""
    probe = f"import json, sys\n{code}\nprint(json.dumps([result, sorted(sys.modules)]))\n"
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, timeout=60
    )
    assert run.returncode == 0, run.stderr
    result, modules = json.loads(run.stdout.splitlines()[-1])
    return result, set(modules)


def _vectora(modules: set[str], package: str) -> set[str]:
    return {m for m in modules if m == package or m.startswith(f"{package}.")}


@pytest.mark.parametrize(
    ("module", "never"),
    [
        # build's module: no AWS SDK, no artifact store, no build machinery before `build` runs
        (
            "vectora_release.cli.release_cmds",
            {"boto3", "vectora_release.store", "vectora_release.build.builders", "git"},
        ),
        # deploy's module: neither the checks (unless it validates) nor other commands' ops
        ("vectora_release.cli.env_cmds", {"vectora_release.checks", "vectora_release.ops"}),
        # the embedded AWS's state file is read by every AWS command: no runner, no checks
        ("vectora_release.local.server", {"vectora_release.checks", "vectora_release.deploy"}),
        # the runner handed to every target on the embedded AWS loads no check until it runs
        ("vectora_release.local.runner", {"vectora_release.checks", "vectora_release.deploy"}),
        # the deploy pipeline never loads the checks above it nor the embedded AWS
        ("vectora_release.deploy.pipeline", {"vectora_release.checks", "vectora_release.local"}),
    ],
)
def test_a_module_loads_none_of_its_packages_siblings_it_does_not_use(
    module: str, never: set[str]
) -> None:
    _, modules = _loaded_after(f"import {module}\nresult = None")
    assert module in modules
    for name in never:
        assert _vectora(modules, name) == set(), f"{module} loaded {name}"


def test_a_package_export_is_imported_from_its_module_when_first_read() -> None:
    code = (
        "import vectora_release.deploy as deploy\n"
        "before = 'vectora_release.deploy.recovery' in sys.modules\n"
        "result = [before, deploy.recovery.__name__, deploy.Target.__module__]"
    )
    result, modules = _loaded_after(code)
    assert result == [False, "vectora_release.deploy.recovery", "vectora_release.deploy.target"]
    assert "vectora_release.deploy.recovery" in modules


def test_an_unknown_export_is_an_attribute_error_naming_the_package() -> None:
    getattr_ = exports("vectora_release.common", {"say": "output"})
    assert callable(getattr_("say"))
    with pytest.raises(AttributeError, match=r"'vectora_release\.common' has no attribute 'nope'"):
        getattr_("nope")


def test_every_declared_export_of_every_package_resolves() -> None:
    code = (
        "import importlib\n"
        "result = []\n"
        "for pkg in ('aws', 'checks', 'config', 'deploy', 'local', 'ops', 'store'):\n"
        "    module = importlib.import_module('vectora_release.' + pkg)\n"
        "    result += [f'{pkg}.{n}' for n in module.__all__ if getattr(module, n) is None]\n"
    )
    missing, _ = _loaded_after(code)
    assert missing == []


def test_the_console_script_runs_the_command_then_freezes_the_collector() -> None:
    code = (
        "import gc\n"
        "from vectora_release.cli.main import CONSOLE_GC_THRESHOLDS, console\n"
        f"sys.argv = ['vectora-release', '--config', {CONFIG!r}, 'version', 'show']\n"
        "exit_code = console()\n"
        "result = [exit_code, gc.get_freeze_count() > 0,\n"
        "          list(gc.get_threshold()) == list(CONSOLE_GC_THRESHOLDS), gc.isenabled()]"
    )
    result, _ = _loaded_after(code)
    assert result == [0, True, True, True]


def test_the_console_script_returns_a_failing_commands_exit_code() -> None:
    code = (
        "from vectora_release.cli.main import console\n"
        f"sys.argv = ['vectora-release', '--config', {CONFIG!r}, 'validate', '--env', 'x']\n"
        "result = console()"
    )
    result, _ = _loaded_after(code)
    assert result == 2
