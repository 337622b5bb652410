"""The rules every GitHub workflow follows, read from the YAML itself.

Triggers, permissions per job, environments, OIDC-only AWS access, actions pinned by full
commit SHA, deploy concurrency that never drops a pending run, no expression expanded inside a
shell script, thin steps, a release workflow that never builds and checks a tag's release
read-only before anyone is asked to approve it — and every `vectora-release` command a workflow
runs exists in the CLI.
"""

from __future__ import annotations

import re
import shlex
from functools import cache
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
WORKFLOWS = ROOT / ".github" / "workflows"
EXPECTED = ("pr", "main", "release", "rollback", "drift")
ENVIRONMENTS = ("dev", "stage", "prod")
OBSERVE = "observe"  # the read-only environment of drift.yml (no reviewers, read-only role)

AWS_ACTION = "aws-actions/configure-aws-credentials"
ATTEST_ACTION = "actions/attest-build-provenance"
ROLE_FROM_ENVIRONMENT = "${{ vars.AWS_ROLE_ARN }}"
# Commands that change an environment; with --dry-run they only read.
MUTATING = ("deploy", "promote", "rollback", "bootstrap", "gc")
# Commands that never write to AWS (`validate` writes its outcome into the ledger).
READ_ONLY = ("fetch", "status", "history", "drift", "diff", "version", "config")
PINNED_LINE = re.compile(
    r"^\s*(?:-\s+)?uses:\s+(?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40})"
    r"\s+#\s+v\d+(?:\.\d+){0,2}\s*$"
)

# Options the workflows rely on that the CLI does not offer yet (asked of the lead). The test
# below fails as soon as one of them exists, so this list shrinks to nothing.
PENDING_CLI: set[tuple[str, str]] = set()  # commands a workflow may use before they exist


# -- loading ------------------------------------------------------------------------------------
@cache
def workflow(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / f"{name}.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict), name
    return data


def raw(name: str) -> str:
    return (WORKFLOWS / f"{name}.yml").read_text(encoding="utf-8")


def triggers(data: dict[str, Any]) -> dict[str, Any]:
    """The `on:` block (YAML 1.1 reads the key `on` as the boolean True)."""
    value = data.get("on", data.get(True))
    assert isinstance(value, dict), "write `on:` as a mapping"
    return value


def all_workflows() -> list[str]:
    return sorted(p.stem for p in WORKFLOWS.glob("*.yml"))


def jobs(name: str) -> dict[str, dict[str, Any]]:
    return workflow(name)["jobs"]


def all_jobs() -> list[tuple[str, str, dict[str, Any]]]:
    return [(name, job_id, job) for name in all_workflows() for job_id, job in jobs(name).items()]


JOB_IDS = [f"{name}/{job_id}" for name, job_id, _ in all_jobs()]


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job.get("steps", [])


def runs(job: dict[str, Any]) -> list[str]:
    return [step["run"] for step in steps(job) if "run" in step]


def uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in steps(job) if str(s.get("uses", "")).startswith(action + "@")]


def assumes_aws(job: dict[str, Any]) -> bool:
    return bool(uses(job, AWS_ACTION))


def creates_release(job: dict[str, Any]) -> bool:
    return any("gh release create" in run for run in runs(job))


def attests(job: dict[str, Any]) -> bool:
    return bool(uses(job, ATTEST_ACTION))


def tool_commands(run: str) -> list[list[str]]:
    """Each `vectora-release …` invocation in a run script, as tokens (redirections dropped)."""
    commands = []
    for line in run.splitlines():
        if "vectora-release" not in line:
            continue
        text = line[line.index("vectora-release") :].split(" > ", 1)[0]
        commands.append(shlex.split(text)[1:])
    return commands


def command_path(tokens: list[str]) -> list[str]:
    """The sub-command names of an invocation (global options before them skipped)."""
    path = []
    rest = list(tokens)
    while rest and rest[0].startswith("-"):
        rest.pop(0)
    for token in rest:
        if token.startswith(("-", "$", '"')) or "--" in token:
            break
        path.append(token)
    return path


def changes_environment(job: dict[str, Any]) -> bool:
    for run in runs(job):
        for tokens in tool_commands(run):
            path = command_path(tokens)
            if path and path[0] in MUTATING and "--dry-run" not in tokens:
                return True
    return False


