"""Rehearsal of the GitHub Actions workflows, on this machine, against the embedded AWS.

The `run:` steps of main.yml, release.yml, rollback.yml and drift.yml run unchanged, in order,
in a temporary repository, with the variables, inputs and `GITHUB_*` a real run has (see
``workflow_runner``). Actions are replaced by local equivalents, listed and compared with
``EXPECTED`` so that a change of a workflow's actions shows here. An expression, action, key
or `if:` the rehearsal does not know fails it: the YAML cannot drift from what is rehearsed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import string
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import semver
from vectora_release.aws import Aws
from vectora_release.aws.lambda_ import ALIAS
from vectora_release.config.model import load_config
from vectora_release.config.versioning import release_changelog
from vectora_release.local.scratch import commit_all, git
from workflow_runner import (
    EXPRESSION,
    Rehearsal,
    RehearsalError,
    StepResult,
    Workflow,
    WorkflowRun,
)

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
ENVS = ("dev", "stage", "prod")
ACCOUNT = "123456789012"
REPOSITORY = "vectora/vectora-inbox"
ACTOR = "release-manager"
FUNCTIONS = ("ingest-v2", "normalize-score-v2", "newsletter-v2")


def venv_bin() -> Path:
    """Where `vectora-release` is installed (.venv/bin locally, the runner's Python in CI)."""
    beside = Path(sys.executable).parent
    if (beside / "vectora-release").is_file():
        return beside
    found = shutil.which("vectora-release")
    assert found, "vectora-release is not installed: pip install -e '.[dev]'"
    return Path(found).parent


def role_arn(environment: str) -> str:
    name = "observe" if environment == "observe" else f"deploy-{environment}"
    return f"arn:aws:iam::{ACCOUNT}:role/vectora-inbox-{name}"


# What docs/github-setup.md §3 sets: AWS_ROLE_ARN per environment, no repository variable.
VARIABLES = {"": {}, **{env: {"AWS_ROLE_ARN": role_arn(env)} for env in (*ENVS, "observe")}}


def trust_policies() -> dict[str, dict[str, Any]]:
    """The four roles' trust policies, rendered from iam/deploy-trust.json as the docs do."""
    template = string.Template((ROOT / "iam" / "deploy-trust.json").read_text(encoding="utf-8"))
    return {
        role_arn(env): json.loads(
            template.substitute(
                Project="vectora-inbox", Env=env, Region="eu-west-3", Account=ACCOUNT,
                Repo=REPOSITORY,
            )
        )
        for env in (*ENVS, "observe")
    }  # fmt: skip


def _setup(job: str, depth: int = 1) -> list[str]:
    return [
        f"{job}: actions/checkout → local clone (fetch-depth {depth})",
        f"{job}: actions/setup-python → the .venv's Python on PATH",
        f"{job}: run 'python -m pip install .' → skipped: vectora-release is installed in .venv",
    ]


def _pinned_setup(job: str, depth: int = 1) -> list[str]:
    """main.yml's jobs install the tool from hash-pinned requirements (make lock)."""
    return [
        f"{job}: actions/checkout → local clone (fetch-depth {depth})",
        f"{job}: actions/setup-python → the .venv's Python on PATH",
        f"{job}: run 'python -m pip install --require-hashes --no-deps -r "
        "requirements/release-tool.txt' → skipped: the pinned dependencies are installed in .venv",
        f"{job}: run 'python -m pip install --no-deps --no-build-isolation .' → skipped: "
        "vectora-release is installed in .venv",
    ]


def _aws(job: str) -> str:
    how = "embedded AWS credentials, trust policy checked"
    return f"{job}: aws-actions/configure-aws-credentials → {how}"


# Every action step and replaced run: step of each workflow, in the order a run meets them.
EXPECTED = {
    "main": [
        *_pinned_setup("build", depth=0),
        "build: actions/upload-artifact → copied to the rehearsal's artifact store",
        "attest: actions/download-artifact → copied from the rehearsal's artifact store",
        "attest: actions/attest-build-provenance → subjects checked, not signed",
        *_pinned_setup("publish"),
        "publish: actions/download-artifact → copied from the rehearsal's artifact store",
        _aws("publish"),
        *_pinned_setup("deploy-dev"),
        _aws("deploy-dev"),
    ],
    "release": [
        *_setup("check", depth=0),
        *_setup("find-release"),
        _aws("find-release"),
        *_setup("stage"),
        _aws("stage"),
        *_setup("prod"),
        _aws("prod"),
        "prod: actions/upload-artifact → copied to the rehearsal's artifact store",
        *_setup("github-release"),
        "github-release: actions/download-artifact → copied from the rehearsal's artifact store",
        "github-release: run 'gh release create …' → local gh shim: tag, notes and assets "
        "checked, release recorded",
    ],
    "rollback": [*_setup("rollback"), _aws("rollback")],
    "drift": [line for env in ENVS for line in (*_setup(f"drift[{env}]"), _aws(f"drift[{env}]"))],
}
# Steps that change or inspect an environment: each must write a report to the job summary.
REPORTING = re.compile(r"vectora-release (deploy|promote|rollback|validate|drift)\b")


# -- fixtures and helpers -------------------------------------------------------------------------
@pytest.fixture
def rehearsal(project: Path, aws_env: str, bedrock: Any, tmp_path: Path) -> Rehearsal:
    return Rehearsal(
        workflows=WORKFLOWS,
        origin=project,
        root=tmp_path / "runner",
        aws_endpoint=aws_env,
        bedrock_endpoint=bedrock.endpoint,
        venv_bin=venv_bin(),
        variables=VARIABLES,
        trust_policies=trust_policies(),
        repository=REPOSITORY,
        actor=ACTOR,
    )


def cli(repo: Path, *args: str) -> Any:
    """``vectora-release --json --config <repo>/release.yaml ARGS`` as an operator runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    result = subprocess.run(
        [str(venv_bin() / "vectora-release"), "--json", "--config", str(repo / "release.yaml"),
         *args],
        cwd=repo, env=env, capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, f"vectora-release {' '.join(args)}: {result.stderr[-3000:]}"
    return json.loads(result.stdout) if result.stdout.strip() else None


def rehearse(rehearsal: Rehearsal, workflow: str, **event: Any) -> WorkflowRun:
    """Run ``workflow``; it must succeed, with exactly the expected replaced actions."""
    run = rehearsal.run(workflow, **event)
    print(f"{workflow}.yml: replaced or skipped steps:")
    print("\n".join(f"  {line}" for line in run.substitutions))
    assert run.ok, run.log()
    assert run.substitutions == EXPECTED[workflow]
    check_reports(run)
    return run


def check_reports(run: WorkflowRun) -> None:
    """Every step that deploys, promotes, rolls back, validates or drifts wrote a report."""
    reporting = 0
    for job in run.jobs.values():
        for step in job.steps:
            if step.run and REPORTING.search(step.run) and step.outcome != "skipped":
                assert step.summary.strip(), f"{job.key}: {step.name!r} wrote no job summary"
                reporting += 1
    assert reporting, f"{run.workflow}: no step deploys, validates or checks drift"


def status(repo: Path) -> dict[str, dict[str, Any]]:
    return {row["env"]: row for row in cli(repo, "status")}


def assert_runs(repo: Path, env: str, commit: str, version: str) -> None:
    row = status(repo)[env]
    assert (row["commit"], row["version"], row["outcome"], row["validated"]) == (
        commit, version, "succeeded", "passed"
    ), row  # fmt: skip
    assert row["by"] == ACTOR


def live_digests(repo: Path, env: str) -> dict[str, str]:
    """CodeSha256 of the code and of each layer that alias live of every function runs."""
    config, lam = load_config(repo / "release.yaml"), Aws().lambda_()
    digests = {}
    for fn in FUNCTIONS:
        name = config.function_resource(fn, env)
        version = lam.get_alias(FunctionName=name, Name=ALIAS)["FunctionVersion"]
        conf = lam.get_function_configuration(FunctionName=name, Qualifier=version)
        digests[f"{fn} code"] = conf["CodeSha256"]
        for arn in (layer["Arn"] for layer in conf.get("Layers", [])):
            layer_name, _, number = arn.rpartition(":")
            content = lam.get_layer_version(LayerName=layer_name, VersionNumber=int(number))
            short = layer_name.rsplit(":", 1)[-1].removesuffix(f"-{env}")
            digests[f"{fn} layer {short}"] = content["Content"]["CodeSha256"]
    return digests


def hand_edit_stage_removing_log_level(repo: Path) -> None:
    """An out-of-band change, as an operator's console fix: drop LOG_LEVEL, move alias live."""
    lam = Aws().lambda_()
    name = load_config(repo / "release.yaml").function_resource("ingest-v2", "stage")
    version = lam.get_alias(FunctionName=name, Name=ALIAS)["FunctionVersion"]
    variables = lam.get_function_configuration(FunctionName=name, Qualifier=version)["Environment"][
        "Variables"
    ]
    variables.pop("LOG_LEVEL")
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": variables})
    lam.get_waiter("function_updated_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    published = lam.publish_version(FunctionName=name)["Version"]
    lam.update_alias(FunctionName=name, Name=ALIAS, FunctionVersion=published)


def prepare_release(repo: Path, version: str) -> None:
    """What `vectora-release version bump` writes into CHANGELOG.md, for the current VERSION."""
    path = repo / "CHANGELOG.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        release_changelog(text, semver.Version.parse(version), dt.date(2026, 11, 16)),
        encoding="utf-8",
    )


def github_release(rehearsal: Rehearsal, tag: str) -> dict[str, Any]:
    return json.loads((rehearsal.releases / tag / "release.json").read_text(encoding="utf-8"))


def aws_state() -> dict[str, Any]:
    """Everything a deploy writes: S3 objects, function versions and aliases, layer versions."""
    aws = Aws()
    s3, lam = aws.s3(), aws.lambda_()
    state: dict[str, Any] = {}
    for bucket in sorted(b["Name"] for b in s3.list_buckets()["Buckets"]):
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        state[bucket] = sorted((o["Key"], o["ETag"]) for p in pages for o in p.get("Contents", []))
    for fn in lam.list_functions(FunctionVersion="ALL")["Functions"]:
        name = fn["FunctionName"]
        state.setdefault(name, []).append((fn["Version"], fn["CodeSha256"]))
        aliases = lam.list_aliases(FunctionName=name)["Aliases"]
        state[f"{name} aliases"] = sorted((a["Name"], a["FunctionVersion"]) for a in aliases)
    for layer in lam.list_layers()["Layers"]:
        versions = lam.list_layer_versions(LayerName=layer["LayerName"])["LayerVersions"]
        state[layer["LayerName"]] = sorted(v["LayerVersionArn"] for v in versions)
    return state


def outcomes(run: WorkflowRun) -> dict[str, str]:
    return {key: job.outcome for key, job in run.jobs.items()}


def failed_step(run: WorkflowRun, job: str) -> StepResult:
    (step,) = [s for s in run.job(job).steps if s.outcome == "failure"]
    return step


# -- fast: the rehearsal knows every expression, refuses the unknown ------------------------------
@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.yml")), ids=lambda p: p.stem)
def test_every_expression_a_workflow_uses_is_one_the_rehearsal_substitutes(path: Path) -> None:
    found = Workflow.load(path).check()  # raises on any unknown expression, action, key or if:
    print(f"{path.name}: " + ", ".join(sorted({text for _, text in found})))
    # every ${{ }} of the file was seen (none hidden where the walk does not look)
    assert len(found) == len(EXPRESSION.findall(path.read_text(encoding="utf-8")))
    assert not [text for _, text in found if "secrets." in text]


SYNTHETIC = """\
name: synthetic
on:
  push:
    branches: [main]
permissions:
  contents: read
jobs:
  only:
    runs-on: ubuntu-latest
    steps:
      - name: first
        run: touch "$RUNNER_TEMP/../ran"
{step}
"""


ENV_STEP = "      - run: echo hi\n        env:\n          X: {}\n"


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ("      - uses: actions/cache@0400d5f644dc74513175e3cd8d07132dd4860809 # v4.2.4\n"
         "        with:\n          path: ~/.cache\n",
         "action 'actions/cache@.*' — the rehearsal does not know how to replace or skip it"),
        (ENV_STEP.format("${{ secrets.DEPLOY_TOKEN }}"),
         r"unknown expression \$\{\{ secrets.DEPLOY_TOKEN \}\}"),
        (ENV_STEP.format("${{ github.event.head_commit.message }}"),
         "the rehearsal does not know 'github.event.head_commit.message'"),
        (ENV_STEP.format("${{ format('{0}', github.sha) }}"),
         "unsupported form"),
        ("      - run: echo hi\n        if: failure()\n", "is not a rehearsed form"),
        ("      - run: echo ${{ github.sha }}\n", "expression inside run: is not rehearsed"),
        ("      - run: echo hi\n        working-directory: src\n",
         "does not handle working-directory"),
    ],
    ids=["unknown-action", "secrets", "event-payload", "function", "if", "run-expr", "step-key"],
)  # fmt: skip
def test_the_rehearsal_fails_on_what_it_does_not_know(
    step: str, message: str, tmp_path: Path
) -> None:
    workflows = tmp_path / "workflows"
    workflows.mkdir()
    (workflows / "synthetic.yml").write_text(SYNTHETIC.format(step=step), encoding="utf-8")
    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, "init", "-q", "-b", "main")
    (origin / "README").write_text("synthetic\n")
    commit_all(origin, "one")
    rehearsal = Rehearsal(
        workflows=workflows, origin=origin, root=tmp_path / "runner",
        aws_endpoint="http://127.0.0.1:9", venv_bin=venv_bin(), variables={"": {}},
    )  # fmt: skip
    with pytest.raises(RehearsalError, match=message):
        rehearsal.run("synthetic", event="push", ref="refs/heads/main")
    assert not list((tmp_path / "runner").rglob("ran")), "refused before any step ran"


