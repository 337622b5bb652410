"""The incidents the release system exists to catch (docs/architecture.md), each one
reproduced by hand on stage after a clean promotion of R1 from dev, then caught by the CLI.

1. a stage layer replaced out of band by an older zip;
2. an env var (LOG_LEVEL) removed from a stage function's ``$LATEST`` in the console;
3. a legacy prompt file added under stage's config prefix;
4. a promotion of a release never validated in dev.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.slow

LEGACY_PROMPT = "canonical/prompts/normalization/lai_prompt.yaml"


def _artifact(manifest: dict[str, Any], name: str) -> dict[str, Any]:
    return next(a for a in manifest["artifacts"] if a["name"] == name)


def _checks(validation: dict[str, Any], check: str) -> dict[str, dict[str, Any]]:
    return {c["subject"]: c for c in validation["checks"] if c["check"] == check}


@pytest.fixture(scope="module")
def staged(world: Any) -> Any:
    """R1 deployed to dev, validated there (e2e) and promoted to stage."""
    r1 = world.build_and_publish("r1")
    world.ok("deploy", "--env", "dev", "--commit", r1["commit"])
    world.ok("validate", "--env", "dev", "--e2e")
    promoted = world.ok("promote", "--from", "dev", "--to", "stage").data
    assert promoted["validation"]["status"] == "passed"
    return world


@pytest.fixture
def stage(staged: Any) -> Iterator[Any]:
    """stage without drift before the test; redeployed from R1 after it if it drifted."""
    assert staged.cli("drift", "--env", "stage").code == 0
    yield staged
    if staged.cli("drift", "--env", "stage").code != 0:
        staged.ok("deploy", "--env", "stage", "--commit", staged.releases["r1"]["commit"])
    assert staged.cli("drift", "--env", "stage").code == 0


def _older_core_zip(world: Any) -> bytes:
    """``vectora-core-v42.zip``: R1's layer as an older build had it, before date extraction."""
    r1 = world.releases["r1"]
    current = (world.repo / "dist-r1" / _artifact(r1, "vectora-core")["file"]).read_bytes()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(current)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as older,
    ):
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "python/vectora_core/_build_info.json":
                data = (
                    b'{"commit": "0000000000000000000000000000000000000042", "version": "0.0.42"}'
                )
            elif info.filename == "python/vectora_core/text.py":
                data += b"\n\ndef extract_date(text, *args, **kwargs):\n    return None\n"
            older.writestr(info, data)
    return out.getvalue()


# -- incident 1 ----------------------------------------------------------------------------------
def test_stale_layer_in_stage_is_caught_and_redeploy_restores_it(stage: Any) -> None:
    world, r1 = stage, stage.releases["r1"]
    want = _artifact(r1, "vectora-core")["code_sha256"]
    layer_name = world.layer("vectora-core", "stage")
    old = world.lam.publish_layer_version(
        LayerName=layer_name,
        Description="vectora-core-v42.zip",
        Content={"ZipFile": _older_core_zip(world)},
        CompatibleRuntimes=["python3.12"],
    )
    old_arn, old_code = old["LayerVersionArn"], old["Content"]["CodeSha256"]
    assert old_code != want
    recorded_layers = {}
    for fn in r1["functions"]:
        layers = [x["Arn"] for x in world.live(fn, "stage")["Layers"]]
        recorded_layers[fn] = layers
        world.hotfix(fn, "stage", Layers=[old_arn, *layers[1:]])

    # drift names every function, the layer, its ARN and both digests
    drifted = world.cli("drift", "--env", "stage")
    assert drifted.code == 1, str(drifted)
    layer_findings = [f for f in drifted.data["findings"] if "layer vectora-core" in f["field"]]
    assert sorted(f["subject"] for f in layer_findings) == sorted(
        world.function(fn, "stage") for fn in r1["functions"]
    )
    for finding in layer_findings:
        assert finding["check"] == "integrity" and old_arn in finding["field"]
        assert (finding["expected"], finding["actual"]) == (want, old_code)
    human = world.cli("drift", "--env", "stage", json_output=False)
    assert human.code == 1
    for text in (world.function("ingest-v2", "stage"), "layer vectora-core", old_code, want):
        assert text in human.err, text

    # validate fails the integrity check (and smoke: the old bytes are not the release's)
    failed = world.cli("validate", "--env", "stage")
    assert failed.code == 1, str(failed)
    validation = failed.data
    assert validation["status"] == "failed"
    for fn in r1["functions"]:
        integrity = _checks(validation, "integrity")[world.function(fn, "stage")]
        assert integrity["result"] == "FAIL"
        assert "layer vectora-core" in integrity["detail"] and old_arn in integrity["detail"]
        assert old_code in integrity["detail"] and want in integrity["detail"]
        smoke = _checks(validation, "smoke")[world.function(fn, "stage")]
        assert smoke["result"] == "FAIL" and old_code in smoke["detail"]
    assert "layer vectora-core" in failed.err
    human = world.cli("validate", "--env", "stage", json_output=False)
    assert human.code == 1 and "validation of" in human.err and "FAILED" in human.err
    for text in (world.function("normalize-score-v2", "stage"), old_arn, old_code, want):
        assert text in human.err, text
    current = world.ok("status", "--env", "stage").data[0]
    assert current["validated"] == "failed"  # the outcome is written into the record

    # nothing earlier to roll back to: the tool says to redeploy; the redeploy restores it
    refused = world.cli("rollback", "--env", "stage")
    assert refused.code == 2, str(refused)
    assert f"deploy --env stage --commit {r1['commit']}" in refused.err
    redeployed = world.ok("deploy", "--env", "stage", "--commit", r1["commit"], "--validate").data
    assert redeployed["outcome"] == "succeeded"
    assert redeployed["validation"]["status"] == "passed"
    assert not any(step.startswith("PublishLayerVersion") for step in redeployed["plan"])
    assert not any(step.startswith("UpdateFunctionCode") for step in redeployed["plan"])
    for fn in r1["functions"]:
        layers = [x["Arn"] for x in world.live(fn, "stage")["Layers"]]
        assert layers == recorded_layers[fn]
        assert world.layer_code(layers[0]) == want
    assert world.ok("drift", "--env", "stage").data["drifted"] is False
    assert world.ok("validate", "--env", "stage").data["status"] == "passed"


