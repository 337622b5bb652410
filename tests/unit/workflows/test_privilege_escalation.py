"""The escalation path a review found — create a role, attach any policy to it, pass it to a
function, invoke the function — is closed, read from the rendered policy documents.

Each deploy role may create and change function roles only with its environment's permissions
boundary, can neither remove nor replace it, attach no managed policy, and pass only its
environment's function roles to Lambda. Whatever inline policy it writes, a function runs with
at most the boundary: nothing of IAM, no other environment, not the artifact store.
"""

from __future__ import annotations

import pytest
from iam_eval import ACCOUNT, PROJECT, REGION, allowed, boundary_arn, render, role_arn

ENVS = ("dev", "stage", "prod")
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
ANYTHING = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def deployer(env: str) -> tuple[list[dict], dict[str, str]]:
    """The deploy role of ``env``: its policy and the request context of its calls."""
    return [render("deploy-policy.json", Env=env)], {
        "aws:PrincipalArn": role_arn(f"{PROJECT}-deploy-{env}")
    }


def function_role(env: str, name: str = "ingest-v2") -> str:
    return role_arn(f"{PROJECT}-{name}-{env}-role")


@pytest.mark.parametrize("env", ENVS)
def test_a_role_is_created_only_with_this_environments_boundary(env: str) -> None:
    policy, caller = deployer(env)
    role = function_role(env, "escalate")
    assert not allowed(policy, "iam:CreateRole", role, caller)  # no boundary at all
    for other in (ADMIN, *(boundary_arn(e) for e in ENVS if e != env)):
        assert not allowed(
            policy, "iam:CreateRole", role, caller | {"iam:PermissionsBoundary": other}
        )
    bounded = caller | {"iam:PermissionsBoundary": boundary_arn(env)}
    assert allowed(policy, "iam:CreateRole", role, bounded)  # what bootstrap does
    for name in (f"{PROJECT}-deploy-{env}", "Admin", f"{PROJECT}-escalate-{env}"):
        assert not allowed(policy, "iam:CreateRole", role_arn(name), bounded), name


@pytest.mark.parametrize("env", ENVS)
def test_no_policy_is_attached_and_the_boundary_is_never_removed_nor_changed(env: str) -> None:
    policy, caller = deployer(env)
    role = function_role(env)
    bounded = caller | {"iam:PermissionsBoundary": boundary_arn(env)}
    for arn in (ADMIN, boundary_arn(env), f"arn:aws:iam::{ACCOUNT}:policy/{PROJECT}-x-{env}"):
        assert not allowed(policy, "iam:AttachRolePolicy", role, bounded | {"iam:PolicyARN": arn})
    assert not allowed(policy, "iam:DeleteRolePermissionsBoundary", role, bounded)
    assert not allowed(policy, "iam:UpdateAssumeRolePolicy", role, bounded)
    assert not allowed(
        policy, "iam:PutRolePermissionsBoundary", role, caller | {"iam:PermissionsBoundary": ADMIN}
    )
    # An inline policy only on a role that already carries the boundary.
    assert not allowed(policy, "iam:PutRolePolicy", role, caller)
    assert allowed(policy, "iam:PutRolePolicy", role, bounded)
    for action in (
        "CreatePolicy",
        "CreatePolicyVersion",
        "SetDefaultPolicyVersion",
        "DeletePolicy",
    ):
        for target in ENVS:
            assert not allowed(policy, f"iam:{action}", boundary_arn(target), caller), action


@pytest.mark.parametrize("env", ENVS)
def test_only_this_environments_function_roles_are_passed_and_only_to_lambda(env: str) -> None:
    policy, caller = deployer(env)
    to_lambda = caller | {"iam:PassedToService": "lambda.amazonaws.com"}
    assert allowed(policy, "iam:PassRole", function_role(env), to_lambda)
    assert not allowed(
        policy,
        "iam:PassRole",
        function_role(env),
        caller | {"iam:PassedToService": "ec2.amazonaws.com"},
    )
    for other in (f"{PROJECT}-deploy-{env}", f"{PROJECT}-observe", "Admin"):
        assert not allowed(policy, "iam:PassRole", role_arn(other), to_lambda), other
    for e in ENVS:
        if e != env:
            assert not allowed(policy, "iam:PassRole", function_role(e), to_lambda)


