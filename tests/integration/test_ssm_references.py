"""``ssm:`` values: the deploy writes the reference, checks the parameter exists, never reads
its value (the function resolves it at run time: tests/unit/app/test_app_parameters.py and
tests/reliability/test_secrets.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError
from vectora_release.aws.lambda_ import ALIAS
from vectora_release.config.model import load_config
from vectora_release.deploy.pipeline import deploy_release

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from conftest import CliResult, Released

REFERENCE = "ssm:/vectora-inbox/dev/api-token"


def with_token(released: Released) -> Path:
    """R1's release.yaml where ingest-v2 also gets API_TOKEN from SSM."""

    def edit(text: str) -> str:
        after = text.index("\n", text.index("\n  BEDROCK_REGION: ") + 1) + 1  # shared variables
        text = text[:after] + "  API_TOKEN: ssm:/vectora-inbox/{env}/api-token\n" + text[after:]
        layers = "    layers: [vectora-core, common-deps]\n"
        at = text.index(layers, text.index("    source: src_v2/lambdas/ingest_v2\n")) + len(layers)
        return text[:at] + "    env: [API_TOKEN]\n" + text[at:]

    return released.variant("api-token", edit)


def test_a_reference_to_a_missing_parameter_is_refused_before_any_change(
    released: Released, cli: Callable[..., CliResult]
) -> None:
    config = with_token(released)
    released.target("dev")  # bootstrapped

    result = cli("deploy", "--env", "dev", "--version", "0.1.0", config=config)

    assert result.code == 2, result.err
    assert "API_TOKEN refers to SSM parameter /vectora-inbox/dev/api-token" in result.err
    assert "which does not exist" in result.err
    assert result.calls.mutating == []


def test_the_function_gets_the_reference_and_the_value_is_never_read(
    released: Released, cli: Callable[..., CliResult]
) -> None:
    config = with_token(released)
    dev = released.target("dev")
    dev.aws.ssm().put_parameter(
        Name="/vectora-inbox/dev/api-token", Value="tok-not-for-the-deploy", Type="SecureString"
    )
    target = released.target("dev", config=load_config(config))
    log = released.call_log(target)

    deploy_release(target, released.r1.manifest)

    gets = log.of("GetParameter")  # once per plan: before the lock and under it
    assert gets and all(
        g == {"Name": "/vectora-inbox/dev/api-token", "WithDecryption": False} for g in gets
    )
    live = dev.lam.get_function_configuration(
        FunctionName=released.resource("ingest-v2"), Qualifier=ALIAS
    )
    assert live["Environment"]["Variables"]["API_TOKEN"] == REFERENCE
    record = dev.ledger.current()
    assert record.functions["ingest-v2"].env["API_TOKEN"] == REFERENCE
    # the value rotates in SSM: nothing to redeploy, no drift
    dev.aws.ssm().put_parameter(
        Name="/vectora-inbox/dev/api-token",
        Value="tok-rotated",
        Type="SecureString",
        Overwrite=True,
    )
    assert cli("drift", "--env", "dev", config=config).code == 0


def test_a_role_that_may_not_read_the_parameter_plans_with_a_warning(
    released: Released,
) -> None:
    """The read-only role plans stage before an approval: it may not read SSM parameters."""
    config = load_config(with_token(released))
    target = released.target("dev", config=config)

    def denied(**_: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}, "GetParameter"
        )

    target.aws.events.register("before-call.ssm.GetParameter", denied, unique_id="deny-ssm")
    messages: list[str] = []
    target.progress = messages.append

    report = deploy_release(target, released.r1.manifest)

    assert report.outcome == "succeeded"
    assert any(
        m.startswith("warning: cannot check that SSM parameter /vectora-inbox/dev/api-token")
        for m in messages
    ), messages


@pytest.mark.parametrize("code", ["ThrottlingException"])
def test_other_errors_checking_a_parameter_stop_the_deploy(released: Released, code: str) -> None:
    config = load_config(with_token(released))
    target = released.target("dev", config=config)

    def failing(**_: Any) -> None:
        raise ClientError({"Error": {"Code": code, "Message": "injected"}}, "GetParameter")

    target.aws.events.register("before-call.ssm.GetParameter", failing, unique_id="fail-ssm")
    with pytest.raises(ClientError):
        deploy_release(target, released.r1.manifest)
    assert target.ledger.history() == []
