"""The artifact store's bucket policy (iam/artifact-bucket-policy.json), read as data.

AWS evaluates its conditions (``s3:if-none-match``, ``aws:PrincipalArn``); the embedded AWS
applies only its unconditional statements (tests/integration/test_bootstrap.py). Each request
below is decided as IAM would for a caller of the same account: the caller's identity policy
must allow it and no statement of the identity policy nor of the bucket policy may deny it.
"""

from __future__ import annotations

import pytest
from iam_eval import ACCOUNT, PROJECT, allowed, denies, render, role_arn

BUCKET = f"{PROJECT}-artifacts"
POLICY = render("artifact-bucket-policy.json", Bucket=BUCKET, Env="dev")
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/Admin"
ONCE = {"s3:if-none-match": "*"}


def obj(key: str) -> str:
    return f"arn:aws:s3:::{BUCKET}/{key}"


def caller(role: str, **extra: str) -> dict[str, str]:
    return {"aws:PrincipalArn": role, **extra}


def deploy(env: str) -> str:
    return role_arn(f"{PROJECT}-deploy-{env}")


def by_role(env: str, action: str, key: str, **extra: str) -> bool:
    """Whether the deploy role of ``env`` may, identity policy and bucket policy together."""
    identity = [render("deploy-policy.json", Env=env)]
    return allowed(identity, action, obj(key), caller(deploy(env), **extra), resource_policy=POLICY)


@pytest.mark.parametrize("prefix", ["releases", "snapshots", "index"])
def test_nothing_is_written_there_without_if_none_match(prefix: str) -> None:
    key = f"{prefix}/0.1.0/abc/manifest.json"
    for who in (deploy("dev"), ADMIN):
        assert denies(POLICY, "s3:PutObject", obj(key), caller(who)), who
    assert not denies(POLICY, "s3:PutObject", obj(key), caller(ADMIN, **ONCE))


@pytest.mark.parametrize("prefix", ["releases", "snapshots"])
def test_nobody_deletes_a_release_or_a_snapshot(prefix: str) -> None:
    key = f"{prefix}/0.1.0/abc/ingest-v2-0.1.0.zip"
    for who in (deploy("dev"), deploy("prod"), ADMIN):
        for action in ("s3:DeleteObject", "s3:DeleteObjectVersion"):
            assert denies(POLICY, action, obj(key), caller(who)), (who, action)


def test_only_the_publishing_role_writes_releases() -> None:
    key = "releases/0.1.0/abc/manifest.json"
    assert by_role("dev", "s3:PutObject", key, **ONCE)
    assert by_role("dev", "s3:PutObject", "index/commits/abc", **ONCE)
    for env in ("stage", "prod"):
        assert denies(POLICY, "s3:PutObject", obj(key), caller(deploy(env), **ONCE)), env
        assert not by_role(env, "s3:PutObject", key, **ONCE)
    observe = caller(role_arn(f"{PROJECT}-observe"), **ONCE)
    assert denies(POLICY, "s3:PutObject", obj(key), observe)
    assert denies(POLICY, "s3:PutObject", obj("ledger/dev/lock.json"), observe)


@pytest.mark.parametrize("env", ["dev", "stage", "prod"])
def test_a_promoting_role_writes_only_its_own_ledger(env: str) -> None:
    for key in ("lock.json", "current.json", "records/20261201T000000.000000Z-abcdef.json"):
        assert by_role(env, "s3:PutObject", f"ledger/{env}/{key}")
    assert by_role(env, "s3:DeleteObject", f"ledger/{env}/lock.json")
    for other in ("dev", "stage", "prod"):
        if other == env:
            continue
        for action in ("s3:PutObject", "s3:DeleteObject"):
            key = f"ledger/{other}/current.json"
            assert denies(POLICY, action, obj(key), caller(deploy(env))), (env, other, action)
            assert not by_role(env, action, key)


@pytest.mark.parametrize("env", ["dev", "stage", "prod"])
def test_a_role_may_write_its_own_snapshots_once_and_no_other(env: str) -> None:
    key = f"snapshots/{env}/20261201-abc/ingest-v2.zip"
    assert not denies(POLICY, "s3:PutObject", obj(key), caller(deploy(env), **ONCE))
    assert denies(POLICY, "s3:PutObject", obj(key), caller(deploy(env)))
    for other in ("dev", "stage", "prod"):
        if other != env:
            theirs = f"snapshots/{other}/20261201-abc/ingest-v2.zip"
            assert denies(POLICY, "s3:PutObject", obj(theirs), caller(deploy(env), **ONCE))


def test_an_administrator_still_publishes_and_repairs_ledgers() -> None:
    """Deny statements name the project's roles: an operator's own role is not locked out."""
    admin = caller(ADMIN, **ONCE)
    assert not denies(POLICY, "s3:PutObject", obj("releases/0.1.0/abc/manifest.json"), admin)
    assert not denies(POLICY, "s3:DeleteObject", obj("ledger/prod/lock.json"), caller(ADMIN))


def test_every_statement_is_a_deny_for_every_principal() -> None:
    """The policy only takes away: it grants nobody anything an identity policy does not."""
    for statement in POLICY["Statement"]:
        assert statement["Effect"] == "Deny" and statement["Principal"] == "*", statement["Sid"]