HARNESS = """\
name: harness
on:
  workflow_dispatch:
    inputs:
      target:
        type: choice
        options: [dev, stage]
        required: true
      note:
        type: string
        required: false
        default: ""
permissions:
  contents: read
jobs:
  later:
    needs: first
    runs-on: ubuntu-latest
    steps:
      - run: echo never
  first:
    name: first ${{ matrix.n }}
    runs-on: ubuntu-latest
    environment: ${{ inputs.target }}
    permissions:
      contents: read
      id-token: write
    strategy:
      fail-fast: false
      matrix:
        n: [one, two]
    steps:
      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0
      - name: runner environment, before credentials
        env:
          N: ${{ matrix.n }}
          NOTE: ${{ inputs.note }}
          REGION: ${{ vars.AWS_REGION || 'eu-west-3' }}
        run: |
          test -f README
          test "$GITHUB_WORKSPACE" = "$PWD" && test "$GITHUB_ACTIONS" = true && test "$CI" = true
          test -z "${AWS_ACCESS_KEY_ID:-}" && test -z "${AWS_ENDPOINT_URL:-}"
          test "$REGION" = eu-west-3 && test -z "$NOTE"
          echo "### $N at ${GITHUB_SHA:0:7} on $GITHUB_REF" >> "$GITHUB_STEP_SUMMARY"
          command -v vectora-release
      - uses: aws-actions/configure-aws-credentials@8df5847569e6427dd6c4fb1cf565c83acfa8afa7
        with:
          role-to-assume: ${{ vars.AWS_ROLE_ARN }}
          aws-region: eu-west-3
      - name: credentials now
        env:
          N: ${{ matrix.n }}
        run: |
          test "$AWS_REGION" = eu-west-3 && test -n "$AWS_ENDPOINT_URL"
          test "$N" = one
      - run: echo not reached
"""


