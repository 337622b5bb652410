"""Least privilege: with only dev's deploy policy, a deploy to dev works; stage and prod are out
of reach.

The embedded AWS enforces IAM (moto's ``reset-auth``: every request is authenticated and
authorised against the caller's policies). Two gaps of moto are closed here so that the check
means something:

* moto authorises Lambda, SSM, EventBridge, CloudWatch and SNS requests against the resource
  ``*``, which no scoped policy statement matches; the handlers below give it the resource ARN
  AWS would evaluate (``function:<name>[:<qualifier>]``, ``layer:<name>[:<version>]``,
  ``parameter/<name>``, ``rule/<name>``, ``alarm:<name>``, ``dashboard/<name>``, the topic);
* moto treats an ``Allow`` whose condition does not hold as an explicit deny and knows no
  request context keys; so the policy's conditions are resolved for the dev deploy role first
  (``aws:PrincipalArn``, ``iam:PassedToService``; any other condition fails the test), and the
  resulting policy — exactly what that role is granted — is attached to the caller;
* moto names CloudWatch's actions ``monitoring:…`` (its signing name); IAM's are
  ``cloudwatch:…``, which the shipped policy grants, so they are renamed;
* moto's SigV4 check computes Lambda's signatures wrongly in server mode, so it is skipped: the
  caller is still identified by its access key and authorised against its own policies.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, unquote, urlparse

import boto3
import pytest
from botocore.exceptions import ClientError
from faultmatrix import ledger_problems, live_releases
from harness import run_cli, stub_runner
from moto.awslambda.responses import LambdaResponse
from moto.cloudwatch.responses import CloudWatchResponse
from moto.events.responses import EventsHandler
from moto.iam.access_control import IAMRequestBase
from moto.iam.responses import IamResponse
from moto.s3.responses import ACTION_MAP as S3_ACTIONS
from moto.sns.responses import SNSResponse
from moto.ssm.responses import SimpleSystemManagerResponse
from support import Figures, Releases, target
from vectora_release.aws import Aws
from vectora_release.checks.validate import validate_current
from vectora_release.deploy.pipeline import deploy_release
from vectora_release.ops.bootstrap import bootstrap, policy_document

ACCOUNT, REGION = "123456789012", "eu-west-3"  # moto's account; the project's region
DEV_ROLE = f"arn:aws:iam::{ACCOUNT}:role/vectora-inbox-deploy-dev"
IAM = Path(__file__).resolve().parents[2] / "iam"
READS = ("Get", "List", "Describe")
# Actions that take no resource (IAM evaluates them against ``*``).
UNSCOPED = {
    "lambda:ListLayerVersions",
    "lambda:ListLayers",
    "lambda:ListFunctions",
    "lambda:ListEventSourceMappings",
    "sts:GetCallerIdentity",
    "events:ListRules",
    "sns:ListTopics",
}
MODELS = ("arn:aws:bedrock:*::foundation-model/", "arn:aws:bedrock:*:")  # shared, not per env
DENIED = ("AccessDenied", "AccessDeniedException")
EMPTY_ZIP = b"PK\x05\x06" + b"\0" * 18
NO_STATEMENT = {"Version": "2012-10-17", "Statement": []}
ENV_SUFFIX = "-dev"  # the environment the deploy role may change

EQUALITY = ("StringEquals", "StringNotEquals", "ArnEquals", "ArnNotEquals")


# -- moto, taught resource ARNs (Lambda, SSM, EventBridge, CloudWatch, SNS) ---------------------
def _lambda_resource(self: Any) -> str:
    base = f"arn:aws:lambda:{self.region}:{self.current_account}"
    parts = unquote(urlparse(self.uri).path).strip("/").split("/")
    query = parse_qs(urlparse(self.uri).query)
    if len(parts) >= 3 and parts[1] == "functions":
        name = parts[2]
        arn = name if name.startswith("arn:") else f"{base}:function:{name}"
        if len(parts) >= 5 and parts[3] == "aliases":
            return f"{arn}:{parts[4]}"
        return f"{arn}:{query['Qualifier'][0]}" if "Qualifier" in query else arn
    if len(parts) == 2 and parts[1] == "functions" and self.method == "POST":
        return f"{base}:function:{json.loads(self.body)['FunctionName']}"
    if len(parts) >= 3 and parts[1] == "tags":
        return parts[2]
    if len(parts) >= 3 and parts[1] == "layers":
        name = parts[2]
        arn = name if name.startswith("arn:") else f"{base}:layer:{name}"
        return arn + (f":{parts[4]}" if len(parts) >= 5 else "")
    return "*"


def _ssm_resource(self: Any) -> str:
    name = json.loads(self.body or "{}").get("Name")
    if not name:
        return "*"
    return f"arn:aws:ssm:{self.region}:{self.current_account}:parameter/{name.lstrip('/')}"


def _iam_resource(self: Any) -> str:
    """The ARN AWS authorises an IAM call against: the policy, or the role it names."""
    params = self.querystring
    if params.get("PolicyArn"):
        return params["PolicyArn"][0]
    if params.get("RoleName"):
        return f"arn:aws:iam::{self.current_account}:role/{params['RoleName'][0]}"
    return "*"


def _events_resource(self: Any) -> str:
    """A rule's ARN (by name or ARN); ``*`` for ListRules, which takes no resource."""
    arn = self._get_param("ResourceARN")
    name = self._get_param("Name") or self._get_param("Rule")
    if arn or not name:
        return arn or "*"
    return f"arn:aws:events:{self.region}:{self.current_account}:rule/{name}"


