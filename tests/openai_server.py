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

A ``respond(prompt, arrivals)`` hook answers prompts that are not in the table (``arrivals`` is 1 the first time that
exact prompt arrives), with a text or a ``Fault`` — a delay, an HTTP error, a malformed body — so a client's retries,
timeouts and error messages can be tested; ``max_in_flight`` records the most model requests being answered at once.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

UNKNOWN = "(this prompt is not in the test server's table)"
MODEL_ROUTES = ("/v1/completions", "/v1/chat/completions", "/v1/responses")


@dataclass(frozen=True)
class Fault:
    """What ``respond`` returns to misbehave instead of answering a prompt.

    ``delay``: sleep that long first (a client's timeout). ``status`` (non-zero): answer with that HTTP status and an
    OpenAI-style error JSON whose message is ``body`` (or a stock one), with ``Retry-After`` when given. No status:
    HTTP 200 with ``body`` sent raw (malformed server JSON), or with no body a normal, empty reply.
    """

    status: int = 0
    delay: float = 0.0
    retry_after: str | None = None
    body: str | None = None


@dataclass(frozen=True)
class Request:
    """One request as it arrived: the route, the decoded JSON body and the headers (names in lower case)."""

    method: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

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

    def _send(self, status: int, value: Any, headers: dict[str, str] | None = None) -> None:
        data = value.encode() if isinstance(value, str) else json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, header in (headers or {}).items():
            self.send_header(name, header)
        self.end_headers()
        self.wfile.write(data)

    def _headers(self) -> dict[str, str]:
        return {name.lower(): value for name, value in self.headers.items()}

    def _fault(self, fault: Fault) -> bool:
        """Act out ``fault``; ``False`` when what is left to send is a normal (empty) reply."""
        if fault.delay:
            time.sleep(fault.delay)
        if fault.status:
            kind = "rate_limit_exceeded" if fault.status == 429 else "test_fault"
            message = fault.body if fault.body is not None else f"this test server answers HTTP {fault.status}"
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
            self._send(fault.status, {"error": {"message": message, "type": kind, "code": fault.status}}, headers)
            return True
        if fault.body is not None:
            self._send(200, fault.body)
            return True
        return False

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        stub = self.server.stub
        path = self.path.split("?")[0]
        stub.record(Request("GET", path, {}, self._headers()))
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
        request = Request("POST", path, body, self._headers())
        stub.record(request)
        if path not in MODEL_ROUTES:
            self._send(404, {"error": {"message": f"no route {path}", "type": "not_found"}})
            return
        self._answer(request)

    def _answer(self, request: Request) -> None:
        stub = self.server.stub
        path = request.path
        prompts = request.prompts(stub.decode)
        if any(p in stub.refuse for p in prompts):
            self._send(400, {"error": {"message": "this test server refuses this prompt", "type": "invalid_request"}})
            return
        stub.enter()  # counted while the answers are made (not while they are sent: the client may already be back)
        try:
            answers = [stub.answer(p) for p in prompts]
        finally:
            stub.leave()
        fault = next((a for a in answers if isinstance(a, Fault)), None)  # one fault is the whole request's fate
        if fault is not None and self._fault(fault):
            return
        replies = [a if isinstance(a, str) else "" for a in answers]
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

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet about clients that hung up (a client that timed out on a delayed answer); loud about the rest."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class OpenAIServer:
    """The server and what it saw. ``replies`` maps a prompt's exact text to the reply to send; ``respond`` answers
    the other prompts, given the prompt and how many times it has arrived (1 the first time)."""

    def __init__(self, replies: dict[str, str], model: str = "test-model",
                 decode: Callable[[list[int]], str] | None = None,
                 respond: Callable[[str, int], str | Fault] | None = None):
        self.replies = dict(replies)
        self.decode = decode
        self.model = model
        self.respond = respond
        self.refuse: set[str] = set()  # prompts answered with HTTP 400
        self.requests: list[Request] = []
        self.unknown: list[str | None] = []
        self.arrivals: dict[str, int] = {}  # how many times each prompt arrived at a model route (not in refuse)
        self.in_flight = 0  # model requests being answered now
        self.max_in_flight = 0
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

    def enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def answer(self, prompt: str | None) -> str | Fault:
        """The table's reply, else ``respond``'s, else ``UNKNOWN``; counts the prompt's arrival."""
        if prompt is not None:
            with self._lock:
                arrivals = self.arrivals[prompt] = self.arrivals.get(prompt, 0) + 1
            if prompt not in self.replies and self.respond is not None:
                return self.respond(prompt, arrivals)
        return self.reply(prompt)

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
        # a short poll interval: stop() returns in a few milliseconds rather than half a second
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="test-openai", daemon=True)
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