# What an attacker would want a function to do once it holds "Action: *" as inline policy.
PRIZES = [
    ("iam:AttachRolePolicy", role_arn(f"{PROJECT}-deploy-prod")),
    ("iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/admin"),
    ("iam:PutRolePolicy", role_arn("Admin")),
    ("iam:DeleteRolePermissionsBoundary", role_arn(f"{PROJECT}-ingest-v2-dev-role")),
    ("iam:PassRole", role_arn("Admin")),
    ("sts:AssumeRole", role_arn("Admin")),
    (
        "lambda:UpdateFunctionCode",
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{PROJECT}-ingest-v2-prod",
    ),
    ("lambda:CreateFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:anything"),
    ("s3:PutObject", f"arn:aws:s3:::{PROJECT}-artifacts/releases/0.1.0/x/manifest.json"),
    ("s3:PutObject", f"arn:aws:s3:::{PROJECT}-artifacts/ledger/prod/current.json"),
    ("s3:PutBucketPolicy", f"arn:aws:s3:::{PROJECT}-artifacts"),
    ("kms:Decrypt", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/any"),  # not through SSM
    ("ec2:RunInstances", "*"),
]


@pytest.mark.parametrize("env", ENVS)
def test_the_whole_path_ends_in_a_function_bounded_to_its_environment(env: str) -> None:
    """create role (bounded) → inline "Action: *" → pass to a new function → invoke it: the
    function's effective permissions are those of the boundary, which grants none of the prizes
    nor anything of another environment."""
    policy, caller = deployer(env)
    bounded = caller | {"iam:PermissionsBoundary": boundary_arn(env)}
    role = function_role(env, "escalate")
    function = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{PROJECT}-escalate-{env}"
    assert allowed(policy, "iam:CreateRole", role, bounded)
    assert allowed(policy, "iam:PutRolePolicy", role, bounded)
    assert allowed(
        policy, "iam:PassRole", role, caller | {"iam:PassedToService": "lambda.amazonaws.com"}
    )
    assert allowed(policy, "lambda:CreateFunction", function, caller)
    assert allowed(policy, "lambda:InvokeFunction", function, caller)

    boundary = render("function-boundary.json", Env=env)
    gained = [
        (action, resource)
        for action, resource in PRIZES
        if allowed([ANYTHING], action, resource, {}, boundary=boundary)
    ]
    assert gained == []
    for other in ENVS:
        if other == env:
            continue
        for action, resource in [
            ("s3:GetObject", f"arn:aws:s3:::{PROJECT}-config-{other}/clients/x.yaml"),
            ("s3:PutObject", f"arn:aws:s3:::{PROJECT}-newsletters-{other}/x.html"),
            (
                "ssm:GetParameter",
                f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{PROJECT}/{other}/token",
            ),
        ]:
            assert not allowed([ANYTHING], action, resource, {}, boundary=boundary), resource
    # The negative control: the function's legitimate needs pass the boundary.
    via_ssm = {"kms:ViaService": f"ssm.{REGION}.amazonaws.com"}
    for action, resource, context in [
        ("s3:GetObject", f"arn:aws:s3:::{PROJECT}-config-{env}/clients/x.yaml", {}),
        ("ssm:GetParameter", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{PROJECT}/{env}/token", {}),
        ("kms:Decrypt", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/any", via_ssm),
    ]:
        assert allowed([ANYTHING], action, resource, context, boundary=boundary), resource


@pytest.mark.parametrize("env", ENVS)
def test_the_boundary_grants_nothing_outside_its_environment(env: str) -> None:
    boundary = render("function-boundary.json", Env=env)
    for statement in boundary["Statement"]:
        assert statement["Effect"] == "Allow"
        for action in statement["Action"]:
            assert action.split(":")[0] in ("logs", "s3", "bedrock", "ssm", "kms", "lambda"), action
            if action.startswith("lambda:"):  # the chain: invoke the next step, nothing else
                assert action == "lambda:InvokeFunction", action
                assert statement["Resource"].endswith(f"-{env}:live"), statement
        for resource in (
            [statement["Resource"]]
            if isinstance(statement["Resource"], str)
            else statement["Resource"]
        ):
            assert (
                f"-{env}" in resource
                or f"/{env}/" in resource
                or resource.startswith(("arn:aws:bedrock:", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/"))
            ), resource