def _cloudwatch_resource(self: Any) -> str:
    """An alarm's or dashboard's ARN; a prefix listing names the prefix (``alarm:<prefix>*``)."""
    base = f"arn:aws:cloudwatch:{self.region}:{self.current_account}"
    if arn := self._get_param("ResourceARN"):
        return arn
    if dashboard := self._get_param("DashboardName"):
        return f"arn:aws:cloudwatch::{self.current_account}:dashboard/{dashboard}"
    names = self._get_param("AlarmNames") or [self._get_param("AlarmName")]
    names = [n for n in names if n]
    if names:  # each one must be allowed: the first out of scope, else the first
        return f"{base}:alarm:{next((n for n in names if not n.endswith(ENV_SUFFIX)), names[0])}"
    prefix = self._get_param("AlarmNamePrefix")
    return f"{base}:alarm:{prefix}*" if prefix else "*"


def _sns_resource(self: Any) -> str:
    if arn := self._get_param("TopicArn") or self._get_param("ResourceArn"):
        return arn
    name = self._get_param("Name")
    return f"arn:aws:sns:{self.region}:{self.current_account}:{name}" if name else "*"


_IAM_REQUEST_INIT = IAMRequestBase.__init__


def _iam_request_init(self: Any, *args: Any, **kwargs: Any) -> None:
    """moto names CloudWatch's actions after its signing name; IAM says ``cloudwatch:``."""
    _IAM_REQUEST_INIT(self, *args, **kwargs)
    if self._action.startswith("monitoring:"):
        self._action = "cloudwatch:" + self._action.removeprefix("monitoring:")


def for_principal(policy: dict[str, Any], principal: str) -> dict[str, Any]:
    """The statements that apply to ``principal`` (a deploy role), their conditions resolved."""
    env = principal.rsplit("-", 1)[-1]
    context = {
        "aws:PrincipalArn": principal,
        "iam:PassedToService": "lambda.amazonaws.com",
        "iam:PermissionsBoundary": (
            f"arn:aws:iam::{ACCOUNT}:policy/vectora-inbox-function-boundary-{env}"
        ),
    }
    kept = []
    for statement in policy["Statement"]:
        holds = True
        if statement["Effect"] == "Deny" and "Condition" not in statement:
            kept.append(statement)
            continue
        for operator, tests in statement.get("Condition", {}).items():
            for key, value in tests.items():
                assert operator in EQUALITY and key in context, (
                    f"{statement.get('Sid')}: cannot evaluate {operator} {key}"
                )
                equal = context[key] in (value if isinstance(value, list) else [value])
                holds = holds and (
                    equal if operator in ("StringEquals", "ArnEquals") else not equal
                )
        if holds:
            kept.append({k: v for k, v in statement.items() if k != "Condition"})
    return {"Version": policy["Version"], "Statement": kept}


def _auth(endpoint: str, count: str) -> None:
    """Enforce IAM from the next request on ("0"), or stop enforcing it ("inf")."""
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=count.encode(),
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    urllib.request.urlopen(request, timeout=10).close()


