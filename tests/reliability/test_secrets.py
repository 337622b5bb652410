"""Secrets: an SSM SecureString reaches the Lambda configuration and nowhere else.

``release.yaml`` names the parameter (``API_TOKEN: ssm:/vectora-inbox/{env}/api-token``); the
deploy resolves it. Every command an operator or a workflow runs is run with ``--json`` (job
summaries on), and then every byte the tool wrote or printed is searched for the secret: its
stdout and stderr, the job summaries, ``dist/``, every version of every object in every bucket
(artifact store, ledger, config and data buckets). The one place it must be is the function's
live configuration.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import pytest
from harness import CliRun, run_cli
from support import Figures, git, make_project, target
from vectora_release.aws.lambda_ import ALIAS
from vectora_release.build.deps import default_cache_dir
from vectora_release.config.model import load_config

FUNCTION = "ingest-v2"


def with_secret_variable(project: Path) -> Path:
    """release.yaml: API_TOKEN from SSM for every environment, required by ingest-v2."""
    path = project / "release.yaml"
    text = path.read_text(encoding="utf-8")
    anchor = "  NEWSLETTERS_BUCKET: vectora-inbox-newsletters-{env}\n"
    assert anchor in text
    text = text.replace(anchor, anchor + "  API_TOKEN: ssm:/vectora-inbox/{env}/api-token\n")
    ingest = "    source: src_v2/lambdas/ingest_v2\n"
    block = text.index(ingest)
    layers = text.index("    layers: [vectora-core, common-deps]\n", block)
    end = layers + len("    layers: [vectora-core, common-deps]\n")
    text = text[:end] + "    env: [API_TOKEN]\n" + text[end:]
    path.write_text(text, encoding="utf-8")
    git(project, "commit", "-q", "-am", "ingest-v2 reads API_TOKEN from SSM")
    return project


def all_objects(s3, bucket: str) -> list[bytes]:
    """Every version of every object in ``bucket`` (a secret overwritten is still there)."""
    found = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for item in page.get("Versions", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"], VersionId=item["VersionId"])
            found.append(body["Body"].read())
    return found


@pytest.mark.slow
def test_an_ssm_secret_is_used_and_never_written_or_shown(
    aws_env: str, tmp_path: Path, figures: Figures
) -> None:
    started = time.time()
    project = with_secret_variable(make_project(tmp_path / "project"))
    config = load_config(project / "release.yaml")
    values = {env: f"tok-{env}-{secrets.token_hex(12)}" for env in ("dev", "stage")}
    dev = target(config, "dev")
    for env, value in values.items():
        dev.aws.ssm().put_parameter(
            Name=f"/vectora-inbox/{env}/api-token", Value=value, Type="SecureString"
        )
    summary = tmp_path / "step-summary.md"
    summary.touch()
    runs: list[CliRun] = []

    def cli(*args: str, code: int = 0) -> CliRun:
        run = run_cli(
            str(project / "release.yaml"), ["--json", *args], stub=False, summary=str(summary)
        )
        assert run.code == code, run.err
        runs.append(run)
        return run

    for env in ("dev", "stage"):
        cli("bootstrap", "--env", env)
    cli("build", "--out", str(project / "dist"))
    cli("publish", "--manifest", str(project / "dist" / "manifest.json"))
    cli("deploy", "--env", "dev", "--version", "0.1.0", "--dry-run")
    cli("deploy", "--env", "dev", "--version", "0.1.0", "--validate")
    cli("validate", "--env", "dev")
    cli("deploy", "--env", "stage", "--version", "0.1.0")
    cli("invoke", "--env", "dev", "--function", FUNCTION)
    cli("drift", "--env", "dev")
    cli("status")
    cli("history", "--env", "dev")
    cli("diff", "dev", "stage")

    # the secret reached Lambda, and only through the alias's configuration
    for env, value in values.items():
        t = target(config, env)
        resource = config.function_resource(FUNCTION, env)
        live = t.lam.get_function_configuration(FunctionName=resource, Qualifier=ALIAS)
        assert live["Environment"]["Variables"]["API_TOKEN"] == value

    # someone sets stage's token by hand: drift finds it, and shows neither value
    stage = target(config, "stage")
    resource = config.function_resource(FUNCTION, "stage")
    conf = stage.lam.get_function_configuration(FunctionName=resource)
    leaked = f"tok-by-hand-{secrets.token_hex(12)}"
    variables = {**conf["Environment"]["Variables"], "API_TOKEN": leaked}
    stage.lam.update_function_configuration(
        FunctionName=resource, Environment={"Variables": variables}
    )
    version = stage.lam.publish_version(FunctionName=resource)["Version"]
    stage.lam.update_alias(FunctionName=resource, Name=ALIAS, FunctionVersion=version)
    drifted = cli("drift", "--env", "stage", code=1)
    assert "env API_TOKEN" in drifted.out and "****" in drifted.out
    cli("validate", "--env", "stage", code=1)

    secrets_ = [*values.values(), leaked]
    printed = "".join(r.out + r.err for r in runs)
    written = [p.read_bytes() for p in (project / "dist").rglob("*") if p.is_file()]
    written.append(summary.read_bytes())
    runner = Path(default_cache_dir(config.root)) / "runner"
    written += [
        p.read_bytes() for p in runner.rglob("*") if p.is_file() and p.stat().st_mtime >= started
    ]
    stored: list[bytes] = []
    for bucket in [b["Name"] for b in dev.s3.list_buckets()["Buckets"]]:
        stored += all_objects(dev.s3, bucket)
    for value in secrets_:
        assert value not in printed
        assert not [b for b in written if value.encode() in b]
        assert not [b for b in stored if value.encode() in b]
    assert summary.read_text(encoding="utf-8").strip()  # summaries were written, and searched
    figures.add(
        "secrets",
        f"{len(runs)} commands (--json, job summaries on); searched {len(printed):,} characters "
        f"of output, {len(written)} files written and {len(stored)} stored objects (every "
        f"version): the SSM SecureString values appear 0 times, only in the Lambda "
        f"configuration; drift shows a hand-set token as ****",
    )