def test_the_harness_runs_jobs_like_a_runner(tmp_path: Path) -> None:
    """needs order, matrix, inputs, vars, environment, credentials only after OIDC, summaries,
    a failed step skipping the rest and the jobs that need it."""
    workflows = tmp_path / "workflows"
    workflows.mkdir()
    (workflows / "harness.yml").write_text(HARNESS, encoding="utf-8")
    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, "init", "-q", "-b", "main")
    (origin / "README").write_text("harness\n")
    sha = commit_all(origin, "one")
    rehearsal = Rehearsal(
        workflows=workflows, origin=origin, root=tmp_path / "runner",
        aws_endpoint="http://127.0.0.1:9", venv_bin=venv_bin(), variables=VARIABLES,
        trust_policies=trust_policies(), repository=REPOSITORY,
    )  # fmt: skip
    with pytest.raises(RehearsalError, match="not an option"):
        rehearsal.run("harness", event="workflow_dispatch", inputs={"target": "prod"})

    run = rehearsal.run("harness", event="workflow_dispatch", inputs={"target": "stage"})

    assert list(run.jobs) == ["first[one]", "first[two]", "later"]
    one, two, later = run.jobs.values()
    assert (one.name, one.environment, one.assumed_role) == (
        "first one",
        "stage",
        role_arn("stage"),
    )
    assert one.outcome == "success", one.log()
    assert one.summary == f"### one at {sha[:7]} on refs/heads/main\n"
    assert two.outcome == "failure"  # fail-fast: false, so `one` still ran
    assert [s.outcome for s in two.steps] == ["success", "success", "success", "failure", "skipped"]
    assert later.outcome == "skipped" and not later.steps
    assert run.substitutions == [
        "first[one]: actions/checkout → local clone (fetch-depth 1)",
        _aws("first[one]"),
        "first[two]: actions/checkout → local clone (fetch-depth 1)",
        _aws("first[two]"),
    ]