def environment_of(job: dict[str, Any]) -> str | None:
    env = job.get("environment")
    return env.get("name") if isinstance(env, dict) else env


def needs(job: dict[str, Any]) -> list[str]:
    value = job.get("needs", [])
    return [value] if isinstance(value, str) else list(value)


def upstream(name: str, job_id: str) -> set[str]:
    """Every job ``job_id`` waits for, directly or through other jobs."""
    found: set[str] = set()
    todo = needs(jobs(name)[job_id])
    while todo:
        need = todo.pop()
        if need not in found:
            found.add(need)
            todo += needs(jobs(name)[need])
    return found


def only_reads(tokens: list[str]) -> bool:
    """Whether a `vectora-release` invocation cannot write to AWS."""
    path = command_path(tokens)
    return bool(path) and (path[0] in READ_ONLY or (path[0] in MUTATING and "--dry-run" in tokens))


# -- the set of workflows -----------------------------------------------------------------------
def test_the_five_workflows_exist() -> None:
    assert set(EXPECTED) <= set(all_workflows())
    assert not list(WORKFLOWS.glob("*.yaml")), "name workflows *.yml"


# -- triggers -----------------------------------------------------------------------------------
def test_pr_runs_on_pull_requests_only_and_never_on_pull_request_target() -> None:
    assert set(triggers(workflow("pr"))) == {"pull_request"}
    for name in all_workflows():
        assert "pull_request_target" not in triggers(workflow(name)), name


def test_main_runs_on_pushes_to_main() -> None:
    assert triggers(workflow("main")) == {"push": {"branches": ["main"]}}


def test_release_runs_on_version_tags_only() -> None:
    assert triggers(workflow("release")) == {"push": {"tags": ["v*.*.*"]}}


def test_rollback_is_manual_with_environment_version_and_reason() -> None:
    on = triggers(workflow("rollback"))
    assert set(on) == {"workflow_dispatch"}
    inputs = on["workflow_dispatch"]["inputs"]
    assert inputs["environment"]["type"] == "choice"
    assert inputs["environment"]["options"] == list(ENVIRONMENTS)
    assert inputs["environment"]["required"] is True
    assert inputs["version"].get("required", False) is False
    assert inputs["reason"]["required"] is True


def test_drift_runs_daily_and_on_demand() -> None:
    on = triggers(workflow("drift"))
    assert set(on) == {"schedule", "workflow_dispatch"}
    (entry,) = on["schedule"]
    minute, hour, day, month, weekday = entry["cron"].split()
    assert (day, month, weekday) == ("*", "*", "*"), "daily"
    assert minute.isdigit() and hour.isdigit()


# -- permissions --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", EXPECTED)
def test_top_level_permissions_are_contents_read(name: str) -> None:
    assert workflow(name)["permissions"] == {"contents": "read"}


@pytest.mark.parametrize(("name", "job_id", "job"), all_jobs(), ids=JOB_IDS)
def test_job_permissions_are_the_least_each_job_needs(
    name: str, job_id: str, job: dict[str, Any]
) -> None:
    perms = job.get("permissions", {})
    assert isinstance(perms, dict), f"{name}/{job_id}: no read-all/write-all shorthands"
    where = f"{name}/{job_id}"
    assert (perms.get("id-token") == "write") == (assumes_aws(job) or attests(job)), (
        f"{where}: id-token: write exactly in jobs that assume an AWS role or sign attestations"
    )
    assert (perms.get("contents", "read") == "write") == creates_release(job), (
        f"{where}: contents: write only where the GitHub Release is created"
    )
    assert (perms.get("attestations") == "write") == attests(job), (
        f"{where}: attestations: write only in the attest job"
    )
    allowed_writes = {"id-token", "contents", "attestations"}
    writes = {k for k, v in perms.items() if v == "write"}
    assert writes <= allowed_writes, f"{where}: unexpected write permissions {writes}"


def test_attestations_only_in_main_build_and_release_only_in_release() -> None:
    attesting = [(n, j) for n, j, job in all_jobs() if attests(job)]
    releasing = [(n, j) for n, j, job in all_jobs() if creates_release(job)]
    assert attesting == [("main", "attest")]
    assert releasing == [("release", "github-release")]


