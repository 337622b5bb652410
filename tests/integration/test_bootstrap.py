"""bootstrap against the embedded AWS: what it creates, what it completes, what it leaves alone."""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from botocore.exceptions import ClientError
from vectora_release.aws import Aws, CallCounter
from vectora_release.config.model import ReleaseConfig, load_config
from vectora_release.deploy.desired import MANAGED_BY
from vectora_release.deploy.target import Target
from vectora_release.ops.bootstrap import bootstrap

ROOT = Path(__file__).resolve().parents[2]
ENV_BUCKETS = ("config", "data", "newsletters")
PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
BEDROCK_USERS = {"normalize-score-v2"}


@pytest.fixture(scope="module")
def config() -> ReleaseConfig:
    return load_config(ROOT / "release.yaml")


def target(config: ReleaseConfig, env: str = "dev") -> Target:
    """A Target over a new Aws, so that hooks registered on it see every call."""
    return Target(config, config.env(env), Aws())


def buckets(config: ReleaseConfig, env: str) -> list[str]:
    spec = config.env(env)
    return [spec.buckets[kind] for kind in ENV_BUCKETS] + [spec.artifact_bucket]


def fail_first(t: Target, service: str, operation: str) -> None:
    """Make the first ``operation`` call through ``t`` fail, as AWS would on an outage."""

    def hook(**_: Any) -> None:
        t.aws.unregister(f"before-parameter-build.{service}.{operation}", "fault")
        raise ClientError(
            {"Error": {"Code": "ServiceUnavailable", "Message": "injected fault"}}, operation
        )

    t.aws.register(f"before-parameter-build.{service}.{operation}", hook, "fault")


def tags(tag_set: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tag_set or []}


def bucket_settings(s3: Any, bucket: str) -> dict[str, Any]:
    """Versioning, encryption, public-access block and tags of ``bucket`` (None when absent)."""

    def read(call: Any, key: str) -> Any:
        try:
            return call(Bucket=bucket)[key]
        except ClientError:
            return None

    return {
        "versioning": s3.get_bucket_versioning(Bucket=bucket).get("Status"),
        "encryption": read(s3.get_bucket_encryption, "ServerSideEncryptionConfiguration"),
        "public_access_block": read(s3.get_public_access_block, "PublicAccessBlockConfiguration"),
        "tags": tags(read(s3.get_bucket_tagging, "TagSet")),
    }