# -- what the rehearsal found: one test per workflow bug ------------------------------------------
def test_main_builds_in_its_checkout_the_bytes_a_full_clone_builds(
    project: Path, rehearsal: Rehearsal, tmp_path: Path
) -> None:
    """Same commit ⇒ same bytes, whatever the checkout: main.yml's build job must
    build what `vectora-release build` builds in a full clone of that commit, so an unchanged
    vectora-core keeps its bytes (and its layer version) from one release to the next."""
    handler = project / "src_v2" / "lambdas" / "normalize_score_v2" / "handler.py"
    handler.write_text(handler.read_text(encoding="utf-8") + "\n# a second commit\n")
    c2 = commit_all(project, "change normalize-score-v2 only")
    cli(project, "bootstrap", "--env", "dev")
    run = rehearsal.run("main", event="push", sha=c2, jobs=("build",))
    assert run.ok, run.log()
    ci = json.loads((run.job("build").workspace / "dist" / "manifest.json").read_text())
    local = cli(project, "build", "--out", str(tmp_path / "full-clone"))
    assert ci["commit"] == local["commit"] == c2
    differing = {
        a["name"]: (a.get("build_info"), b.get("build_info"))
        for a, b in zip(ci["artifacts"], local["artifacts"], strict=True)
        if a["sha256"] != b["sha256"]
    }
    assert not differing, (
        "main.yml's build job (actions/checkout, fetch-depth 1) builds other bytes than a full "
        f"clone of the same commit: {differing} (build_info in CI vs full clone)"
    )


