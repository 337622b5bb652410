"""Create what an environment needs when it is missing; never modify what exists.

"Missing" includes the settings of a resource this tool created and could not finish (a call
failed after ``CreateBucket`` or ``CreateRole``): a rerun adds the settings that are absent on
resources tagged ``ManagedBy: vectora-release``, and changes no setting that is present. A
bucket is tagged right after it is created, before any other setting, so that a half-made
bucket is still recognisably ours. Resources without that tag are left exactly as they are.

Every function role carries the permissions boundary ``<project>-function-boundary-<env>``
(``iam/function-boundary.json``): the deploy roles may create and change function roles only
with it (see docs/security.md). The boundary is made by ``iam/bootstrap.yaml``; bootstrap creates
it only when it is missing and the caller may (an administrator, the embedded AWS). The shared
artifact store gets ``iam/artifact-bucket-policy.json``: releases are never overwritten nor
deleted, whatever client writes them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any

from ..aws import s3util
from ..aws.clients import ClientError, error_code
from ..common.errors import ConfigError
from ..deploy.desired import MANAGED_BY
from ..deploy.target import Target

DENIED = ("AccessDenied", "AccessDeniedException")
S3_EXISTS = ("BucketAlreadyOwnedByYou", "BucketAlreadyExists")
POLICY_NAME = "least-privilege"
BOUNDARY = (
    "function-boundary"  # iam/function-boundary.json, policy <project>-function-boundary-<env>
)
BUCKET_POLICY = "artifact-bucket-policy"  # iam/artifact-bucket-policy.json
PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
ENCRYPTION = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}


@dataclass
class BootstrapReport:
    """What a bootstrap did: created, completed (settings added), found, left alone."""

    env: str
    created: list[str] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    unmanaged: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "created": self.created,
            "completed": self.completed,
            "existing": self.existing,
            "unmanaged": self.unmanaged,
        }


def boundary_arn(account: str, project: str, env: str) -> str:
    """The ARN of the permissions boundary every function role of ``env`` carries."""
    return f"arn:aws:iam::{account}:policy/{project}-{BOUNDARY}-{env}"


def policy_document(root: Path, name: str, values: dict[str, str]) -> str:
    """Render ``iam/<name>.json`` with ``${Project}``, ``${Env}``, ``${Region}``, ``${Account}``
    (and ``${Bucket}`` for the artifact store's bucket policy)."""
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
    artifact_s3 = target.aws.s3(artifact_region)
    _bucket(
        artifact_s3,
        env.artifact_bucket,
        artifact_region,
        {"Project": config.project, "ManagedBy": MANAGED_BY},
        report,
    )
    account = target.aws.account(region)
    values = {"Project": config.project, "Env": env.name, "Region": region, "Account": account}
    if env.artifact_bucket == config.artifact_bucket:
        bucket_values = values | {"Bucket": env.artifact_bucket}
        policy = policy_document(config.root, BUCKET_POLICY, bucket_values)
        _bucket_policy(artifact_s3, env.artifact_bucket, policy, report)
    iam = target.aws.iam()
    boundary = boundary_arn(account, config.project, env.name)
    _boundary(iam, boundary, policy_document(config.root, BOUNDARY, values), report)
    trust = policy_document(config.root, "function-trust", values)
    for function in config.functions:
        _role(
            iam,
            _RoleSpec(
                config.role_name(function, env.name),
                trust,
                policy_document(config.root, f"function-{function}", values),
                f"{config.project} {function} in {env.name}",
                boundary,
            ),
            tags,
            report,
        )
    return report


# -- IAM roles --------------------------------------------------------------------------------
@dataclass(frozen=True)
class _RoleSpec:
    """A function role as bootstrap makes it: trust, inline policy, permissions boundary."""

    name: str
    trust: str
    policy: str
    description: str
    boundary: str


def _boundary(iam: Any, arn: str, document: str, report: BootstrapReport) -> None:
    """The environment's permissions boundary: found, or created when the caller may."""
    name = arn.rsplit("/", 1)[-1]
    label = f"iam policy {name}"
    try:
        iam.get_policy(PolicyArn=arn)
    except ClientError as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
    else:
        report.existing.append(label)
        return
    try:
        iam.create_policy(
            PolicyName=name,
            PolicyDocument=document,
            Description="What any function role of this environment can ever be granted",
        )
    except ClientError as exc:
        if error_code(exc) == "EntityAlreadyExists":
            report.existing.append(label)
            return
        if error_code(exc) in DENIED:
            raise ConfigError(
                f"{label} is missing and this role may not create it",
                "deploy iam/bootstrap.yaml (docs/github-setup.md), then rerun bootstrap",
            ) from exc
        raise
    report.created.append(label)


def _role(iam: Any, spec: _RoleSpec, tags: dict[str, str], report: BootstrapReport) -> None:
    label = f"iam role {spec.name}"
    try:
        role = iam.get_role(RoleName=spec.name)["Role"]
    except ClientError as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
    else:
        report.existing.append(label)
        if _tag_map(role.get("Tags")).get("ManagedBy") != MANAGED_BY:
            report.unmanaged.append(label)
            return
        if "PermissionsBoundary" not in role:  # before the policy: IAM demands it first
            iam.put_role_permissions_boundary(RoleName=spec.name, PermissionsBoundary=spec.boundary)
            report.completed.append(f"{label}: permissions boundary")
        if POLICY_NAME not in _role_policies(iam, spec.name):
            iam.put_role_policy(
                RoleName=spec.name, PolicyName=POLICY_NAME, PolicyDocument=spec.policy
            )
            report.completed.append(f"{label}: policy {POLICY_NAME}")
        return
    # Tags and boundary come with the role, in one call: a half-made role is already ours.
    iam.create_role(
        RoleName=spec.name,
        AssumeRolePolicyDocument=spec.trust,
        Description=spec.description,
        PermissionsBoundary=spec.boundary,
        Tags=_tag_set(tags),
    )
    iam.put_role_policy(RoleName=spec.name, PolicyName=POLICY_NAME, PolicyDocument=spec.policy)
    report.created.append(label)


def _role_policies(iam: Any, name: str) -> set[str]:
    names: set[str] = set()
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=name):
        names.update(page.get("PolicyNames", []))
    return names


