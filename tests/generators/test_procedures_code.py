"""procedures/pseudocode_to_code: exact samples the oracle re-derives, the sandboxed metric's scores on known
replies, the oracle catching edited inputs, and malicious replies contained (each scoring 0)."""

from __future__ import annotations

import functools
import json
import socket
import uuid

import pytest

from lcgen.errors import ParamError
from lcgen.generators._proc_common import tolerance
from lcgen.validate import check_row
from lcgen.validators.metrics import _proc_code as code_metric
from lcgen.validators.metrics.procedures import explain, score_reply
from tests.generators.rows import make_row

V = "pseudocode_to_code"


@pytest.fixture(autouse=True)
def short_timeout(monkeypatch):
    monkeypatch.setattr(code_metric, "code_timeout_seconds", 2.0)


@functools.lru_cache(maxsize=None)
def _row(length: int, output_len: int, seed: int = 0, **knobs) -> dict:
    return make_row("procedures", V, length, 0.0, 0, seed, output_len=output_len, **knobs)


def row(length: int = 6000, output_len: int = 2000, seed: int = 0, **knobs) -> dict:
    return json.loads(json.dumps(_row(length, output_len, seed, **knobs)))


def fenced(code: str) -> str:
    return f"```python\n{code}\n```"


def judge(reply: str, r: dict) -> tuple[dict, str]:
    return score_reply(reply, r["answer"], r["answers"], V), explain(reply, r["answer"], r["answers"], V)


@pytest.mark.parametrize("length, output_len", [(6000, 2000), (8000, 500), (4000, 1000)])
def test_samples_are_exact_and_validate(length, output_len):
    r = row(length, output_len, seed=3)
    meta = json.loads(r["meta"])
    assert r["length"] == length and meta["tokenizations"] == 1
    assert abs(meta["output_tokens"] - output_len) <= tolerance(output_len)
    assert check_row(r, {})[0] == []
    tests = json.loads(r["answers"][1])
    assert len(tests) == meta["tests"] == 10 and r["answers"][0] == r["answer"]
    pseudo = r["input"].split("<pseudocode>\n")[1].split("\n</pseudocode>")[0]
    assert [t["args"] for t in tests] == code_metric.code_test_inputs(pseudo, 10)  # from the pseudocode alone
    assert len(pseudo.split("\n")) == len(r["answer"].split("\n")) == meta["lines"]  # one Python line a line


def test_tests_knob_and_refusals():
    r = row(6000, 500, tests=3)
    assert len(json.loads(r["answers"][1])) == 3 and "run on 3 hidden tests" in r["question"]
    with pytest.raises(ParamError, match=r"^--len: .*raise --len or lower --output-len$"):
        row(2500, 4000)


