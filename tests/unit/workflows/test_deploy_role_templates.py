"""The IAM templates of the GitHub deploy roles (iam/deploy-*.json, iam/observe-policy.json).

Rendered with string.Template like bootstrap renders iam/function-*.json; the trust policy only
admits GitHub jobs of one repository's one environment, and every write a deploy role may make
is scoped to its own environment (publishing releases: the dev role only).
"""

from __future__ import annotations

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
WRITE_VERB = re.compile(r":(Create|Update|Put|Delete|Publish|Tag|Invoke|Pass)")
DEV_ROLE = "arn:aws:iam::123456789012:role/vectora-inbox-deploy-dev"


def render(name: str, env: str) -> dict[str, Any]:
    text = (ROOT / "iam" / name).read_text(encoding="utf-8")
    return json.loads(string.Template(text).substitute(VALUES, Env=env))


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


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
        actions = as_list(statement["Action"])
        assert all(not a.endswith(":*") and a != "*" for a in actions), statement["Sid"]
        writes = [a for a in actions if WRITE_VERB.search(a)]
        if not writes:
            continue
        condition = statement.get("Condition", {}).get("StringEquals", {})
        if condition.get("aws:PrincipalArn") == DEV_ROLE:
            continue  # publishing releases: only the dev role, whatever the rendering
        for resource in as_list(statement["Resource"]):
            assert (
                resource.endswith((f"-{env}", f"-{env}:*", f"-{env}/*", f"-{env}-role"))
                or f"-{env}/e2e/" in resource
                or f"/ledger/{env}/" in resource
            ), (statement["Sid"], resource)


def test_only_the_dev_role_publishes_and_it_reads_no_other_environment() -> None:
    statements = render("deploy-policy.json", "dev")["Statement"]
    publish = [s for s in statements if "releases/*" in json.dumps(s.get("Resource"))]
    writers = [s for s in publish if "s3:PutObject" in as_list(s["Action"])]
    assert len(writers) == 1
    assert writers[0]["Condition"] == {"StringEquals": {"aws:PrincipalArn": DEV_ROLE}}
    upstream = [s for s in statements if s["Resource"] and "config-*" in json.dumps(s)]
    assert upstream and all(
        s["Condition"] == {"StringNotEquals": {"aws:PrincipalArn": DEV_ROLE}} for s in upstream
    )


def test_pass_role_only_to_lambda_and_only_this_environments_function_roles() -> None:
    statements = render("deploy-policy.json", "prod")["Statement"]
    (passing,) = [s for s in statements if "iam:PassRole" in as_list(s["Action"])]
    assert passing["Resource"] == "arn:aws:iam::123456789012:role/vectora-inbox-*-prod-role"
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}


def test_observe_role_only_reads() -> None:
    for statement in render("observe-policy.json", "observe")["Statement"]:
        for action in as_list(statement["Action"]):
            assert not WRITE_VERB.search(action), action
            assert re.match(r"^(lambda|s3|ssm|sts):(Get|List)", action), action
