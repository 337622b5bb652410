"""The release system's hooks in the app: the validation namespace and the Bedrock check."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from botocore.exceptions import ClientError
from vectora_core import storage
from vectora_core.bedrock import ping
from vectora_core.runtime import EventError, parse_event

RUN = date(2026, 11, 16)


def test_a_namespaced_run_puts_every_key_under_its_namespace() -> None:
    request = parse_event({"client_id": "lai_weekly", "run_date": "2026-11-16",
                           "namespace": "_release_check"})  # fmt: skip
    assert request.namespace == "_release_check"
    keys = [
        storage.ingested_key("lai_weekly", RUN, request.namespace),
        storage.curated_key("lai_weekly", RUN, request.namespace),
        storage.newsletter_key("lai_weekly", RUN, request.namespace),
    ]
    assert keys == [
        "_release_check/ingested/lai_weekly/2026/11/16/items.json",
        "_release_check/curated/lai_weekly/2026/11/16/items.json",
        "_release_check/lai_weekly/2026/11/16/newsletter.md",
    ]
    assert storage.newsletter_key("lai_weekly", RUN) == "lai_weekly/2026/11/16/newsletter.md"


@pytest.mark.parametrize("namespace", ["lai_weekly", "", "_", "../x", "_a/b", 3, "_UPPER"])
def test_a_namespace_that_could_be_a_client_path_is_refused(namespace: object) -> None:
    with pytest.raises(EventError, match="namespace must start with '_'"):
        parse_event({"client_id": "lai_weekly", "namespace": namespace})


class Converse:
    def __init__(self, error: str | None = None) -> None:
        self.error, self.calls = error, []

    def converse(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if self.error:
            raise ClientError({"Error": {"Code": self.error, "Message": "no"}}, "Converse")
        return {"output": {"message": {"content": [{"text": "ok"}]}}}


def test_the_bedrock_check_makes_one_minimal_call_and_reports_errors() -> None:
    client = Converse()
    report = ping("eu.m", "eu-west-3", client=client)
    assert report == {"check": "bedrock", "model_id": "eu.m", "region": "eu-west-3",
                      "status": "ok"}  # fmt: skip
    assert client.calls[0]["modelId"] == "eu.m"
    assert client.calls[0]["inferenceConfig"]["maxTokens"] <= 5
    failed = ping("eu.m", "us-east-1", client=Converse("AccessDeniedException"))
    assert failed["status"] == "error" and "AccessDeniedException" in failed["error"]
    assert ping("", "eu-west-3")["status"] == "error"
