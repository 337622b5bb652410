"""Secrets: an SSM SecureString stays in SSM; functions resolve its reference at run time.

``release.yaml`` names the parameter (``API_TOKEN: ssm:/vectora-inbox/{env}/api-token``); the
deploy writes that reference, never the value, into the function's configuration, and the
function (``vectora_core.parameters``) reads the parameter when it runs. Every command an
operator or a workflow runs is run with ``--json`` (job summaries on), and then every byte the
tool wrote or printed is searched for the secret: its stdout and stderr, the job summaries,
``dist/``, every version of every object in every bucket (artifact store, ledger, config and
data buckets), and the configuration of every version of every function. It is in none.
"""

from __future__ import annotations

import json
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
    cli("deploy", "--env", "dev", "--version", "0.1.0", "--validate")  # e2e: ingest resolves it
    cli("validate", "--env", "dev", "--e2e")
    cli("deploy", "--env", "stage", "--version", "0.1.0")
    cli("invoke", "--env", "dev", "--function", FUNCTION)
    cli("drift", "--env", "dev")
    cli("status")
    cli("history", "--env", "dev")
    cli("diff", "dev", "stage")

    # Lambda holds the reference, not the value
    for env in values:
        t = target(config, env)
        resource = config.function_resource(FUNCTION, env)
        live = t.lam.get_function_configuration(FunctionName=resource, Qualifier=ALIAS)
        assert (
            live["Environment"]["Variables"]["API_TOKEN"] == f"ssm:/vectora-inbox/{env}/api-token"
        )

    # the function resolves it when it runs: without the parameter its run fails, naming it
    ssm = dev.aws.ssm()
    ssm.delete_parameter(Name="/vectora-inbox/dev/api-token")
    broken = cli("validate", "--env", "dev", "--e2e", code=1)
    assert "API_TOKEN: cannot read SSM parameter /vectora-inbox/dev/api-token" in broken.out
    # rotated in SSM: no redeploy, no drift, and the next run uses the new value
    rotated = f"tok-rotated-{secrets.token_hex(12)}"
    ssm.put_parameter(Name="/vectora-inbox/dev/api-token", Value=rotated, Type="SecureString")
    cli("drift", "--env", "dev")
    cli("validate", "--env", "dev", "--e2e")

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
    assert "ssm:/vectora-inbox/stage/api-token" in drifted.out  # what it should hold
    cli("validate", "--env", "stage", code=1)
    differ = cli("diff", "dev", "stage", code=1)  # references compared: stage's was changed
    rows = {row["what"]: row for row in json.loads(differ.out)["rows"]}
    assert rows[f"{FUNCTION} env API_TOKEN"]["stage"] == "changed"

    secrets_ = [*values.values(), rotated]
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
    configurations = []  # every version of every function, in every environment
    for env in values:
        lam = target(config, env).lam
        for function in lam.list_functions()["Functions"]:
            versions = lam.list_versions_by_function(FunctionName=function["FunctionName"])
            configurations += [str(v.get("Environment")) for v in versions["Versions"]]
    assert len(configurations) >= 2 * 2 * len(config.functions)  # $LATEST and a version each
    for value in secrets_:
        assert not [c for c in configurations if value in c]
        assert value not in printed
        assert not [b for b in written if value.encode() in b]
        assert not [b for b in stored if value.encode() in b]
    # the token set by hand lives in stage's configuration (drift found it), nowhere we wrote
    assert leaked not in printed and not [b for b in stored if leaked.encode() in b]
    assert summary.read_text(encoding="utf-8").strip()  # summaries were written, and searched
    figures.add(
        "secrets",
        f"{len(runs)} commands (--json, job summaries on); searched {len(printed):,} characters "
        f"of output, {len(written)} files written and {len(stored)} stored objects (every "
        f"version) and {len(configurations)} function configurations: the SSM SecureString "
        f"values appear 0 times (functions get ssm: references and resolve them at run time; "
        f"a rotation needs no deploy); drift shows a hand-set token as ****",
    )