# -- incident 2 ----------------------------------------------------------------------------------
def test_env_var_removed_in_stage_is_caught(stage: Any) -> None:
    world = stage
    fn, name = "ingest-v2", stage.function("ingest-v2", "stage")
    variables = dict(world.live(fn, "stage")["Environment"]["Variables"])
    del variables["LOG_LEVEL"]
    world.hotfix(fn, "stage", latest_only=True, Environment={"Variables": variables})

    drifted = world.cli("drift", "--env", "stage")
    assert drifted.code == 1, str(drifted)
    env_findings = [f for f in drifted.data["findings"] if " env " in f["field"]]
    assert [(f["subject"], f["field"], f["expected"], f["actual"]) for f in env_findings] == [
        (name, "$LATEST env LOG_LEVEL", "INFO", None)
    ]
    human = world.cli("drift", "--env", "stage", json_output=False)
    assert human.code == 1 and name in human.err and "$LATEST env LOG_LEVEL" in human.err

    failed = world.cli("validate", "--env", "stage")
    assert failed.code == 1, str(failed)
    contract = _checks(failed.data, "contract")
    assert contract[name]["result"] == "FAIL"
    assert "$LATEST env LOG_LEVEL missing (expected INFO)" in contract[name]["detail"]
    others = {subject: c["result"] for subject, c in contract.items() if subject != name}
    assert set(others.values()) == {"pass"} and len(others) == 2
    assert f"contract {name}: $LATEST env LOG_LEVEL missing" in failed.err

    # a redeploy resets $LATEST (the stage fixture redeploys R1 and checks there is no drift)
    world.ok("deploy", "--env", "stage", "--commit", world.releases["r1"]["commit"])
    latest = world.lam.get_function_configuration(FunctionName=name)
    assert latest["Environment"]["Variables"]["LOG_LEVEL"] == "INFO"


# -- incident 3 ----------------------------------------------------------------------------------
def test_legacy_prompt_under_the_config_prefix_is_caught(stage: Any) -> None:
    world = stage
    bucket = world.config.env("stage").buckets["config"]
    prefix = world.live("ingest-v2", "stage")["Environment"]["Variables"]["CONFIG_PREFIX"]
    key = prefix + LEGACY_PROMPT
    world.s3.put_object(Bucket=bucket, Key=key, Body=b"prompt: legacy normalisation\n")

    failed = world.cli("validate", "--env", "stage")
    assert failed.code == 1, str(failed)
    config_checks = _checks(failed.data, "config")
    assert list(config_checks) == [f"s3://{bucket}/{prefix}"]
    (check,) = config_checks.values()
    assert check["result"] == "FAIL" and f"s3://{bucket}/{key}" in check["detail"]
    assert "not in the release" in check["detail"]
    failing = {c["check"] for c in failed.data["checks"] if c["result"] == "FAIL"}
    assert failing == {"config"}
    assert LEGACY_PROMPT in failed.err

    drifted = world.cli("drift", "--env", "stage")
    assert drifted.code == 1
    assert [f["subject"] for f in drifted.data["findings"]] == [f"s3://{bucket}/{key}"]


# -- incident 4 ----------------------------------------------------------------------------------
def test_release_never_validated_in_dev_cannot_be_promoted(stage: Any, helpers: Any) -> None:
    world = stage
    world.commit("fix ingest", helpers.append("src_v2/lambdas/ingest_v2/handler.py", "# fix"))
    r2 = world.build_and_publish("r2")
    r2_id = f"{r2['version']}+{r2['commit'][:7]}"
    world.ok("deploy", "--env", "dev", "--commit", r2["commit"])  # deployed, not validated
    before = {env: world.snapshot(env) for env in ("stage", "prod")}

    refused = world.cli("promote", "--from", "dev", "--to", "stage")
    assert refused.code == 2, str(refused)
    assert f"release {r2_id} in dev has not passed validation" in refused.err
    refused = world.cli("promote", "--from", "dev", "--to", "stage", "--dry-run")
    assert refused.code == 2, str(refused)
    refused = world.cli("deploy", "--env", "stage", "--commit", r2["commit"])
    assert refused.code == 2, str(refused)
    assert f"release {r2_id} has not passed validation in dev" in refused.err
    refused = world.cli("deploy", "--env", "prod", "--commit", r2["commit"])
    assert refused.code == 2, str(refused)
    assert "has not passed validation in stage" in refused.err

    assert {env: world.snapshot(env) for env in ("stage", "prod")} == before
    stage_history = world.history("stage")
    assert r2["commit"] not in {r["commit"] for r in stage_history}
