"""The LLM a family's stages ask: an OpenAI-compatible server (``vllm serve`` included) or vllm in-process, behind
one ``Client.complete``, with a disk cache so that a rerun is free and a killed run resumes.

Standard library only at import time; vllm is imported by its backend. The API key comes from the environment and
never appears in an error, a repr, ``identity()`` or the cache: the cache is keyed by backend, model, messages and
sampling, not by the URL, so the same model behind another port is the same cache.
"""

from __future__ import annotations

import hashlib
import http.client
import importlib.util
import json
import math
import os
import queue
import re
import socket
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lcgen.errors import LcgenError, MissingExtraError, ParamError

KEY_VARIABLES = ("LCGEN_LLM_API_KEY", "OPENAI_API_KEY")  # the first one set wins
MAX_WAIT = 30.0  # seconds: the longest pause between two attempts, whatever the backoff or Retry-After says
VLLM_CHUNK = 256  # prompts per vllm batch: big enough to keep a GPU busy, small enough to cache as it goes
_MESSAGE_CHARS = 200  # of a server's error message in ours


@dataclass(frozen=True)
class Sampling:
    """How replies are drawn; part of every cache key, every sample's meta and the card."""

    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 1024
    seed: int = 0

    def __post_init__(self) -> None:
        if not (isinstance(self.temperature, (int, float)) and 0 <= self.temperature < math.inf):
            raise ParamError(f"sampling temperature must be a number >= 0, not {self.temperature!r}")
        if not (isinstance(self.top_p, (int, float)) and 0 < self.top_p <= 1):
            raise ParamError(f"sampling top_p must be in (0, 1], not {self.top_p!r}")
        if not (isinstance(self.max_tokens, int) and self.max_tokens >= 1):
            raise ParamError(f"sampling max_tokens must be an integer >= 1, not {self.max_tokens!r}")
        if not isinstance(self.seed, int):
            raise ParamError(f"sampling seed must be an integer, not {self.seed!r}")

    def to_dict(self) -> dict:
        """Sorted and typed (0 and 0.0 are one temperature), so equal samplings give equal cache keys."""
        return {"max_tokens": int(self.max_tokens), "seed": int(self.seed), "temperature": float(self.temperature),
                "top_p": float(self.top_p)}


class LLMError(LcgenError):
    """The LLM could not answer: unreachable, refusing, failing after every retry, or not speaking the API."""

    exit_code = 1


@dataclass
class Reply:
    """One prompt's reply; ``cached`` when it came from the disk cache and cost nothing."""

    text: str
    cached: bool


def _api_key() -> str | None:
    for name in KEY_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def _scrub(text: str, key: str | None) -> str:
    """``text`` on one line, without the key, nor credentials written into a URL (``http://user:secret@host``)."""
    text = re.sub(r"(://)[^/\s@'\"]+@", r"\1***@", " ".join(text.split()))
    return text.replace(key, "***") if key else text


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def cache_key(key_fields: dict) -> str:
    """The sha256 of the canonical JSON of what decides a reply (surrogates pass, so any ``str`` has a key)."""
    return hashlib.sha256(_canonical(key_fields).encode("utf-8", "surrogatepass")).hexdigest()


class DiskCache:
    """``<root>/<key[:2]>/<key>.json`` holding ``{"key_fields", "reply"}``.

    An entry is written whole to a temporary file beside it and moved into place, so a killed run, two threads or
    two processes writing the same key never leave half an entry; one that cannot be read is a miss.
    """

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str, key_fields: dict) -> str | None:
        try:
            with open(self.path(key), encoding="utf-8") as f:
                entry = json.load(f)
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("key_fields") != key_fields or not isinstance(entry.get("reply"),
                                                                                                    str):
            return None
        return entry["reply"]

    def put(self, key: str, key_fields: dict, reply: str) -> None:
        path = self.path(key)
        data = json.dumps({"key_fields": key_fields, "reply": reply}, sort_keys=True)  # ASCII: any str round-trips
        tmp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
            tmp = None
        except OSError as e:
            raise LLMError(f"--llm: cannot write the reply cache at {self.root}: {e.strerror or e}") from None
        finally:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass


class _Cancelled(Exception):
    """A worker stopped because another prompt failed or the caller was interrupted."""


