"""The IAM templates of the GitHub deploy roles (iam/deploy-*.json, iam/observe-policy.json).

Rendered with string.Template like bootstrap renders iam/function-*.json; the trust policy only
admits GitHub jobs of one repository's one environment, and every write a deploy role may make
is scoped to its own environment (publishing releases: the dev role only). The read-only observe
role reads what release.yml's pre-approval check of a tag reads, and can write nothing.
"""

from __future__ import annotations

import fnmatch
import json
import re
import string
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
VALUES = {
    "Project": "vectora-inbox",
    "Region": "eu-west-3",
    "Account": "123456789012",
    "Repo": "vectora/vectora-inbox",
}
EQUALITY = ("StringEquals", "StringNotEquals", "ArnEquals", "ArnNotEquals")
WRITE_VERB = re.compile(r":(Create|Update|Put|Delete|Publish|Tag|Invoke|Pass)")
DEV_ROLE = "arn:aws:iam::123456789012:role/vectora-inbox-deploy-dev"

# What release.yml's job find-release reads with the observe role (`fetch --manifest-only`, then
# `promote --from dev --to stage --dry-run`), as recorded on the embedded AWS for a release
# running in dev and an older one in stage; S3 HeadObject is authorised as s3:GetObject and
# ListObjectsV2 as s3:ListBucket. `ssm:` values are compared as references: no SSM read.
SHA = "8a2217909adc292129b51a8c0df16c0d1e02111e"
STORE = "arn:aws:s3:::vectora-inbox-artifacts"
CONFIG = "arn:aws:s3:::vectora-inbox-config"
FUNCTION = "arn:aws:lambda:eu-west-3:123456789012:function:vectora-inbox-ingest-v2"
LAYER = "arn:aws:lambda:eu-west-3:123456789012:layer:vectora-inbox-vectora-core"
PRE_APPROVAL_READS = [
    ("s3:ListBucket", STORE),
    ("s3:GetObject", f"{STORE}/index/commits/{SHA}"),
    ("s3:GetObject", f"{STORE}/releases/0.1.0/{SHA}/manifest.json"),
    ("s3:GetObject", f"{STORE}/releases/0.1.0/{SHA}/config-bundle-0.1.0.zip"),
    ("s3:GetObject", f"{STORE}/ledger/dev/current.json"),
    ("s3:GetObject", f"{STORE}/ledger/dev/records/20261116T080000.000000Z-2b8378.json"),
    ("s3:ListBucket", f"{CONFIG}-dev"),
    ("s3:GetObject", f"{CONFIG}-dev/releases/0.1.0+8a22179/canonical/README.md"),
    ("s3:ListBucket", f"{CONFIG}-stage"),
    ("s3:GetObject", f"{CONFIG}-stage/releases/0.0.9+60895c8/clients/lai_weekly.yaml"),
    *[
        (f"lambda:{action}", f"{FUNCTION}-{env}")
        for action in ("GetFunction", "GetAlias", "GetFunctionConfiguration")
        for env in ("dev", "stage")
    ],
    ("lambda:GetFunctionConfiguration", f"{FUNCTION}-stage:3"),
    ("lambda:GetFunctionConcurrency", f"{FUNCTION}-stage"),
    ("lambda:ListLayerVersions", "*"),
    ("lambda:GetLayerVersion", f"{LAYER}-dev:2"),
    ("lambda:GetLayerVersion", f"{LAYER}-stage:1"),
]
# What the promotion itself writes (after the approval, with the stage deploy role).
PROMOTION_WRITES = [
    ("s3:PutObject", f"{STORE}/ledger/stage/lock.json"),
    ("s3:DeleteObject", f"{STORE}/ledger/stage/lock.json"),
    ("s3:PutObject", f"{STORE}/ledger/stage/records/20261116T090000.000000Z-0c1d2e.json"),
    ("s3:PutObject", f"{CONFIG}-stage/releases/0.1.0+8a22179/clients/lai_weekly.yaml"),
    ("lambda:PublishLayerVersion", f"{LAYER}-stage"),
    ("lambda:UpdateFunctionCode", f"{FUNCTION}-stage"),
    ("lambda:PublishVersion", f"{FUNCTION}-stage"),
    ("lambda:UpdateAlias", f"{FUNCTION}-stage:live"),
]


def render(name: str, env: str) -> dict[str, Any]:
    text = (ROOT / "iam" / name).read_text(encoding="utf-8")
    return json.loads(string.Template(text).substitute(VALUES, Env=env))


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def allows(
    policy: dict[str, Any], action: str, resource: str, context: dict[str, str] | None = None
) -> bool:
    """Whether an identity policy grants ``action`` on ``resource`` to a caller with ``context``
    (the request's condition keys; a condition on any other key fails the test)."""
    for statement in policy["Statement"]:
        assert "NotAction" not in statement and "NotResource" not in statement, statement["Sid"]
        if statement["Effect"] != "Allow" or action not in as_list(statement["Action"]):
            continue
        # IAM's `*` matches any characters, `/` and `:` included, as fnmatch's does.
        patterns = as_list(statement["Resource"])
        if not any(fnmatch.fnmatchcase(resource, pattern) for pattern in patterns):
            continue
        if holds(statement.get("Condition", {}), context or {}):
            return True
    return False


def holds(condition: dict[str, dict[str, Any]], context: dict[str, str]) -> bool:
    for operator, tests in condition.items():
        for key, value in tests.items():
            assert operator in EQUALITY and key in context, f"cannot evaluate {operator} {key}"
            if (context[key] in as_list(value)) != (operator in ("StringEquals", "ArnEquals")):
                return False
    return True


