"""Bad input: each refused with exit 2, one line naming what, where and what next, nothing changed.

The embedded AWS runs R1 in dev (R2 published) while the bad inputs are tried, each through the
CLI. "Nothing changed" is checked twice: the command made no mutating AWS call, and every
object, function, alias and layer version of the embedded AWS is as it was.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import CliRun, Faults, run_cli, stub_runner
from support import Figures, Releases, git, make_project, target
from vectora_release.build.deps import default_cache_dir
from vectora_release.common.digest import code_sha256, sha256_hex
from vectora_release.deploy.pipeline import deploy_release
from vectora_release.store.artifacts import release_prefix

TRIED: list[str] = []


def aws_state(releases: Releases) -> dict[str, Any]:
    """Everything a command could change: objects (with ETags), functions, aliases, layers."""
    dev = target(releases.config, "dev")
    s3, lam = dev.s3, dev.lam
    objects = {}
    for bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for v in page.get("Versions", []):
                objects[f"{bucket}/{v['Key']}@{v['VersionId']}"] = v["ETag"]
    functions = {}
    for fn in lam.list_functions()["Functions"]:
        name = fn["FunctionName"]
        versions = lam.list_versions_by_function(FunctionName=name)["Versions"]
        aliases = lam.list_aliases(FunctionName=name)["Aliases"]
        functions[name] = (
            [(v["Version"], v["CodeSha256"], v.get("LastModified")) for v in versions],
            [(a["Name"], a["FunctionVersion"]) for a in aliases],
        )
    layers = {
        layer["LayerName"]: [
            v["Version"]
            for v in lam.list_layer_versions(LayerName=layer["LayerName"])["LayerVersions"]
        ]
        for layer in lam.list_layers()["Layers"]
    }
    return {"objects": objects, "functions": functions, "layers": layers}


@pytest.fixture(scope="module")
def world(
    embedded_server: str, releases: Releases
) -> Iterator[tuple[Releases, Callable[[], dict]]]:
    """One embedded AWS state for the module: dev runs R1; R1 and R2 published."""
    from faultmatrix import prepare_deploy
    from support import pointing_at

    with pointing_at(embedded_server):
        from urllib.request import Request, urlopen

        urlopen(Request(f"{embedded_server}/moto-api/reset", method="POST"), timeout=10).close()
        with stub_runner():
            prepare_deploy(releases)
        yield releases, lambda: aws_state(releases)


@pytest.fixture
def aws(world: tuple[Releases, Callable[[], dict]], embedded_server: str) -> Iterator[Releases]:
    """The module's AWS state, checked unchanged after the test."""
    from support import pointing_at

    releases, state = world
    with pointing_at(embedded_server):
        before = state()
        yield releases
        assert state() == before, "a refused command changed the embedded AWS"


def refused(config: Path | str, *args: str) -> str:
    """Run the CLI; expect exit 2, no traceback, no mutating AWS call; return its error line.

    Functions run in the real local runner (``invoke`` must refuse a malicious zip itself).
    """
    calls = Faults()
    run: CliRun = run_cli(str(config), args, [calls], stub=False)
    assert run.code == 2, run.err
    assert "Traceback" not in run.err
    errors = [line for line in run.err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and run.err.rstrip("\n").splitlines()[-1] == errors[0], run.err
    assert calls.calls == [], f"mutating calls made: {calls.calls}"
    TRIED.append(f"{' '.join(a for a in args if not a.startswith('/'))[:40]}: {errors[0]}")
    return errors[0].removeprefix("error: ")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "project")


def commit(project: Path) -> Path:
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "bad input")
    return project / "release.yaml"


DEPLOY = ("deploy", "--env", "dev", "--version", "0.2.0")


# -- release.yaml --------------------------------------------------------------------------------
def test_unknown_key_in_release_yaml(aws: Releases, project: Path) -> None:
    edit(project / "release.yaml", "    memory: 512\n", "    memory: 512\n    memroy: 512\n")
    assert refused(commit(project), *DEPLOY) == (
        "release.yaml: functions.ingest-v2.memroy: unknown key "
        "(allowed: env, handler, layers, memory, source, timeout) (fix release.yaml)"
    )


