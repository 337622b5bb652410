"""validate, rollback, gc and diff through the CLI on the embedded AWS (docs/architecture.md).

Releases are built once for the module, in a scratch repository (builds touch no AWS):

- r1: the project as it is (0.1.0);
- r2: 0.2.0, with a change to the vectora-core package, to a canonical file and to
  normalize-score-v2's handler (new layer, new config bundle, new code);
- r3: 0.3.0, another vectora-core change;
- broken: 0.4.0, ingest-v2's handler raises on import.

Each test starts from a freshly reset embedded AWS (``aws_env``) and publishes what it needs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from vectora_release.aws import Aws, CallCounter
from vectora_release.aws.lambda_ import ALIAS
from vectora_release.cli import Wiring, run_cli
from vectora_release.config.model import load_config
from vectora_release.local.scratch import commit_all, make_scratch_repo
from vectora_release.store.ledger import ROLLED_BACK, SUCCEEDED, Ledger

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ("ingest-v2", "newsletter-v2", "normalize-score-v2")
# Lambda operations that change what a function runs.
CODE_OR_CONFIG_WRITES = {
    "CreateFunction",
    "UpdateFunctionCode",
    "UpdateFunctionConfiguration",
    "PublishVersion",
    "PublishLayerVersion",
}
# What a rollback by alias flip never does ($LATEST is reset with Update*, nothing is published).
NEW_CODE_OR_VERSION = {"CreateFunction", "PublishVersion", "PublishLayerVersion"}


# -- builds (once per module) --------------------------------------------------------------------
def _append(repo: Path, relative: str, line: str) -> None:
    path = repo / relative
    path.write_text(path.read_text(encoding="utf-8") + line + "\n", encoding="utf-8")


@dataclass
class Releases:
    repo: Path
    manifests: dict[str, dict[str, Any]] = field(default_factory=dict)

    def build(self, name: str) -> None:
        out = self.repo / f"dist-{name}"
        code, data, err = run_json(self.repo / "release.yaml", "build", "--out", str(out))
        assert code == 0, err
        assert data["dirty"] is False
        self.manifests[name] = data

    def commit(self, name: str) -> str:
        return self.manifests[name]["commit"]

    def release_id(self, name: str) -> str:
        m = self.manifests[name]
        return f"{m['version']}+{m['commit'][:7]}"

    def code(self, name: str, artifact: str) -> str:
        return next(
            a["code_sha256"] for a in self.manifests[name]["artifacts"] if a["name"] == artifact
        )

    def variant(self, name: str, edit: Callable[[str], str]) -> Path:
        """An untracked copy of release.yaml beside it (same root), edited."""
        path = self.repo / f"release-{name}.yaml"
        path.write_text(edit((self.repo / "release.yaml").read_text()))
        return path


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> Releases:
    repo = make_scratch_repo(ROOT, tmp_path_factory.mktemp("validate") / "vectora-inbox")
    built = Releases(repo)
    built.build("r1")
    (repo / "VERSION").write_text("0.2.0\n")
    _append(repo, "src_v2/vectora_core/text.py", "# 0.2.0")
    _append(repo, "canonical/scopes/exclusions.yaml", "# reviewed for 0.2.0")
    _append(repo, "src_v2/lambdas/normalize_score_v2/handler.py", "# 0.2.0")
    commit_all(repo, "release 0.2.0")
    built.build("r2")
    (repo / "VERSION").write_text("0.3.0\n")
    _append(repo, "src_v2/vectora_core/text.py", "# 0.3.0")
    commit_all(repo, "release 0.3.0")
    built.build("r3")
    (repo / "VERSION").write_text("0.4.0\n")
    _append(
        repo,
        "src_v2/lambdas/ingest_v2/handler.py",
        'raise RuntimeError("ingest-v2 is broken at import")',
    )
    commit_all(repo, "release 0.4.0 (broken)")
    built.build("broken")
    return built


# -- the command line ----------------------------------------------------------------------------
def run_json(config: Path, *args: str, wiring: Wiring | None = None) -> tuple[int, Any, str]:
    """``vectora-release --json --config CONFIG ARGS``: (exit code, JSON stdout, stderr)."""
    result = run_cli(["--json", "--config", str(config), *args], wiring)
    text = result.out.strip()
    return result.code, (json.loads(text) if text else None), result.err


@dataclass
class Env:
    """A reset embedded AWS with dev and stage bootstrapped; runs the CLI against it."""

    releases: Releases
    monkeypatch: pytest.MonkeyPatch
    calls: CallCounter = field(default_factory=CallCounter)
    _aws: Aws | None = None

    @property
    def config_path(self) -> Path:
        return self.releases.repo / "release.yaml"

    def cli(self, *args: str, config: Path | None = None) -> tuple[int, Any, str]:
        """Run a command; ``self.calls`` counts the AWS calls it made (and only those)."""
        self.calls = calls = CallCounter()

        def counted_aws() -> Aws:
            aws = Aws()
            calls.attach(aws)
            return aws

        return run_json(config or self.config_path, *args, wiring=Wiring(aws=counted_aws))

    def ok(self, *args: str, config: Path | None = None) -> Any:
        code, data, err = self.cli(*args, config=config)
        assert code == 0, f"{' '.join(args)} → exit {code}: {err[-6000:]}"
        return data

    def publish(self, *names: str) -> None:
        for name in names:
            self.ok("publish", "--manifest", str(self.releases.repo / f"dist-{name}"))

    def deploy(
        self, name: str, env: str = "dev", *extra: str, config: Path | None = None
    ) -> dict[str, Any]:
        commit = self.releases.commit(name)
        return self.ok("deploy", "--env", env, "--commit", commit, *extra, config=config)

    def deploy_validated(
        self, name: str, env: str = "dev", config: Path | None = None
    ) -> dict[str, Any]:
        """Deploy, then validate without the e2e run (enough for a record to be validated)."""
        report = self.deploy(name, env, config=config)
        assert self.ok("validate", "--env", env, config=config)["status"] == "passed"
        return report

    # -- reading AWS directly -------------------------------------------------------------
    @property
    def aws(self) -> Aws:
        if self._aws is None:
            self._aws = Aws()
        return self._aws

    @property
    def lam(self) -> Any:
        return self.aws.lambda_()

    def resource(self, fn: str, env: str = "dev") -> str:
        return f"vectora-inbox-{fn}-{env}"

    def aliases(self, env: str = "dev") -> dict[str, str]:
        return {
            fn: self.lam.get_alias(FunctionName=self.resource(fn, env), Name=ALIAS)[
                "FunctionVersion"
            ]
            for fn in FUNCTIONS
        }

    def live(self, fn: str, env: str = "dev") -> dict[str, Any]:
        return self.lam.get_function_configuration(
            FunctionName=self.resource(fn, env), Qualifier=self.aliases(env)[fn]
        )

    def layer_code(self, arn: str) -> str:
        name, _, number = arn.rpartition(":")
        response = self.lam.get_layer_version(LayerName=name, VersionNumber=int(number))
        return response["Content"]["CodeSha256"]

    def runs(self, name: str, env: str = "dev") -> bool:
        """Whether every alias live in ``env`` runs release ``name``'s code and layers."""
        for fn in FUNCTIONS:
            conf = self.live(fn, env)
            if conf["CodeSha256"] != self.releases.code(name, fn):
                return False
            codes = [self.layer_code(x["Arn"]) for x in conf["Layers"]]
            want = [self.releases.code(name, layer) for layer in ("vectora-core", "common-deps")]
            if codes != want:
                return False
        return True

    def versions(self, fn: str, env: str = "dev") -> list[str]:
        listed = self.lam.list_versions_by_function(FunctionName=self.resource(fn, env))
        return sorted(v["Version"] for v in listed["Versions"] if v["Version"] != "$LATEST")

    def layer_versions(self, layer: str, env: str = "dev") -> list[str]:
        listed = self.lam.list_layer_versions(LayerName=f"vectora-inbox-{layer}-{env}")
        return sorted(x["LayerVersionArn"] for x in listed["LayerVersions"])

    def history(self, env: str = "dev") -> list[dict[str, Any]]:
        return self.ok("history", "--env", env)

    def record(self, record_id: str, env: str = "dev") -> dict[str, Any]:
        return next(r for r in self.history(env) if r["id"] == record_id)

    def ledger(self, env: str = "dev") -> Ledger:
        config = load_config(self.config_path)
        return Ledger(self.aws.s3(), config.env(env).artifact_bucket, env)


