"""A local OpenAI-compatible chat-completions server (loopback, ephemeral port) for tests and demos.

It answers the agent's prompts with the offline agent's proposals (read from the prompt's <state>
block), so the real client path (HTTP, JSON, retries, timeouts) runs without a model, and records
every prompt it receives. `mode` makes it misbehave: "garbage" (never JSON), "garbage_once",
"unknown" (adds unknown operator names), "duplicates", "wrong_count" (K + 2 strategies), "timeout"
(sleeps past the client's timeout), "rate_limit_once" (a 429 first). Operator calls (rewrites) get
the record's own output back.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from raylab.methods.autodp.agents import OfflineAgent, Round
from raylab.methods.autodp.prompts import state_of

MODES = (
    "agent",
    "garbage",
    "garbage_once",
    "unknown",
    "duplicates",
    "wrong_count",
    "timeout",
    "rate_limit_once",
)


class StubServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, mode: str = "agent", exploration: float = 0.5, sleep_s: float = 5.0):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode, self.exploration, self.sleep_s = mode, exploration, sleep_s
        self.prompts: list[list[dict]] = []
        self.requests = 0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def reply(self, messages: list[dict]) -> tuple[int, str]:
        """(HTTP status, assistant text) for one request."""
        with self.lock:
            self.requests += 1
            first = self.requests == 1
            self.prompts.append(messages)
        if self.mode == "rate_limit_once" and first:
            return 429, ""
        if self.mode == "timeout":
            time.sleep(self.sleep_s)
        if "<state>" not in json.dumps(messages):  # an operator call: keep the record as it is
            record = json.loads(messages[-1]["content"])
            return 200, json.dumps({"output": record.get("output", ""), "input": record.get("input", "")})
        if self.mode == "garbage" or (self.mode == "garbage_once" and first):
            return 200, "Sure! Here are some strategies: cleaning then selection."
        state = state_of(messages)
        history = [(tuple(h["teams"]), h["s"]) for h in state["history"]]
        agent = OfflineAgent(self.exploration, state["seed"])
        strategies, _ = agent.propose(Round(state["round"], state["k"], history, messages))
        items = [{"teams": list(s), "rationale": "offline agent behind the stub"} for s in strategies]
        if self.mode == "unknown":
            items = [{"teams": [*i["teams"], "magic_filter"]} for i in items]
        elif self.mode == "duplicates":
            items = items[:1] * state["k"]
        elif self.mode == "wrong_count":
            items = items + [{"teams": ["generation"]}, {"teams": ["cleaning", "generation"]}]
        return 200, json.dumps({"strategies": items})


class _Handler(BaseHTTPRequestHandler):
    server: StubServer

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        status, text = self.server.reply(body.get("messages", []))
        payload: dict[str, Any]
        if status != 200:
            payload = {"error": {"message": "rate limited", "type": "rate_limit_exceeded"}}
        else:
            payload = {
                "id": f"stub-{self.server.requests}",
                "object": "chat.completion",
                "created": 0,
                "model": body.get("model", "stub"),
                "choices": [
                    {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}
                ],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            }
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status == 429:
            self.send_header("Retry-After", "0.1")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):  # quiet
        pass


@contextlib.contextmanager
def serve(mode: str = "agent", **options) -> Iterator[StubServer]:
    """Run the stub in a daemon thread for the duration of the block."""
    server = StubServer(mode, **options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