# -- AWS: OIDC only -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", EXPECTED)
def test_no_access_keys_or_secrets_anywhere(name: str) -> None:
    text = raw(name)
    for forbidden in (
        "aws-access-key-id",
        "aws-secret-access-key",
        "aws-session-token",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "secrets.",
    ):
        assert forbidden not in text, f"{name}.yml mentions {forbidden}"
    assert not re.search(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b", text)


@pytest.mark.parametrize(("name", "job_id", "job"), all_jobs(), ids=JOB_IDS)
def test_aws_access_is_oidc_with_the_environments_role(
    name: str, job_id: str, job: dict[str, Any]
) -> None:
    for step in uses(job, AWS_ACTION):
        given = step.get("with", {})
        assert given.get("role-to-assume") == ROLE_FROM_ENVIRONMENT, f"{name}/{job_id}"
        assert set(given) <= {"role-to-assume", "aws-region", "role-session-name"}
    if assumes_aws(job):
        env = environment_of(job)
        assert env, f"{name}/{job_id}: the OIDC subject must be an environment (trust policy)"
        assert env in (*ENVIRONMENTS, OBSERVE, "${{ inputs.environment }}"), env


# -- environments -------------------------------------------------------------------------------
def test_main_builds_without_credentials_attests_then_publishes_and_deploys_under_dev() -> None:
    """The build runs installed code with no id-token and no environment; the attest job signs
    but runs no project code and matches no role's trust; the dev role re-verifies and
    publishes; deploy-dev deploys what was published."""
    main = jobs("main")
    build, attest, publish, deploy = (main[j] for j in ("build", "attest", "publish", "deploy-dev"))
    assert build["permissions"] == {"contents": "read"} and environment_of(build) is None
    assert environment_of(attest) is None and not runs(attest)[0].startswith("python")
    assert environment_of(publish) == environment_of(deploy) == "dev"
    assert needs(attest) == ["build"] and set(needs(publish)) == {"build", "attest"}
    assert needs(deploy) == ["publish"]
    order = [s.get("uses", s.get("run", "")) for s in steps(build)]
    index = {
        "config check": order.index("exec vectora-release config check"),
        "build": next(i for i, s in enumerate(order) if "vectora-release build" in s),
        "upload": next(i for i, s in enumerate(order) if s.startswith("actions/upload-artifact")),
    }
    assert index["config check"] < index["build"] < index["upload"], (
        "a broken release.yaml, canonical/ or client config stops main.yml before it builds"
    )
    (signing,) = uses(attest, ATTEST_ACTION)
    assert signing["with"]["subject-path"] == "dist/*.zip"
    assert signing["continue-on-error"] is True, "no attestation support must not stop publishing"
    (note,) = [s for s in steps(attest) if "run" in s]
    assert note["if"] == f"steps.{signing['id']}.outcome == 'failure'"
    assert "GITHUB_STEP_SUMMARY" in note["run"]
    assert [command_path(t) for r in runs(publish) for t in tool_commands(r)] == [["publish"]]
    assert runs(deploy)[-1] == (
        'exec vectora-release deploy --env dev --commit "$GITHUB_SHA" --validate'
    )


@pytest.mark.parametrize("job_id", ["build", "publish", "deploy-dev"])
def test_main_installs_the_tool_from_hash_pinned_requirements_only(job_id: str) -> None:
    installs = [r for r in runs(jobs("main")[job_id]) if "pip install" in r]
    assert installs == [
        "python -m pip install --require-hashes --no-deps -r requirements/release-tool.txt",
        "python -m pip install --no-deps --no-build-isolation .",
    ]
    pinned = (ROOT / "requirements" / "release-tool.txt").read_text(encoding="utf-8")
    for line in pinned.splitlines():
        if line and not line.startswith((" ", "#")):
            assert re.match(r"^[a-z0-9._-]+==[^ ]+ \\$", line), line
    assert "setuptools==" in pinned, "the build backend too: --no-build-isolation"


def test_every_workflow_runs_the_tool_with_exec_so_it_receives_the_signals() -> None:
    """GitHub signals the step's shell on cancel (SIGINT, then SIGTERM): ``exec`` makes the
    tool that shell, so it stops at a step boundary and releases its lock."""
    for name, job_id, job in all_jobs():
        for run in runs(job):
            if "vectora-release " in run:
                assert run.startswith("exec vectora-release "), f"{name}/{job_id}: {run!r}"


@pytest.mark.parametrize("job_id", ["stage", "prod"])
def test_release_verifies_the_attestations_against_main_before_promoting(job_id: str) -> None:
    job = jobs("release")[job_id]
    order = [s.get("run", s.get("uses", "")) for s in steps(job)]
    verify = next(i for i, r in enumerate(order) if "verify-attestations.sh" in r)
    promote = next(i for i, r in enumerate(order) if "vectora-release promote" in r)
    fetch = next(i for i, r in enumerate(order) if "vectora-release fetch" in r)
    assert fetch < verify < promote
    for i in (fetch, verify):
        assert steps(job)[i]["if"] == "vars.ATTESTATIONS == 'enabled'"
    assert job["permissions"].get("attestations") == "read"
    script = (ROOT / "tools" / "verify-attestations.sh").read_text(encoding="utf-8")
    assert '--signer-workflow "$GH_REPO/.github/workflows/main.yml"' in script


def test_the_manifest_hand_off_outlives_a_late_rerun() -> None:
    (upload,) = uses(jobs("release")["prod"], "actions/upload-artifact")
    assert upload["with"]["retention-days"] >= 90


def test_release_promotes_through_stage_then_prod_with_approvals() -> None:
    release = jobs("release")
    assert environment_of(release["stage"]) == "stage"
    assert environment_of(release["prod"]) == "prod"
    assert needs(release["stage"]) == ["check", "find-release"]
    assert release["prod"]["needs"] == "stage"
    assert release["github-release"]["needs"] == "prod"
    assert environment_of(release["check"]) is None and not assumes_aws(release["check"])
    assert not assumes_aws(release["github-release"])
    assert any("promote --from dev --to stage" in r for r in runs(release["stage"]))
    assert any("promote --from stage --to prod" in r for r in runs(release["prod"]))
    assert any(
        "version check --tag" in r and "--on-branch origin/main" in r
        for r in runs(release["check"])
    )
    checkout = steps(release["check"])[0]
    assert checkout["with"]["fetch-depth"] == 0, "origin/main is needed to prove reachability"


def test_release_checks_the_tags_release_read_only_before_any_approval() -> None:
    """A reviewer is never asked to approve a tag that cannot deploy: before stage, the first
    job with reviewers, a job under the read-only observe environment finds the release
    published for the tagged commit and checks (dry run) that it passed validation in dev."""
    release = jobs("release")
    job = release["find-release"]
    assert environment_of(job) == OBSERVE
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    assert needs(job) == ["check"], "only for a tag that matches VERSION on a commit of main"
    assert "find-release" in needs(release["stage"]), "stage's approval waits for the check"
    before_stage = upstream("release", "stage")
    assert before_stage == {"check", "find-release"}
    assert {environment_of(release[j]) for j in before_stage} <= {None, OBSERVE}, "no approval"
    order = [s.get("uses", s.get("run", "")) for s in steps(job)]
    credentials = next(i for i, s in enumerate(order) if s.startswith(AWS_ACTION + "@"))
    commands = {i: tokens for i, s in enumerate(order) for tokens in tool_commands(s)}
    (fetch,) = [i for i, tokens in commands.items() if command_path(tokens) == ["fetch"]]
    assert commands[fetch][1:3] == ["--commit", "$GITHUB_SHA"]
    assert "--manifest-only" in commands[fetch]
    (dry_run,) = [i for i, tokens in commands.items() if command_path(tokens) == ["promote"]]
    assert commands[dry_run] == [
        "promote", "--from", "dev", "--to", "stage", "--commit", "$GITHUB_SHA", "--dry-run"
    ]  # fmt: skip
    assert credentials < fetch < dry_run
    for step in steps(job):
        assert not step.get("continue-on-error"), "a tag that cannot deploy must fail here"
    stage_commands = [t for r in runs(release["stage"]) for t in tool_commands(r)]
    assert [command_path(t) for t in stage_commands] == [["fetch"], ["promote"]], (
        "stage fetches the zips to verify their attestations (when enabled) and promotes; "
        "finding and checking the release happened before its approval"
    )


def test_jobs_of_the_observe_environment_only_read() -> None:
    """observe has no reviewers and a read-only role: its jobs run only commands that read."""
    observing = [(n, j, job) for n, j, job in all_jobs() if environment_of(job) == OBSERVE]
    assert {(n, j) for n, j, _ in observing} == {("drift", "drift"), ("release", "find-release")}
    for name, job_id, job in observing:
        commands = [tokens for run in runs(job) for tokens in tool_commands(run)]
        assert commands, f"{name}/{job_id}"
        for tokens in commands:
            assert only_reads(tokens), f"{name}/{job_id}: {tokens} may write"


def test_rollback_runs_under_the_chosen_environment() -> None:
    job = jobs("rollback")["rollback"]
    assert environment_of(job) == "${{ inputs.environment }}"
    (command,) = [r for r in runs(job) if "vectora-release" in r]
    tokens = shlex.split(command)
    assert tokens[:5] == ["exec", "vectora-release", "rollback", "--env", "$TARGET_ENV"]
    assert "--reason" in tokens and tokens[tokens.index("--reason") + 1] == "$REASON"
    step = next(s for s in steps(job) if s.get("run") == command)
    assert step["env"] == {
        "TARGET_ENV": "${{ inputs.environment }}",
        "TO_VERSION": "${{ inputs.version }}",
        "REASON": "${{ inputs.reason }}",
    }


def test_drift_checks_every_environment_and_fails_on_drift() -> None:
    job = jobs("drift")["drift"]
    assert job["strategy"]["matrix"]["env"] == list(ENVIRONMENTS)
    assert job["strategy"]["fail-fast"] is False, "one drifted environment must not hide others"
    assert environment_of(job) == OBSERVE
    assert runs(job)[-1] == 'exec vectora-release drift --env "$TARGET_ENV"'
    for step in steps(job):
        assert not step.get("continue-on-error"), "drift must fail the job"


# -- pinned actions -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", EXPECTED)
def test_every_action_is_pinned_to_a_full_sha_with_its_version(name: str) -> None:
    lines = [line for line in raw(name).splitlines() if re.match(r"^\s*(-\s+)?uses:", line)]
    assert lines, name
    for line in lines:
        assert PINNED_LINE.match(line), (
            f"{name}.yml: not pinned as `uses: o/r@<sha> # vX.Y.Z`: {line}"
        )


def test_each_action_is_pinned_to_the_same_sha_everywhere() -> None:
    seen: dict[str, set[str]] = {}
    for name in all_workflows():
        for line in raw(name).splitlines():
            match = PINNED_LINE.match(line)
            if match:
                seen.setdefault(match["action"], set()).add(line.split("@", 1)[1].strip())
    assert seen
    assert {a: pins for a, pins in seen.items() if len(pins) > 1} == {}


@pytest.mark.parametrize(("name", "job_id", "job"), all_jobs(), ids=JOB_IDS)
def test_checkout_never_persists_the_token(name: str, job_id: str, job: dict[str, Any]) -> None:
    for step in uses(job, "actions/checkout"):
        assert step.get("with", {}).get("persist-credentials") is False, f"{name}/{job_id}"


# -- concurrency ----------------------------------------------------------------------------------
def test_every_job_that_changes_an_environment_is_serialised_and_queued() -> None:
    deploying = [(n, j, job) for n, j, job in all_jobs() if changes_environment(job)]
    assert {(n, j) for n, j, _ in deploying} == {
        ("main", "deploy-dev"),
        ("release", "stage"),
        ("release", "prod"),
        ("rollback", "rollback"),
    }
    for name, job_id, job in deploying:
        env = environment_of(job)
        assert env, f"{name}/{job_id}"
        assert job.get("concurrency") == {
            "group": f"deploy-{env}",
            "cancel-in-progress": False,
            # `queue: max` keeps up to 100 pending runs: a tag's prod deploy waiting for its
            # approval is never dropped because another run entered the group.
            "queue": "max",
        }, f"{name}/{job_id}"
        for step in steps(job):
            assert not step.get("continue-on-error"), f"{name}/{job_id}: failures must fail"


def test_no_workflow_level_concurrency_can_drop_a_pending_deploy() -> None:
    for name in all_workflows():
        group = workflow(name).get("concurrency")
        if group is None:
            continue
        assert not any(changes_environment(job) for job in jobs(name).values()), (
            f"{name}.yml: a workflow-level group (default queue: single) would cancel a "
            "pending deploy run; put concurrency on the deploying job"
        )


# -- scripts ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "job_id", "job"), all_jobs(), ids=JOB_IDS)
def test_no_expression_is_expanded_inside_a_run_script(
    name: str, job_id: str, job: dict[str, Any]
) -> None:
    for run in runs(job):
        assert "${{" not in run, f"{name}/{job_id}: pass values through env:, not into {run!r}"


@pytest.mark.parametrize(("name", "job_id", "job"), all_jobs(), ids=JOB_IDS)
def test_steps_are_thin_one_command_each_and_no_aws_cli(
    name: str, job_id: str, job: dict[str, Any]
) -> None:
    for run in runs(job):
        lines = [line for line in run.strip().splitlines() if line.strip()]
        assert len(lines) == 1, f"{name}/{job_id}: one command per step: {run!r}"
        assert not re.search(r"(&&|\|\||;|\|)", run.replace("<(", "(")) or run.startswith(
            "diff <("
        ), f"{name}/{job_id}: one command per step: {run!r}"
        assert not re.search(r"(^|[\s(])aws\s", run), f"{name}/{job_id}: no AWS CLI in YAML"
        assert run.count("vectora-release ") <= 1


def test_release_never_builds_nor_installs_the_application() -> None:
    text = raw("release")
    for forbidden in (
        "vectora-release build",
        "requirements",
        "--platform",
        "src_v2",
        "python -m build",
        "make ",
    ):
        assert forbidden not in text, forbidden
    for job in jobs("release").values():
        for run in runs(job):
            if "pip" in run:
                assert run == "python -m pip install .", f"only the release tool: {run!r}"


def test_pr_runs_every_check() -> None:
    commands = " ".join(run for job in jobs("pr").values() for run in runs(job))
    for expected in (
        "ruff check",
        "ruff format --check",
        "python -m pytest",
        "vectora-release config check",
        'vectora-release config changelog --base "origin/$BASE_REF"',
        "zizmor",
        "check-jsonschema --builtin-schema vendor.github-workflows",
        "actionlint",
        "python tools/policy_lint.py",
        "python tools/render_bootstrap.py --check",
        "cfn-lint iam/bootstrap.yaml",
    ):
        assert expected in commands, expected
    builds = [r for r in runs(jobs("pr")["reproducible"]) if "vectora-release build" in r]
    assert len(builds) == 2, "build twice"
    assert "sha256sum" in runs(jobs("pr")["reproducible"])[-1]
    changelog = jobs("pr")["changelog"]
    assert steps(changelog)[0]["with"]["fetch-depth"] == 0, "the merge-base needs history"


# -- the CLI the workflows rely on ----------------------------------------------------------------
def _option_names(command: click.Command) -> set[str]:
    return {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}


def test_every_command_and_option_a_workflow_runs_exists() -> None:
    from vectora_release.cli import cli

    used: set[tuple[str, str]] = set()
    global_options = _option_names(cli)
    for name in all_workflows():
        for job in jobs(name).values():
            for run in runs(job):
                for tokens in tool_commands(run):
                    path = command_path(tokens)
                    lead = [t for t in tokens[: tokens.index(path[0])] if t.startswith("-")]
                    assert set(lead) <= global_options, (name, lead)
                    command: click.Command | None = cli
                    for part in path:
                        group = command if isinstance(command, click.Group) else None
                        command = group.get_command(click.Context(group), part) if group else None
                    key = " ".join(path)
                    if command is None:
                        used.add((key, "*"))
                        continue
                    rest = tokens[tokens.index(path[-1]) + 1 :]
                    for token in rest:
                        for option in re.findall(r"(?:^|\+)(--[a-z][a-z0-9-]*)", token):
                            if option not in _option_names(command):
                                used.add((key, option))
    unknown = used - PENDING_CLI
    assert not unknown, f"workflows use commands/options the CLI lacks: {sorted(unknown)}"
    done = PENDING_CLI - used
    assert not done, f"now in the CLI: remove {sorted(done)} from PENDING_CLI"