class Client:
    """The one interface stages use: ``complete`` a list of prompts, each sent as one user message."""

    backend: str

    def __init__(self, model: str, sampling: Sampling, cache_dir: Path | None):
        self.model = model
        self.sampling = sampling
        self.cache = DiskCache(cache_dir) if cache_dir is not None else None
        self._stats = {"requests": 0, "cache_hits": 0, "retries": 0}
        self._stats_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r}, sampling={self.sampling!r})"

    def identity(self) -> dict:
        """What decides the replies, for the card and each sample's meta: no URL, no key."""
        return {"backend": self.backend, "model": self.model, "sampling": self.sampling.to_dict()}

    @property
    def stats(self) -> dict:
        """A snapshot of the counters: ``requests`` sent (each attempt), ``cache_hits``, ``retries``."""
        with self._stats_lock:
            return dict(self._stats)

    def _count(self, name: str, n: int = 1) -> None:
        with self._stats_lock:
            self._stats[name] += n

    def key_fields(self, prompt: str) -> dict:
        return {"backend": self.backend, "model": self.model, "messages": [{"role": "user", "content": prompt}],
                "sampling": self.sampling.to_dict()}

    def complete(self, prompts: list[str], progress: Callable[[int], None] | None = None) -> list[Reply]:
        """One reply per prompt, in order. Every prompt is looked up in the cache first and only the misses are
        sent (each distinct one once); each reply is cached as it arrives. ``progress(n)`` hears of ``n`` more."""
        if isinstance(prompts, str) or not all(isinstance(p, str) for p in prompts):
            raise TypeError("complete() takes a list of prompt strings")
        replies: list[Reply | None] = [None] * len(prompts)
        waiting: dict[str, list[int]] = {}  # a missed prompt -> where its reply goes
        for i, prompt in enumerate(prompts):
            fields = self.key_fields(prompt)
            text = self.cache.get(cache_key(fields), fields) if self.cache is not None else None
            if text is None:
                waiting.setdefault(prompt, []).append(i)
            else:
                replies[i] = Reply(text, cached=True)
        hits = len(prompts) - sum(len(where) for where in waiting.values())
        self._count("cache_hits", hits)
        if hits and progress is not None:
            progress(hits)

        def arrived(prompt: str, text: str) -> None:
            for i in waiting[prompt]:
                replies[i] = Reply(text, cached=False)
            if progress is not None:
                progress(len(waiting[prompt]))

        if waiting:
            self._generate(list(waiting), arrived)
        return replies  # type: ignore[return-value]  # every slot is filled

    def _store(self, prompt: str, text: str) -> None:
        if self.cache is not None:
            fields = self.key_fields(prompt)
            self.cache.put(cache_key(fields), fields, text)

    def _generate(self, prompts: list[str], arrived: Callable[[str, str], None]) -> None:
        """Answer every prompt, caching each reply and then calling ``arrived(prompt, text)`` on this thread."""
        raise NotImplementedError


