"""iam/bootstrap.yaml: generated from iam/, deployed and updated on the embedded AWS's
CloudFormation, then bootstrap finds what it made.

moto's CloudFormation creates AWS::IAM::Role, AWS::IAM::ManagedPolicy and AWS::S3::Bucket; it
skips AWS::IAM::OIDCProvider and AWS::S3::BucketPolicy (UNSUPPORTED below, also listed in
docs/github-setup.md), whose contents the unit tests read as data.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import boto3
import yaml
from moto.cloudformation.parsing import resource_class_from_type
from vectora_release.aws import Aws
from vectora_release.config.model import load_config
from vectora_release.deploy.target import Target
from vectora_release.ops.bootstrap import bootstrap

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "iam" / "bootstrap.yaml"
UNSUPPORTED = {"AWS::IAM::OIDCProvider", "AWS::S3::BucketPolicy"}
ACCOUNT = "123456789012"


def test_the_template_is_generated_from_the_policy_templates() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "render_bootstrap.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_moto_supports_every_resource_type_but_those_listed() -> None:
    types = {r["Type"] for r in yaml.safe_load(TEMPLATE.read_text())["Resources"].values()}
    assert {t for t in types if not resource_class_from_type(t)} == UNSUPPORTED
    assert all(t in (ROOT / "docs" / "github-setup.md").read_text() for t in UNSUPPORTED)


def _deploy(cfn, action, **parameters: str) -> None:
    params = [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # moto warns about the types it skips
        action(
            StackName="vectora-inbox-bootstrap",
            TemplateBody=TEMPLATE.read_text(),
            Parameters=params,
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )
    (stack,) = cfn.describe_stacks(StackName="vectora-inbox-bootstrap")["Stacks"]
    assert stack["StackStatus"].endswith("_COMPLETE"), stack["StackStatus"]
    assert "ROLLBACK" not in stack["StackStatus"]


def test_the_stack_deploys_reruns_and_bootstrap_builds_on_it(aws_env: str) -> None:
    aws = Aws()
    cfn = boto3.client("cloudformation", region_name="eu-west-3")
    iam, s3 = aws.iam(), aws.s3("eu-west-3")
    _deploy(cfn, cfn.create_stack, GitHubRepository="vectora/vectora-inbox")
    _deploy(
        cfn, cfn.update_stack, GitHubRepository="vectora/vectora-inbox", CreateOidcProvider="false"
    )
    for name in ("deploy-dev", "deploy-stage", "deploy-prod", "observe"):
        role = iam.get_role(RoleName=f"vectora-inbox-{name}")["Role"]
        trust = role["AssumeRolePolicyDocument"]
        trust = json.loads(trust) if isinstance(trust, str) else trust
        env = name.removeprefix("deploy-")
        subject = trust["Statement"][0]["Condition"]["StringEquals"]
        assert subject["token.actions.githubusercontent.com:sub"] == (
            f"repo:vectora/vectora-inbox:environment:{env}"
        )
        assert iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]
    for env in ("dev", "stage", "prod"):
        arn = f"arn:aws:iam::{ACCOUNT}:policy/vectora-inbox-function-boundary-{env}"
        assert iam.get_policy(PolicyArn=arn)["Policy"]["PolicyName"].endswith(env)
    assert s3.get_bucket_encryption(Bucket="vectora-inbox-artifacts")

    config = load_config(ROOT / "release.yaml")
    report = bootstrap(Target(config, config.env("dev"), aws))
    assert "iam policy vectora-inbox-function-boundary-dev" in report.existing
    assert "s3 bucket vectora-inbox-artifacts" in report.existing
    # moto skipped AWS::S3::BucketPolicy; bootstrap adds it to the bucket the stack tagged ours.
    assert "s3 bucket vectora-inbox-artifacts: bucket policy" in report.completed
    # moto ignores VersioningConfiguration and the public access block of a stack's bucket too.
    assert s3.get_bucket_versioning(Bucket="vectora-inbox-artifacts")["Status"] == "Enabled"
