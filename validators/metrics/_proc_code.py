"""Scoring of procedures/pseudocode_to_code: a reply's Python is run on the hidden tests in a sandboxed subprocess.

Standard library only; every top-level name starts with ``code_`` or ``_code_`` (this module is inlined into the
shipped ``lcgen_metrics.py`` beside the other variants' parsers). The reply's code is never compiled or run in the
scoring process: a runner script is started as ``python -I -S`` in a fresh temporary folder with a minimal
environment, in a session of its own, under CPU, memory, file-size, open-file, process and core-dump limits; before
the reply is compiled the runner installs an audit hook that refuses sockets, subprocesses, exec/fork/spawn, ctypes,
and any write, delete or rename outside that folder. The parent kills the whole process group when the wall-clock
timeout passes and compares the results itself (the runner never sees the expected values).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile

code_timeout_seconds = 10.0  # wall clock for one reply's whole run (every test); tests may lower it
code_memory_bytes = 512 * 1024 * 1024
code_file_bytes = 1024 * 1024
code_value_chars = 100_000  # a result encoded longer than this is reported cut (and cannot match)

_code_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:\n[ \t]*```|\Z)", re.S)
_code_DEF = re.compile(r"^def\s+([A-Za-z_]\w*)\s*\(", re.M)


def code_test_inputs(pseudocode: str, n: int) -> list[list]:
    """The ``n`` hidden test inputs ``[values, limit]`` of a task, derived from its pseudocode text alone (the
    generator, the oracle and anyone re-checking a dataset compute the same ones): the first test is the empty list,
    then lists of 1-8 integers in -9..40 with a limit in -5..30."""
    rng = random.Random(int(hashlib.sha256(pseudocode.encode("utf-8")).hexdigest()[:16], 16))
    out = []
    for t in range(n):
        size = 0 if t == 0 else rng.randint(1, 8)
        out.append([[rng.randint(-9, 40) for _ in range(size)], rng.randint(-5, 30)])
    return out


code_mutant_cap = 40  # single-line mutants of a task's reference that its hidden tests are checked against
code_mutant_threshold = 0.9  # the share of those mutants the hidden tests must kill (generator and oracle)


def code_mutant_picks(pseudocode: str, total: int, cap: int = code_mutant_cap) -> list[int]:
    """Which of a program's ``total`` candidate mutants (numbered in line order, as the docs state) are run: all of
    them up to ``cap``, else ``cap`` of them drawn from the pseudocode text alone, in order."""
    if total <= cap:
        return list(range(total))
    rng = random.Random(int(hashlib.sha256(("mutants\n" + pseudocode).encode("utf-8")).hexdigest()[:16], 16))
    return sorted(rng.sample(range(total), cap))


def code_extract(reply: str) -> str | None:
    """The code a reply gives: its last ```python block (an unclosed one runs to the end: a truncated reply), else
    its last unlabelled block holding a ``def``, else the reply from its first ``def`` line when it is bare code;
    None when there is none."""
    blocks = [(m.group(1).lower(), m.group(2)) for m in _code_FENCE.finditer(reply)]
    tagged = [body for lang, body in blocks if lang in ("python", "py", "python3")]
    if tagged:
        return tagged[-1]
    plain = [body for lang, body in blocks if not lang and _code_DEF.search(body)]
    if plain:
        return plain[-1]
    if not blocks:
        m = _code_DEF.search(reply)
        if m:
            return reply[m.start():]
    return None


def code_function_name(answer: str) -> str | None:
    m = _code_DEF.search(answer)
    return m.group(1) if m else None


def code_score(reply: str, answer: str, answers: list[str]) -> tuple[float, float, str]:
    """(strict, partial, reason): strict when the reply's function passes every hidden test, partial the share it
    passes; the reason names the first failing test (args, expected, got), a timeout, a blocked operation, a syntax
    error or the missing code block."""
    name = code_function_name(answer)
    try:
        tests = json.loads(answers[1]) if len(answers) > 1 else None
    except (ValueError, TypeError):
        tests = None
    if not name or not isinstance(tests, list) or not tests:
        return 0.0, 0.0, "the reference has no function or no hidden tests"
    code = code_extract(reply if isinstance(reply, str) else "")
    if code is None:
        return 0.0, 0.0, "no python block"
    run = code_run(code, name, [t["args"] for t in tests])
    got, error = run["results"], run["error"]
    passed, first = 0, ""
    for i, test in enumerate(tests):
        res = got.get(i)
        expected = json.dumps(test["result"], sort_keys=True)
        if res is not None and "value" in res and res["value"] == expected and not res.get("blocked"):
            passed += 1
            continue
        if first:
            continue
        if error and res is None:
            first = error if i == 0 else f"{error} (at test {i + 1} of {len(tests)})"
        elif res is None:
            first = f"test {i + 1} of {len(tests)} gave no result"
        elif res.get("blocked"):
            first = f"blocked: {res['blocked']} (test {i + 1} of {len(tests)})"
        else:
            shown = res["value"] if "value" in res else res.get("raised", "?")
            first = (f"test {i + 1} of {len(tests)} fails: args {_code_cut(json.dumps(test['args']))}, expected "
                     f"{_code_cut(expected)}, got {_code_cut(shown)}")
    share = passed / len(tests)
    if passed == len(tests):
        return 1.0, 1.0, ""
    return 0.0, share, first or error or "failed"


def _code_cut(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def code_run(code: str, name: str, args: list) -> dict:
    """Run ``name`` from ``code`` on every argument list in the sandbox. Returns {"results": {index: {"value":
    json} | {"raised": text}, "blocked": what?}, "error": a one-line reason for the whole run, or ""}."""
    nonce = secrets.token_hex(16)
    folder = tempfile.mkdtemp(prefix="lcgen-code-")
    results: dict[int, dict] = {}
    error = ""
    try:
        folder = os.path.realpath(folder)
        runner = os.path.join(folder, "runner.py")
        with open(runner, "w", encoding="utf-8") as f:
            f.write(_code_RUNNER)
        payload = json.dumps({"code": code, "name": name, "args": args, "nonce": nonce, "folder": folder,
                              "limit": code_value_chars, "rlimits": _code_limits()})
        # The runner sets its own resource limits before it reads the reply (no preexec_fn: that is unsafe when
        # the scoring process has threads, as a harness may).
        proc = subprocess.Popen([sys.executable, "-I", "-S", "-B", runner], cwd=folder, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env={"PATH": os.defpath, "LC_ALL": "C", "PYTHONIOENCODING": "utf-8"},
                                start_new_session=True)
        try:
            out, err = proc.communicate(payload.encode("utf-8"), timeout=code_timeout_seconds)
            timed_out = False
        except subprocess.TimeoutExpired:
            _code_kill(proc)
            out, err = proc.communicate()
            timed_out = True
        for line in out.decode("utf-8", "replace").splitlines():
            if not line.startswith(nonce + " "):
                continue
            try:
                record = json.loads(line[len(nonce) + 1:])
            except ValueError:
                continue
            if "compile" in record:
                error = record["compile"]
            elif "fatal" in record:
                error = record["fatal"]
            elif isinstance(record.get("test"), int) and record["test"] not in results:
                results[record["test"]] = record
        if timed_out:
            error = error or "timed out"
        elif not error and len(results) < len(args):
            code = proc.returncode
            if code is not None and code < 0:
                sig = -code
                error = {signal.SIGXCPU: "timed out (CPU limit)", signal.SIGKILL: "killed (memory or CPU limit)",
                         signal.SIGXFSZ: "blocked: file size limit"}.get(sig, f"killed by signal {sig}")
            else:
                tail = err.decode("utf-8", "replace").strip().splitlines()
                error = f"the run stopped early ({_code_cut(tail[-1]) if tail else f'exit code {code}'})"
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"results": results, "error": error}


def _code_kill(proc) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        proc.kill()


def _code_limits() -> list[list[str | int]]:
    """The runner's resource limits (name in ``resource``, value), which it sets on itself (POSIX only): CPU seconds,
    address space, file size, open files, no new processes, no core dumps."""
    return [["RLIMIT_CPU", int(code_timeout_seconds) + 1], ["RLIMIT_AS", code_memory_bytes],
            ["RLIMIT_FSIZE", code_file_bytes], ["RLIMIT_NOFILE", 64], ["RLIMIT_NPROC", 0], ["RLIMIT_CORE", 0]]


_code_RUNNER = r'''
import io, json, os, sys

def main():
    cfg = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    folder, nonce, limit = cfg["folder"], cfg["nonce"], cfg["limit"]
    try:
        import resource
    except ImportError:  # not POSIX: no resource limits, the audit hook and the parent's timeout remain
        resource = None
    for name, value in cfg["rlimits"] if resource is not None else ():
        try:
            resource.setrlimit(getattr(resource, name), (value, value))
        except (AttributeError, ValueError, OSError):
            pass
    report_fd = os.dup(1)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    blocked = []
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

    def inside(path):
        try:
            if isinstance(path, int):
                return False
            real = os.path.realpath(os.fsdecode(path))
        except Exception:
            return False
        return real == folder or real.startswith(folder + os.sep)

    def refuse(what):
        blocked.append(what)
        raise PermissionError("blocked: " + what)

    def hook(event, args):
        if event.startswith("socket.") or event in ("import",) and args and str(args[0]).split(".")[0] in (
                "socket", "_socket", "ssl", "_ssl", "asyncio", "urllib", "http", "ftplib", "smtplib", "telnetlib"):
            refuse("network")
        if event in ("import",) and args and str(args[0]).split(".")[0] in (
                "ctypes", "_ctypes", "subprocess", "_posixsubprocess", "multiprocessing", "_multiprocessing",
                "pty", "cffi", "resource"):
            refuse("module " + str(args[0]).split(".")[0])
        if event.startswith(("subprocess.", "ctypes.", "os.exec", "os.spawn", "os.posix_spawn", "os.fork",
                             "os.forkpty", "os.system", "os.startfile", "os.kill", "os.killpg", "pty.",
                             "os.setuid", "os.setgid", "resource.", "sys.remote_exec")):
            refuse("process" if not event.startswith("ctypes.") else "ctypes")
        if event == "open":
            path, mode = args[0], args[1]
            flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
            writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or bool(flags & write_flags)
            if writes and not inside(path):
                refuse("writing outside the temporary folder")
        if event in ("os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.link",
                     "os.symlink", "os.truncate", "os.utime", "shutil.rmtree", "shutil.move", "shutil.copyfile",
                     "os.chflags", "os.lchown", "os.mkfifo", "os.mknod"):
            paths = [a for a in args if isinstance(a, (str, bytes, os.PathLike))]
            if not paths or not all(inside(p) for p in paths):
                refuse("changing files outside the temporary folder")

    def report(record):
        os.write(report_fd, (nonce + " " + json.dumps(record) + "\n").encode("utf-8"))

    def encode(value):
        try:
            text = json.dumps(value, sort_keys=True)
        except Exception:
            text = "<" + type(value).__name__ + ">"
        return text if len(text) <= limit else text[:200] + "... (cut)"

    def brief(exc):
        text = type(exc).__name__ + ": " + str(exc)
        return text.splitlines()[0][:300] if text else type(exc).__name__

    sys.addaudithook(hook)
    sink = io.StringIO()
    sys.stdout = sys.stderr = sink
    namespace = {"__name__": "reply"}
    try:
        compiled = compile(cfg["code"], "<reply>", "exec")
    except BaseException as exc:
        report({"compile": "syntax error: " + brief(exc)})
        return
    try:
        exec(compiled, namespace)
    except BaseException as exc:
        report({"fatal": ("blocked: " + blocked[0]) if blocked else "the code raised " + brief(exc)})
        return
    fn = namespace.get(cfg["name"])
    if not callable(fn):
        report({"fatal": "no function named " + cfg["name"]})
        return
    for i, args in enumerate(cfg["args"]):
        before = len(blocked)
        try:
            value = fn(*json.loads(json.dumps(args)))
            record = {"test": i, "value": encode(value)}
        except BaseException as exc:
            record = {"test": i, "raised": brief(exc)}
        if len(blocked) > before:
            record["blocked"] = blocked[before]
        sink.seek(0)
        sink.truncate()
        report(record)

main()
'''