class OpenAIClient(Client):
    """Any OpenAI-compatible ``/chat/completions``: at most ``concurrency`` requests in flight, retried with
    exponential backoff on 429, 5xx, timeouts, resets and refused connections (a server that is starting)."""

    backend = "openai"

    def __init__(self, url: str, model: str, sampling: Sampling = Sampling(), *, cache_dir: Path | None = None,
                 concurrency: int = 8, timeout: float = 120.0, retries: int = 5, backoff: float = 1.0):
        super().__init__(model, sampling, cache_dir)
        self.url = url.rstrip("/")
        self.concurrency = concurrency
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._opener = urllib.request.build_opener()

    def __repr__(self) -> str:
        return f"OpenAIClient(url={self.url!r}, model={self.model!r}, sampling={self.sampling!r})"

    def _generate(self, prompts: list[str], arrived: Callable[[str, str], None]) -> None:
        """Daemon worker threads, so an interrupted run exits at once instead of waiting out slow requests."""
        todo: queue.SimpleQueue[str] = queue.SimpleQueue()
        for prompt in prompts:
            todo.put(prompt)
        done: queue.SimpleQueue[tuple[str, str | None, BaseException | None]] = queue.SimpleQueue()
        stop = threading.Event()
        key = _api_key()

        def work() -> None:
            while not stop.is_set():
                try:
                    prompt = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    text = self._ask(prompt, key, stop)
                    self._store(prompt, text)
                except BaseException as e:  # handed to the calling thread, which raises it
                    done.put((prompt, None, e))
                    return
                done.put((prompt, text, None))

        for n in range(min(self.concurrency, len(prompts))):
            threading.Thread(target=work, name=f"lcgen-llm-{n}", daemon=True).start()
        try:
            for _ in prompts:
                while True:
                    try:
                        prompt, text, error = done.get(timeout=0.2)  # short waits: Ctrl-C is seen at once
                        break
                    except queue.Empty:
                        continue
                if error is not None:
                    raise error
                arrived(prompt, text)  # type: ignore[arg-type]  # set when there is no error
        finally:
            stop.set()  # the other workers take no new prompt and leave their backoff sleep

    def _ask(self, prompt: str, key: str | None, stop: threading.Event) -> str:
        """One prompt's reply, retried; the last failure as one ``LLMError`` line naming the URL."""
        body = json.dumps({"model": self.model, "messages": [{"role": "user", "content": prompt}],
                           "temperature": self.sampling.temperature, "top_p": self.sampling.top_p,
                           "max_tokens": self.sampling.max_tokens, "seed": self.sampling.seed}).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        failure = ""
        for attempt in range(self.retries + 1):
            if stop.is_set():
                raise _Cancelled()
            if attempt:
                self._count("retries")
            self._count("requests")
            retry_after = None
            request = urllib.request.Request(f"{self.url}/chat/completions", data=body, headers=headers,
                                             method="POST")
            try:
                with self._opener.open(request, timeout=self.timeout) as response:
                    raw = response.read()
            except urllib.error.HTTPError as e:
                status, message, retry_after = e.code, _error_message(e), e.headers.get("Retry-After")
                e.close()
                if status in (401, 403):
                    raise LLMError(self._line(f"the server at {self.url} refused the request (HTTP {status}); "
                                              f"check {' or '.join(reversed(KEY_VARIABLES))}", key)) from None
                if status != 429 and status < 500:
                    raise LLMError(self._line(f"{self.url} gave HTTP {status}: {message or e.reason}", key)) from None
                failure = f"{self.url} gave HTTP {status}"
            except (OSError, http.client.HTTPException) as e:
                cause = _transient(e)
                if cause == "refused":
                    failure = f"cannot reach {self.url} (connection refused)"
                elif cause == "timeout":
                    failure = f"{self.url} did not answer within {self.timeout:g} s"
                elif cause == "reset":
                    failure = f"{self.url} dropped the connection"
                else:
                    reason = getattr(e, "reason", None) or e
                    raise LLMError(self._line(f"cannot reach {self.url} ({reason})", key)) from None
            else:
                return self._text(raw, key)
            if attempt < self.retries and stop.wait(_wait(self.backoff, attempt, retry_after)):
                raise _Cancelled()
        attempts = self.retries + 1
        raise LLMError(self._line(f"{failure} after {attempts} attempt{'s' if attempts > 1 else ''}", key))

    def _line(self, message: str, key: str | None) -> str:
        return _scrub(f"--llm: {message}", key)

    def _text(self, raw: bytes, key: str | None) -> str:
        """``choices[0].message.content`` of a 200's body; a null or absent content is an empty reply."""
        try:
            message = json.loads(raw)["choices"][0]["message"]
            content = message.get("content")
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            content = 0  # not None, not a str: refused below
        if content is None:
            return ""
        if not isinstance(content, str):
            raise LLMError(self._line(f"{self.url} did not answer like an OpenAI-compatible server "
                                      f"(no choices[0].message.content in: {_clip(raw)})", key))
        return content


