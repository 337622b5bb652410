"""The release story end to end, through the CLI, on the embedded AWS (docs/architecture.md).

build → publish → deploy dev → validate → promote stage → promote prod (byte-identical) →
a second release through dev and stage → an out-of-band change in stage → drift → the drifted
stage cannot be promoted → rollback → no drift, stage and prod agree again.
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.slow

FUNCTIONS = ("ingest-v2", "newsletter-v2", "normalize-score-v2")
LAYERS = ("vectora-core", "common-deps")


def _artifact(manifest: dict[str, Any], name: str) -> dict[str, Any]:
    return next(a for a in manifest["artifacts"] if a["name"] == name)


def _check_runs(world: Any, env: str, manifest: dict[str, Any]) -> None:
    """Alias live of every function in ``env`` runs exactly the manifest's bytes and env."""
    config = world.config
    for fn in FUNCTIONS:
        conf = world.live(fn, env)
        assert conf["CodeSha256"] == _artifact(manifest, fn)["code_sha256"], (env, fn)
        layers = [x["Arn"] for x in conf["Layers"]]
        assert [arn.rsplit(":", 2)[-2] for arn in layers] == [
            world.layer(name, env) for name in manifest["functions"][fn]["layers"]
        ]
        for name, arn in zip(manifest["functions"][fn]["layers"], layers, strict=True):
            assert world.layer_code(arn) == _artifact(manifest, name)["code_sha256"], (env, arn)
        variables = conf["Environment"]["Variables"]
        prefix = variables.pop("CONFIG_PREFIX")
        assert prefix == f"releases/{manifest['version']}+{manifest['commit'][:7]}/"
        assert variables == config.declared_env(fn, env), (env, fn)


def _check_byte_identical(world: Any, a: str, b: str) -> None:
    """Same function code and same layer content in ``a`` and ``b``; env differs only by
    the declared values of each environment."""
    assert world.digests(a) == world.digests(b)
    config = world.config
    for fn in FUNCTIONS:
        env_a = world.live(fn, a)["Environment"]["Variables"]
        env_b = world.live(fn, b)["Environment"]["Variables"]
        assert sorted(env_a) == sorted(env_b)
        differing = {k for k in env_a if env_a[k] != env_b[k]}
        declared_a, declared_b = config.declared_env(fn, a), config.declared_env(fn, b)
        assert differing == {k for k in declared_a if declared_a[k] != declared_b[k]}
        assert {"ENV", "CONFIG_BUCKET", "DATA_BUCKET"} <= differing
        assert env_a["LOG_LEVEL"] == env_b["LOG_LEVEL"] == "INFO"