def assert_private_versioned_encrypted(s3: Any, bucket: str) -> None:
    settings = bucket_settings(s3, bucket)
    assert settings["versioning"] == "Enabled", bucket
    assert settings["encryption"] is not None, bucket
    (rule,) = settings["encryption"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256", bucket
    assert settings["public_access_block"] == PUBLIC_ACCESS_BLOCK, bucket
    assert settings["tags"]["ManagedBy"] == MANAGED_BY, bucket


def policy(document: str | dict[str, Any]) -> dict[str, Any]:
    return document if isinstance(document, dict) else json.loads(unquote(document))


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


# -- what a first run creates ---------------------------------------------------------------------
@pytest.mark.parametrize("env", ["dev", "prod"])
def test_buckets_are_versioned_encrypted_and_private(
    aws_env: str, config: ReleaseConfig, env: str
) -> None:
    t = target(config, env)
    report = bootstrap(t)
    for bucket in buckets(config, env):
        assert f"s3 bucket {bucket}" in report.created
        assert_private_versioned_encrypted(t.s3, bucket)
    assert bucket_settings(t.s3, config.env(env).buckets["data"])["tags"] == {
        "Project": config.project,
        "Environment": env,
        "ManagedBy": MANAGED_BY,
    }


@pytest.mark.parametrize("env", ["dev", "stage"])
def test_one_role_per_function_scoped_to_its_environment(
    aws_env: str, config: ReleaseConfig, env: str
) -> None:
    t = target(config, env)
    bootstrap(t)
    iam = t.aws.iam()
    spec = config.env(env)
    own_buckets = {spec.buckets[kind] for kind in ENV_BUCKETS}
    others = [e for e in config.environments if e != env]
    for function in config.functions:
        name = config.role_name(function, env)
        role = iam.get_role(RoleName=name)["Role"]
        assert tags(role.get("Tags"))["ManagedBy"] == MANAGED_BY
        assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == (
            f"arn:aws:iam::{t.aws.account(spec.region)}:policy/"
            f"{config.project}-function-boundary-{env}"
        )
        trust = policy(role["AssumeRolePolicyDocument"])
        assert [s["Principal"] for s in trust["Statement"]] == [{"Service": "lambda.amazonaws.com"}]
        assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["least-privilege"]
        document = policy(
            iam.get_role_policy(RoleName=name, PolicyName="least-privilege")["PolicyDocument"]
        )
        actions: set[str] = set()
        for statement in document["Statement"]:
            assert statement["Effect"] == "Allow"
            statement_actions = as_list(statement["Action"])
            actions.update(statement_actions)
            assert not any(a.endswith("*") for a in statement_actions), statement
            for resource in as_list(statement["Resource"]):
                assert resource != "*", statement
                if resource.startswith("arn:aws:s3:::"):
                    bucket = resource.removeprefix("arn:aws:s3:::").split("/", 1)[0]
                    assert bucket in own_buckets, (name, resource)
                elif resource.startswith("arn:aws:logs:"):
                    log_group = f"/aws/lambda/{config.function_resource(function, env)}"
                    assert resource.endswith(f":log-group:{log_group}:*"), (name, resource)
                elif resource.startswith("arn:aws:ssm:"):  # its own environment's parameters
                    assert resource.endswith(f":parameter/{config.project}/{env}/*"), resource
                elif resource.startswith("arn:aws:kms:"):  # SecureStrings, through SSM only
                    via = statement["Condition"]["StringEquals"]["kms:ViaService"]
                    assert statement["Action"] == ["kms:Decrypt"] and via.startswith("ssm."), via
                elif resource.startswith("arn:aws:lambda:"):  # the chain: the next step only
                    chain = list(spec.monitoring.chain)
                    following = config.function_resource(chain[chain.index(function) + 1], env)
                    assert resource.endswith(f":function:{following}:live"), (name, resource)
                    assert statement_actions == ["lambda:InvokeFunction"], statement
                else:
                    assert resource.startswith("arn:aws:bedrock:"), (name, resource)
                    assert function in BEDROCK_USERS, (name, resource)
                assert not any(resource.endswith(f"-{o}") for o in others), resource
                assert not any(f"-{o}/" in resource or f"-{o}:" in resource for o in others)
        invokes_bedrock = any(a.startswith("bedrock:") for a in actions)
        assert invokes_bedrock == (function in BEDROCK_USERS), name
        assert "bedrock:InvokeModel" in actions or function not in BEDROCK_USERS
        assert {"logs:CreateLogStream", "logs:PutLogEvents", "s3:GetObject"} <= actions


def test_a_second_run_only_reads(aws_env: str, config: ReleaseConfig) -> None:
    first = bootstrap(target(config))
    t = target(config)
    calls = CallCounter().attach(t.aws)
    second = bootstrap(t)
    assert second.created == [] and second.completed == [] and second.unmanaged == []
    assert sorted(second.existing) == sorted(first.created)
    assert calls.total > 0 and calls.mutating == []


# -- what it did not create -----------------------------------------------------------------------
def test_a_bucket_and_a_role_it_did_not_create_are_left_exactly_as_they_were(
    aws_env: str, config: ReleaseConfig
) -> None:
    t = target(config)
    bucket = config.env("dev").buckets["data"]
    role = config.role_name("ingest-v2", "dev")
    t.s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    t.s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "Owner", "Value": "ops"}]})
    t.aws.iam().create_role(
        RoleName=role,
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        Description="made by hand",
    )
    bucket_before = bucket_settings(t.s3, bucket)
    role_before = t.aws.iam().get_role(RoleName=role)["Role"]

    fresh = target(config)
    writes: list[dict[str, Any]] = []
    fresh.aws.register(
        "before-parameter-build.*.*",
        lambda params, model, **_: writes.append({"op": model.name, **params}),
        "writes",
    )
    report = bootstrap(fresh)

    assert report.unmanaged == [f"s3 bucket {bucket}", f"iam role {role}"]
    assert f"s3 bucket {bucket}" in report.existing and f"iam role {role}" in report.existing
    assert bucket_settings(t.s3, bucket) == bucket_before
    assert bucket_before == {
        "versioning": None,
        "encryption": None,
        "public_access_block": None,
        "tags": {"Owner": "ops"},
    }
    assert t.aws.iam().get_role(RoleName=role)["Role"] == role_before
    assert t.aws.iam().list_role_policies(RoleName=role)["PolicyNames"] == []
    for call in writes:
        if call["op"].startswith(("Get", "List", "Head")):
            continue
        assert call.get("Bucket") != bucket and call.get("RoleName") != role, call


# -- a run that stopped half-way ------------------------------------------------------------------
@pytest.mark.parametrize(
    "operation", ["PutBucketVersioning", "PutBucketEncryption", "PutPublicAccessBlock"]
)
def test_a_rerun_completes_buckets_a_failed_run_left_half_configured(
    aws_env: str, config: ReleaseConfig, operation: str
) -> None:
    broken = target(config)
    fail_first(broken, "s3", operation)
    with pytest.raises(ClientError, match="injected fault"):
        bootstrap(broken)
    half_made = config.env("dev").buckets["config"]  # the first bucket bootstrap creates
    assert broken.s3.head_bucket(Bucket=half_made)

    report = bootstrap(target(config))

    t = target(config)
    for bucket in buckets(config, "dev"):
        assert_private_versioned_encrypted(t.s3, bucket)
    for function in config.functions:
        name = config.role_name(function, "dev")
        assert t.aws.iam().list_role_policies(RoleName=name)["PolicyNames"] == ["least-privilege"]
    assert f"s3 bucket {half_made}" in report.existing
    assert report.completed, "the missing settings were added"
    assert all(item.startswith(f"s3 bucket {half_made}: ") for item in report.completed)
    assert report.unmanaged == []
    again = bootstrap(target(config))
    assert again.completed == [] and again.created == []