def test_wrong_type_in_release_yaml(aws: Releases, project: Path) -> None:
    edit(project / "release.yaml", "    memory: 512\n", "    memory: lots\n")
    assert refused(commit(project), *DEPLOY) == (
        "release.yaml: functions.ingest-v2.memory: expected an integer, got str 'lots' "
        "(fix release.yaml)"
    )


def test_missing_contract_value(aws: Releases, project: Path) -> None:
    edit(project / "release.yaml", "  LOG_LEVEL: INFO\n", "")
    assert refused(commit(project), *DEPLOY) == (
        "release.yaml: environments.dev.variables.LOG_LEVEL: missing contract value "
        "(required by ingest-v2) (fix release.yaml)"
    )


@pytest.mark.parametrize(
    ("where", "line", "key"),
    [
        ("  LOG_LEVEL: INFO\n", "  API_TOKEN: 4f9a8c1e2b7d\n", "variables.API_TOKEN"),
        ("  LOG_LEVEL: INFO\n", "  UPSTREAM_KEY_ID: AKIAIOSFODNN7EXAMPLE\n",
         "variables.UPSTREAM_KEY_ID"),
        ("    reserved_concurrency: 1\n", "    variables:\n      DB_PASSWORD: hunter2\n",
         "environments.dev.variables.DB_PASSWORD"),
    ],
    ids=["token", "aws-key-id", "password"],
)  # fmt: skip
def test_secret_literal_in_release_yaml(
    aws: Releases, project: Path, where: str, line: str, key: str
) -> None:
    edit(project / "release.yaml", where, where + line)
    name = key.rsplit(".", 1)[-1].lower()
    assert refused(commit(project), *DEPLOY) == (
        f"release.yaml: {key}: looks like a secret written as a literal value "
        f"(store it in SSM Parameter Store and write 'ssm:/<project>/<env>/{name}')"
    )


# -- VERSION and tags ----------------------------------------------------------------------------
def test_missing_version(project: Path, tmp_path: Path) -> None:
    (project / "VERSION").unlink()
    line = refused(commit(project), "build", "--out", str(tmp_path / "out"))
    assert line == f"VERSION file is missing (create {project / 'VERSION'} holding e.g. 0.1.0)"
    assert not (tmp_path / "out").exists()


def test_version_that_is_not_semver(project: Path, tmp_path: Path) -> None:
    (project / "VERSION").write_text("1.2\n")
    line = refused(commit(project), "build", "--out", str(tmp_path / "out"))
    assert line == "VERSION: '1.2' is not a semantic version (write e.g. 1.2.3)"
    assert not (tmp_path / "out").exists()


def test_tag_that_does_not_match_version(project: Path) -> None:
    line = refused(project / "release.yaml", "version", "check", "--tag", "v0.2.0")
    assert line == "tag 'v0.2.0' does not match VERSION 0.1.0 (tag v0.1.0, or bump VERSION first)"


# -- names ---------------------------------------------------------------------------------------
def test_unknown_environment(aws: Releases) -> None:
    line = refused(aws.r1.config_path, "deploy", "--env", "qa", "--version", "0.2.0")
    assert line == "unknown environment 'qa' (choose one of: dev, stage, prod)"


def test_unknown_function(aws: Releases) -> None:
    line = refused(aws.r1.config_path, "invoke", "--env", "dev", "--function", "digest-v2")
    assert line == (
        "unknown function 'digest-v2' (choose one of: ingest-v2, normalize-score-v2, newsletter-v2)"
    )


# -- manifests and artifacts ---------------------------------------------------------------------
def copy_dist(releases: Releases, dest: Path) -> Path:
    shutil.copytree(releases.r2.dist, dest)
    return dest