def test_release_story(world: Any, helpers: Any) -> None:
    cli, ok = world.cli, world.ok

    # -- R1: build, publish, deploy to dev --------------------------------------------------
    r1 = world.build_and_publish("r1")
    assert len(r1["artifacts"]) == 6
    r1_id = f"{r1['version']}+{r1['commit'][:7]}"
    deployed = ok("deploy", "--env", "dev", "--commit", r1["commit"]).data
    assert deployed["outcome"] == "succeeded" and deployed["kind"] == "deploy"
    assert deployed["validation"] is None
    dev_r1 = world.record("dev", deployed["record_id"])
    assert dev_r1["outcome"] == "succeeded" and dev_r1["validation"] is None
    assert dev_r1["release_id"] == r1_id and dev_r1["manifest_sha256"]
    _check_runs(world, "dev", r1)

    # not validated in dev yet: stage refuses it, nothing changes
    before = world.snapshot("stage")
    refused = cli("promote", "--from", "dev", "--to", "stage")
    assert refused.code == 2, str(refused)
    assert "has not passed validation" in refused.err and r1_id in refused.err
    assert world.snapshot("stage") == before

    # -- validate dev (e2e): the outcome goes into the record -------------------------------
    validation = ok("validate", "--env", "dev", "--e2e").data
    assert validation["status"] == "passed" and validation["release"] == r1_id
    checks = {c["check"] for c in validation["checks"]}
    assert checks == {
        "integrity", "contract", "config", "smoke", "bedrock", "e2e", "scoring", "newsletter",
        "logs",
    }  # fmt: skip
    assert (
        validation["summary"]["passed"]
        == validation["summary"]["total"]
        == len(validation["checks"])
    )
    metrics = validation["metrics"]
    assert metrics["items"] > 0 and metrics["dated_pct"] >= 90
    assert set(metrics) >= {"items", "relevant_pct", "avg_score", "dated_pct"}
    dev_r1 = world.record("dev", deployed["record_id"])
    assert dev_r1["validation"]["status"] == "passed"
    assert dev_r1["validation"]["metrics"] == metrics

    # -- promote dev → stage → prod: exactly the same bytes ---------------------------------
    promoted = ok("promote", "--from", "dev", "--to", "stage").data
    assert promoted["outcome"] == "succeeded" and promoted["kind"] == "promote"
    assert promoted["validation"]["status"] == "passed"
    assert promoted["validation"]["compared_to"] == "dev"
    compare = [c for c in promoted["validation"]["checks"] if c["check"] == "compare"]
    assert [c["result"] for c in compare] == ["pass"]
    stage_r1 = world.record("stage", promoted["record_id"])
    assert stage_r1["kind"] == "promote" and stage_r1["from_env"] == "dev"
    assert (
        stage_r1["outcome"] == "succeeded"
        and stage_r1["manifest_sha256"] == (dev_r1["manifest_sha256"])
    )
    assert stage_r1["validation"]["status"] == "passed"

    early = world.cli("promote", "--from", "stage", "--to", "prod")
    assert early.code == 2 and "min_soak" in early.err  # prod wants 14 days in stage first
    promoted = ok(
        "promote", "--from", "stage", "--to", "prod", "--skip-soak", "--reason", "the story"
    ).data
    assert promoted["soak"]["skipped"] is True
    assert promoted["outcome"] == "succeeded"
    prod_r1 = world.record("prod", promoted["record_id"])
    assert prod_r1["kind"] == "promote" and prod_r1["from_env"] == "stage"
    assert prod_r1["validation"]["status"] == "passed"

    for env in ("dev", "stage", "prod"):
        _check_runs(world, env, r1)
    _check_byte_identical(world, "dev", "stage")
    _check_byte_identical(world, "stage", "prod")
    for a, b in (("dev", "stage"), ("stage", "prod")):
        same = ok("diff", a, b).data
        assert same["differs"] is False

    # promoting again changes nothing
    before = world.snapshot("prod")
    again = ok("promote", "--from", "stage", "--to", "prod", "--dry-run").data
    assert again["outcome"] == "planned" and again["plan"] == []
    assert world.snapshot("prod") == before

    # the prod alias answers a health check with the release's core version and commit
    health = ok("invoke", "--env", "prod", "--function", "ingest-v2").data
    assert health["ok"] is True
    assert health["payload"]["core_version"] == r1["version"]
    assert health["payload"]["commit"] == r1["commit"]

    # -- R2: new core layer, new config, new handler code; through dev and stage ------------
    world.commit("release 0.2.0", helpers.bump("0.2.0"))
    world.commit(
        "tune exclusions and normalisation",
        lambda repo: (
            helpers.append("src_v2/vectora_core/text.py", "# 0.2.0")(repo),
            helpers.append("canonical/scopes/exclusions.yaml", "# reviewed for 0.2.0")(repo),
            helpers.append("src_v2/lambdas/normalize_score_v2/handler.py", "# 0.2.0")(repo),
        ),
    )
    r2 = world.build_and_publish("r2")
    r2_id = f"{r2['version']}+{r2['commit'][:7]}"
    for name in ("vectora-core", "config-bundle", "normalize-score-v2"):
        assert _artifact(r2, name)["sha256"] != _artifact(r1, name)["sha256"], name
    for name in ("common-deps", "ingest-v2", "newsletter-v2"):
        assert _artifact(r2, name)["sha256"] == _artifact(r1, name)["sha256"], name

    deployed = ok("deploy", "--env", "dev", "--commit", r2["commit"], "--validate").data
    assert deployed["validation"]["status"] == "passed"
    promoted = ok("promote", "--from", "dev", "--to", "stage").data
    assert promoted["outcome"] == "succeeded" and promoted["release_id"] == r2_id
    stage_r2_id = promoted["record_id"]
    _check_runs(world, "stage", r2)
    differ = cli("diff", "stage", "prod")
    assert differ.code == 1, str(differ)
    changed = {row["what"] for row in differ.data["rows"] if not row["same"]}
    assert "release" in changed and "normalize-score-v2 code" in changed
    assert "ingest-v2 layer vectora-core" in changed and "ingest-v2 code" not in changed

    # -- an out-of-band change in stage: LOG_LEVEL set to DEBUG by hand ---------------------
    fn = "newsletter-v2"
    variables = {**world.live(fn, "stage")["Environment"]["Variables"], "LOG_LEVEL": "DEBUG"}
    recorded = world.alias_version(fn, "stage")
    hotfixed = world.hotfix(fn, "stage", Environment={"Variables": variables})
    drifted = cli("drift", "--env", "stage")
    assert drifted.code == 1, str(drifted)
    findings = drifted.data["findings"]
    assert [(f["subject"], f["field"], f["expected"], f["actual"]) for f in findings] == [
        (world.function(fn, "stage"), "alias live version", recorded, hotfixed),
        (world.function(fn, "stage"), "env LOG_LEVEL", "INFO", "DEBUG"),
    ]
    human = cli("drift", "--env", "stage", json_output=False)
    assert human.code == 1
    assert world.function(fn, "stage") in human.err and "env LOG_LEVEL" in human.err

    # a drifted environment cannot be promoted; prod is untouched
    before = world.snapshot("prod")
    refused = cli("promote", "--from", "stage", "--to", "prod")
    assert refused.code == 1, str(refused)
    assert "stage drifted" in refused.err and world.function(fn, "stage") in refused.err
    assert world.snapshot("prod") == before

    # -- rollback stage: R1 again, by moving aliases back -----------------------------------
    rolled = ok("rollback", "--env", "stage", "--reason", "hand-made LOG_LEVEL change").data
    assert rolled["outcome"] == "succeeded" and rolled["release_id"] == r1_id
    assert rolled["validation"]["status"] == "passed"
    # aliases move back; $LATEST is first put back on R1 (Update*, nothing published)
    steps = [step.split()[0] for step in rolled["plan"]]
    assert set(steps) <= {"UpdateFunctionCode", "UpdateFunctionConfiguration", "UpdateAlias"}
    assert steps.count("UpdateAlias") == 3 and steps[-3:] == ["UpdateAlias"] * 3, rolled["plan"]
    record = world.record("stage", rolled["record_id"])
    assert record["kind"] == "rollback" and record["undoes"] == stage_r2_id
    assert record["outcome"] == "succeeded" and record["reason"] == "hand-made LOG_LEVEL change"
    assert record["release_id"] == r1_id and record["validation"]["status"] == "passed"
    assert {fn: s["version"] for fn, s in record["functions"].items()} == {
        fn: s["version"] for fn, s in stage_r1["functions"].items()
    }
    assert {n: s["arn"] for n, s in record["layers"].items()} == {
        n: s["arn"] for n, s in stage_r1["layers"].items()
    }
    assert record["config_prefix"] == stage_r1["config_prefix"]
    _check_runs(world, "stage", r1)  # code, layers, env vars and config prefix together
    assert ok("drift", "--env", "stage").data["drifted"] is False
    assert ok("diff", "stage", "prod").data["differs"] is False
    _check_byte_identical(world, "stage", "prod")

    # -- the ledger tells the story ---------------------------------------------------------
    kinds = {env: sorted(r["kind"] for r in world.history(env)) for env in ("dev", "stage")}
    assert kinds == {"dev": ["deploy", "deploy"], "stage": ["promote", "promote", "rollback"]}
    assert all(r["outcome"] == "succeeded" for r in world.history("stage"))
    status = {row["env"]: row for row in ok("status").data}
    assert {env: (row["version"], row["validated"]) for env, row in status.items()} == {
        "dev": ("0.2.0", "passed"),
        "stage": ("0.1.0", "passed"),
        "prod": ("0.1.0", "passed"),
    }
    assert status["stage"]["record"] == rolled["record_id"]
