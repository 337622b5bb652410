"""Same commit ⇒ same bytes; what the zips hold; the dependency cache.

One reference build per module; the other builds come from clones of the same commit, so a
difference can only come from the build, never from a different source.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import stat
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
from vectora_release.build import deps, zipper
from vectora_release.build.builders import build_release
from vectora_release.build.manifest import Manifest
from vectora_release.common.errors import BuildError
from vectora_release.config.model import load_config

TESTS = Path(__file__).resolve().parents[2]
VERSION = "0.1.0"
ARTIFACTS = (
    "vectora-core",
    "common-deps",
    "ingest-v2",
    "normalize-score-v2",
    "newsletter-v2",
    "config-bundle",
)
FUNCTIONS = {
    "ingest-v2": "ingest_v2",
    "normalize-score-v2": "normalize_score_v2",
    "newsletter-v2": "newsletter_v2",
}
ZIP_1980 = (1980, 1, 1, 0, 0, 0)
COMMIT_TIME = "2026-11-16T08:00:00Z"  # GIT_COMMITTER_DATE in tests/conftest.py


def _root_conftest() -> ModuleType:
    """``tests/conftest.py`` under its own name, for ``make_project`` and ``GIT_ENV``."""
    name = "vectora_tests_root_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, TESTS / "conftest.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, **_root_conftest().GIT_ENV}
    done = subprocess.run(
        ["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def build(project: Path, out: Path) -> Manifest:
    return build_release(load_config(project / "release.yaml"), out)


def digests(out: Path) -> dict[str, str]:
    """sha256 of every zip and of manifest.json in ``out``."""
    files = [*sorted(out.glob("*.zip")), out / "manifest.json"]
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def infos(path: Path) -> list[zipfile.ZipInfo]:
    with zipfile.ZipFile(path) as archive:
        return archive.infolist()


def read(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read(name)


def clone(project: Path, dest: Path) -> Path:
    """A fresh checkout of the same commit (new path, new mtimes, its own file order)."""
    subprocess.run(["git", "clone", "-q", str(project), str(dest)], check=True, capture_output=True)
    return dest


@dataclass(frozen=True)
class Reference:
    project: Path
    out: Path
    manifest: Manifest

    def zip(self, name: str) -> Path:
        return self.out / f"{name}-{VERSION}.zip"


@pytest.fixture(autouse=True)
def _no_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)


@pytest.fixture(scope="module")
def ref(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reference]:
    """The project built once, without SOURCE_DATE_EPOCH."""
    work = tmp_path_factory.mktemp("reference")
    project = _root_conftest().make_project(work / "project")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("SOURCE_DATE_EPOCH", raising=False)
        manifest = build(project, work / "out")
    yield Reference(project, work / "out", manifest)


# -- byte-identical rebuilds -------------------------------------------------------------------
def test_build_writes_the_six_artifacts_and_a_manifest(ref: Reference) -> None:
    expected = {f"{name}-{VERSION}.zip" for name in ARTIFACTS} | {"manifest.json"}
    assert {p.name for p in ref.out.iterdir()} == expected
    assert [a.name for a in ref.manifest.artifacts] == list(ARTIFACTS)


def test_rebuild_gives_identical_bytes(ref: Reference, tmp_path: Path) -> None:
    build(ref.project, tmp_path / "again")
    assert digests(tmp_path / "again") == digests(ref.out)
    assert len(digests(ref.out)) == len(ARTIFACTS) + 1


def checkout_under(umask: int, project: Path, dest: Path, first_stamp: int) -> Path:
    """A clone of ``project`` made under ``umask``, every file and folder given its own mtime."""
    previous = os.umask(umask)
    try:
        checkout = clone(project, dest)
    finally:
        os.umask(previous)
    paths = sorted(p for p in checkout.rglob("*") if ".git" not in p.relative_to(checkout).parts)
    for i, path in enumerate(paths):
        stamp = first_stamp + 7919 * i  # a different, odd time for every entry
        os.utime(path, (stamp, stamp))
    return checkout


def build_under(umask: int, project: Path, out: Path, cache: Path) -> Manifest:
    """Build ``project`` under ``umask`` with a cold cache of its own (pip runs, zips are made)."""
    previous = os.umask(umask)
    try:
        return build_release(load_config(project / "release.yaml"), out, cache_dir=cache)
    finally:
        os.umask(previous)


def test_checkout_mtimes_and_umask_do_not_change_the_bytes(
    ref: Reference, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pip = FakePip()
    monkeypatch.setattr(deps, "subprocess", SimpleNamespace(run=pip.run))
    checkouts = {
        0o022: checkout_under(0o022, ref.project, tmp_path / "shared", 1_000_000_000),
        0o077: checkout_under(0o077, ref.project, tmp_path / "private", 1_500_000_000),
    }
    # The premise: the two checkouts really differ in modes and times.
    for umask, file_mode, dir_mode in ((0o022, 0o644, 0o755), (0o077, 0o600, 0o700)):
        core = checkouts[umask] / "src_v2" / "vectora_core"
        assert stat.S_IMODE((core / "__init__.py").stat().st_mode) == file_mode
        assert stat.S_IMODE(core.stat().st_mode) == dir_mode
    handler = Path("src_v2/lambdas/ingest_v2/handler.py")
    assert len({(c / handler).stat().st_mtime for c in checkouts.values()}) == 2

    for umask, checkout in checkouts.items():
        build_under(umask, checkout, tmp_path / f"out-{umask:o}", tmp_path / f"cache-{umask:o}")

    assert len(pip.commands) == 2, "each build installed its dependencies (no warm cache)"
    private_deps = next((tmp_path / "cache-77" / "deps").glob("*/site/pkg/__init__.py"))
    assert stat.S_IMODE(private_deps.stat().st_mode) == 0o600
    assert digests(tmp_path / "out-22") == digests(tmp_path / "out-77")
    assert len(digests(tmp_path / "out-22")) == len(ARTIFACTS) + 1


def test_another_checkout_of_the_commit_gives_identical_bytes(
    ref: Reference, tmp_path: Path
) -> None:
    project = clone(ref.project, tmp_path / "elsewhere" / "checkout")
    manifest = build(project, tmp_path / "out")
    assert manifest.commit == ref.manifest.commit
    assert digests(tmp_path / "out") == digests(ref.out)


@pytest.mark.parametrize("installer", deps.INSTALLERS)
def test_a_cold_build_with_either_installer_gives_the_reference_bytes(
    ref: Reference, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, installer: str
) -> None:
    """uv and pip install the same files: the layer's bytes do not say which one ran."""
    monkeypatch.setenv(deps.INSTALLER_VAR, installer)
    config = load_config(ref.project / "release.yaml")
    build_release(config, tmp_path / "out", cache_dir=tmp_path / "c")
    (entry,) = (tmp_path / "c" / "deps").iterdir()
    assert entry.name == deps.cache_key(
        (ref.project / "src_v2" / "requirements.txt").read_text(), "3.12", installer
    )
    assert digests(tmp_path / "out") == digests(ref.out)