def test_manifest_with_unknown_schema_version(aws: Releases, tmp_path: Path) -> None:
    dist = copy_dist(aws, tmp_path / "dist")
    data = json.loads((dist / "manifest.json").read_text())
    (dist / "manifest.json").write_text(json.dumps({**data, "schema_version": 2}))
    for command in ("deploy", "publish"):
        args = ["--env", "dev"] if command == "deploy" else []
        line = refused(
            aws.r1.config_path, command, *args, "--manifest", str(dist / "manifest.json")
        )
        assert line == (
            f"{dist / 'manifest.json'}: unknown schema_version 2 (this tool reads 1) "
            "(rebuild the release with this version of vectora-release)"
        )


def test_altered_artifact_is_not_published(
    world: tuple[Releases, Callable[[], dict]], embedded_server: str, tmp_path: Path
) -> None:
    from support import pointing_at

    releases, state = world
    with pointing_at(embedded_server):
        before = state()
        try:
            _publish_altered(releases, tmp_path)
        finally:
            assert state() == before, "objects were uploaded"


def _publish_altered(aws: Releases, tmp_path: Path) -> None:
    dist = copy_dist(aws, tmp_path / "dist")
    for zipped in dist.glob("*.zip"):  # an unpublished release: another commit
        zipped.rename(dist / zipped.name.replace("0.2.0", "0.3.0"))
    data = json.loads((dist / "manifest.json").read_text())
    data["version"], data["commit"] = "0.3.0", "c" * 40
    for artifact in data["artifacts"]:
        artifact["file"] = artifact["file"].replace("0.2.0", "0.3.0")
    (dist / "manifest.json").write_text(json.dumps(data))
    last = dist / data["artifacts"][-1]["file"]
    last.write_bytes(last.read_bytes() + b"\0")
    line = refused(aws.r1.config_path, "publish", "--manifest", str(dist / "manifest.json"))
    assert f"{last.name} does not match the manifest" in line


def test_altered_artifact_in_the_store_is_not_deployed(
    world: tuple[Releases, Callable[[], dict]], embedded_server: str
) -> None:
    from support import pointing_at

    releases, state = world
    with pointing_at(embedded_server):
        _tampered_store(releases, state)


def _tampered_store(aws: Releases, state: Callable[[], dict]) -> None:
    manifest = aws.r2.manifest
    dev = target(aws.config, "dev")
    key = release_prefix(manifest) + manifest.artifact("ingest-v2").file
    original = dev.s3.get_object(Bucket=dev.spec.artifact_bucket, Key=key)
    body = original["Body"].read()
    buffer = io.BytesIO(body)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("backdoor.py", "import os\n")
    tampered = buffer.getvalue()
    dev.s3.put_object(
        Bucket=dev.spec.artifact_bucket, Key=key, Body=tampered, Metadata=original["Metadata"]
    )
    before = state()
    try:
        line = refused(aws.r1.config_path, *DEPLOY)
        assert state() == before
    finally:  # the published bytes back
        dev.s3.put_object(
            Bucket=dev.spec.artifact_bucket, Key=key, Body=body, Metadata=original["Metadata"]
        )
    assert line == (
        f"s3://{dev.spec.artifact_bucket}: {manifest.artifact('ingest-v2').file} does not match "
        f"the manifest (sha256 {sha256_hex(tampered)[:12]}… ≠ "
        f"{manifest.artifact('ingest-v2').sha256[:12]}…) "
        "(the artifact was altered: rebuild and publish it again)"
    )


@pytest.mark.parametrize("entry", ["../../escaped-by-zip.txt", "link-out"])
def test_zip_entry_escaping_the_runner_folder(
    world: tuple[Releases, Callable[[], dict]], embedded_server: str, tmp_path: Path, entry: str
) -> None:
    """A release whose ingest-v2 zip holds ``entry`` (a path out, or a symlink) is deployed;
    running it (``invoke``, as validate's smoke check does) is refused before extracting."""
    from support import pointing_at

    releases = world[0]
    with pointing_at(embedded_server):
        manifest = _publish_with_entry(releases, tmp_path / "dist", entry)
        dev = target(releases.config, "dev")
        with stub_runner():
            deploy_release(dev, manifest)
        try:
            line = refused(
                releases.r1.config_path, "invoke", "--env", "dev", "--function", "ingest-v2"
            )
        finally:
            with stub_runner():
                deploy_release(dev, releases.r1.manifest)
    runner = Path(default_cache_dir(releases.config.root)) / "runner"  # extracts in runner/tmp*/
    assert not (runner.parent / "escaped-by-zip.txt").exists()
    assert not [p for p in runner.rglob("*") if p.name in ("escaped-by-zip.txt", "link-out")]
    if entry == "link-out":
        assert line == f"zip entry {entry!r} is a symbolic link"
    else:
        assert line == (
            f"zip entry {entry!r} would escape the folder "
            "(the artifact is malformed or malicious: rebuild it)"
        )


