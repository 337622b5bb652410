"""What `vectora-release build` refuses: exit 2 and one line naming what, where and what next."""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest
from vectora_release.build import builders
from vectora_release.cli import run_cli


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("VECTORA_RELEASE_CONFIG", raising=False)


def refusal(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run the CLI, expect exit 2, return its one error line (without ``error: ``)."""
    result = run_cli(argv)
    err = result.err
    assert result.code == 2, err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, err
    assert err.rstrip("\n").splitlines()[-1] == errors[0], "the error is the last word"
    return errors[0].removeprefix("error: ")


def build_argv(project: Path, out: Path) -> list[str]:
    return ["--config", str(project / "release.yaml"), "build", "--out", str(out)]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# -- VERSION ------------------------------------------------------------------------------------
def test_missing_version_file(project: Path, tmp_path: Path, capsys) -> None:
    (project / "VERSION").unlink()
    line = refusal(build_argv(project, tmp_path / "out"), capsys)
    assert line.startswith("VERSION file is missing")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("content", ["0.1\n", "v0.1.0\n", "latest\n", "\n"])
def test_version_that_is_not_semver(project: Path, tmp_path: Path, capsys, content: str) -> None:
    (project / "VERSION").write_text(content)
    line = refusal(build_argv(project, tmp_path / "out"), capsys)
    assert line.startswith(f"VERSION: {content.strip()!r} is not a semantic version")


def test_version_override_that_is_not_semver(project: Path, tmp_path: Path, capsys) -> None:
    argv = [*build_argv(project, tmp_path / "out"), "--version", "1.2"]
    assert refusal(argv, capsys).startswith("--version: '1.2' is not a semantic version")


def test_tag_that_does_not_match_version(project: Path, capsys) -> None:
    argv = ["--config", str(project / "release.yaml"), "version", "check", "--tag", "v9.9.9"]
    line = refusal(argv, capsys)
    assert line.startswith("tag 'v9.9.9' does not match VERSION 0.1.0")
    assert "v0.1.0" in line  # the next step


# -- sources ------------------------------------------------------------------------------------
def test_missing_source_folder(project: Path, tmp_path: Path, capsys) -> None:
    edit(
        project / "release.yaml", "source: src_v2/lambdas/ingest_v2", "source: src_v2/lambdas/gone"
    )
    line = refusal(build_argv(project, tmp_path / "out"), capsys)
    assert line.startswith("source folder src_v2/lambdas/gone does not exist")
    assert "release.yaml" in line
    assert not (tmp_path / "out").exists(), "nothing is written on a refusal"


def test_missing_package_folder(project: Path, tmp_path: Path, capsys) -> None:
    edit(project / "release.yaml", "package: src_v2/vectora_core", "package: src_v2/vectora_kore")
    line = refusal(build_argv(project, tmp_path / "out"), capsys)
    assert line.startswith("source folder src_v2/vectora_kore does not exist")


def test_source_folder_outside_the_repository(project: Path, tmp_path: Path, capsys) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "handler.py").write_text("SECRET = 1\n")
    edit(project / "release.yaml", "source: src_v2/lambdas/ingest_v2", "source: ../elsewhere")
    line = refusal(build_argv(project, tmp_path / "out"), capsys)
    assert line.startswith("source folder ../elsewhere is outside the repository")


def test_symlink_to_a_file_outside_the_repository(project: Path, tmp_path: Path, capsys) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("password\n")
    (project / "src_v2" / "lambdas" / "ingest_v2" / "leak.txt").symlink_to(secret)
    line = refusal(build_argv(project, tmp_path / "out"), capsys)
    assert line.startswith(
        "symlink src_v2/lambdas/ingest_v2/leak.txt points outside the repository"
    )
    assert str(secret) in line


def test_symlink_to_a_folder_outside_the_repository(project: Path, tmp_path: Path, capsys) -> None:
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "id_rsa").write_text("key\n")
    (project / "canonical" / "keys").symlink_to(tmp_path / "home", target_is_directory=True)
    line = refusal(build_argv(project, tmp_path / "out"), capsys)
    assert line.startswith("symlink canonical/keys points outside the repository")


def test_symlink_loop(project: Path, tmp_path: Path, capsys) -> None:
    folder = project / "src_v2" / "lambdas" / "ingest_v2"
    (folder / "again").symlink_to(folder, target_is_directory=True)
    line = refusal(build_argv(project, tmp_path / "out"), capsys)
    assert line.startswith("symlink src_v2/lambdas/ingest_v2/again loops back to")


def test_dangling_symlink(project: Path, tmp_path: Path, capsys) -> None:
    folder = project / "src_v2" / "lambdas" / "ingest_v2"
    (folder / "gone.py").symlink_to(folder / "never-there.py")
    line = refusal(build_argv(project, tmp_path / "out"), capsys)
    assert line.startswith("cannot read src_v2/lambdas/ingest_v2/gone.py")


# -- config bundle ------------------------------------------------------------------------------
def test_invalid_yaml_in_canonical(project: Path, tmp_path: Path, capsys) -> None:
    edit(
        project / "canonical/scopes/lai_companies.yaml",
        "\n",
        "\n  - [unclosed: \n",
    )
    line = refusal(build_argv(project, tmp_path / "out"), capsys)
    assert line.startswith("canonical/scopes/lai_companies.yaml:")
    assert "invalid YAML" in line and line.endswith("(fix the file)")
    assert not (tmp_path / "out").exists()


def test_duplicate_key_in_a_client_config(project: Path, tmp_path: Path, capsys) -> None:
    path = project / "client-config-examples/lai_weekly.yaml"
    edit(path, "client_profile:\n", "client_profile:\n  client_id: other\n")
    line = refusal(build_argv(project, tmp_path / "out"), capsys)
    assert line.startswith("client-config-examples/lai_weekly.yaml:")
    assert "duplicate key 'client_id'" in line
    assert not (tmp_path / "out").exists()


# -- Lambda limits ------------------------------------------------------------------------------
def test_artifact_over_the_zipped_limit(
    project: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(builders, "MAX_ZIPPED", 100_000)  # common-deps is about 1 MB zipped
    line = refusal(build_argv(project, tmp_path / "out"), capsys)
    assert line.startswith("common-deps is ")
    assert "zipped, over Lambda's 50 MB limit" in line
    assert not (tmp_path / "out").exists(), "limits are checked before anything is written"


def test_function_with_its_layers_over_the_unzipped_limit(
    project: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every function alone is far below this; with its layers (common-deps: ~3 MB) it is over.
    monkeypatch.setattr(builders, "MAX_UNZIPPED", 1_000_000)
    line = refusal(build_argv(project, tmp_path / "out"), capsys)
    assert line.startswith("ingest-v2 with its layers is ")
    assert "unzipped, over Lambda's 250 MB limit" in line
    assert not (tmp_path / "out").exists()


def test_env_vars_over_4_kb(project: Path, tmp_path: Path, capsys) -> None:
    edit(project / "release.yaml", "  LOG_LEVEL: INFO\n", f"  LOG_LEVEL: {'I' * 4100}\n")
    line = refusal(build_argv(project, tmp_path / "out"), capsys)
    assert line.startswith("ingest-v2 in dev has ")
    assert "bytes of env vars, over Lambda's 4 KB limit" in line


def test_env_vars_just_under_4_kb_build(project: Path, tmp_path: Path, capsys) -> None:
    # The largest set (normalize-score-v2 in stage, with the CONFIG_PREFIX the deploy adds) is
    # then about 4,030 bytes: under the limit, so the build goes through.
    edit(project / "release.yaml", "  LOG_LEVEL: INFO\n", f"  LOG_LEVEL: {'I' * 3800}\n")
    result = run_cli(build_argv(project, tmp_path / "out"))
    assert result.code == 0, result.err


# -- dependencies -------------------------------------------------------------------------------
def sdist(folder: Path, name: str, version: str) -> None:
    """A source distribution of ``name`` only: no wheel for any platform."""
    base = f"{name}-{version}"
    files = {
        f"{base}/PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{base}/setup.py": "from setuptools import setup\nsetup()\n",
    }
    with tarfile.open(folder / f"{base}.tar.gz", "w:gz") as archive:
        for arcname, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(arcname)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def pure_wheel(folder: Path, name: str, version: str) -> None:
    """A pure-Python wheel (``py3-none-any``): installable on the Lambda platform."""
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": "",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    files[f"{info}/RECORD"] = "".join(f"{path},,\n" for path in [*files, f"{info}/RECORD"])
    with zipfile.ZipFile(folder / f"{name}-{version}-py3-none-any.whl", "w") as archive:
        for arcname, text in files.items():
            archive.writestr(arcname, text)


@pytest.fixture(params=["uv", "pip"])
def offline_index(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The installer (uv, then pip) sees only a local folder: no PyPI, no index, no config."""
    index = tmp_path / "index"
    index.mkdir()
    for key in [k for k in os.environ if k.startswith(("PIP_", "UV_"))]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("VECTORA_RELEASE_INSTALLER", request.param)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(index))
    monkeypatch.setenv("UV_NO_CONFIG", "1")
    monkeypatch.setenv("UV_NO_INDEX", "1")
    monkeypatch.setenv("UV_FIND_LINKS", str(index))
    return index


