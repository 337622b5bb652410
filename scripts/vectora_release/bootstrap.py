"""Create what an environment needs when it is missing; never modify what exists."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any

from . import s3util
from .aws import ClientError, error_code
from .errors import ConfigError
from .spec import MANAGED_BY
from .target import Target

S3_EXISTS = ("BucketAlreadyOwnedByYou", "BucketAlreadyExists")


@dataclass
class BootstrapReport:
    env: str
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"env": self.env, "created": self.created, "existing": self.existing}


def policy_document(root: Path, name: str, values: dict[str, str]) -> str:
    """Render ``iam/<name>.json`` with ``${Project}``, ``${Env}``, ``${Region}``, ``${Account}``."""
    path = root / "iam" / f"{name}.json"
    try:
        text = Template(path.read_text(encoding="utf-8")).substitute(values)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: IAM policy template missing", "add it under iam/") from exc
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"{path}: unknown placeholder {exc}") from exc
    return json.dumps(json.loads(text), separators=(",", ":"))


def bootstrap(target: Target) -> BootstrapReport:
    """Buckets (versioned, encrypted, private), the artifact bucket and one role per function."""
    config, env = target.config, target.spec
    report = BootstrapReport(env.name)
    tags = {"Project": config.project, "Environment": env.name, "ManagedBy": MANAGED_BY}
    region = env.region
    for bucket in (env.buckets["config"], env.buckets["data"], env.buckets["newsletters"]):
        _bucket(target.aws.s3(region), bucket, region, tags, report)
    artifact_region = (
        config.artifact_region if env.artifact_bucket == config.artifact_bucket else region
    )
    _bucket(
        target.aws.s3(artifact_region),
        env.artifact_bucket,
        artifact_region,
        {"Project": config.project, "ManagedBy": MANAGED_BY},
        report,
    )
    account = target.aws.account(region)
    values = {"Project": config.project, "Env": env.name, "Region": region, "Account": account}
    iam = target.aws.iam()
    trust = policy_document(config.root, "function-trust", values)
    for function in config.functions:
        role = config.role_name(function, env.name)
        policy = policy_document(config.root, f"function-{function}", values)
        try:
            iam.get_role(RoleName=role)
            report.existing.append(f"iam role {role}")
            continue
        except ClientError as exc:
            if error_code(exc) != "NoSuchEntity":
                raise
        iam.create_role(
            RoleName=role,
            AssumeRolePolicyDocument=trust,
            Description=f"{config.project} {function} in {env.name}",
            Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        )
        iam.put_role_policy(RoleName=role, PolicyName="least-privilege", PolicyDocument=policy)
        report.created.append(f"iam role {role}")
    return report


def _bucket(
    s3: Any, bucket: str, region: str, tags: dict[str, str], report: BootstrapReport
) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
        report.existing.append(f"s3 bucket {bucket}")
        return
    except ClientError as exc:
        if error_code(exc) not in s3util.MISSING:
            raise
    try:
        kwargs: dict[str, Any] = {"Bucket": bucket}
        if region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**kwargs)
    except ClientError as exc:
        if error_code(exc) in S3_EXISTS:
            report.existing.append(f"s3 bucket {bucket}")
            return
        raise
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_bucket_tagging(
        Bucket=bucket, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}
    )
    report.created.append(f"s3 bucket {bucket}")