def _clip(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    return text if len(text) <= _MESSAGE_CHARS else text[:_MESSAGE_CHARS] + "..."


def _error_message(e: urllib.error.HTTPError) -> str:
    """The server's own words: an OpenAI-style ``error.message``, else the body, clipped."""
    try:
        raw = e.read()
    except (OSError, http.client.HTTPException):
        return ""
    try:
        value = json.loads(raw)
        error = value.get("error", value) if isinstance(value, dict) else value
        message = error.get("message") if isinstance(error, dict) else error
        if isinstance(message, str) and message.strip():
            raw = message.encode()
    except ValueError:
        pass
    return _clip(raw)


def _transient(e: BaseException) -> str | None:
    """``"timeout"``, ``"refused"`` or ``"reset"`` for a failure worth retrying; ``None`` for the rest."""
    reason = e.reason if isinstance(e, urllib.error.URLError) else e
    if isinstance(reason, (TimeoutError, socket.timeout)) or (isinstance(reason, str) and "timed out" in reason):
        return "timeout"
    if isinstance(reason, ConnectionRefusedError):
        return "refused"
    if isinstance(reason, (ConnectionError, http.client.IncompleteRead, http.client.RemoteDisconnected)):
        return "reset"
    return None


def _wait(backoff: float, attempt: int, retry_after: str | None) -> float:
    """Seconds before the next attempt: ``backoff * 2**attempt``, or longer if the server's ``Retry-After`` says so;
    never more than ``MAX_WAIT``. An HTTP-date ``Retry-After`` is ignored."""
    wait = backoff * 2 ** min(attempt, 32)
    try:
        asked = float(retry_after) if retry_after is not None else 0.0
    except ValueError:
        asked = 0.0
    if not math.isnan(asked):
        wait = max(wait, asked)
    return max(0.0, min(wait, MAX_WAIT))


class VLLMClient(Client):
    """vllm in this process: ``vllm.LLM`` is made on the first ``complete`` (loading weights takes minutes)."""

    backend = "vllm"

    def __init__(self, model: str, sampling: Sampling = Sampling(), *, cache_dir: Path | None = None):
        super().__init__(model, sampling, cache_dir)
        self._llm: Any = None
        self._lock = threading.Lock()

    def _engine(self) -> tuple[Any, Any]:
        try:
            import vllm
        except ImportError:
            raise _no_vllm(self.model) from None
        with self._lock:
            if self._llm is None:
                self._llm = vllm.LLM(model=self.model, seed=self.sampling.seed)
        return self._llm, vllm

    def _generate(self, prompts: list[str], arrived: Callable[[str, str], None]) -> None:
        llm, vllm = self._engine()
        s = self.sampling
        params = vllm.SamplingParams(temperature=s.temperature, top_p=s.top_p, max_tokens=s.max_tokens, seed=s.seed)
        for start in range(0, len(prompts), VLLM_CHUNK):
            chunk = prompts[start:start + VLLM_CHUNK]
            self._count("requests", len(chunk))
            outputs = llm.chat([[{"role": "user", "content": p}] for p in chunk], params, use_tqdm=False)
            for prompt, out in zip(chunk, outputs, strict=True):
                text = out.outputs[0].text
                self._store(prompt, text)
                arrived(prompt, text)


def _no_vllm(model: str) -> MissingExtraError:
    return MissingExtraError(f"--llm vllm:{model}: vllm is not installed (pip install 'lcgen[vllm]')")


def parse_llm(spec: str, *, cache_dir: Path | None, concurrency: int = 8, timeout: float = 120.0, retries: int = 5,
              backoff: float = 1.0, sampling: Sampling = Sampling()) -> Client | None:
    """``--llm``: ``none`` (no client), ``openai:URL#MODEL`` or ``vllm:MODEL``. ``cache_dir`` None: no disk cache."""
    key = _api_key()
    if not (isinstance(concurrency, int) and concurrency >= 1):
        raise ParamError(f"--llm: the concurrency must be an integer >= 1, not {concurrency!r}")
    if not (isinstance(timeout, (int, float)) and 0 < timeout < math.inf):
        raise ParamError(f"--llm: the timeout must be a number of seconds > 0, not {timeout!r}")
    if not (isinstance(retries, int) and retries >= 0):
        raise ParamError(f"--llm: the retries must be an integer >= 0, not {retries!r}")
    if not (isinstance(backoff, (int, float)) and 0 <= backoff < math.inf):
        raise ParamError(f"--llm: the backoff must be a number of seconds >= 0, not {backoff!r}")
    shape = ParamError(_scrub(f"--llm: {spec!r} is not openai:URL#MODEL, vllm:MODEL or none", key))
    if spec == "none":
        return None
    backend, colon, rest = spec.partition(":")
    if not colon:
        raise shape
    if backend == "vllm":
        if not rest.strip():
            raise shape
        if importlib.util.find_spec("vllm") is None:
            raise _no_vllm(rest)
        return VLLMClient(rest, sampling, cache_dir=cache_dir)
    if backend != "openai":
        raise shape
    url, hash_, model = rest.partition("#")
    if not url:
        raise shape
    if not hash_ or not model.strip():
        raise ParamError(_scrub(f"--llm: {spec!r} names no model: write openai:URL#MODEL", key))
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        parts = None
    if parts is not None and (parts.username or parts.password):
        raise ParamError("--llm: the URL holds credentials; put the key in LCGEN_LLM_API_KEY or OPENAI_API_KEY")
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise ParamError(_scrub(f"--llm: {url!r} is not an http:// or https:// URL with a host "
                                "(like http://127.0.0.1:8000/v1)", key))
    return OpenAIClient(url, model, sampling, cache_dir=cache_dir, concurrency=concurrency, timeout=timeout,
                        retries=retries, backoff=backoff)
