"""Install pinned requirements for the Lambda platform, cached by the hash of their inputs.

Two installers give the same files: uv (``uv pip install``, several times faster) when it is
installed, pip otherwise; ``VECTORA_RELEASE_INSTALLER=pip|uv`` chooses. What each writes
about itself (``INSTALLER``, ``RECORD``, ``REQUESTED``, uv's ``.lock``) is pruned, so the
layer's bytes do not depend on the installer (``docs/architecture.md``, build).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ..common.digest import sha256_hex
from ..common.errors import BuildError

# pip takes --platform literally: a wheel tagged only manylinux_2_28 is missed when we pass only
# manylinux2014, so every glibc tag Lambda's Amazon Linux 2023 (glibc 2.34) accepts is listed.
PLATFORMS = ("manylinux2014_x86_64", *(f"manylinux_2_{m}_x86_64" for m in range(17, 35)))
# uv takes the newest glibc tag and accepts every older one.
UV_PLATFORM = "x86_64-manylinux_2_34"
INSTALLERS = ("uv", "pip")
INSTALLER_VAR = "VECTORA_RELEASE_INSTALLER"
CACHE_SCHEMA = 2
# What an installer writes about the installation rather than the package.
INSTALLER_METADATA = ("INSTALLER", "RECORD", "REQUESTED", "direct_url.json")
_NO_WHEEL = re.compile(
    r"(?:No matching distribution found for|"
    r"Could not find a version that satisfies the requirement) ([^\s(]+)"
)
# uv: "Because nope==9 has no usable wheels…", "Because nope was not found in the package
# registry…", "Because there is no version of nope==9…"
_UV_NO_WHEEL = re.compile(
    r"Because (?:there is no version of )?([^\s]+?)(?: was not found| has no |\s*and| cannot)"
)


def default_cache_dir(repo_root: Path) -> Path:
    """``$VECTORA_RELEASE_CACHE`` or ``<repo>/.cache/vectora-release``."""
    env = os.environ.get("VECTORA_RELEASE_CACHE")
    return Path(env) if env else repo_root / ".cache" / "vectora-release"


def installer() -> str:
    """``uv`` when it is installed (or asked for), else ``pip``."""
    chosen = os.environ.get(INSTALLER_VAR, "").strip()
    if chosen and chosen not in INSTALLERS:
        raise BuildError(
            f"{INSTALLER_VAR}={chosen!r} is not an installer", f"use one of {', '.join(INSTALLERS)}"
        )
    if chosen == "pip":
        return "pip"
    if uv_path() is not None:
        return "uv"
    if chosen == "uv":
        raise BuildError(f"{INSTALLER_VAR}=uv but uv is not installed", "pip install uv")
    return "pip"


def uv_path() -> str | None:
    """uv beside this Python (the same virtualenv), else on PATH."""
    beside = Path(sys.executable).with_name("uv")
    return str(beside) if beside.is_file() else shutil.which("uv")


def cache_key(requirements: str, python_version: str, installer: str = "pip") -> str:
    inputs = {
        "schema": CACHE_SCHEMA,
        "installer": installer,
        "requirements": requirements,
        "python_version": python_version,
        "platforms": PLATFORMS,
        "implementation": "cp",
    }
    return sha256_hex(json.dumps(inputs, sort_keys=True).encode("utf-8"))


def install(requirements: Path, python_version: str, cache_dir: Path, label: str) -> Path:
    """Folder with ``requirements`` installed for Lambda; pip runs only on a cache miss."""
    if not requirements.is_file():
        raise BuildError(f"{label}: requirements file {requirements} does not exist")
    text = requirements.read_text(encoding="utf-8")
    tool = installer()
    target = cache_dir / "deps" / cache_key(text, python_version, tool)
    if (target / ".complete").is_file():
        return target / "site"
    cache_dir.joinpath("deps").mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="deps-", dir=cache_dir / "deps"))
    try:
        if tool == "uv":
            _uv_install(requirements, python_version, work / "site", label)
        else:
            _pip_install(requirements, python_version, work / "site", label)
        _prune(work / "site")
        (work / ".complete").write_text("ok\n", encoding="utf-8")
        try:
            work.rename(target)
        except OSError:  # another build filled the cache first; theirs is as good as ours
            shutil.rmtree(work, ignore_errors=True)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return target / "site"


def _pip_install(requirements: Path, python_version: str, site: Path, label: str) -> None:
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-input",
        "--target",
        str(site),
        "--python-version",
        python_version,
        "--implementation",
        "cp",
        "--only-binary=:all:",
        "--no-compile",
        *(arg for platform in PLATFORMS for arg in ("--platform", platform)),
        "-r",
        str(requirements),
    ]
    _run_installer(command, _NO_WHEEL, "pip install", python_version, label)


def _uv_install(requirements: Path, python_version: str, site: Path, label: str) -> None:
    command = [
        str(uv_path()),
        "pip",
        "install",
        "--quiet",
        "--no-progress",
        "--python",
        sys.executable,  # only to run uv's resolver: the target is --python-version
        "--target",
        str(site),
        "--python-platform",
        UV_PLATFORM,
        "--python-version",
        python_version,
        "--only-binary",
        ":all:",
        "--no-compile",
        "-r",
        str(requirements),
    ]
    _run_installer(command, _UV_NO_WHEEL, "uv pip install", python_version, label)


def _run_installer(
    command: list[str], no_wheel: re.Pattern[str], installer: str, python_version: str, label: str
) -> None:
    """Run an installer; its failure is one line (a missing Lambda wheel named as such)."""
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode == 0:
        return
    output = result.stderr + result.stdout
    missing = no_wheel.search(output)
    if missing:
        raise BuildError(
            f"{label}: no wheel of {missing.group(1)} for the Lambda platform "
            f"(cp{python_version.replace('.', '')}, manylinux x86_64)",
            "pin a version that publishes a manylinux wheel",
        )
    fallback = f"{installer.split()[0]} failed"
    last = next((line for line in reversed(output.splitlines()) if line.strip()), fallback)
    raise BuildError(f"{label}: {installer} failed: {last.strip()}")


def _prune(site: Path) -> None:
    """Drop what Lambda never needs and what would make the tree host- or installer-dependent."""
    for path in sorted(site.rglob("__pycache__"), reverse=True):
        shutil.rmtree(path, ignore_errors=True)
    shutil.rmtree(site / "bin", ignore_errors=True)
    (site / ".lock").unlink(missing_ok=True)  # uv's lock on the target folder
    for info in site.glob("*.dist-info"):
        for name in INSTALLER_METADATA:
            (info / name).unlink(missing_ok=True)