def test_release_refuses_a_tag_without_release_notes_before_deploying_anything(
    project: Path, rehearsal: Rehearsal
) -> None:
    """The GitHub Release notes are the tag's CHANGELOG section, fixed at the tagged commit: a
    tag without one must stop in the check job, not after prod was deployed."""
    git(project, "tag", "-a", "v0.1.0", "-m", "0.1.0")  # VERSION 0.1.0, no '## [0.1.0]' section
    run = rehearsal.run("release", event="push", ref="refs/tags/v0.1.0")
    outcomes = {key: job.outcome for key, job in run.jobs.items()}
    assert outcomes["check"] == "failure", (
        "release.yml's check job accepted a tag whose CHANGELOG has no section for it: stage "
        f"and prod would be deployed before the GitHub Release job fails on the notes ({outcomes})"
    )
    assert outcomes == {
        "check": "failure", "find-release": "skipped", "stage": "skipped", "prod": "skipped",
        "github-release": "skipped",
    }  # fmt: skip


def test_main_stops_on_a_broken_config_before_building_anything(
    project: Path, rehearsal: Rehearsal
) -> None:
    """`config check` runs before the build: a client config naming an ingestion profile that
    canonical/ lacks fails main.yml there, with the file and key, and nothing is published."""
    client = project / "client-config-examples" / "lai_weekly.yaml"
    client.write_text(client.read_text(encoding="utf-8").replace("profile: default", "profile: x"))
    c2 = commit_all(project, "a client config naming an unknown ingestion profile")
    cli(project, "bootstrap", "--env", "dev")
    run = rehearsal.run("main", event="push", sha=c2)
    assert outcomes(run) == {
        "build": "failure",
        "attest": "skipped",
        "publish": "skipped",
        "deploy-dev": "skipped",
    }, run.log()
    step = failed_step(run, "build")
    assert step.run == "exec vectora-release config check" and step.returncode == 2
    assert (
        "::error title=vectora-release::client-config-examples/lai_weekly.yaml: "
        "ingestion.profile: 'x' not found" in step.stdout
    )
    build = run.job("build")
    assert [s.outcome for s in build.steps][build.steps.index(step) + 1 :] == ["skipped"] * 2
    assert not (build.workspace / "dist").exists()
    assert aws_state()["vectora-inbox-artifacts"] == [], "nothing published"


