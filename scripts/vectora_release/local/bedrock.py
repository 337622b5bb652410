"""A Bedrock-runtime stand-in on 127.0.0.1: the ``Converse`` call the app makes, nothing more.

moto serves no model, so on the embedded AWS the functions reach this server through boto3's
service endpoint setting (``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``): the app's own Bedrock code
path runs unchanged. The answer is deterministic: each item of the prompt's JSON array scores
``HIGH`` when its title or summary names a long-acting-injectable term, else ``LOW``; a prompt
without items (the ``{"check": "bedrock"}`` health call) gets a short text. ``fail`` makes every
call answer a Bedrock error instead, so tests can prove that validation catches a fallback.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

ENDPOINT_VAR = "AWS_ENDPOINT_URL_BEDROCK_RUNTIME"
HIGH, LOW = 85, 20
TERMS = re.compile(
    r"long[- ]acting|injectable|depot|extended[- ]release|microsphere|implant|once[- ]monthly|"
    r"aripiprazole|paliperidone|buprenorphine|risperidone|olanzapine|alkermes|indivior|"
    r"camurus|medincell|\blai\b",
    re.IGNORECASE,
)
_CONVERSE = re.compile(r"^/model/(?P<model>[^/]+)/converse$")
# error code → HTTP status, as Bedrock answers them
ERRORS = {
    "AccessDeniedException": 403,
    "ValidationException": 400,
    "ResourceNotFoundException": 404,
    "ServiceUnavailableException": 503,
}


@dataclass
class BedrockStandIn:
    """The server; ``calls`` lists the model ids asked, ``fail`` an error code to answer."""

    fail: str | None = None
    calls: list[str] = field(default_factory=list)
    port: int = 0  # 0: a free one
    _server: ThreadingHTTPServer | None = None

    @property
    def endpoint(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> BedrockStandIn:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                status, answer, error = stand_in.answer(unquote(self.path), body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if error:
                    self.send_header("x-amzn-ErrorType", error)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: Any) -> None:  # no access log on stderr
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> BedrockStandIn:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def answer(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any], str | None]:
        """(HTTP status, JSON body, error code) for one request."""
        match = _CONVERSE.match(path)
        if match is None:
            return (
                404,
                {"message": f"the stand-in serves Converse only, not {path}"},
                "UnknownOperationException",
            )
        self.calls.append(match["model"])
        if self.fail:
            message = f"stand-in answers {self.fail} for model {match['model']}"
            return ERRORS.get(self.fail, 400), {"message": message}, self.fail
        text = "".join(
            part.get("text", "")
            for message in body.get("messages", [])
            for part in message.get("content", [])
        )
        items = _items(text)
        reply = "ok" if items is None else json.dumps([_score(item) for item in items])
        return 200, _converse_response(reply), None


def _items(text: str) -> list[dict[str, Any]] | None:
    """The JSON array of items at the end of the prompt (None: the prompt has none)."""
    decoder = json.JSONDecoder()
    for start in reversed([m.start() for m in re.finditer(r"\[", text)]):
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            continue
        if text[end:].strip() == "" and isinstance(value, list):
            return [v for v in value if isinstance(v, dict) and "id" in v]
    return None


def _score(item: dict[str, Any]) -> dict[str, Any]:
    words = f"{item.get('title', '')} {item.get('summary', '')}"
    return {"id": item["id"], "score": HIGH if TERMS.search(words) else LOW}


def _converse_response(text: str) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
        "metrics": {"latencyMs": 1},
    }
