"""Bedrock clients publish ``BedrockCalls`` and ``BedrockThrottles`` (embedded metric format).

A stand-in Bedrock on 127.0.0.1 answers Converse with scripted statuses; the clients are real
botocore clients reaching it through their endpoint URL, so the hooks see real attempts.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from vectora_core import aws, chain

ANSWER = {
    "output": {"message": {"role": "assistant", "content": [{"text": "{}"}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
    "metrics": {"latencyMs": 1},
}


class StandIn(ThreadingHTTPServer):
    """Answers each request with the next status of ``script`` (200 once it runs out)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Answer)
        self.script: list[int] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Answer(BaseHTTPRequestHandler):
    server: StandIn

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status = self.server.script.pop(0) if self.server.script else 200
        body = ANSWER if status == 200 else {"message": "slow down"}
        data = json.dumps(body).encode()
        self.send_response(status)
        if status != 200:
            self.send_header("x-amzn-ErrorType", "ThrottlingException")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def bedrock() -> Iterator[StandIn]:
    server = StandIn()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def client(server: StandIn) -> Any:
    """A Bedrock client that never retries on its own (the tests retry without sleeping)."""
    return boto3.client(
        "bedrock-runtime",
        endpoint_url=server.url,
        region_name="eu-west-3",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


def converse(c: Any) -> Any:
    return c.converse(modelId="m", messages=[{"role": "user", "content": [{"text": "hi"}]}])


def metrics(lines: list[str]) -> list[dict[str, Any]]:
    docs = [json.loads(line) for line in lines]
    for doc in docs:
        (directive,) = doc["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "VectoraInbox"
    return [{k: d[k] for k in ("BedrockCalls", "BedrockThrottles", "Environment")} for d in docs]


def test_a_call_is_one_line_with_its_attempts(bedrock, monkeypatch) -> None:
    monkeypatch.setenv("ENV", "stage")
    lines: list[str] = []
    c = chain.watch_bedrock(client(bedrock), lines.append)
    converse(c)
    assert metrics(lines) == [{"BedrockCalls": 1, "BedrockThrottles": 0, "Environment": "stage"}]


def test_throttled_attempts_are_counted_across_retries(bedrock, monkeypatch) -> None:
    monkeypatch.setenv("ENV", "prod")
    lines: list[str] = []
    c = chain.watch_bedrock(client(bedrock), lines.append)

    def retry_at_once(response: Any = None, attempts: int = 0, **_: Any) -> int | None:
        return 0 if response and response[0].status_code == 429 and attempts < 5 else None

    c.meta.events.register_first("needs-retry.bedrock-runtime", retry_at_once)
    bedrock.script = [429, 429]
    converse(c)
    bedrock.script = [429] * 5
    with pytest.raises(ClientError, match="ThrottlingException"):
        converse(c)
    assert metrics(lines) == [
        {"BedrockCalls": 3, "BedrockThrottles": 2, "Environment": "prod"},
        {"BedrockCalls": 5, "BedrockThrottles": 5, "Environment": "prod"},
    ]


def test_a_call_that_cannot_reach_bedrock_still_counts(monkeypatch) -> None:
    lines: list[str] = []
    c = boto3.client(
        "bedrock-runtime",
        endpoint_url="http://127.0.0.1:9",
        region_name="eu-west-3",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=1),
    )
    chain.watch_bedrock(c, lines.append)
    with pytest.raises(aws.errors()):
        converse(c)
    assert [(m["BedrockCalls"], m["BedrockThrottles"]) for m in metrics(lines)] == [(1, 0)]


def test_the_apps_bedrock_clients_are_watched(bedrock, monkeypatch, capsys) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", bedrock.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("ENV", "dev")
    converse(aws.client("bedrock-runtime", region="eu-west-3"))
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert metrics(lines) == [{"BedrockCalls": 1, "BedrockThrottles": 0, "Environment": "dev"}]