def test_reference_and_known_replies():
    r = row()
    name, tests = r["answer"].split("(")[0][4:], json.loads(r["answers"][1])
    assert judge(fenced(r["answer"]), r) == ({"strict": 1.0, "partial": 1.0}, "")
    # preamble, blank lines, trailing spaces, an unclosed block (a truncated reply that still holds all the code)
    messy = "Here is the translation.\n\n```python\n\n" + r["answer"].replace("\n", "  \n") + "\n\n"
    assert judge(messy, r)[0] == {"strict": 1.0, "partial": 1.0}
    assert judge(r["answer"], r)[0]["strict"] == 1.0  # bare code
    assert judge(fenced("def nope(values, limit):\n    return []") + "\n" + fenced(r["answer"]), r)[0]["strict"] == 1
    assert judge(fenced(r["answer"]) + "\n" + fenced("def nope(values, limit):\n    return []"), r)[0]["strict"] == 0
    # right on the tests with an even number of values only: partial is that share
    wrapped = r["answer"].replace(f"def {name}(", "def _reference(", 1) + (
        f"\n\n\ndef {name}(values, limit):\n    print('noise')\n"
        "    return _reference(values, limit) if len(values) % 2 == 0 else [-1]")
    share = sum(len(t["args"][0]) % 2 == 0 for t in tests) / len(tests)
    assert 0 < share < 1
    got, reason = judge(fenced(wrapped), r)
    assert got == {"strict": 0.0, "partial": share} and reason.startswith("test ") and "expected" in reason
    # a wrong line fails tests; the reason names the first failing one
    wrong = r["answer"].replace("out.append(", "out.append(1 + ", 1)
    got, reason = judge(fenced(wrong), r)
    assert got["strict"] == 0.0 and got["partial"] < 1 and "fails: args" in reason
    assert judge("I cannot do this.", r) == ({"strict": 0.0, "partial": 0.0}, "no python block")
    cut = r["answer"][: len(r["answer"]) // 2].rsplit("\n", 1)[0] + "\n    if"
    got, reason = judge(fenced(cut), r)
    assert got == {"strict": 0.0, "partial": 0.0} and reason.startswith("syntax error")
    got, reason = judge(fenced(r["answer"].replace(f"def {name}(", "def other(")), r)
    assert got["partial"] == 0.0 and reason == f"no function named {name}"
    got, reason = judge(fenced(r["answer"].replace("out.append(", "out.append(1.0 * ", 1)), r)
    assert got["strict"] == 0.0  # 3.0 is not 3: results compare by their JSON


def test_oracle_catches_edited_inputs():
    r = row(6000, 500)
    text = r["input"]
    start = text.index("<pseudocode>")
    task = text[start:]
    swaps = ((" plus ", " minus "), (" is greater than ", " is less than "), ("modulo 9", "modulo 8"))
    old, new = next(pair for pair in swaps if pair[0] in task)
    edited = dict(r, input=text[:start] + task.replace(old, new, 1))
    assert "oracle answer differs from `answer`" in check_row(edited, {})[0]
    unreadable = dict(r, input=text[:start] + task.replace("\n  set ", "\n  put ", 1))
    assert any("oracle could not solve" in p for p in check_row(unreadable, {})[0])
    py = text.index("\nPython:\n")
    broken = dict(r, input=text[:py] + text[py:].replace("    ", "  ", 1))
    assert any("not the line-by-line translation" in p for p in check_row(broken, {})[0])
    name = r["question"].split("function ")[1].split("(")[0]
    first = text.index("define the function ") + len("define the function ")
    other = text[first:text.index(" ", first)]
    clash = dict(r, input=text.replace(f"def {other}(", f"def {name}(", 1).replace(
        f"define the function {other} ", f"define the function {name} ", 1))
    assert any("defines the task's function" in p for p in check_row(clash, {})[0])


FAKE_ANSWER = "def f(values, limit):\n    return len(values) + limit"
FAKE_TESTS = json.dumps([{"args": [[1, 2], 3], "result": 5}, {"args": [[], 1], "result": 1},
                         {"args": [[4], 0], "result": 1}])


def fake(body: str) -> tuple[float, float, str]:
    return code_metric.code_score(fenced(body), FAKE_ANSWER, [FAKE_ANSWER, FAKE_TESTS])


def test_sandbox_scores_and_allows_its_own_folder():
    assert fake(FAKE_ANSWER) == (1.0, 1.0, "")
    scratch = "def f(values, limit):\n    open('scratch.txt', 'w').write('ok')\n    return len(values) + limit"
    assert fake(scratch) == (1.0, 1.0, "")
    assert fake("def f(values, limit):\n    return 1 if values else 99") == (0.0, 1 / 3, fake(
        "def f(values, limit):\n    return 1 if values else 99")[2])


def test_infinite_loop_times_out(monkeypatch):
    monkeypatch.setattr(code_metric, "code_timeout_seconds", 1.0)
    strict, partial, reason = fake("def f(values, limit):\n    while True:\n        pass")
    assert (strict, partial) == (0.0, 0.0) and "timed out" in reason


def test_subprocess_and_fork_are_blocked(tmp_path):
    marker = tmp_path / f"spawned-{uuid.uuid4().hex}"
    for body in (f"import subprocess\ndef f(values, limit):\n    subprocess.run(['touch', {str(marker)!r}])\n"
                 "    return len(values) + limit",
                 f"import os\ndef f(values, limit):\n    os.system('touch {marker}')\n    return len(values) + limit",
                 "import os\ndef f(values, limit):\n    while True:\n        os.fork()"):
        strict, partial, reason = fake(body)
        assert (strict, partial) == (0.0, 0.0) and "blocked" in reason, reason
    assert not marker.exists()


def test_writes_outside_the_folder_are_blocked(tmp_path):
    target = tmp_path / f"written-{uuid.uuid4().hex}"
    for body in (f"def f(values, limit):\n    open({str(target)!r}, 'w').write('x')\n    return len(values) + limit",
                 f"import os\ndef f(values, limit):\n    os.close(os.open({str(target)!r}, os.O_WRONLY | os.O_CREAT))"
                 "\n    return len(values) + limit"):
        strict, partial, reason = fake(body)
        assert (strict, partial) == (0.0, 0.0) and "blocked: writing outside" in reason, reason
    assert not target.exists()
    keep = tmp_path / "keep.txt"
    keep.write_text("x")
    assert fake(f"import os\nos.remove({str(keep)!r})\n{FAKE_ANSWER}")[0] == 0.0 and keep.exists()


def test_network_is_blocked():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.3)
    port = server.getsockname()[1]
    try:
        body = (f"import socket\ndef f(values, limit):\n    socket.create_connection(('127.0.0.1', {port}))"
                ".sendall(b'x')\n    return len(values) + limit")
        strict, partial, reason = fake(body)
        assert (strict, partial) == (0.0, 0.0) and "blocked: network" in reason, reason
        sneaky = (f"def f(values, limit):\n    try:\n        __import__('_socket').socket()"
                  f".connect(('127.0.0.1', {port}))\n    except Exception:\n        pass\n"
                  "    return len(values) + limit")
        strict, partial, reason = fake(sneaky)
        assert (strict, partial) == (0.0, 0.0) and "blocked: network" in reason, reason
        with pytest.raises(socket.timeout):
            server.accept()  # nothing arrived
    finally:
        server.close()


def test_memory_hog_is_contained():
    strict, partial, reason = fake("def f(values, limit):\n    return len(bytearray(4 * 1024 ** 3))")
    assert (strict, partial) == (0.0, 0.0) and "MemoryError" in reason, reason


def test_hidden_tests_kill_single_line_mutants():
    from lcgen.oracle import OracleInput
    from lcgen.validators import _proc_code as oracle

    r = row(8000, 500, seed=3)
    meta = json.loads(r["meta"])
    assert meta["mutants"] > 0 and meta["mutants_killed"] >= code_metric.code_mutant_threshold * meta["mutants"]
    got = oracle.solve(OracleInput(input=r["input"], question=r["question"], variant=V, token_index=None))
    assert got.measured == {"mutants": meta["mutants"], "mutants_killed": meta["mutants_killed"]}
    # a weak mutant: one comparison flipped in the reference scores strict 0
    flips = ((" > ", " < "), (" < ", " > "), (" >= ", " <= "), (" <= ", " >= "), (" == ", " != "), (" != ", " == "))
    old, new = next(pair for pair in flips if pair[0] in r["answer"])
    assert judge(fenced(r["answer"].replace(old, new, 1)), r)[0]["strict"] == 0.0