@pytest.fixture
def lambda_never_reuses_version_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the embedded Lambda number versions as AWS does, even after a deletion.

    moto (5.x) numbers a new version ``len(versions) + 1``: once version 1 is deleted, the
    next PublishVersion makes a second "2" and GetFunctionConfiguration(Qualifier="2") returns
    the old one. Lambda never reuses a version number. The server runs in this process, so
    its backend can be patched for the test.
    """
    from moto.awslambda.models import LambdaStorage

    original = LambdaStorage.publish_version

    def publish_version(self: Any, name_or_arn: str, description: str = "") -> Any:
        function = self.get_function_by_name_or_arn_forbid_qualifier(name_or_arn)
        versions = self._functions[function.function_name]["versions"]
        numbers = [int(v.version) for v in versions]
        highest = max([*numbers, getattr(function, "highest_version", 0)], default=0)
        published = original(self, name_or_arn, description)
        if published is not None and published not in versions[:-1]:
            if int(published.version) <= highest:
                previous = next(
                    v for v in versions[:-1] if v.function_arn == published.function_arn
                )
                self._arns[previous.function_arn] = previous
                published.set_version(highest + 1)
                self._arns[published.function_arn] = published
            function.highest_version = int(published.version)
        return published

    monkeypatch.setattr(LambdaStorage, "publish_version", publish_version)


@pytest.fixture
def env(aws_env: str, releases: Releases, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    state = Env(releases, monkeypatch)
    for name in ("dev", "stage"):
        state.ok("bootstrap", "--env", name)
    yield state


# -- validate ------------------------------------------------------------------------------------
def test_validate_writes_its_outcome_into_the_current_record(env: Env) -> None:
    env.publish("r1")
    deployed = env.deploy("r1")
    assert env.record(deployed["record_id"])["validation"] is None

    report = env.ok("validate", "--env", "dev")
    assert report["status"] == "passed" and report["release"] == env.releases.release_id("r1")
    assert {c["check"] for c in report["checks"]} == {
        "integrity",
        "contract",
        "config",
        "smoke",
        "bedrock",  # normalize-score-v2 calls its model with its own role
    }
    assert report["summary"]["passed"] == report["summary"]["total"] == len(report["checks"])
    assert env.calls.mutating == ["PutObject"]  # the record, nothing else
    history = env.history()
    assert [r["id"] for r in history] == [deployed["record_id"]]  # no new record
    assert history[0]["validation"] == report

    # a hand-made change to the memory size: validation fails, and says so in the record
    name = env.resource("ingest-v2")
    env.lam.update_function_configuration(FunctionName=name, MemorySize=2048)
    version = env.lam.publish_version(FunctionName=name)["Version"]
    env.lam.update_alias(FunctionName=name, Name=ALIAS, FunctionVersion=version)
    code, report, err = env.cli("validate", "--env", "dev")
    assert code == 1, err
    assert report["status"] == "failed"
    contract = [c for c in report["checks"] if c["check"] == "contract" and c["subject"] == name]
    assert (
        contract[0]["result"] == "FAIL" and "memory is 2048, expected 512" in contract[0]["detail"]
    )
    assert f"contract {name}: memory is 2048, expected 512" in err
    assert env.record(deployed["record_id"])["validation"]["status"] == "failed"

    # a release whose validation failed is not promoted
    code, _, err = env.cli("promote", "--from", "dev", "--to", "stage")
    assert code == 2 and "has not passed validation" in err


def test_latest_edited_by_hand_is_drift_fails_validate_and_a_redeploy_resets_it(
    env: Env,
) -> None:
    """Console edits change ``$LATEST`` only (no version published, alias untouched): what a
    bare-name invoke runs. Drift names each edit with both values; a redeploy resets it."""
    env.publish("r1")
    env.deploy_validated("r1")
    aliases = env.aliases()
    ingest, score = env.resource("ingest-v2"), env.resource("normalize-score-v2")
    variables = dict(env.live("ingest-v2")["Environment"]["Variables"])
    del variables["LOG_LEVEL"]
    variables["DEBUG_TOKEN"] = "s3cr3t-value"
    env.lam.update_function_configuration(FunctionName=ingest, Environment={"Variables": variables})
    env.lam.update_function_configuration(FunctionName=score, MemorySize=2048, Layers=[])
    assert env.aliases() == aliases  # the alias did not move: only $LATEST changed

    code, drift, err = env.cli("drift", "--env", "dev")
    assert code == 1, err
    found = {(f["subject"], f["field"]): (f["expected"], f["actual"]) for f in drift["findings"]}
    core_arn, deps_arn = (x["Arn"] for x in env.live("normalize-score-v2")["Layers"])
    assert found == {
        (ingest, "$LATEST env LOG_LEVEL"): ("INFO", None),
        (ingest, "$LATEST env DEBUG_TOKEN"): (None, "****"),  # a secret-like key: masked
        (score, "$LATEST memory"): ("1024", "2048"),
        (score, "$LATEST layers"): (f"{core_arn}, {deps_arn}", "-"),
    }
    assert "s3cr3t-value" not in json.dumps(drift) + err

    code, report, err = env.cli("validate", "--env", "dev")
    assert code == 1, err
    contract = {c["subject"]: c for c in report["checks"] if c["check"] == "contract"}
    assert contract[ingest]["result"] == "FAIL"
    assert "$LATEST env LOG_LEVEL missing (expected INFO)" in contract[ingest]["detail"]
    assert "$LATEST memory is 2048, expected 1024" in contract[score]["detail"]
    assert contract[env.resource("newsletter-v2")]["result"] == "pass"

    # a redeploy of the same release puts $LATEST back, publishes nothing, moves no alias
    env.deploy("r1")
    assert "PublishVersion" not in env.calls.calls and "UpdateAlias" not in env.calls.calls
    assert env.calls.calls.count("UpdateFunctionConfiguration") == 2
    assert env.aliases() == aliases
    assert env.ok("drift", "--env", "dev")["drifted"] is False
    latest = env.lam.get_function_configuration(FunctionName=ingest)
    assert latest["Environment"]["Variables"]["LOG_LEVEL"] == "INFO"


# The real client's objects for the e2e run date, at the client's own paths.
REAL_CLIENT_OBJECTS = (
    ("data", "ingested/lai_weekly/2026/11/16/items.json", b'{"items": ["the real ones"]}\n'),
    ("data", "curated/lai_weekly/2026/11/16/items.json", b'{"items": ["curated by hand"]}\n'),
    ("newsletters", "lai_weekly/2026/11/16/newsletter.md", b"# The newsletter clients got\n"),
)


def test_e2e_validation_never_touches_the_real_clients_objects(env: Env) -> None:
    """dev, stage and prod: the run writes under _release_check/ only; client bytes unchanged."""
    env.ok("bootstrap", "--env", "prod")
    env.publish("r1")
    env.deploy("r1")
    assert env.ok("validate", "--env", "dev", "--e2e")["status"] == "passed"
    env.ok("promote", "--from", "dev", "--to", "stage")
    env.ok("promote", "--from", "stage", "--to", "prod", "--skip-soak", "--reason", "test")
    s3 = env.aws.s3()
    for name in ("dev", "stage", "prod"):
        placed = {}
        for kind, key, body in REAL_CLIENT_OBJECTS:
            bucket = f"vectora-inbox-{kind}-{name}"
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            placed[(bucket, key)] = s3.head_object(Bucket=bucket, Key=key)["ETag"]
        report = env.ok("validate", "--env", name, "--e2e")
        assert report["status"] == "passed", report
        for (bucket, key), etag in placed.items():
            got = s3.get_object(Bucket=bucket, Key=key)
            assert got["ETag"] == etag, f"{name}: s3://{bucket}/{key} was rewritten"
            assert got["Body"].read() == next(b for _, k, b in REAL_CLIENT_OBJECTS if k == key)
        written = [
            o["Key"]
            for kind in ("data", "newsletters")
            for o in s3.list_objects_v2(Bucket=f"vectora-inbox-{kind}-{name}").get("Contents", [])
            if (f"vectora-inbox-{kind}-{name}", o["Key"]) not in placed
        ]
        assert written and all(key.startswith("_release_check/") for key in written), written
        rows = {(c["check"], c["result"]) for c in report["checks"]}
        assert ("scoring", "pass") in rows and ("logs", "pass") in rows
        assert {c["check"] for c in report["checks"] if c["check"] == "newsletter"}


def test_bedrock_errors_fail_validation_and_name_the_fallback(env: Env, bedrock: Any) -> None:
    env.publish("r1")
    env.deploy("r1")
    passed = env.ok("validate", "--env", "dev", "--e2e")
    assert {c["check"]: c["detail"] for c in passed["checks"]}["scoring"] == (
        "items scored by bedrock"
    )
    assert bedrock.calls  # the app reached the stand-in through boto3's endpoint setting
    bedrock.fail = "AccessDeniedException"
    code, report, err = env.cli("validate", "--env", "dev", "--e2e")
    assert code == 1, err
    rows = {c["check"]: c for c in report["checks"]}
    assert rows["bedrock"]["result"] == "FAIL"
    assert "AccessDeniedException" in rows["bedrock"]["detail"]
    assert rows["scoring"]["result"] == "FAIL"
    assert "fell back to rules (the declared fallback)" in rows["scoring"]["detail"]
    assert "scoring bedrock: scoring fell back to rules" in err
    summary = report["summary"]
    assert summary["total"] == len(report["checks"]) and summary["passed"] < summary["total"]
    assert set(summary["durations_ms"]) == {env.resource(fn) for fn in FUNCTIONS}


def test_validate_without_a_deployment_exits_2(env: Env) -> None:
    code, _, err = env.cli("validate", "--env", "dev")
    assert code == 2 and "nothing has been deployed to dev" in err


@pytest.mark.slow
def test_compare_to_fails_when_metrics_differ_beyond_the_tolerance(env: Env) -> None:
    env.publish("r1")
    env.deploy("r1", "dev", "--validate")
    env.deploy("r1", "stage")
    report = env.ok("validate", "--env", "stage", "--compare-to", "dev")
    (compare,) = [c for c in report["checks"] if c["check"] == "compare"]
    assert compare["result"] == "pass" and compare["subject"] == "metrics vs dev"
    assert report["compared_to"] == "dev" and report["metrics"]["items"] > 0

    # dev's recorded average score 1 % higher: within the default 5 %, not within 0.1 %
    ledger = env.ledger("dev")
    record = ledger.current()
    assert record is not None and record.validation is not None
    metrics = record.validation["metrics"]
    record.validation["metrics"] = {**metrics, "avg_score": metrics["avg_score"] * 1.01}
    ledger.save(record)
    env.ok("validate", "--env", "stage", "--compare-to", "dev")
    tight = env.releases.variant(
        "tight", lambda t: t.replace("tolerance: 0.05", "tolerance: 0.001")
    )
    code, report, err = env.cli("validate", "--env", "stage", "--compare-to", "dev", config=tight)
    assert code == 1, err
    (compare,) = [c for c in report["checks"] if c["check"] == "compare"]
    assert compare["result"] == "FAIL" and compare["detail"].startswith("avg_score ")
    assert "in dev" in compare["detail"] and "items" not in compare["detail"]
    assert env.ledger("stage").current().validation["status"] == "failed"

    # twice the items in dev: beyond the default tolerance too
    record.validation["metrics"] = {**metrics, "items": metrics["items"] * 2}
    ledger.save(record)
    code, report, err = env.cli("validate", "--env", "stage", "--compare-to", "dev")
    assert code == 1, err
    (compare,) = [c for c in report["checks"] if c["check"] == "compare"]
    assert compare["result"] == "FAIL"
    assert compare["detail"] == f"items {metrics['items']} vs {metrics['items'] * 2} in dev"


# -- automatic rollback --------------------------------------------------------------------------
@pytest.mark.slow
def test_deploy_validate_of_a_broken_release_rolls_back(env: Env, tmp_path: Path) -> None:
    env.publish("r1", "broken")
    good = env.deploy("r1")
    before = env.aliases()
    summary = tmp_path / "job-summary.md"
    env.monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))

    code, report, err = env.cli(
        "deploy", "--env", "dev", "--commit", env.releases.commit("broken"), "--validate"
    )
    assert code == 1, err
    assert "rolled back" in err and "ingest-v2 is broken at import" in err
    assert env.aliases() == before
    assert env.runs("r1")
    broken_id = env.releases.release_id("broken")
    (record,) = [r for r in env.history() if r["release_id"] == broken_id]
    assert record["outcome"] == ROLLED_BACK and record["kind"] == "deploy"
    assert record["validation"]["status"] == "failed"
    assert "ingest-v2 is broken at import" in record["error"]
    # the failure still reports what it did: --json on stdout, the job summary in Actions
    assert report["outcome"] == ROLLED_BACK and report["record_id"] == record["id"]
    assert report["validation"] == record["validation"]
    markdown = summary.read_text(encoding="utf-8")
    assert f"## deploy {broken_id} → dev: rolled_back" in markdown
    assert "> **error:** validation of" in markdown and "### validation: failed" in markdown
    assert any(
        line.startswith("| smoke |") and "| FAIL |" in line and "broken at import" in line
        for line in markdown.splitlines()
    ), markdown
    assert any(step.startswith("restored ") for step in record["steps_done"])
    assert env.ledger().current().id == good["record_id"]
    assert env.ok("drift", "--env", "dev")["drifted"] is False
    status = env.ok("status", "--env", "dev")[0]
    assert status["record"] == good["record_id"]
    assert status["latest_attempt"] == {
        "id": record["id"],
        "release": broken_id,
        "outcome": ROLLED_BACK,
    }


# -- rollback ------------------------------------------------------------------------------------
@pytest.mark.slow
def test_rollback_moves_aliases_back_without_touching_code(env: Env) -> None:
    env.publish("r1", "r2")
    first = env.deploy_validated("r1")
    r1_versions = env.aliases()
    second = env.deploy_validated("r2")
    assert env.runs("r2") and env.aliases() != r1_versions

    # an unknown version: exit 2, nothing changes
    before, records = env.aliases(), env.history()
    code, _, err = env.cli("rollback", "--env", "dev", "--to", "9.9.9")
    assert code == 2, err
    assert "dev never ran release 9.9.9" in err
    assert env.calls.mutating == []
    assert env.aliases() == before and env.history() == records

    report = env.ok("rollback", "--env", "dev", "--reason", "r2 misbehaves")
    assert report["kind"] == "rollback" and report["outcome"] == "succeeded"
    assert report["release_id"] == env.releases.release_id("r1")
    # no new code or version: the aliases move back and $LATEST is put back on r1
    assert not NEW_CODE_OR_VERSION & set(env.calls.calls), env.calls.summary()
    assert env.calls.calls.count("UpdateAlias") == len(FUNCTIONS)
    assert env.aliases() == r1_versions and env.runs("r1")
    for fn in FUNCTIONS:  # a bare-name invoke runs the release that is live
        latest = env.lam.get_function_configuration(FunctionName=env.resource(fn))
        assert latest["CodeSha256"] == env.live(fn)["CodeSha256"]
        assert latest["Environment"] == env.live(fn)["Environment"]
    record = env.record(report["record_id"])
    assert record["undoes"] == second["record_id"] and record["reason"] == "r2 misbehaves"
    assert record["outcome"] == SUCCEEDED and record["validation"]["status"] == "passed"
    first_record = env.record(first["record_id"])
    assert record["config_prefix"] == first_record["config_prefix"]
    assert record["layers"] == first_record["layers"]
    prefixes = {env.live(fn)["Environment"]["Variables"]["CONFIG_PREFIX"] for fn in FUNCTIONS}
    assert prefixes == {first_record["config_prefix"]}
    assert env.ok("drift", "--env", "dev")["drifted"] is False


@pytest.mark.slow
@pytest.mark.usefixtures("lambda_never_reuses_version_numbers")
def test_rollback_redeploys_from_the_store_when_versions_are_gone(env: Env) -> None:
    env.publish("r1", "r2")
    env.deploy_validated("r1")
    r1_versions = env.aliases()
    second = env.deploy_validated("r2")
    for fn, version in r1_versions.items():
        env.lam.delete_function(FunctionName=env.resource(fn), Qualifier=version)

    report = env.ok("rollback", "--env", "dev", "--to", "0.1.0")
    assert report["release_id"] == env.releases.release_id("r1")
    assert "UpdateFunctionCode" in env.calls.calls  # normalize-score-v2's code differs
    assert env.calls.calls.count("PublishVersion") == len(FUNCTIONS)
    assert "PublishLayerVersion" not in env.calls.calls  # r1's layer versions still exist
    assert env.runs("r1")
    assert all(int(v) > int(r1_versions[fn]) for fn, v in env.aliases().items())
    record = env.record(report["record_id"])
    assert record["kind"] == "rollback" and record["undoes"] == second["record_id"]
    assert record["validation"]["status"] == "passed"
    assert env.ok("drift", "--env", "dev")["drifted"] is False


@pytest.mark.slow
def test_rollback_after_aliases_were_moved_back_by_hand_records_it(env: Env) -> None:
    """Live already runs r1 (someone moved the aliases back) while the ledger names r2: the
    rollback moves no alias and publishes nothing, puts $LATEST (still r2) back on r1, and
    records r1, so the ledger tells the truth again."""
    env.publish("r1", "r2")
    env.deploy_validated("r1")
    r1_versions = env.aliases()
    second = env.deploy_validated("r2")
    for fn, version in r1_versions.items():
        env.lam.update_alias(FunctionName=env.resource(fn), Name=ALIAS, FunctionVersion=version)
    assert env.cli("drift", "--env", "dev")[0] == 1

    report = env.ok("rollback", "--env", "dev", "--reason", "aliases already moved")

    assert report["outcome"] == "succeeded" and report["record_id"]
    assert not {"UpdateAlias", *NEW_CODE_OR_VERSION} & set(env.calls.calls)
    # $LATEST back on r1: r2 changed normalize-score-v2's code and every function's layers
    assert env.calls.calls.count("UpdateFunctionCode") == 1
    assert env.calls.calls.count("UpdateFunctionConfiguration") == len(FUNCTIONS)
    record = env.record(report["record_id"])
    assert record["kind"] == "rollback" and record["undoes"] == second["record_id"]
    assert record["release_id"] == env.releases.release_id("r1")
    assert record["validation"]["status"] == "passed"
    assert any(step.startswith("UpdateFunctionCode") for step in record["steps_done"])
    assert env.ledger().current().id == report["record_id"]
    assert env.ok("drift", "--env", "dev")["drifted"] is False


def test_rollback_with_nothing_earlier_exits_2(env: Env) -> None:
    env.publish("r1")
    deployed = env.deploy("r1")
    code, _, err = env.cli("rollback", "--env", "dev")
    assert code == 2, err
    assert "no earlier validated release" in err
    assert [r["id"] for r in env.history()] == [deployed["record_id"]]


@pytest.mark.slow
def test_rollback_restores_the_env_vars_of_the_release_it_restores(env: Env) -> None:
    """docs/architecture.md: code, layers, env vars and config roll forward and back together.

    r1 runs with LOG_LEVEL=INFO; then release.yaml sets LOG_LEVEL=DEBUG and r2 is deployed
    with it. Rolling back must bring r1 back as it ran, LOG_LEVEL=INFO included.
    """
    env.publish("r1", "r2")
    env.deploy_validated("r1")
    debug = env.releases.variant(
        "debug", lambda t: t.replace("LOG_LEVEL: INFO", "LOG_LEVEL: DEBUG")
    )
    env.deploy_validated("r2", config=debug)
    assert {env.live(fn)["Environment"]["Variables"]["LOG_LEVEL"] for fn in FUNCTIONS} == {"DEBUG"}

    code, report, err = env.cli("rollback", "--env", "dev", config=debug)
    assert code == 0, err
    assert env.runs("r1")
    assert {env.live(fn)["Environment"]["Variables"]["LOG_LEVEL"] for fn in FUNCTIONS} == {"INFO"}
    assert report["validation"]["status"] == "passed"
    code, _, err = env.cli("drift", "--env", "dev", config=debug)
    assert code == 0, err


# -- gc --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_gc_keeps_what_aliases_and_recent_records_reference(env: Env) -> None:
    env.publish("r1", "r2", "r3")
    for name in ("r1", "r2", "r3"):
        env.deploy(name)
    # a layer version made by hand under the managed name: not the tool's to delete
    by_hand = env.lam.publish_layer_version(
        LayerName="vectora-inbox-vectora-core-dev",
        Description="uploaded by hand",
        Content={
            "ZipFile": (env.releases.repo / "dist-r1" / "vectora-core-0.1.0.zip").read_bytes()
        },
    )["LayerVersionArn"]
    aliases = env.aliases()
    versions = {fn: env.versions(fn) for fn in FUNCTIONS}
    assert versions == {fn: ["1", "2", "3"] for fn in FUNCTIONS}
    core = env.layer_versions("vectora-core")
    assert len(core) == 4 and by_hand in core
    deps = env.layer_versions("common-deps")
    assert len(deps) == 1
    # the last record (r3) references versions 3 and their previous ones (2), and layers
    # vectora-core:3 (r3) and :2 (attached to version 2): only version 1 and the r1 layer go
    core_v1 = next(arn for arn in core if arn.endswith(":1"))
    expected = sorted([*(f"{env.resource(fn)}:1" for fn in FUNCTIONS), core_v1])

    dry = env.ok("gc", "--env", "dev", "--keep", "1", "--dry-run")
    assert dry["dry_run"] is True and sorted(dry["deleted"]) == expected
    assert not [c for c in env.calls.mutating if c.startswith("Delete")]
    assert {fn: env.versions(fn) for fn in FUNCTIONS} == versions
    assert env.layer_versions("vectora-core") == core

    assert env.ok("gc", "--env", "dev")["deleted"] == []  # the last 5 records: all referenced

    done = env.ok("gc", "--env", "dev", "--keep", "1")
    assert sorted(done["deleted"]) == expected
    assert {fn: env.versions(fn) for fn in FUNCTIONS} == {fn: ["2", "3"] for fn in FUNCTIONS}
    assert env.layer_versions("vectora-core") == sorted(set(core) - {core_v1})
    assert by_hand in done["kept"] and env.layer_versions("common-deps") == deps
    assert env.aliases() == aliases and env.runs("r3")
    assert env.ok("drift", "--env", "dev")["drifted"] is False


# -- diff ------------------------------------------------------------------------------------
@pytest.mark.slow
def test_diff_exits_0_for_identical_environments_and_1_when_they_differ(env: Env) -> None:
    env.publish("r1", "r2")
    env.deploy_validated("r1")
    env.deploy("r1", "stage")
    same = env.ok("diff", "dev", "stage")
    assert same["differs"] is False and all(row["same"] for row in same["rows"])
    assert {"release", "ingest-v2 code", "ingest-v2 layer vectora-core"} <= {
        row["what"] for row in same["rows"]
    }

    env.deploy("r2", "dev")
    code, differ, err = env.cli("diff", "dev", "stage")
    assert code == 1, err
    assert "dev and stage differ in release content" in err
    changed = {row["what"] for row in differ["rows"] if not row["same"]}
    assert {"release", "config bundle", "normalize-score-v2 code"} <= changed
    assert {f"{fn} layer vectora-core" for fn in FUNCTIONS} <= changed
    assert not {"ingest-v2 code", "newsletter-v2 code"} & changed
    assert not [c for c in env.calls.calls if c.startswith(("Put", "Update", "Delete", "Publish"))]


# -- invoke ----------------------------------------------------------------------------------
def test_invoke_runs_the_live_alias_with_an_event_file(env: Env, tmp_path: Path) -> None:
    env.publish("r1")
    env.deploy("r1")
    event = tmp_path / "event.json"
    event.write_text('{"healthcheck": true}')
    result = env.ok("invoke", "--env", "dev", "--function", "newsletter-v2", "--event", str(event))
    assert result["ok"] is True and result["via"] == "local-runner"
    assert result["payload"]["function"] == "newsletter-v2"
    assert result["payload"]["env"] == "dev" and result["payload"]["missing_env"] == []
    event.write_text("{not json")
    code, _, err = env.cli(
        "invoke", "--env", "dev", "--function", "newsletter-v2", "--event", str(event)
    )
    assert code == 2 and "not valid JSON" in err
    code, _, err = env.cli("invoke", "--env", "dev", "--function", "nope")
    assert code == 2 and "unknown function 'nope'" in err