# -- timestamps ---------------------------------------------------------------------------------
def test_without_source_date_epoch_zips_use_1980_and_built_at_the_commit_time(
    ref: Reference,
) -> None:
    # Zips default to 1980 so unchanged content gives the same bytes in every commit.
    for name in ARTIFACTS:
        assert {info.date_time for info in infos(ref.zip(name))} == {ZIP_1980}, name
    assert ref.manifest.source_date_epoch == 315532800
    assert ref.manifest.built_at == COMMIT_TIME


def test_source_date_epoch_sets_every_entry_time(
    ref: Reference, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14T22:13:20Z
    manifest = build(ref.project, tmp_path / "a")
    for name in ARTIFACTS:
        stamps = {info.date_time for info in infos(tmp_path / "a" / f"{name}-{VERSION}.zip")}
        assert stamps == {(2023, 11, 14, 22, 13, 20)}, name
    assert manifest.source_date_epoch == 1700000000
    assert manifest.built_at == "2023-11-14T22:13:20Z"

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")
    build(ref.project, tmp_path / "b")
    first, second = digests(tmp_path / "a"), digests(tmp_path / "b")
    assert all(first[name] != second[name] for name in first), "every file must change"


def test_source_date_epoch_before_1980_is_clamped(
    ref: Reference, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    manifest = build(ref.project, tmp_path / "out")
    assert manifest.source_date_epoch == 315532800
    assert manifest.built_at == "1980-01-01T00:00:00Z"
    for name in ARTIFACTS:
        path = tmp_path / "out" / f"{name}-{VERSION}.zip"
        assert {info.date_time for info in infos(path)} == {ZIP_1980}, name
        assert path.read_bytes() == ref.zip(name).read_bytes(), name


def test_source_date_epoch_must_be_an_integer(
    ref: Reference, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(BuildError, match="SOURCE_DATE_EPOCH='yesterday'") as caught:
        build(ref.project, tmp_path / "out")
    assert caught.value.exit_code == 2
    assert not (tmp_path / "out").exists()


# -- entries ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ARTIFACTS)
def test_entries_are_sorted_regular_files_with_fixed_modes(ref: Reference, name: str) -> None:
    entries = infos(ref.zip(name))
    names = [info.filename for info in entries]
    assert names, name
    assert names == sorted(names)
    assert len(names) == len(set(names))
    for info in entries:
        assert info.external_attr >> 16 == 0o100644, info.filename
        assert info.create_system == 3, info.filename
        assert info.compress_type == zipfile.ZIP_DEFLATED, info.filename
        assert not info.is_dir(), info.filename
        assert "__pycache__" not in info.filename.split("/"), info.filename
        assert not info.filename.endswith((".pyc", ".pyo")), info.filename


def test_bytecode_and_caches_in_the_tree_are_left_out(ref: Reference, tmp_path: Path) -> None:
    project = clone(ref.project, tmp_path / "project")
    junk = [
        "src_v2/vectora_core/__pycache__/feeds.cpython-312.pyc",
        "src_v2/vectora_core/__pycache__/feeds.cpython-312.opt-1.nfo",
        "src_v2/vectora_core/stray.pyc",
        "src_v2/lambdas/ingest_v2/__pycache__/handler.cpython-312.pyc",
        "src_v2/lambdas/ingest_v2/handler.pyo",
        "src_v2/lambdas/newsletter_v2/.pytest_cache/v/cache/lastfailed",
        "canonical/scopes/__pycache__/x.pyc",
        "src_v2/vectora_core/_build_info.json",  # left by a local run; the build writes its own
    ]
    for rel in junk:
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_bytes(b"\x00junk")
    manifest = build(project, tmp_path / "out")
    assert manifest.dirty, "stray.pyc and handler.pyo are untracked files"
    for name in ARTIFACTS:
        zipped = tmp_path / "out" / f"{name}-{VERSION}.zip"
        assert zipped.read_bytes() == ref.zip(name).read_bytes(), name


# -- layout -------------------------------------------------------------------------------------
def test_vectora_core_layer_layout(ref: Reference) -> None:
    path = ref.zip("vectora-core")
    names = [info.filename for info in infos(path)]
    assert all(n.startswith("python/vectora_core/") for n in names), names
    assert "python/vectora_core/__init__.py" in names
    source = ref.project / "src_v2" / "vectora_core"
    expected = {
        f"python/vectora_core/{p.relative_to(source).as_posix()}" for p in source.rglob("*.py")
    }
    assert expected <= set(names)
    assert read(path, "python/vectora_core/feeds.py") == (source / "feeds.py").read_bytes()
    info = json.loads(read(path, "python/vectora_core/_build_info.json"))
    assert info == {"version": VERSION, "commit": ref.manifest.commit}
    assert ref.manifest.artifact("vectora-core").build_info == info


def test_common_deps_layer_layout(ref: Reference) -> None:
    names = [info.filename for info in infos(ref.zip("common-deps"))]
    assert all(n.startswith("python/") for n in names)
    for module in ("python/yaml/__init__.py", "python/dateutil/__init__.py", "python/six.py"):
        assert module in names
    # The compiled extension is the Lambda platform's, not this machine's.
    extensions = [n for n in names if n.endswith(".so")]
    assert extensions and all("cpython-312-x86_64-linux-gnu" in n for n in extensions)
    assert not [n for n in names if n.startswith("python/bin/") or "direct_url.json" in n]


@pytest.mark.parametrize(("function", "folder"), FUNCTIONS.items())
def test_function_zip_has_its_handler_at_the_root(
    ref: Reference, function: str, folder: str
) -> None:
    path = ref.zip(function)
    names = [info.filename for info in infos(path)]
    assert "handler.py" in names
    assert not [n for n in names if n.startswith("python/")]
    source = ref.project / "src_v2" / "lambdas" / folder
    assert read(path, "handler.py") == (source / "handler.py").read_bytes()
    assert set(names) == {
        p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file()
    }


def test_config_bundle_layout(ref: Reference) -> None:
    path = ref.zip("config-bundle")
    names = {info.filename for info in infos(path)}
    canonical = ref.project / "canonical"
    clients = ref.project / "client-config-examples"
    expected = {
        f"canonical/{p.relative_to(canonical).as_posix()}"
        for p in canonical.rglob("*")
        if p.is_file()
    }
    expected |= {f"clients/{p.name}" for p in clients.iterdir() if p.is_file()}
    assert names == expected
    assert "clients/lai_weekly.yaml" in names
    assert "canonical/scopes/lai_companies.yaml" in names
    assert read(path, "clients/lai_weekly.yaml") == (clients / "lai_weekly.yaml").read_bytes()


def test_a_symlink_inside_the_repository_is_packed_as_a_file(
    ref: Reference, tmp_path: Path
) -> None:
    project = clone(ref.project, tmp_path / "project")
    link = project / "src_v2" / "lambdas" / "ingest_v2" / "exclusions.yaml"
    link.symlink_to(project / "canonical" / "scopes" / "exclusions.yaml")
    build(project, tmp_path / "out")
    packed = read(tmp_path / "out" / f"ingest-v2-{VERSION}.zip", "exclusions.yaml")
    assert packed == (project / "canonical" / "scopes" / "exclusions.yaml").read_bytes()


# -- content addressing across commits ---------------------------------------------------------
def test_a_function_only_commit_changes_only_that_function(ref: Reference, tmp_path: Path) -> None:
    project = clone(ref.project, tmp_path / "project")
    handler = project / "src_v2" / "lambdas" / "ingest_v2" / "handler.py"
    handler.write_text(handler.read_text(encoding="utf-8") + "# a change\n", encoding="utf-8")
    git(project, "commit", "-q", "-am", "change ingest")
    manifest = build(project, tmp_path / "out")
    assert manifest.commit != ref.manifest.commit
    changed = {
        name
        for name in ARTIFACTS
        if (tmp_path / "out" / f"{name}-{VERSION}.zip").read_bytes() != ref.zip(name).read_bytes()
    }
    assert changed == {"ingest-v2"}
    # The unchanged package layer still names the commit that last changed it.
    assert manifest.artifact("vectora-core").build_info == {
        "version": VERSION,
        "commit": ref.manifest.commit,
    }


# -- dependency cache ---------------------------------------------------------------------------
def test_unchanged_rebuild_neither_runs_pip_nor_recompresses_the_dependencies(
    ref: Reference, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Any] = []

    def forbidden(*args: Any, **kwargs: Any) -> None:
        calls.append(args)
        raise AssertionError("pip ran on an unchanged rebuild")

    deflated: list[str] = []
    deflate = zipper._deflate

    def recording(entries: tuple[zipper.Entry, ...], epoch: int) -> bytes:
        deflated.extend(name for name, _ in entries)
        return deflate(entries, epoch)

    monkeypatch.setattr(deps, "subprocess", SimpleNamespace(run=forbidden))
    monkeypatch.setattr(zipper, "_deflate", recording)
    build(ref.project, tmp_path / "out")
    assert calls == []
    assert "python/vectora_core/__init__.py" in deflated
    assert "python/yaml/__init__.py" not in deflated, "common-deps' zip comes from the cache"
    assert digests(tmp_path / "out") == digests(ref.out)


def test_cache_key_follows_every_input() -> None:
    base = deps.cache_key("PyYAML==6.0.3\n", "3.12")
    assert base == deps.cache_key("PyYAML==6.0.3\n", "3.12")
    assert base != deps.cache_key("PyYAML==6.0.2\n", "3.12")
    assert base != deps.cache_key("PyYAML==6.0.3\nsix==1.17.0\n", "3.12")
    assert base != deps.cache_key("PyYAML==6.0.3\n", "3.11")
    assert base != deps.cache_key("PyYAML==6.0.3\n", "3.12", "uv")


class FakePip:
    """Stands in for ``subprocess.run`` of pip: fills ``--target`` and records the command."""

    def __init__(self, returncode: int = 0, stderr: str = "") -> None:
        self.commands: list[list[str]] = []
        self.returncode = returncode
        self.stderr = stderr

    def run(self, command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        self.commands.append(command)
        if self.returncode == 0:
            site = Path(command[command.index("--target") + 1])
            for rel in (
                "pkg/__init__.py",
                "pkg/__pycache__/x.cpython-312.pyc",
                "bin/tool",
                "pkg-1.0.dist-info/direct_url.json",
                "pkg-1.0.dist-info/RECORD",
                "pkg-1.0.dist-info/INSTALLER",
                "pkg-1.0.dist-info/REQUESTED",
                "pkg-1.0.dist-info/METADATA",
                ".lock",
            ):
                (site / rel).parent.mkdir(parents=True, exist_ok=True)
                (site / rel).write_text(rel)
        return subprocess.CompletedProcess(command, self.returncode, "", self.stderr)


@pytest.fixture(params=deps.INSTALLERS)
def fake_pip(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> FakePip:
    """The installer (uv, then pip) replaced by :class:`FakePip`."""
    monkeypatch.setenv(deps.INSTALLER_VAR, request.param)
    pip = FakePip()
    monkeypatch.setattr(deps, "subprocess", SimpleNamespace(run=pip.run))
    return pip


def test_pip_runs_once_per_set_of_requirements(fake_pip: FakePip, tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("pkg==1.0\n")
    cache = tmp_path / "cache"
    first = deps.install(requirements, "3.12", cache, "common-deps")
    again = deps.install(requirements, "3.12", cache, "common-deps")
    assert first == again
    assert len(fake_pip.commands) == 1
    requirements.write_text("pkg==1.1\n")
    changed = deps.install(requirements, "3.12", cache, "common-deps")
    assert changed != first
    assert len(fake_pip.commands) == 2
    deps.install(requirements, "3.12", cache, "common-deps")
    assert len(fake_pip.commands) == 2


def option(command: list[str], name: str) -> str:
    """The value that follows ``name`` in ``command`` (exactly once)."""
    assert command.count(name) == 1, name
    return command[command.index(name) + 1]


def test_pip_installs_for_the_lambda_platform(
    fake_pip: FakePip, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(deps.INSTALLER_VAR, "pip")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("pkg==1.0\n")
    site = deps.install(requirements, "3.12", tmp_path / "cache", "common-deps")
    (command,) = fake_pip.commands
    assert command[1:4] == ["-m", "pip", "install"]
    # pip takes --platform literally: every glibc tag Lambda (Amazon Linux 2023) accepts.
    expected = ["manylinux2014_x86_64", *(f"manylinux_2_{m}_x86_64" for m in range(17, 35))]
    platforms = [command[i + 1] for i, arg in enumerate(command) if arg == "--platform"]
    assert sorted(platforms) == sorted(expected)
    assert sorted(deps.PLATFORMS) == sorted(expected)
    assert {"manylinux_2_17_x86_64", "manylinux_2_28_x86_64", "manylinux_2_34_x86_64"} <= set(
        platforms
    )
    assert option(command, "--implementation") == "cp"
    assert option(command, "--python-version") == "3.12"
    assert command.count("--only-binary=:all:") == 1
    assert command.count("--no-compile") == 1
    assert option(command, "-r") == str(requirements)
    assert Path(option(command, "--target")).name == "site"
    assert_pruned(site)


def assert_pruned(site: Path) -> None:
    """What Lambda never needs and what would tie the tree to this machine or installer."""
    kept = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    assert kept == ["pkg-1.0.dist-info/METADATA", "pkg/__init__.py"]


def test_uv_installs_for_the_lambda_platform(
    fake_pip: FakePip, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(deps.INSTALLER_VAR, "uv")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("pkg==1.0\n")
    site = deps.install(requirements, "3.12", tmp_path / "cache", "common-deps")
    (command,) = fake_pip.commands
    assert Path(command[0]).name == "uv"
    assert command[1:3] == ["pip", "install"]
    # uv accepts every glibc tag up to the one named: Amazon Linux 2023 has glibc 2.34.
    assert option(command, "--python-platform") == "x86_64-manylinux_2_34"
    assert option(command, "--python-version") == "3.12"
    assert option(command, "--only-binary") == ":all:"
    assert command.count("--no-compile") == 1
    assert option(command, "-r") == str(requirements)
    assert Path(option(command, "--target")).name == "site"
    assert_pruned(site)


def test_the_installer_is_uv_when_installed_and_pip_when_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(deps.INSTALLER_VAR, raising=False)
    assert deps.uv_path() is not None, "uv is a dev dependency (pyproject.toml)"
    assert deps.installer() == "uv"
    monkeypatch.setenv(deps.INSTALLER_VAR, "pip")
    assert deps.installer() == "pip"
    monkeypatch.setenv(deps.INSTALLER_VAR, "poetry")
    with pytest.raises(BuildError, match="VECTORA_RELEASE_INSTALLER='poetry'") as caught:
        deps.installer()
    assert caught.value.exit_code == 2


NOT_FOUND = {
    "pip": "ERROR: No matching distribution found for nope==9\n",
    "uv": "error: No solution found when resolving dependencies\n  cause: Because there is no "
    "version of nope==9 and you require nope==9, we can conclude that your requirements are "
    "unsatisfiable.\n",
}


@pytest.mark.parametrize("installer", deps.INSTALLERS)
def test_a_failed_install_leaves_no_cache_entry(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, installer: str
) -> None:
    monkeypatch.setenv(deps.INSTALLER_VAR, installer)
    pip = FakePip(returncode=1, stderr=NOT_FOUND[installer])
    monkeypatch.setattr(deps, "subprocess", SimpleNamespace(run=pip.run))
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("nope==9\n")
    cache = tmp_path / "cache"
    for _ in range(2):
        with pytest.raises(BuildError, match=r"no wheel of nope==9") as caught:
            deps.install(requirements, "3.12", cache, "common-deps")
        assert caught.value.exit_code == 2
    assert len(pip.commands) == 2, "a failure is not cached"
    assert list((cache / "deps").iterdir()) == []


# -- zip cache (the installed dependencies' layer) ----------------------------------------------
ENTRIES = [("python/pkg/__init__.py", b"x = 1\n" * 500), ("python/pkg/data.txt", b"data")]
EPOCH = 315532800


def test_cached_zip_is_the_fresh_zip_and_skips_compression(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = zipper.write_zip(ENTRIES, EPOCH)
    assert zipper.write_zip(ENTRIES, EPOCH, tmp_path) == fresh
    (cached,) = tmp_path.glob("*.zip")
    assert cached.read_bytes() == fresh.data

    def forbidden(*_: Any) -> bytes:
        raise AssertionError("compressed again")

    monkeypatch.setattr(zipper, "_deflate", forbidden)
    assert zipper.write_zip(list(reversed(ENTRIES)), EPOCH, tmp_path) == fresh


def test_zip_cache_key_follows_content_and_epoch(tmp_path: Path) -> None:
    zipper.write_zip(ENTRIES, EPOCH, tmp_path)
    changed = [ENTRIES[0], ("python/pkg/data.txt", b"other")]
    assert zipper.write_zip(changed, EPOCH, tmp_path) == zipper.write_zip(changed, EPOCH)
    later = zipper.write_zip(ENTRIES, 1700000000, tmp_path)
    assert later == zipper.write_zip(ENTRIES, 1700000000)
    assert len(list(tmp_path.glob("*.zip"))) == 3


@pytest.mark.parametrize("damage", ["garbage", "truncated", "other-content"])
def test_a_damaged_cached_zip_is_replaced(tmp_path: Path, damage: str) -> None:
    fresh = zipper.write_zip(ENTRIES, EPOCH, tmp_path)
    (cached,) = tmp_path.glob("*.zip")
    if damage == "garbage":
        cached.write_bytes(b"not a zip")
    elif damage == "truncated":
        cached.write_bytes(fresh.data[: len(fresh.data) // 2])
    else:
        cached.write_bytes(zipper.write_zip([("python/evil.py", b"boom")], EPOCH).data)
    assert zipper.write_zip(ENTRIES, EPOCH, tmp_path) == fresh
    assert cached.read_bytes() == fresh.data


def test_duplicate_entries_are_refused() -> None:
    with pytest.raises(BuildError, match=r"duplicate archive entry python/a\.py"):
        zipper.write_zip([("python/a.py", b"1"), ("python/a.py", b"2")], EPOCH)
