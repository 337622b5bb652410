"""The environment commands as operators run them: exit codes, stdout vs stderr."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from vectora_release.deploy.pipeline import deploy_release
from vectora_release.store.artifacts import release_prefix

if TYPE_CHECKING:
    from collections.abc import Callable

    from conftest import CliResult, Released

    Cli = Callable[..., CliResult]

MOTO_ACCOUNT = "123456789012"  # the account every embedded AWS call is made in


def test_status_json_on_stdout_and_table_on_stderr(released: Released, cli: Cli) -> None:
    report = deploy_release(released.target("dev"), released.r1.manifest)
    manifest = released.r1.manifest

    machine = cli("--json", "status")
    human = cli("status")

    assert machine.code == 0
    rows = {row["env"]: row for row in machine.json()}
    assert sorted(rows) == ["dev", "prod", "stage"]
    assert rows["dev"]["version"] == manifest.version
    assert rows["dev"]["commit"] == manifest.commit
    assert rows["dev"]["outcome"] == "succeeded"
    assert rows["dev"]["record"] == report.record_id
    assert rows["stage"]["outcome"] == "never deployed"
    assert human.code == 0
    assert human.out == ""
    assert manifest.commit[:7] in human.err and "never deployed" in human.err
    assert machine.calls.mutating == [] and human.calls.mutating == []


def test_history_json_on_stdout_and_table_on_stderr(released: Released, cli: Cli) -> None:
    report = deploy_release(released.target("dev"), released.r1.manifest)

    machine = cli("--json", "history", "--env", "dev")
    human = cli("history", "--env", "dev")
    empty = cli("--json", "history", "--env", "stage")

    assert machine.code == 0
    records = machine.json()
    assert [r["id"] for r in records] == [report.record_id]
    assert records[0]["outcome"] == "succeeded"
    assert records[0]["release_id"] == released.r1.manifest.release_id
    assert records[0]["schema_version"] == 1
    assert human.code == 0 and human.out == ""
    assert report.record_id in human.err and released.r1.manifest.release_id in human.err
    assert empty.code == 0 and empty.json() == []
    assert "no deployment recorded yet" in empty.err


def test_deploy_to_an_unknown_environment_exits_2(released: Released, cli: Cli) -> None:
    result = cli("deploy", "--env", "nope", "--version", released.r1.version)

    assert result.code == 2
    assert "unknown environment 'nope'" in result.err
    assert result.out == ""
    assert result.calls.total == 0


def test_deploy_without_a_release_exits_2(released: Released, cli: Cli) -> None:
    result = cli("deploy", "--env", "dev")

    assert result.code == 2
    assert "name exactly one release" in result.err
    assert result.calls.mutating == []


def test_deploy_then_redeploy_by_cli(released: Released, cli: Cli) -> None:
    r1 = released.r1.manifest

    first = cli("--json", "deploy", "--env", "dev", "--commit", r1.commit[:7])
    again = cli("--json", "deploy", "--env", "dev", "--manifest", str(released.r1.dist))

    assert first.code == 0 and first.json()["outcome"] == "succeeded"
    assert first.calls.mutating
    assert again.code == 0 and again.json()["outcome"] == "up_to_date"
    assert again.calls.total > 0 and again.calls.mutating == []


def test_dry_run_by_cli_prints_the_plan_and_changes_nothing(released: Released, cli: Cli) -> None:
    result = cli("deploy", "--env", "dev", "--version", released.r1.version, "--dry-run")

    assert result.code == 0
    assert "dry run, nothing changed" in result.err
    assert f"CreateFunction {released.resource('ingest-v2')}" in result.err
    assert result.out == ""
    assert result.calls.total > 0 and result.calls.mutating == []
    assert released.functions(released.target()) == []


def test_a_held_lock_exits_1_naming_the_holder(released: Released, cli: Cli) -> None:
    released.target().ledger.acquire(900, "test")

    result = cli("deploy", "--env", "dev", "--version", released.r1.version)

    assert result.code == 1
    assert "dev is locked by" in result.err and "(test)" in result.err
    assert released.functions(released.target()) == []
    assert set(result.calls.mutating) <= {"PutObject"}  # at most the refused put of the lock


def test_a_tampered_artifact_exits_2(released: Released, cli: Cli) -> None:
    manifest = released.r1.manifest
    target = released.target()
    key = release_prefix(manifest) + manifest.artifact("normalize-score-v2").file
    target.s3.put_object(Bucket=target.spec.artifact_bucket, Key=key, Body=b"tampered")

    result = cli("deploy", "--env", "dev", "--version", manifest.version)

    assert result.code == 2
    assert manifest.artifact("normalize-score-v2").file in result.err
    assert "does not match the manifest" in result.err
    assert result.calls.mutating == []
    assert released.functions(target) == []


def test_bootstrap_twice_creates_nothing_the_second_time(aws_env: str, cli: Cli) -> None:
    first = cli("--json", "bootstrap", "--env", "stage")
    second = cli("--json", "bootstrap", "--env", "stage")

    assert first.code == 0 and second.code == 0
    created = first.json()["created"]
    assert "s3 bucket vectora-inbox-config-stage" in created
    assert "iam role vectora-inbox-ingest-v2-stage-role" in created
    assert second.json()["created"] == []
    assert sorted(second.json()["existing"]) == sorted(created)
    assert second.calls.total > 0 and second.calls.mutating == []


def test_a_function_the_tool_did_not_create_is_never_modified(released: Released, cli: Cli) -> None:
    target = released.target()
    name = released.hand_made_function(
        "ingest-v2", Environment={"Variables": {"OWNER": "someone else"}}
    )
    before = target.lam.get_function(FunctionName=name)

    result = cli("deploy", "--env", "dev", "--version", released.r1.version)

    assert result.code == 2
    assert f"function {name} exists but is not managed by vectora-release" in result.err
    assert result.calls.mutating == []
    after = target.lam.get_function(FunctionName=name)
    assert after["Configuration"]["CodeSha256"] == before["Configuration"]["CodeSha256"]
    assert after["Configuration"]["Environment"] == {"Variables": {"OWNER": "someone else"}}
    assert after.get("Tags", {}) == before.get("Tags", {})
    assert "ReservedConcurrentExecutions" not in target.lam.get_function_concurrency(
        FunctionName=name
    )
    versions = target.lam.list_versions_by_function(FunctionName=name)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST"]
    assert target.lam.list_aliases(FunctionName=name)["Aliases"] == []
    assert released.functions(target) == [name]
    assert released.target().ledger.history() == []


def _declare_dev_account(released: Released, account: str) -> Path:
    return released.variant(
        f"account-{account}",
        lambda text: text.replace(
            "  dev:\n    region: eu-west-3\n",
            f'  dev:\n    region: eu-west-3\n    account: "{account}"\n',
        ),
    )


def test_an_environment_in_the_callers_account_is_used(released: Released, cli: Cli) -> None:
    config = _declare_dev_account(released, MOTO_ACCOUNT)

    deployed = cli("deploy", "--env", "dev", "--version", released.r1.version, config=config)

    assert deployed.code == 0, deployed.err
    assert deployed.calls.calls.count("GetCallerIdentity") == 1  # asked once per command
    for args in (("validate", "--env", "dev"), ("drift", "--env", "dev")):
        result = cli(*args, config=config)
        assert result.code == 0, result.err
        assert "GetCallerIdentity" in result.calls.calls


def test_an_environment_of_another_account_is_refused_before_any_call(
    released: Released, cli: Cli
) -> None:
    assert cli("deploy", "--env", "dev", "--version", released.r1.version).code == 0
    target = released.target()
    before = (released.aliases(target), [r.id for r in target.ledger.history()])
    config = _declare_dev_account(released, "111111111111")
    refused = (
        f"error: credentials are for account {MOTO_ACCOUNT} but release.yaml declares "
        "111111111111 for dev (assume dev's deploy role)\n"
    )

    for args in (
        ("deploy", "--env", "dev", "--version", released.r1.version),
        ("promote", "--from", "dev", "--to", "stage"),
        ("rollback", "--env", "dev"),
        ("bootstrap", "--env", "dev"),
        ("gc", "--env", "dev", "--keep", "1"),
        ("validate", "--env", "dev"),
        ("drift", "--env", "dev"),
    ):
        result = cli(*args, config=config)
        assert result.code == 2, f"{args}: {result.err}"
        assert result.err == refused, args
        assert result.calls.calls == ["GetCallerIdentity"], args

    assert (released.aliases(target), [r.id for r in target.ledger.history()]) == before