@pytest.mark.parametrize("env", ["dev", "stage", "prod", "observe"])
def test_trust_admits_only_this_repository_and_environment_through_oidc(env: str) -> None:
    (statement,) = render("deploy-trust.json", env)["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {
        "Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    }
    assert statement["Condition"] == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": (
                f"repo:vectora/vectora-inbox:environment:{env}"
            ),
        }
    }


@pytest.mark.parametrize("env", ["dev", "stage", "prod"])
def test_deploy_role_writes_only_its_own_environment(env: str) -> None:
    for statement in render("deploy-policy.json", env)["Statement"]:
        if statement["Effect"] == "Deny":
            continue  # guards (tests/unit/workflows/test_privilege_escalation.py)
        actions = as_list(statement["Action"])
        assert all(not a.endswith(":*") and a != "*" for a in actions), statement["Sid"]
        writes = [a for a in actions if WRITE_VERB.search(a)]
        if not writes:
            continue
        condition = statement.get("Condition", {}).get("ArnEquals", {})
        if condition.get("aws:PrincipalArn") == DEV_ROLE:
            continue  # publishing releases: only the dev role, whatever the rendering
        for resource in as_list(statement["Resource"]):
            assert (
                resource.endswith((f"-{env}", f"-{env}:*", f"-{env}/*", f"-{env}-role"))
                or f"-{env}/_release_check/feeds/" in resource
                or f"/ledger/{env}/" in resource
                or f"/snapshots/{env}/" in resource
            ), (statement["Sid"], resource)


def test_only_the_dev_role_publishes_and_it_reads_no_other_environment() -> None:
    statements = render("deploy-policy.json", "dev")["Statement"]
    publish = [s for s in statements if "releases/*" in json.dumps(s.get("Resource"))]
    writers = [s for s in publish if "s3:PutObject" in as_list(s["Action"])]
    assert len(writers) == 1
    assert writers[0]["Condition"] == {"ArnEquals": {"aws:PrincipalArn": DEV_ROLE}}
    upstream = [s for s in statements if "WhenPromotingTo" in s["Sid"]]
    assert {s["Sid"] for s in upstream} == {
        "ReadDevWhenPromotingToStage",
        "ReadStageWhenPromotingToProd",
    }
    for statement in upstream:
        source, dest = re.fullmatch(r"Read(\w+)WhenPromotingTo(\w+)", statement["Sid"]).groups()
        role = f"arn:aws:iam::123456789012:role/vectora-inbox-deploy-{dest.lower()}"
        assert statement["Condition"] == {"ArnEquals": {"aws:PrincipalArn": role}}
        assert all(
            r.split(":")[-1].endswith(f"-{source.lower()}")
            or f"-{source.lower()}:" in r
            or r.endswith(f"-{source.lower()}/*")
            for r in as_list(statement["Resource"])
        ), statement["Sid"]


@pytest.mark.parametrize(
    ("env", "readable"), [("dev", set()), ("stage", {"dev"}), ("prod", {"stage"})]
)
def test_each_deploy_role_reads_only_its_own_and_its_upstream_functions(
    env: str, readable: set[str]
) -> None:
    policy = render("deploy-policy.json", env)
    caller = {"aws:PrincipalArn": f"arn:aws:iam::123456789012:role/vectora-inbox-deploy-{env}"}
    for other in ("dev", "stage", "prod"):
        for action, resource in [
            ("lambda:GetFunction", f"{FUNCTION}-{other}"),
            ("lambda:GetFunctionConfiguration", f"{FUNCTION}-{other}"),
            ("s3:GetObject", f"{CONFIG}-{other}/releases/x/clients/a.yaml"),
        ]:
            expected = other == env or other in readable
            assert allows(policy, action, resource, caller) == expected, (env, action, resource)


def test_pass_role_only_to_lambda_and_only_this_environments_function_roles() -> None:
    statements = render("deploy-policy.json", "prod")["Statement"]
    (passing,) = [s for s in statements if "iam:PassRole" in as_list(s["Action"])]
    assert passing["Resource"] == "arn:aws:iam::123456789012:role/vectora-inbox-*-prod-role"
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}


def test_observe_role_only_reads_and_reads_no_secret() -> None:
    for statement in render("observe-policy.json", "observe")["Statement"]:
        for action in as_list(statement["Action"]):
            assert not WRITE_VERB.search(action), action
            assert re.match(
                r"^(lambda|s3|sts|events|cloudwatch|sns):(Get|List|Describe)", action
            ), action


def test_observe_role_reads_what_the_pre_approval_check_of_a_tag_reads() -> None:
    policy = render("observe-policy.json", "observe")
    missing = [(a, r) for a, r in PRE_APPROVAL_READS if not allows(policy, a, r)]
    assert missing == [], "release.yml's find-release job would be denied these reads"


def test_observe_role_cannot_write_what_a_promotion_writes() -> None:
    observe = render("observe-policy.json", "observe")
    assert [(a, r) for a, r in PROMOTION_WRITES if allows(observe, a, r)] == []
    # The negative control: the stage deploy role, which promotes after the approval, can.
    stage = render("deploy-policy.json", "stage")
    caller = {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/vectora-inbox-deploy-stage"}
    assert [(a, r) for a, r in PROMOTION_WRITES if not allows(stage, a, r, caller)] == []