def test_main_publishes_without_attestations_and_says_so(
    project: Path, rehearsal: Rehearsal
) -> None:
    """A private repository without GitHub Enterprise Cloud cannot store attestations: the
    attest step fails, the job summary says so, and main.yml still publishes (the manifest
    digest chain, re-verified by the publish job) and deploys dev."""
    cli(project, "bootstrap", "--env", "dev")
    prepare_release(project, "0.1.0")
    c1 = commit_all(project, "Release 0.1.0")
    rehearsal.attestations = False
    run = rehearsal.run("main", event="push", sha=c1)
    assert outcomes(run) == dict.fromkeys(("build", "attest", "publish", "deploy-dev"), "success")
    attest = run.job("attest")
    assert [s.outcome for s in attest.steps] == ["success", "failure", "success"], run.log()
    assert "**No provenance attestation**" in attest.summary
    assert "attest: actions/attest-build-provenance → FAILED" in run.substitutions
    stored = [key for key, _ in aws_state()["vectora-inbox-artifacts"]]
    assert any(key.startswith("releases/0.1.0/") for key in stored), stored
    assert run.job("build").permissions == {"contents": "read"}, "the build holds no id-token"


def test_release_shows_the_reviewer_the_validated_release_before_approval_and_writes_nothing(
    project: Path, rehearsal: Rehearsal
) -> None:
    """Before stage's approval, job find-release (read-only observe role) finds the release
    main.yml published for the tagged commit, checks that it passed validation in dev and
    shows the plan for stage — without taking a lock or writing anything."""
    for env in ("dev", "stage"):
        cli(project, "bootstrap", "--env", env)
    prepare_release(project, "0.1.0")
    c1 = commit_all(project, "Release 0.1.0")
    rehearse(rehearsal, "main", event="push", ref="refs/heads/main", sha=c1)
    git(project, "tag", "-a", "v0.1.0", "-m", "0.1.0", c1)
    before = aws_state()
    assert before["vectora-inbox-ingest-v2-dev aliases"] == [("live", "1")], "sees a deploy"

    run = rehearsal.run(
        "release", event="push", ref="refs/tags/v0.1.0", sha=c1, jobs=("check", "find-release")
    )

    assert run.ok, run.log()
    job = run.job("find-release")
    assert (job.environment, job.assumed_role) == ("observe", role_arn("observe"))
    fetch, dry_run = job.steps[-2:]
    assert "fetched 0.1.0+" + c1[:7] in fetch.stderr
    assert f"plan for 0.1.0+{c1[:7]} → stage (dry run, nothing changed)" in dry_run.stderr
    assert f"## promote 0.1.0+{c1[:7]} → stage: planned" in job.summary
    assert aws_state() == before, "the pre-approval check wrote to AWS"


