"""The weekly run's chain (``then``) and the embedded-metric-format line."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from vectora_core import aws, chain
from vectora_core.runtime import RunRequest

REQUEST = RunRequest(client_id="lai_weekly", run_date=dt.date(2026, 11, 16), period_days=7)


class LambdaRecorder:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return {"StatusCode": 202}


@pytest.fixture
def lam(monkeypatch: pytest.MonkeyPatch) -> LambdaRecorder:
    recorder = LambdaRecorder()
    monkeypatch.setattr(aws, "client", lambda service, region=None: recorder)
    return recorder


def test_the_next_step_runs_asynchronously_with_the_same_client_and_date(lam) -> None:
    event = {"client_id": "lai_weekly", "period_days": 7, "then": ["b-dev:live", "c-dev:live"]}
    assert chain.continue_chain(event, REQUEST) == "b-dev:live"
    (call,) = lam.calls
    assert call["FunctionName"] == "b-dev:live" and call["InvocationType"] == "Event"
    payload = json.loads(call["Payload"])
    assert payload == {
        "client_id": "lai_weekly",
        "period_days": 7,
        "run_date": "2026-11-16",
        "then": ["c-dev:live"],
    }


@pytest.mark.parametrize("event", [{"client_id": "x"}, {"client_id": "x", "then": []}])
def test_an_event_without_a_chain_runs_one_step(lam, event) -> None:
    assert chain.continue_chain(event, REQUEST) is None
    assert lam.calls == []


def test_metrics_are_one_embedded_metric_format_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENV", "prod")
    lines: list[str] = []
    chain.emit_metrics({"NewslettersProduced": 1}, lines.append)
    (line,) = lines
    doc = json.loads(line)
    (directive,) = doc["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "VectoraInbox"
    assert directive["Dimensions"] == [["Environment"]]
    assert doc["Environment"] == "prod" and doc["NewslettersProduced"] == 1