@pytest.fixture
def world(aws_env: str, releases: Releases) -> Iterator[tuple[Releases, dict[str, str]]]:
    """R1 deployed and validated in dev, stage, prod; a caller with dev's deploy policy only."""
    config = releases.config
    targets = {env: target(config, env) for env in ("dev", "stage", "prod")}
    for t in targets.values():
        bootstrap(t)
    store = targets["dev"].store
    for built in (releases.r1, releases.r2):
        store.publish(built.manifest, built.dist)
    with stub_runner():  # R1 everywhere, validated where the approval chain asks for it
        for env in ("dev", "stage", "prod"):
            deploy_release(targets[env], releases.r1.manifest)
            # dev with the e2e run: the validation namespace holds what the functions wrote
            validate_current(targets[env], e2e=env == "dev", compare_to=None)
    values = {"Project": config.project, "Env": "dev", "Region": REGION, "Account": ACCOUNT}
    policy = for_principal(
        json.loads(policy_document(config.root, "deploy-policy", values)), DEV_ROLE
    )
    iam = targets["dev"].aws.iam()
    iam.create_user(UserName="deploy-dev")
    iam.put_user_policy(
        UserName="deploy-dev", PolicyName="deploy-dev", PolicyDocument=json.dumps(policy)
    )
    key = iam.create_access_key(UserName="deploy-dev")["AccessKey"]
    creds = {
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
    }
    with (
        mock.patch.object(LambdaResponse, "_determine_resource", _lambda_resource, create=True),
        mock.patch.object(
            SimpleSystemManagerResponse, "_determine_resource", _ssm_resource, create=True
        ),
        mock.patch.object(EventsHandler, "_determine_resource", _events_resource, create=True),
        mock.patch.object(
            CloudWatchResponse, "_determine_resource", _cloudwatch_resource, create=True
        ),
        mock.patch.object(SNSResponse, "_determine_resource", _sns_resource, create=True),
        mock.patch.object(IAMRequestBase, "__init__", _iam_request_init),
        mock.patch.object(IAMRequestBase, "check_signature", lambda self: None),
    ):
        _auth(aws_env, "0")
        try:
            yield releases, creds
        finally:
            _auth(aws_env, "inf")


def as_deployer(creds: dict[str, str]):
    """The process environment of the dev deploy role (no session token)."""
    patched = mock.patch.dict(os.environ, creds)
    patched.start()
    os.environ.pop("AWS_SESSION_TOKEN", None)
    return patched


def snapshot(releases: Releases, env: str) -> dict[str, Any]:
    t = target(releases.config, env)
    keys = sorted(
        k["Key"]
        for k in t.s3.list_objects_v2(Bucket=t.spec.artifact_bucket, Prefix=f"ledger/{env}/").get(
            "Contents", []
        )
    )
    config = sorted(
        k["Key"] for k in t.s3.list_objects_v2(Bucket=t.spec.buckets["config"]).get("Contents", [])
    )
    return {"live": live_releases(t, releases), "ledger": keys, "config": config}


def denied(call: Any, **params: Any) -> bool:
    """Whether IAM refused the call (moto answers Lambda's refusals in XML: code ``403``)."""
    try:
        call(**params)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        return code in DENIED or (code == "403" and "AccessDenied" in str(exc))
    return False


@pytest.mark.slow
def test_the_dev_deploy_policy_deploys_dev_and_nothing_else(
    world: tuple[Releases, dict[str, str]], aws_env: str, figures: Figures
) -> None:
    releases, creds = world
    _auth(aws_env, "inf")
    before = {env: snapshot(releases, env) for env in ("stage", "prod")}
    _auth(aws_env, "0")

    patched = as_deployer(creds)
    try:
        config = releases.r1.config_path
        dev = run_cli(config, ["deploy", "--env", "dev", "--version", "0.2.0", "--validate"])
        stage = run_cli(config, ["deploy", "--env", "stage", "--version", "0.2.0"])
        prod = run_cli(config, ["deploy", "--env", "prod", "--version", "0.1.0"])
        aws = Aws(
            boto3.Session(
                aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
            )
        )
        probes = _probes(aws, releases)
        outcomes = {name: denied(call, **params) for name, (call, params) in probes.items()}
    finally:
        patched.stop()

    assert dev.code == 0, dev.err
    for refused in (stage, prod):  # moto answers Lambda's AccessDenied in XML: several lines
        assert refused.code == 3 and "<Code>AccessDenied</Code>" in refused.err, refused.err
    assert [name for name, ok in outcomes.items() if not ok] == []

    _auth(aws_env, "inf")
    t = target(releases.config, "dev")
    live = live_releases(t, releases)
    assert set(live.values()) == {"R2"} and not ledger_problems(t, releases, live)
    assert {env: snapshot(releases, env) for env in ("stage", "prod")} == before
    figures.add(
        "least privilege (IAM enforced, dev deploy policy only)",
        f"deploy to dev: succeeded; deploy to stage and prod: refused by IAM "
        f"({stage.error_line.split('calling the ')[-1].split(' operation')[0]}), nothing changed; "
        f"{sum(outcomes.values())}/{len(outcomes)} direct changes to stage/prod "
        "(and to the boundary of dev's roles) denied",
    )