def _publish_with_entry(releases: Releases, dist: Path, entry: str):
    """R1 as another version and commit, with ``entry`` added to ingest-v2's zip."""
    from vectora_release.build.manifest import Manifest

    shutil.copytree(releases.r1.dist, dist)
    data = json.loads((dist / "manifest.json").read_text())
    version, commit = ("0.6.6", "d" * 40) if entry == "link-out" else ("0.6.7", "e" * 40)
    data["version"], data["commit"] = version, commit
    for artifact in data["artifacts"]:
        old = dist / artifact["file"]
        artifact["file"] = artifact["file"].replace("0.1.0", version)
        payload = old.read_bytes()
        if artifact["name"] == "ingest-v2":
            buffer = io.BytesIO(payload)
            with zipfile.ZipFile(buffer, "a") as archive:
                info = zipfile.ZipInfo(entry)
                if entry == "link-out":
                    info.external_attr = 0o120777 << 16
                    archive.writestr(info, "/etc/passwd")
                else:
                    archive.writestr(info, "escaped\n")
            payload = buffer.getvalue()
            artifact.update(
                size=len(payload), sha256=sha256_hex(payload), code_sha256=code_sha256(payload)
            )
        (dist / artifact["file"]).write_bytes(payload)
        old.unlink()
    manifest = Manifest.from_dict(data)
    (dist / "manifest.json").write_bytes(manifest.dumps())
    target(releases.config, "dev").store.publish(manifest, dist)
    return manifest


# -- the build -----------------------------------------------------------------------------------
def test_symlink_leaving_the_repository(project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text("SECRET = 1\n")
    (project / "src_v2/lambdas/ingest_v2/leak.py").symlink_to(outside)
    line = refused(commit(project), "build", "--out", str(tmp_path / "out"))
    assert line == (
        f"symlink src_v2/lambdas/ingest_v2/leak.py points outside the repository ({outside}) "
        "(replace it with a real file)"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("file", "old", "new", "problem"),
    [
        ("canonical/scopes/lai_companies.yaml", ":", ": [unclosed", "invalid YAML"),
        ("client-config-examples/lai_weekly.yaml", "  client_id: lai_weekly\n",
         "  client_id: lai_weekly\n  client_id: lai_weekly_2\n", "duplicate key 'client_id'"),
    ],
    ids=["canonical-invalid", "client-duplicate-key"],
)  # fmt: skip
def test_invalid_yaml_in_the_config_bundle(
    project: Path, file: str, old: str, new: str, problem: str
) -> None:
    path = project / file
    edit(path, old, new)
    line = refused(commit(project), "config", "check")
    rel = path.relative_to(project).as_posix()
    assert line.startswith(f"{rel}:") and problem in line, line


@pytest.mark.slow
def test_artifact_over_lambdas_size_limit(project: Path, tmp_path: Path) -> None:
    (project / "src_v2/lambdas/ingest_v2/blob.bin").write_bytes(os.urandom(51 * 1024 * 1024))
    line = refused(commit(project), "build", "--out", str(tmp_path / "out"))
    assert line == "ingest-v2 is 51.0 MB zipped, over Lambda's 50 MB limit (trim its contents)"
    assert not (tmp_path / "out").exists()


def test_zz_figures(figures: Figures) -> None:
    """Not a check: records what was tried (docs/reliability.md)."""
    figures.add(
        "bad input (exit 2, one line, no mutating call, AWS unchanged)", f"{len(TRIED)} refusals"
    )
    for line in TRIED:
        figures.add("bad input (exit 2, one line, no mutating call, AWS unchanged)", line)