def test_requirement_without_a_wheel_for_lambda(
    project: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch, offline_index: Path
) -> None:
    # The real installer, offline: one requirement has a wheel, the other only an sdist.
    pure_wheel(offline_index, "tinypure", "1.0")
    sdist(offline_index, "sdistonly", "2.0")
    cache = tmp_path / "cache"
    monkeypatch.setenv("VECTORA_RELEASE_CACHE", str(cache))
    (project / "src_v2" / "requirements.txt").write_text("tinypure==1.0\nsdistonly==2.0\n")
    line = refusal(build_argv(project, tmp_path / "out"), capsys)
    assert line.startswith("common-deps: no wheel of sdistonly==2.0 for the Lambda platform")
    assert "(cp312, manylinux x86_64)" in line
    assert "tinypure" not in line
    assert os.listdir(cache / "deps") == [], "a failed install leaves no cache entry"


def test_missing_requirements_file(project: Path, tmp_path: Path, capsys) -> None:
    (project / "src_v2" / "requirements.txt").unlink()
    line = refusal(build_argv(project, tmp_path / "out"), capsys)
    assert line.startswith("common-deps: requirements file ")
    assert "does not exist" in line


# -- the command line itself --------------------------------------------------------------------
def test_missing_config_file(tmp_path: Path, capsys) -> None:
    argv = ["--config", str(tmp_path / "release.yaml"), "build", "--out", str(tmp_path / "o")]
    assert refusal(argv, capsys).startswith("release.yaml: file not found")


def test_invalid_config_is_refused_before_building(project: Path, tmp_path: Path, capsys) -> None:
    edit(project / "release.yaml", "memory: 512", "memory: big")
    line = refusal(build_argv(project, tmp_path / "out"), capsys)
    assert line.startswith("release.yaml: functions.ingest-v2.memory: expected an integer")


def test_outside_a_git_repository(project: Path, tmp_path: Path, capsys) -> None:
    shutil.rmtree(project / ".git")
    line = refusal(build_argv(project, tmp_path / "out"), capsys)
    assert "is not inside a git repository" in line


def test_out_that_is_a_file(project: Path, tmp_path: Path, capsys) -> None:
    (tmp_path / "out").write_text("")
    result = run_cli(build_argv(project, tmp_path / "out"))
    assert result.code == 2
    assert "is a file" in result.err