# -- S3 buckets -------------------------------------------------------------------------------
def _bucket(
    s3: Any, bucket: str, region: str, tags: dict[str, str], report: BootstrapReport
) -> None:
    label = f"s3 bucket {bucket}"
    if not _bucket_exists(s3, bucket) and _create_bucket(s3, bucket, region):
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": _tag_set(tags)})
        for setting in _BUCKET_SETTINGS:
            setting.put(s3, bucket)
        report.created.append(label)
        return
    report.existing.append(label)
    if not _bucket_is_managed(s3, bucket):
        report.unmanaged.append(label)
        return
    for setting in _BUCKET_SETTINGS:
        if not setting.present(s3, bucket):
            setting.put(s3, bucket)
            report.completed.append(f"{label}: {setting.name}")


def _bucket_policy(s3: Any, bucket: str, policy: str, report: BootstrapReport) -> None:
    """The artifact store's bucket policy, on a managed bucket that has none."""
    label = f"s3 bucket {bucket}"
    if not _bucket_is_managed(s3, bucket):
        return
    if _setting_read("NoSuchBucketPolicy", lambda: s3.get_bucket_policy(Bucket=bucket)):
        return
    try:
        s3.put_bucket_policy(Bucket=bucket, Policy=policy)
    except ClientError as exc:
        if error_code(exc) in DENIED:
            raise ConfigError(
                f"{label} has no bucket policy and this role may not put one",
                "deploy iam/bootstrap.yaml (docs/github-setup.md), then rerun bootstrap",
            ) from exc
        raise
    if label not in report.created:  # a new bucket's policy is part of its creation
        report.completed.append(f"{label}: bucket policy")


def _bucket_exists(s3: Any, bucket: str) -> bool:
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if error_code(exc) not in s3util.MISSING:
            raise
        return False
    return True


def _create_bucket(s3: Any, bucket: str, region: str) -> bool:
    """Create ``bucket``; False when it appeared meanwhile (ours or someone else's)."""
    kwargs: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**kwargs)
    except ClientError as exc:
        if error_code(exc) in S3_EXISTS:
            return False
        raise
    return True


def _bucket_is_managed(s3: Any, bucket: str) -> bool:
    try:
        tag_set = s3.get_bucket_tagging(Bucket=bucket).get("TagSet", [])
    except ClientError as exc:
        if error_code(exc) == "NoSuchTagSet":
            return False
        raise
    return _tag_map(tag_set).get("ManagedBy") == MANAGED_BY


def _setting_read(code_when_absent: str, read: Callable[[], Any]) -> bool:
    """Whether ``read()`` finds the setting; False when it fails with ``code_when_absent``."""
    try:
        read()
    except ClientError as exc:
        if error_code(exc) == code_when_absent:
            return False
        raise
    return True


def _has_public_access_block(s3: Any, bucket: str) -> bool:
    return _setting_read(
        "NoSuchPublicAccessBlockConfiguration", lambda: s3.get_public_access_block(Bucket=bucket)
    )


def _put_public_access_block(s3: Any, bucket: str) -> None:
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCK)


def _has_versioning(s3: Any, bucket: str) -> bool:
    # A bucket never versioned has no Status; "Suspended" is a setting someone chose.
    return "Status" in s3.get_bucket_versioning(Bucket=bucket)


def _put_versioning(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})


def _has_encryption(s3: Any, bucket: str) -> bool:
    return _setting_read(
        "ServerSideEncryptionConfigurationNotFoundError",
        lambda: s3.get_bucket_encryption(Bucket=bucket),
    )


def _put_encryption(s3: Any, bucket: str) -> None:
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=ENCRYPTION)


@dataclass(frozen=True)
class _BucketSetting:
    """One bucket setting bootstrap ensures: how to tell it is there and how to add it."""

    name: str
    present: Callable[[Any, str], bool]
    put: Callable[[Any, str], None]


_BUCKET_SETTINGS = (
    _BucketSetting("public access block", _has_public_access_block, _put_public_access_block),
    _BucketSetting("versioning", _has_versioning, _put_versioning),
    _BucketSetting("default encryption", _has_encryption, _put_encryption),
)


def _tag_set(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def _tag_map(tag_set: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tag_set or []}