def test_a_rerun_gives_a_role_a_failed_run_left_without_policy(
    aws_env: str, config: ReleaseConfig
) -> None:
    broken = target(config)
    fail_first(broken, "iam", "PutRolePolicy")
    with pytest.raises(ClientError, match="injected fault"):
        bootstrap(broken)
    first_role = config.role_name(next(iter(config.functions)), "dev")
    assert broken.aws.iam().list_role_policies(RoleName=first_role)["PolicyNames"] == []

    report = bootstrap(target(config))

    iam = target(config).aws.iam()
    for function in config.functions:
        name = config.role_name(function, "dev")
        assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["least-privilege"]
    assert report.completed == [f"iam role {first_role}: policy least-privilege"]


# -- guards: the permissions boundary and the artifact store's bucket policy -------------------
def test_a_managed_role_without_the_boundary_gets_it_and_nothing_else_changes(
    aws_env: str, config: ReleaseConfig
) -> None:
    t = target(config)
    bootstrap(t)
    iam = t.aws.iam()
    name = config.role_name("ingest-v2", "dev")
    iam.delete_role_permissions_boundary(RoleName=name)  # a role made before the boundary
    report = bootstrap(target(config))
    assert report.completed == [f"iam role {name}: permissions boundary"]
    assert iam.get_role(RoleName=name)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == (
        f"arn:aws:iam::{t.aws.account('eu-west-3')}:policy/vectora-inbox-function-boundary-dev"
    )


def test_the_boundary_allows_everything_each_function_role_is_granted(
    aws_env: str, config: ReleaseConfig
) -> None:
    """IAM grants a function the intersection of its policy and the boundary: nothing may be
    lost in it (every statement of each function policy lies within one boundary statement)."""
    t = target(config)
    bootstrap(t)
    iam = t.aws.iam()
    arn = f"arn:aws:iam::{t.aws.account('eu-west-3')}:policy/vectora-inbox-function-boundary-dev"
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    boundary = policy(
        iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    )
    for function in config.functions:
        name = config.role_name(function, "dev")
        granted = policy(
            iam.get_role_policy(RoleName=name, PolicyName="least-privilege")["PolicyDocument"]
        )
        for statement in granted["Statement"]:
            for action in as_list(statement["Action"]):
                for resource in as_list(statement["Resource"]):
                    assert within(boundary, action, resource, statement.get("Condition")), (
                        name,
                        action,
                        resource,
                    )


def within(boundary: dict[str, Any], action: str, resource: str, condition: Any) -> bool:
    return any(
        s["Effect"] == "Allow"
        and action in as_list(s["Action"])
        and any(fnmatch.fnmatchcase(resource, p) for p in as_list(s["Resource"]))
        and s.get("Condition") in (None, condition)
        for s in boundary["Statement"]
    )


def test_the_artifact_store_refuses_to_delete_a_release_whoever_asks(
    aws_env: str, config: ReleaseConfig
) -> None:
    """What the embedded AWS enforces of the bucket policy: its unconditional statements (no
    delete of ``releases/*`` nor ``snapshots/*``, even by an administrator). Its conditional
    statements are checked as data in tests/unit/workflows/test_bucket_policy.py."""
    t = target(config)
    report = bootstrap(t)
    bucket = config.artifact_bucket
    assert f"s3 bucket {bucket}" in report.created
    document = json.loads(t.s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert {s["Sid"] for s in document["Statement"]} >= {
        "NoOverwriteOfReleasesOrSnapshots",
        "NoDeleteOfReleasesOrSnapshots",
    }
    for key in ("releases/0.1.0/abc/manifest.json", "snapshots/dev/x.json", "ledger/dev/x.json"):
        t.s3.put_object(Bucket=bucket, Key=key, Body=b"{}", IfNoneMatch="*")
    for key in ("releases/0.1.0/abc/manifest.json", "snapshots/dev/x.json"):
        with pytest.raises(ClientError) as refused:
            t.s3.delete_object(Bucket=bucket, Key=key)
        assert refused.value.response["Error"]["Code"] in ("403", "AccessDenied"), key
        assert t.s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"{}"
    t.s3.delete_object(Bucket=bucket, Key="ledger/dev/x.json")  # the lock lives there


def test_a_bucket_policy_someone_set_is_left_alone(aws_env: str, config: ReleaseConfig) -> None:
    t = target(config)
    bootstrap(t)
    bucket = config.artifact_bucket
    mine = {"Version": "2012-10-17", "Statement": []}
    t.s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(mine))
    report = bootstrap(target(config))
    assert report.completed == []
    assert json.loads(t.s3.get_bucket_policy(Bucket=bucket)["Policy"]) == mine