def _probes(aws: Aws, releases: Releases) -> dict[str, tuple[Any, dict[str, Any]]]:
    """Changes the dev deploy role must not be able to make to stage or prod, nor to the
    boundary of its own function roles."""
    lam, s3, iam, ssm = aws.lambda_(REGION), aws.s3(REGION), aws.iam(), aws.ssm(REGION)
    events, cloudwatch = aws.client("events", REGION), aws.client("cloudwatch", REGION)
    sns = aws.client("sns", REGION)
    config = releases.config
    probes: dict[str, tuple[Any, dict[str, Any]]] = {}
    artifacts = config.artifact_bucket
    for env in ("stage", "prod"):
        fn = config.function_resource("ingest-v2", env)
        role = config.role_name("ingest-v2", env)
        layer = config.layer_resource("vectora-core", env)
        probes |= {
            f"{env} UpdateFunctionCode": (
                lam.update_function_code,
                {"FunctionName": fn, "ZipFile": EMPTY_ZIP},
            ),
            f"{env} UpdateFunctionConfiguration": (
                lam.update_function_configuration,
                {"FunctionName": fn, "Timeout": 3},
            ),
            f"{env} UpdateAlias": (
                lam.update_alias,
                {"FunctionName": fn, "Name": "live", "FunctionVersion": "1"},
            ),
            f"{env} PublishVersion": (lam.publish_version, {"FunctionName": fn}),
            f"{env} PublishLayerVersion": (
                lam.publish_layer_version,
                {"LayerName": layer, "Content": {"ZipFile": EMPTY_ZIP}},
            ),
            f"{env} config object": (
                s3.put_object,
                {"Bucket": f"vectora-inbox-config-{env}", "Key": "x", "Body": b"x"},
            ),
            f"{env} ledger lock": (
                s3.put_object,
                {"Bucket": artifacts, "Key": f"ledger/{env}/lock.json", "Body": b""},
            ),
            f"{env} ledger current": (
                s3.delete_object,
                {"Bucket": artifacts, "Key": f"ledger/{env}/current.json"},
            ),
            f"{env} function role": (
                iam.put_role_policy,
                {"RoleName": role, "PolicyName": "x", "PolicyDocument": json.dumps(NO_STATEMENT)},
            ),
            f"{env} SSM parameter": (
                ssm.get_parameter,
                {"Name": f"/vectora-inbox/{env}/api-token"},
            ),
            f"{env} schedule": (
                events.disable_rule,
                {"Name": config.monitor_resource("weekly", env)},
            ),
            f"{env} alarm": (
                cloudwatch.delete_alarms,
                {"AlarmNames": [config.monitor_resource("errors", env)]},
            ),
            f"{env} alerts topic": (sns.create_topic, {"Name": config.alerts_topic(env)}),
        }
    own_role = config.role_name("ingest-v2", "dev")  # its own function role: no escalation
    probes |= {
        "dev AttachRolePolicy AdministratorAccess": (
            iam.attach_role_policy,
            {"RoleName": own_role, "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
        ),
        "dev DeleteRolePermissionsBoundary": (
            iam.delete_role_permissions_boundary,
            {"RoleName": own_role},
        ),
        "dev UpdateAssumeRolePolicy": (
            iam.update_assume_role_policy,
            {"RoleName": own_role, "PolicyDocument": json.dumps(NO_STATEMENT)},
        ),
    }
    return probes


# -- the shipped policies, read as data ----------------------------------------------------------
def _render(name: str, env: str) -> dict[str, Any]:
    values = {"Project": "vectora-inbox", "Env": env, "Region": REGION, "Account": ACCOUNT}
    return json.loads(policy_document(IAM.parent, name, values))


def _writes(statement: dict[str, Any]) -> list[str]:
    actions = (
        statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    )
    return [a for a in actions if not a.split(":", 1)[1].startswith(READS)]


def _resources(statement: dict[str, Any]) -> list[str]:
    found = statement.get("Resource", [])
    return found if isinstance(found, list) else [found]


def _scoped(resource: str, env: str) -> bool:
    return f"-{env}" in resource or f"/{env}/" in resource


@pytest.mark.parametrize("env", ["dev", "stage", "prod"])
def test_every_shipped_policy_is_scoped_to_its_environment(env: str, figures: Figures) -> None:
    """Writes only to ``vectora-inbox-*-<env>`` (and ``…/<env>/…``; dev's role also publishes to
    the artifact store); reads outside it only of the project's resources (the upstream
    environment, the store); Bedrock models invoked, not changed; ``*`` only for actions that
    take no resource."""
    role = f"arn:aws:iam::{ACCOUNT}:role/vectora-inbox-deploy-{env}"
    policies = {"deploy-policy": for_principal(_render("deploy-policy", env), role)}
    for path in sorted(IAM.glob("function-*.json")):
        if path.stem != "function-trust":
            policies[path.stem] = _render(path.stem, env)
    store = "arn:aws:s3:::vectora-inbox-artifacts"
    publishes = (f"{store}/releases/*", f"{store}/index/*", store)  # dev's role publishes
    checked = 0
    for name, policy in policies.items():
        for statement in policy["Statement"]:
            if statement["Effect"] == "Deny":
                continue  # guards: tests/unit/workflows/test_privilege_escalation.py
            assert statement["Effect"] == "Allow" and "NotAction" not in statement
            for resource in _resources(statement):
                checked += 1
                where = f"{name} {statement.get('Sid')} {resource}"
                if resource == "*":
                    assert set(statement["Action"]) <= UNSCOPED, where
                elif resource.startswith(MODELS):
                    assert set(_writes(statement)) <= {"bedrock:InvokeModel"}, where
                elif resource.startswith(f"arn:aws:kms:{REGION}:{ACCOUNT}:key/"):
                    via = statement["Condition"]["StringEquals"]["kms:ViaService"]
                    assert _writes(statement) == ["kms:Decrypt"] and via.startswith("ssm."), where
                elif _writes(statement) and not _scoped(resource, env):
                    assert env == "dev" and resource in publishes, where
                elif not _scoped(resource, env):
                    assert "vectora-inbox-" in resource, where
    observe = _render("observe-policy", env)
    assert not [a for s in observe["Statement"] for a in _writes(s)], "observe is read-only"
    if env == "dev":
        figures.add(
            "least privilege (IAM enforced, dev deploy policy only)",
            f"shipped policies rendered for dev: {checked} resources, every write scoped to "
            "vectora-inbox-*-dev (and the artifact store, which dev publishes to), reads within "
            f"the project, * only for the {len(UNSCOPED)} actions that take none; "
            "observe-policy read-only",
        )


@pytest.mark.slow
def test_the_dev_deploy_role_cannot_create_a_missing_boundary(
    world: tuple[Releases, dict[str, str]], aws_env: str
) -> None:
    """Boundaries come from iam/bootstrap.yaml (an administrator): bootstrap run with the dev
    deploy role where dev's boundary is missing stops with exit 2 naming the stack, and the
    boundary stays missing (IAM refused CreatePolicy)."""
    releases, creds = world
    boundary = f"arn:aws:iam::{ACCOUNT}:policy/vectora-inbox-function-boundary-dev"
    # AWS authorises HeadBucket as s3:ListBucket (moto: "s3:HeadBucket") and IAM calls against
    # the role or policy they name (moto: "*").
    head_bucket = mock.patch.dict(S3_ACTIONS["BUCKET"]["HEAD"], {"DEFAULT": "ListBucket"})
    iam_arns = mock.patch.object(IamResponse, "_determine_resource", _iam_resource, create=True)
    _auth(aws_env, "inf")
    iam = target(releases.config, "dev").aws.iam()
    iam.delete_policy(PolicyArn=boundary)
    _auth(aws_env, "0")
    patched = as_deployer(creds)
    try:
        with head_bucket, iam_arns:
            result = run_cli(releases.r1.config_path, ["bootstrap", "--env", "dev"])
    finally:
        patched.stop()
    _auth(aws_env, "inf")
    assert result.code == 2, result.err
    assert "vectora-inbox-function-boundary-dev is missing" in result.err
    assert "iam/bootstrap.yaml" in result.err
    with pytest.raises(ClientError):
        iam.get_policy(PolicyArn=boundary)
