"""``lcgen.llm`` against the local OpenAI-compatible test server (127.0.0.1 only): what a request carries, the disk
cache (hits cost no request, the URL is not part of the key, a corrupt entry is a miss), retries on 429, 5xx,
timeouts and refused connections, one-line errors that name the URL and never the API key, bounded concurrency,
and ``--llm`` parsing. Timeouts and backoffs are a few hundredths of a second, so the file runs in seconds."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import threading
import time
import traceback
from pathlib import Path

import pytest

from lcgen.errors import LcgenError, MissingExtraError, ParamError
from lcgen.llm import MAX_WAIT, DiskCache, LLMError, OpenAIClient, Reply, Sampling, _wait, cache_key, parse_llm
from lcgen.tests.openai_server import Fault, OpenAIServer

MODEL = "test-model"
KEY = "sk-lcgen-test-Zq81xVw-never-print-me"
FAST = {"timeout": 2.0, "retries": 3, "backoff": 0.01}


@pytest.fixture(autouse=True)
def no_key(monkeypatch):
    """No key from the developer's environment reaches the test server or the assertions."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("LCGEN_LLM_API_KEY", raising=False)


def client(url: str, cache: Path | None = None, **kw) -> OpenAIClient:
    llm = parse_llm(f"openai:{url}#{MODEL}", cache_dir=cache, **{**FAST, **kw})
    assert isinstance(llm, OpenAIClient)
    return llm


def echo(prompt: str, arrivals: int) -> str:
    return f"reply to {prompt}"


def faults(*first: Fault):
    """A ``respond`` that answers a prompt's first arrivals with these faults, then with ``echo``."""
    return lambda prompt, n: first[n - 1] if n <= len(first) else echo(prompt, n)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_line(e: BaseException) -> str:
    text = str(e)
    assert "\n" not in text and text.startswith("--llm")
    return text


def test_a_round_trip_sends_one_user_message_with_the_sampling(tmp_path):
    sampling = Sampling(temperature=0, top_p=0.5, max_tokens=77, seed=13)
    with OpenAIServer({"What is 2+2?": "4"}, respond=echo) as srv:
        llm = parse_llm(f"openai:{srv.url}/#{MODEL}", cache_dir=tmp_path, sampling=sampling, **FAST)
        seen: list[int] = []
        replies = llm.complete(["What is 2+2?", "Say hi", "What is 2+2?"], progress=seen.append)
        assert replies == [Reply("4", False), Reply("reply to Say hi", False), Reply("4", False)]
        assert sum(seen) == 3
        bodies = sorted((r.body for r in srv.model_requests()), key=lambda b: b["messages"][0]["content"])
        assert [r.path for r in srv.model_requests()] == ["/v1/chat/completions"] * 2  # a repeated prompt goes once
    assert bodies[0] == {"model": MODEL, "messages": [{"role": "user", "content": "Say hi"}], "temperature": 0.0,
                         "top_p": 0.5, "max_tokens": 77, "seed": 13}
    assert llm.identity() == {"backend": "openai", "model": MODEL,
                              "sampling": {"max_tokens": 77, "seed": 13, "temperature": 0.0, "top_p": 0.5}}
    assert list(llm.identity()["sampling"]) == sorted(sampling.to_dict())
    assert llm.stats == {"requests": 2, "cache_hits": 0, "retries": 0}
    assert llm.complete([]) == []


def test_a_cache_hit_sends_nothing_and_gives_the_same_text(tmp_path):
    with OpenAIServer({}, respond=echo) as srv:
        first = client(srv.url, tmp_path).complete(["a", "b"])
        again = client(srv.url, tmp_path)
        seen: list[int] = []
        replies = again.complete(["b", "c", "a"], progress=seen.append)
        assert len(srv.model_requests()) == 3  # a, b, then only c
    assert [r.text for r in replies] == ["reply to b", "reply to c", "reply to a"]
    assert [r.cached for r in replies] == [True, False, True] and not any(r.cached for r in first)
    assert seen == [2, 1] and again.stats == {"requests": 1, "cache_hits": 2, "retries": 0}
    entries = sorted(tmp_path.glob("*/*.json"))
    assert len(entries) == 3 and not list(tmp_path.rglob("*.tmp"))
    entry = json.loads(entries[0].read_text())
    assert entries[0].name == f"{cache_key(entry['key_fields'])}.json" and entries[0].parent.name == entries[0].name[:2]
    assert entry["key_fields"]["messages"][0]["role"] == "user" and entry["reply"].startswith("reply to ")