def test_release_stops_before_any_approval_for_a_commit_not_validated_in_dev(
    project: Path, rehearsal: Rehearsal
) -> None:
    """A tag whose commit was never published, or was deployed to dev but not validated there,
    fails in find-release with an error annotation saying which; stage (the first approval)
    and everything after it are skipped, and nothing was written."""
    for env in ("dev", "stage"):
        cli(project, "bootstrap", "--env", env)
    prepare_release(project, "0.1.0")
    c1 = commit_all(project, "Release 0.1.0")
    git(project, "tag", "-a", "v0.1.0", "-m", "0.1.0", c1)
    stopped = {
        "check": "success", "find-release": "failure", "stage": "skipped", "prod": "skipped",
        "github-release": "skipped",
    }  # fmt: skip

    # 1. main.yml never published this commit (it failed, or the tag came first)
    before = aws_state()
    run = rehearsal.run("release", event="push", ref="refs/tags/v0.1.0", sha=c1)
    assert outcomes(run) == stopped, run.log()
    step = failed_step(run, "find-release")
    assert step.run and step.run.startswith("exec vectora-release fetch --commit")
    assert step.returncode == 2
    annotation = f"::error title=vectora-release::no release published for commit {c1}"
    assert annotation in step.stdout, step.stdout
    assert run.job("find-release").steps[-1].outcome == "skipped"
    assert aws_state() == before

    # 2. published and deployed to dev, but never validated there
    cli(project, "build", "--out", str(project / "dist"))
    cli(project, "publish", "--manifest", str(project / "dist" / "manifest.json"))
    cli(project, "deploy", "--env", "dev", "--commit", c1)
    before = aws_state()
    run = rehearsal.run("release", event="push", ref="refs/tags/v0.1.0", sha=c1)
    assert outcomes(run) == stopped, run.log()
    step = failed_step(run, "find-release")
    assert step.run and step.run.startswith("exec vectora-release promote --from dev --to stage")
    assert step.returncode == 2
    annotation = f"::error title=vectora-release::release 0.1.0+{c1[:7]} in dev has not passed"
    assert annotation in step.stdout, step.stdout
    assert aws_state() == before
    assert cli(project, "history", "--env", "stage") == []


