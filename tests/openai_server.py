"""An OpenAI-compatible HTTP server for tests: the part of the API that lm-evaluation-harness 0.4.13
(``local-completions``, ``local-chat-completions``) and inspect_ai 0.3.285 (``openai-api/<service>/<model>``,
``openai/<model>``) call, answering from a table so that scores are known in advance.

Routes, found by running those clients against this server and reading their source
(``lm_eval/models/api_models.py``, ``openai_completions.py``; ``inspect_ai/model/_providers/openai_compatible.py``,
``openai.py``):

- ``POST /v1/completions``: ``prompt`` is a string, or a list of strings when lm-eval batches (``--batch_size`` > 1),
  or token ids when lm-eval has a tokenizer backend.
- ``POST /v1/chat/completions``: the prompt is the text of the one ``user`` message (a string or text parts).
- ``POST /v1/responses``: OpenAI's Responses API, which inspect's ``openai/`` provider uses for models it does not
  know; answered like a chat request, so a test can see what that route sends.
- ``GET /v1/models``: the one model name.

Every request body is kept in ``requests`` (tests check what arrived: the whole prompt, temperature, max_tokens).
A prompt that is not in the table (cut short, or a message list where the text belongs) is answered with
``UNKNOWN``, which scores 0, and is kept in ``unknown``. A prompt in ``refuse`` is answered with HTTP 400, which
neither harness retries, for the errored-run tests. The server binds 127.0.0.1 on a free port and never reaches
anything else.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

UNKNOWN = "(this prompt is not in the test server's table)"
MODEL_ROUTES = ("/v1/completions", "/v1/chat/completions", "/v1/responses")


@dataclass(frozen=True)
class Request:
    """One request as it arrived: the route and the decoded JSON body."""

    method: str
    path: str
    body: dict[str, Any]

    def prompts(self, decode: Callable[[list[int]], str] | None = None) -> list[str | None]:
        """The prompt text(s) of a model request; ``None`` where the request holds no single user text.

        A completions prompt sent as token ids (lm-eval with a tokenizer backend) is text only through ``decode``.
        """
        if self.path == "/v1/completions":
            prompt = self.body.get("prompt")
            if isinstance(prompt, str) or (isinstance(prompt, list) and prompt and isinstance(prompt[0], int)):
                prompt = [prompt]
            return [_text(p, decode) for p in prompt] if isinstance(prompt, list) else [None]
        if self.path == "/v1/chat/completions":
            return [_user_text(self.body.get("messages"))]
        if self.path == "/v1/responses":
            items = self.body.get("input")
            return [items if isinstance(items, str) else _user_text(items)]
        return []


def _text(prompt: Any, decode: Callable[[list[int]], str] | None) -> str | None:
    if isinstance(prompt, str):
        return prompt
    if decode is not None and isinstance(prompt, list) and all(isinstance(t, int) for t in prompt):
        return decode(prompt)
    return None


def _user_text(messages: Any) -> str | None:
    """The text of a message list that is exactly one user message (string content or text parts)."""
    if not isinstance(messages, list) or len(messages) != 1 or not isinstance(messages[0], dict):
        return None
    message = messages[0]
    if message.get("role") != "user":
        return None
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(p, dict) and p.get("type") in ("text", "input_text")
                                         for p in content):
        return "".join(p.get("text", "") for p in content)
    return None


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        pass

    def _send(self, status: int, value: Any) -> None:
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        stub = self.server.stub
        path = self.path.split("?")[0]
        stub.record(Request("GET", path, {}))
        if path == "/v1/models":
            self._send(200, {"object": "list", "data": [{"id": stub.model, "object": "model", "created": 0,
                                                         "owned_by": "lcgen-tests"}]})
        else:
            self._send(404, {"error": {"message": f"no route {path}", "type": "not_found"}})

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        stub = self.server.stub
        path = self.path.split("?")[0]
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"unparsed": raw.decode("utf-8", "replace")}
        request = Request("POST", path, body)
        stub.record(request)
        if path not in MODEL_ROUTES:
            self._send(404, {"error": {"message": f"no route {path}", "type": "not_found"}})
            return
        prompts = request.prompts(stub.decode)
        if any(p in stub.refuse for p in prompts):
            self._send(400, {"error": {"message": "this test server refuses this prompt", "type": "invalid_request"}})
            return
        replies = [stub.reply(p) for p in prompts]
        usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
        if path == "/v1/completions":
            choices = [{"index": i, "text": r, "finish_reason": "stop", "logprobs": None}
                       for i, r in enumerate(replies)]
            self._send(200, {"id": "cmpl-test", "object": "text_completion", "created": 0, "model": stub.model,
                             "choices": choices, "usage": usage})
        elif path == "/v1/chat/completions":
            self._send(200, {"id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": stub.model,
                             "choices": [{"index": 0, "finish_reason": "stop",
                                          "message": {"role": "assistant", "content": replies[0]}}],
                             "usage": usage})
        else:
            self._send(200, {"id": "resp-test", "object": "response", "created_at": 0, "model": stub.model,
                             "status": "completed", "output": [
                                 {"type": "message", "id": "msg-test", "role": "assistant", "status": "completed",
                                  "content": [{"type": "output_text", "text": replies[0], "annotations": []}]}],
                             "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2,
                                       "input_tokens_details": {"cached_tokens": 0},
                                       "output_tokens_details": {"reasoning_tokens": 0}}})


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, stub: OpenAIServer):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.stub = stub


class OpenAIServer:
    """The server and what it saw. ``replies`` maps a prompt's exact text to the reply to send."""

    def __init__(self, replies: dict[str, str], model: str = "test-model",
                 decode: Callable[[list[int]], str] | None = None):
        self.replies = dict(replies)
        self.decode = decode
        self.model = model
        self.refuse: set[str] = set()  # prompts answered with HTTP 400
        self.requests: list[Request] = []
        self.unknown: list[str | None] = []
        self._lock = threading.Lock()
        self._httpd = _HTTPServer(self)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The API base, ``http://127.0.0.1:PORT/v1``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def reply(self, prompt: str | None) -> str:
        if prompt in self.replies:
            return self.replies[prompt]
        with self._lock:
            self.unknown.append(prompt)
        return UNKNOWN

    def model_requests(self) -> list[Request]:
        """The requests to a model route, in arrival order."""
        with self._lock:
            return [r for r in self.requests if r.path in MODEL_ROUTES]

    def start(self) -> OpenAIServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="test-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