def test_the_cache_key_is_the_model_and_sampling_not_the_url(tmp_path):
    with OpenAIServer({}, respond=echo) as one:
        client(one.url, tmp_path).complete(["p"])
    with OpenAIServer({}, respond=lambda p, n: "another server") as other:
        assert client(other.url, tmp_path).complete(["p"]) == [Reply("reply to p", True)]
        assert other.model_requests() == []
        warmer = parse_llm(f"openai:{other.url}#{MODEL}", cache_dir=tmp_path, sampling=Sampling(temperature=0.5),
                           **FAST)
        assert warmer.complete(["p"]) == [Reply("another server", False)]
        renamed = parse_llm(f"openai:{other.url}#other-model", cache_dir=tmp_path, **FAST)
        assert renamed.complete(["p"]) == [Reply("another server", False)]
    assert Sampling(temperature=0).to_dict() == Sampling(temperature=0.0).to_dict()  # one key for 0 and 0.0


def test_a_corrupt_cache_entry_is_a_miss_and_is_rewritten(tmp_path):
    with OpenAIServer({}, respond=echo) as srv:
        client(srv.url, tmp_path).complete(["p", "q"])
        [first, second] = sorted(tmp_path.glob("*/*.json"))
        first.write_text('{"key_fields": {"trunc')
        second.write_text(json.dumps({"key_fields": {"someone": "else"}, "reply": "wrong"}))
        replies = client(srv.url, tmp_path).complete(["p", "q"])
        assert len(srv.model_requests()) == 4
    assert [r.text for r in replies] == ["reply to p", "reply to q"] and not any(r.cached for r in replies)
    assert {json.loads(f.read_text())["reply"] for f in (first, second)} == {"reply to p", "reply to q"}