# -- the story, end to end ----------------------------------------------------------------------
@pytest.mark.slow
def test_rehearsal_of_merge_release_rollback_and_drift(project: Path, rehearsal: Rehearsal) -> None:
    # one-time setup (docs/github-setup.md §2), then C1: VERSION 0.1.0 with its CHANGELOG section
    for env in ENVS:
        cli(project, "bootstrap", "--env", env)
    prepare_release(project, "0.1.0")
    # A rehearsal cannot wait prod's two weeks of soak in stage: a short soak (the gate itself,
    # refusal and override, runs with an injected clock in tests/integration/test_promote.py).
    config = project / "release.yaml"
    text = config.read_text(encoding="utf-8")
    assert "    min_soak: 14d\n" in text
    config.write_text(text.replace("    min_soak: 14d\n", "    min_soak: 0s\n"), encoding="utf-8")
    c1 = commit_all(project, "Release 0.1.0")

    # 1. merge to main: build, attest, publish, deploy dev, validate
    rehearse(rehearsal, "main", event="push", ref="refs/heads/main", sha=c1)
    assert_runs(project, "dev", c1, "0.1.0")
    dev_record = cli(project, "history", "--env", "dev")[0]
    assert (
        dev_record["run_url"] == f"https://github.com/{REPOSITORY}/actions/runs/{rehearsal.run_id}"
    )
    assert dev_record["actor"] == ACTOR

    # 2. tag v0.1.0: check, promote to stage, to prod, GitHub Release
    git(project, "tag", "-a", "v0.1.0", "-m", "0.1.0", c1)
    run = rehearse(rehearsal, "release", event="push", ref="refs/tags/v0.1.0", sha=c1)
    assert [(j.key, j.environment) for j in run.jobs.values()] == [
        ("check", None), ("find-release", "observe"), ("stage", "stage"), ("prod", "prod"),
        ("github-release", None),
    ]  # fmt: skip
    assert run.job("find-release").assumed_role == role_arn("observe")
    assert run.job("github-release").assumed_role is None  # no AWS credentials there
    assert run.job("stage").concurrency["group"] == "deploy-stage"
    for env in ("stage", "prod"):
        assert_runs(project, env, c1, "0.1.0")
    r1 = live_digests(project, "dev")
    assert live_digests(project, "stage") == live_digests(project, "prod") == r1
    released = github_release(rehearsal, "v0.1.0")
    assert released["title"] == "v0.1.0" and released["assets"] == ["manifest.json"]
    assert "Vectora Inbox application" in released["notes"]
    manifest = json.loads((rehearsal.releases / "v0.1.0" / "manifest.json").read_text())
    assert (manifest["version"], manifest["commit"], manifest["dirty"]) == ("0.1.0", c1, False)

    # 3. a change to normalize-score-v2, released as 0.2.0 the documented way
    handler = project / "src_v2" / "lambdas" / "normalize_score_v2" / "handler.py"
    handler.write_text(handler.read_text(encoding="utf-8") + "\n# rehearsal of 0.2.0\n")
    changelog = project / "CHANGELOG.md"
    changelog.write_text(
        changelog.read_text(encoding="utf-8").replace(
            "## [Unreleased]\n",
            "## [Unreleased]\n\n### Changed\n- normalize-score-v2: a rehearsal change.\n",
            1,
        )
    )
    cli(project, "version", "bump", "minor")
    assert (project / "VERSION").read_text().strip() == "0.2.0"
    c2 = commit_all(project, "Release 0.2.0")
    rehearse(rehearsal, "main", event="push", ref="refs/heads/main", sha=c2)
    assert_runs(project, "dev", c2, "0.2.0")
    git(project, "tag", "-a", "v0.2.0", "-m", "0.2.0", c2)
    rehearse(rehearsal, "release", event="push", ref="refs/tags/v0.2.0", sha=c2)
    for env in ("stage", "prod"):
        assert_runs(project, env, c2, "0.2.0")
    r2 = live_digests(project, "dev")
    assert live_digests(project, "stage") == live_digests(project, "prod") == r2
    assert r2["normalize-score-v2 code"] != r1["normalize-score-v2 code"]
    assert "a rehearsal change" in github_release(rehearsal, "v0.2.0")["notes"]
    prod_c2 = cli(project, "history", "--env", "prod")[0]

    # 4. roll prod back from the Actions tab: environment prod, version empty, a reason
    run = rehearse(
        rehearsal, "rollback", event="workflow_dispatch",
        inputs={"environment": "prod", "reason": "rehearsal"},
    )  # fmt: skip
    job = run.job("rollback")
    assert (job.name, job.environment, job.concurrency["group"]) == (
        "roll back prod", "prod", "deploy-prod"
    )  # fmt: skip
    assert_runs(project, "prod", c1, "0.1.0")
    assert live_digests(project, "prod") == r1
    record = cli(project, "history", "--env", "prod")[0]
    assert (record["kind"], record["reason"], record["undoes"]) == (
        "rollback", "rehearsal", prod_c2["id"]
    )  # fmt: skip
    assert_runs(project, "stage", c2, "0.2.0")  # the others stay where they are

    # 5. the daily drift check: clean, then an out-of-band change in stage fails it
    run = rehearse(rehearsal, "drift", event="schedule")
    for env in ENVS:
        assert "no drift" in run.job(f"drift[{env}]").summary
        assert run.job(f"drift[{env}]").environment == "observe"
    hand_edit_stage_removing_log_level(project)
    run = rehearsal.run("drift", event="schedule")
    print("\n".join(run.substitutions))
    assert run.substitutions == EXPECTED["drift"]  # fail-fast: false, every env was checked
    outcomes = {key: job.outcome for key, job in run.jobs.items()}
    assert outcomes == {
        "drift[dev]": "success",
        "drift[stage]": "failure",
        "drift[prod]": "success",
    }
    stage = run.job("drift[stage]")
    step = stage.steps[-1]
    assert step.returncode == 1, stage.log()
    assert "| check | subject | what | expected | live |" in stage.summary
    assert "LOG_LEVEL" in stage.summary and "vectora-inbox-ingest-v2-stage" in stage.summary
    assert "::error title=vectora-release::stage drifted" in step.stdout