def test_cache_writers_on_one_key_never_leave_half_an_entry(tmp_path):
    cache = DiskCache(tmp_path)
    fields = {"backend": "openai", "model": "m", "messages": [], "sampling": {}}
    key = cache_key(fields)
    seen: set[str | None] = set()

    def write(n: int) -> None:
        for i in range(40):
            cache.put(key, fields, f"writer {n} " * 500 + str(i))

    def read() -> None:
        for _ in range(200):
            seen.add(cache.get(key, fields))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)] + [threading.Thread(target=read)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(s is None or s.startswith("writer ") and s.split()[-1].isdigit() for s in seen)
    assert cache.get(key, fields).startswith("writer ")
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted([key[:2], f"{key}.json"])  # no temporary file left


def test_429_then_success_is_retried_and_counted():
    with OpenAIServer({}, respond=faults(Fault(429), Fault(429))) as srv:
        llm = client(srv.url)
        assert llm.complete(["p"]) == [Reply("reply to p", False)]
        assert srv.arrivals == {"p": 3}
    assert llm.stats == {"requests": 3, "cache_hits": 0, "retries": 2}


def test_503_twice_then_success():
    with OpenAIServer({}, respond=faults(Fault(503), Fault(503))) as srv:
        llm = client(srv.url, retries=2)
        assert llm.complete(["p", "q"]) == [Reply("reply to p", False), Reply("reply to q", False)]
        assert srv.arrivals == {"p": 3, "q": 3}
    assert llm.stats["retries"] == 4


def test_a_timeout_then_success():
    with OpenAIServer({}, respond=faults(Fault(delay=1.0))) as srv:
        llm = client(srv.url, timeout=0.2)
        start = time.monotonic()
        assert llm.complete(["slow"]) == [Reply("reply to slow", False)]
        assert 0.2 <= time.monotonic() - start < 0.9
    assert llm.stats["retries"] == 1


def test_retry_after_is_honoured_and_capped():
    with OpenAIServer({}, respond=faults(Fault(429, retry_after="0.4"))) as srv:
        start = time.monotonic()
        assert client(srv.url, backoff=0.001).complete(["p"]) == [Reply("reply to p", False)]
        assert time.monotonic() - start >= 0.4
    assert _wait(0.01, 0, "1000") == MAX_WAIT and _wait(1.0, 10, None) == MAX_WAIT and _wait(1.0, 3, None) == 8
    assert _wait(0.5, 1, "Wed, 21 Oct 2015 07:28:00 GMT") == 1.0 and _wait(0.5, 0, "nan") == 0.5


def test_exhausted_retries_raise_one_line_naming_the_url(tmp_path):
    with OpenAIServer({"fine": "ok"}, respond=lambda p, n: Fault(503)) as srv:
        llm = client(srv.url, tmp_path, retries=2, concurrency=1)
        with pytest.raises(LLMError) as caught:
            llm.complete(["fine", "broken"])
        assert srv.arrivals["broken"] == 3
    assert one_line(caught.value) == f"--llm: {srv.url} gave HTTP 503 after 3 attempts"
    assert isinstance(caught.value, LcgenError) and caught.value.exit_code == 1
    assert client(srv.url, tmp_path).complete(["fine"]) == [Reply("ok", True)]  # what came back stays cached


def test_one_prompt_failing_for_good_cancels_the_rest(tmp_path):
    def respond(prompt: str, n: int) -> str | Fault:
        if prompt == "bad":
            return Fault(400, body="this prompt is malformed")
        time.sleep(0.1)
        return echo(prompt, n)

    prompts = ["bad"] + [f"p{i}" for i in range(20)]
    with OpenAIServer({}, respond=respond) as srv:
        start = time.monotonic()
        with pytest.raises(LLMError) as caught:
            client(srv.url, tmp_path, concurrency=2).complete(prompts)
        assert time.monotonic() - start < 0.5
        time.sleep(0.15)  # the request in flight when it failed finishes and is cached
        sent = len(srv.model_requests())
        assert sent < 5
        replies = client(srv.url, tmp_path).complete(prompts[1:])  # a rerun sends only what is missing
        assert len(srv.model_requests()) == sent + 20 - sum(r.cached for r in replies)
    assert one_line(caught.value) == f"--llm: {srv.url} gave HTTP 400: this prompt is malformed"
    assert 1 <= sum(r.cached for r in replies) and [r.text for r in replies] == [f"reply to p{i}" for i in range(20)]


def test_other_client_errors_and_malformed_answers_are_one_line_without_retry(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    answers = {"long": Fault(422, body=f"bad key {KEY}! " + "x" * 500), "text": Fault(body="<html>oops</html>"),
               "empty": Fault(body=json.dumps({"choices": []})),
               "null": Fault(body=json.dumps({"choices": [{"message": {"role": "assistant", "content": None}}]}))}
    with OpenAIServer({}, respond=lambda p, n: answers[p]) as srv:
        llm = client(srv.url)
        with pytest.raises(LLMError) as long:
            llm.complete(["long"])
        for prompt in ("text", "empty"):
            with pytest.raises(LLMError) as malformed:
                llm.complete([prompt])
            assert "did not answer like an OpenAI-compatible server" in one_line(malformed.value)
        assert llm.complete(["null"]) == [Reply("", False)]
        assert srv.arrivals == {"long": 1, "text": 1, "empty": 1, "null": 1}
    message = one_line(long.value)
    assert message.startswith(f"--llm: {srv.url} gave HTTP 422: bad key ***! xxx") and KEY not in message
    assert len(message) < 300 and llm.stats["retries"] == 0


def test_a_refused_connection_is_retried_then_cannot_reach():
    url = f"http://127.0.0.1:{closed_port()}/v1"
    llm = client(url, retries=2, backoff=0.05)
    start = time.monotonic()
    with pytest.raises(LLMError) as caught:
        llm.complete(["p"])
    assert time.monotonic() - start < 2
    assert one_line(caught.value) == f"--llm: cannot reach {url} (connection refused) after 3 attempts"
    assert llm.stats == {"requests": 3, "cache_hits": 0, "retries": 2}


def test_the_api_key_is_sent_and_never_shown(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    refuse = {"who": Fault(401, body=f"Incorrect API key provided: {KEY}")}
    with OpenAIServer({}, respond=lambda p, n: refuse.get(p) or echo(p, n)) as srv:
        llm = client(srv.url, tmp_path)
        assert llm.complete(["hello"]) == [Reply("reply to hello", False)]
        with pytest.raises(LLMError) as caught:
            llm.complete(["who"])
        assert srv.arrivals["who"] == 1  # 401 is not retried
        assert {r.headers["authorization"] for r in srv.model_requests()} == {f"Bearer {KEY}"}
        monkeypatch.setenv("LCGEN_LLM_API_KEY", "sk-the-lcgen-one")
        client(srv.url).complete(["hello"])
        assert srv.model_requests()[-1].headers["authorization"] == "Bearer sk-the-lcgen-one"
        monkeypatch.delenv("LCGEN_LLM_API_KEY")
        monkeypatch.delenv("OPENAI_API_KEY")
        client(srv.url).complete(["hello"])
        assert "authorization" not in srv.model_requests()[-1].headers
    message = one_line(caught.value)
    assert message == f"--llm: the server at {srv.url} refused the request (HTTP 401); check OPENAI_API_KEY or " \
                      "LCGEN_LLM_API_KEY"
    shown = [message, repr(caught.value), "".join(traceback.format_exception(caught.value)), repr(llm),
             json.dumps(llm.identity()), json.dumps(llm.stats)]
    shown += [p.read_text() for p in tmp_path.rglob("*") if p.is_file()]
    assert not [s for s in shown if KEY in s]
    with pytest.raises(ParamError) as bad:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        parse_llm(f"openai:http://{KEY}", cache_dir=None)
    assert KEY not in str(bad.value)


def test_concurrency_is_bounded():
    def slow(prompt: str, n: int) -> str:
        time.sleep(0.05)
        return prompt.upper()

    prompts = [f"p{i}" for i in range(15)]
    with OpenAIServer({}, respond=slow) as srv:
        seen: list[int] = []
        replies = client(srv.url, concurrency=3).complete(prompts, progress=seen.append)
        assert 2 <= srv.max_in_flight <= 3
    assert [r.text for r in replies] == [p.upper() for p in prompts] and seen == [1] * 15


def test_an_interrupt_propagates_without_waiting_for_slow_requests():
    def respond(prompt: str, n: int) -> str | Fault:
        return "quick" if prompt == "quick" else Fault(delay=3.0)

    def interrupt(n: int) -> None:
        raise KeyboardInterrupt

    with OpenAIServer({}, respond=respond) as srv:
        start = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            client(srv.url, timeout=5.0, concurrency=4).complete(["quick", "slow1", "slow2", "slow3"],
                                                                 progress=interrupt)
        assert time.monotonic() - start < 1.0


NOT_A_URL = "is not an http:// or https:// URL with a host (like http://127.0.0.1:8000/v1)"


@pytest.mark.parametrize("spec, message", [
    ("foo", "--llm: 'foo' is not openai:URL#MODEL, vllm:MODEL or none"),
    ("openai:", "--llm: 'openai:' is not openai:URL#MODEL, vllm:MODEL or none"),
    ("vllm:", "--llm: 'vllm:' is not openai:URL#MODEL, vllm:MODEL or none"),
    ("gpt:4", "--llm: 'gpt:4' is not openai:URL#MODEL, vllm:MODEL or none"),
    ("openai:http://x/v1", "--llm: 'openai:http://x/v1' names no model: write openai:URL#MODEL"),
    ("openai:http://x/v1#", "--llm: 'openai:http://x/v1#' names no model: write openai:URL#MODEL"),
    ("openai:ftp://x#m", "--llm: 'ftp://x' " + NOT_A_URL),
    ("openai:http://#m", "--llm: 'http://' " + NOT_A_URL),
    ("openai:http://x:port/v1#m", "--llm: 'http://x:port/v1' " + NOT_A_URL),
    ("openai:127.0.0.1:8000/v1#m", "--llm: '127.0.0.1:8000/v1' " + NOT_A_URL),
])
def test_parse_llm_refuses_malformed_specs_in_one_line(spec, message):
    with pytest.raises(ParamError) as caught:
        parse_llm(spec, cache_dir=None)
    assert str(caught.value) == message and caught.value.exit_code == 2


def test_parse_llm_none_and_openai():
    assert parse_llm("none", cache_dir=None) is None
    llm = parse_llm("openai:https://api.example.com/v1/#org/model-7b", cache_dir=None, concurrency=2)
    assert (llm.backend, llm.url, llm.model, llm.concurrency, llm.cache) == ("openai", "https://api.example.com/v1",
                                                                             "org/model-7b", 2, None)
    for bad in ({"concurrency": 0}, {"timeout": 0}, {"retries": -1}, {"backoff": -1.0}):
        with pytest.raises(ParamError):
            parse_llm("none", cache_dir=None, **bad)
    with pytest.raises(ParamError):
        Sampling(top_p=0)


def test_vllm_without_vllm_is_a_missing_extra(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "vllm" else real(name, *a))
    with pytest.raises(MissingExtraError) as caught:
        parse_llm("vllm:x", cache_dir=None)
    assert str(caught.value) == "--llm vllm:x: vllm is not installed (pip install 'lcgen[vllm]')"


def test_vllm_round_trip(tmp_path):
    pytest.importorskip("vllm", reason="vllm is not installed (no GPU or weights here)")
    model = os.environ.get("LCGEN_TEST_VLLM_MODEL")
    if not model:
        pytest.skip("set LCGEN_TEST_VLLM_MODEL to a small local model to run vllm (the suite downloads no weights)")
    llm = parse_llm(f"vllm:{model}", cache_dir=tmp_path, sampling=Sampling(max_tokens=8))
    replies = llm.complete(["Say hi.", "Count to three.", "Say hi."])
    assert replies[0] == replies[2] and not any(r.cached for r in replies) and llm.stats["requests"] == 2
    assert [r.text for r in llm.complete(["Say hi.", "Count to three."])] == [r.text for r in replies[:2]]
    assert llm.stats["cache_hits"] == 2


def test_credentials_in_the_url_are_refused_and_never_echoed():
    for spec in ("openai:http://bob:s3cret@127.0.0.1:9/v1#m", "openai:https://s3cret@example.org/v1#m",
                 "opneai:http://bob:s3cret@127.0.0.1:9/v1#m"):
        with pytest.raises(ParamError) as info:
            parse_llm(spec, cache_dir=None)
        assert "s3cret" not in str(info.value)
