"""Oracle for procedures/pseudocode_to_code: parse the pseudocode back, translate it and run it, apart from the
generator.

It reads the task's pseudocode from the ``<pseudocode>`` block after the context and the function name and test
count from the question; parses every line with regular expressions made from the line frames
(``templates/procedures/code/*.j2``), each line by exactly one frame in one way; checks the block structure
(indentation, ``otherwise`` after an ``if``, jumps inside loops, divisors that are constants); translates it to the
canonical Python (the answer); runs it with its own interpreter, with a step budget, on the inputs
``code_test_inputs`` derives from the pseudocode (the tests); and runs the reference through the metric's sandbox on
those tests. Every worked example of the context must be one whole example whose Python is this oracle's own
translation of its pseudocode, and none may define the task's function.
"""

from __future__ import annotations

import builtins
import functools
import json
import keyword
import re

from lcgen.frames import frame_lines, frame_regex, render_frame
from lcgen.oracle import OracleInput, OracleResult
from lcgen.render import render
from lcgen.validators.metrics._proc_code import (code_mutant_picks, code_mutant_threshold, code_score,
                                                 code_test_inputs)

T = "procedures/code"
NAME = r"[A-Za-z_][A-Za-z0-9_]*"
ATOM = r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+"
STEP_BUDGET = 2_000_000  # interpreter steps per test before the program is called non-terminating
BLOCKS = ("def", "foreach", "range", "while", "if", "elif", "else")
RESERVED = frozenset(keyword.kwlist) | frozenset(dir(builtins))


@functools.lru_cache(maxsize=None)
def _rows(name: str) -> tuple[tuple[str, str, str], ...]:
    rows = []
    for line in frame_lines(f"{T}/{name}.j2"):
        kind, pseudo, python = (p.strip() for p in line.split(" | "))
        rows.append((kind, pseudo, python))
    return tuple(rows)


@functools.lru_cache(maxsize=None)
def _patterns(name: str, wide: tuple[str, ...]) -> tuple[tuple[str, re.Pattern, str], ...]:
    """(kind, regex of the pseudocode, Python frame); placeholders in ``wide`` match any text (parsed further)."""
    out = []
    for kind, pseudo, python in _rows(name):
        pats = {p: (r".+" if p in wide else ATOM) for p in ("a", "b", "e", "c", "v", "k", "name")}
        pats["v"], pats["name"], pats["k"] = NAME, NAME, r"[0-9]+"
        out.append((kind, frame_regex(pseudo, pats), python))
    return tuple(out)


class Unreadable(ValueError):
    pass


def _check_name(name: str, what: str) -> None:
    if name in RESERVED and name not in ("values", "limit"):
        raise Unreadable(f"{what} {name!r} is a Python keyword or built-in")


def parse_expr(text: str) -> list[tuple]:
    """Every reading of ``text`` as an expression: (kind, a, b)."""
    out = []
    for kind, rx, _ in _patterns("expressions", ()):
        m = rx.fullmatch(text)
        if m:
            g = m.groupdict()
            out.append((kind, g.get("a", ""), g.get("b", "")))
    return out


def parse_cond(text: str) -> list[tuple]:
    out = []
    for kind, rx, _ in _patterns("conditions", ("a",)):
        m = rx.fullmatch(text)
        if not m:
            continue
        a, b = m.group("a"), m.groupdict().get("b", "")
        if kind in ("gt", "lt", "ge", "le", "eq", "ne"):
            out += [(kind, e, b) for e in parse_expr(a)]
        elif re.fullmatch(ATOM, a):
            out.append((kind, ("atom", a, ""), b))
    return out


def parse_line(text: str) -> tuple[str, dict]:
    """One pseudocode statement (without indentation) as (kind, fields); Unreadable unless exactly one reading."""
    readings = []
    for kind, rx, _ in _patterns("statements", ("e", "c")):
        m = rx.fullmatch(text)
        if not m:
            continue
        g = m.groupdict()
        options = [{}]
        if "e" in g:
            options = [{"e": e} for e in parse_expr(g["e"])]
        if "c" in g:
            options = [{"c": c} for c in parse_cond(g["c"])]
        for opt in options:
            readings.append((kind, {**{k: v for k, v in g.items() if k not in ("e", "c")}, **opt}))
    if len(readings) != 1:
        raise Unreadable(f"{'no' if not readings else len(readings)} reading(s) of the line {text!r}")
    return readings[0]


def _frame(name: str, kind: str) -> str:
    return next(py for k, _, py in _rows(name) if k == kind)


def py_expr(e: tuple) -> str:
    return render_frame(_frame("expressions", e[0]), a=e[1], b=e[2])


def py_cond(c: tuple) -> str:
    return render_frame(_frame("conditions", c[0]), a=py_expr(c[1]), b=c[2])


def translate(lines: list[tuple[int, str, dict]]) -> str:
    out = []
    for depth, kind, f in lines:
        values = {k: v for k, v in f.items() if k not in ("e", "c")}
        if "e" in f:
            values["e"] = py_expr(f["e"])
        if "c" in f:
            values["c"] = py_cond(f["c"])
        out.append("    " * depth + render_frame(_frame("statements", kind), **values))
    return "\n".join(out)


def read_program(text: str) -> list[tuple[int, str, dict]]:
    """The pseudocode's lines as (depth, kind, fields), with the structure checked; Unreadable on any fault."""
    lines = []
    for number, raw in enumerate(text.split("\n"), 1):
        body = raw.lstrip(" ")
        indent = len(raw) - len(body)
        if indent % 2 or not body or body != body.rstrip() or "\t" in raw:
            raise Unreadable(f"line {number} is not a statement indented by two spaces a level: {raw!r}")
        try:
            kind, fields = parse_line(body)
        except Unreadable as exc:
            raise Unreadable(f"line {number}: {exc}") from None
        lines.append((indent // 2, kind, fields))
    _check_structure(lines)
    return lines


def _check_structure(lines: list[tuple[int, str, dict]]) -> None:
    if not lines or lines[0][:2] != (0, "def"):
        raise Unreadable("the program does not start with its function's definition")
    if any(d == 0 for d, _, _ in lines[1:]):
        raise Unreadable("a line after the definition is not inside the function")
    if lines[-1][:2] != (1, "return"):
        raise Unreadable("the function does not end with a return")
    loops: list[tuple[int, str]] = []  # open loops: (depth of their body, kind)
    for i, (depth, kind, f) in enumerate(lines):
        nxt = lines[i + 1][0] if i + 1 < len(lines) else 0
        if kind in BLOCKS and nxt != depth + 1:
            raise Unreadable(f"line {i + 1} opens a block with no line inside it")
        if kind not in BLOCKS and nxt > depth:
            raise Unreadable(f"line {i + 1} is followed by a deeper line but opens no block")
        while loops and loops[-1][0] > depth:
            loops.pop()
        if kind in ("elif", "else"):
            j = i - 1
            while j >= 0 and lines[j][0] > depth:
                j -= 1
            if j == i - 1 or lines[j][0] != depth or lines[j][1] not in ("if", "elif"):
                raise Unreadable(f"line {i + 1} ('otherwise') does not follow an if")
        if kind in ("break", "continue"):
            if not loops:
                raise Unreadable(f"line {i + 1} leaves a loop outside any loop")
            if kind == "continue" and loops[-1][1] == "while":
                raise Unreadable(f"line {i + 1} skips a while loop's counter")
        if kind in ("foreach", "range", "while"):
            loops.append((depth + 1, kind))
        for part in [f.get("e"), *((f["c"][1],) if "c" in f else ())]:
            if part and part[0] in ("mod", "div") and not (part[2].isdigit() and int(part[2]) > 1):
                raise Unreadable(f"line {i + 1} divides by {part[2]!r}, not a constant above 1")
        if "c" in f and f["c"][0] == "divisible" and not (f["c"][2].isdigit() and int(f["c"][2]) > 1):
            raise Unreadable(f"line {i + 1} tests divisibility by {f['c'][2]!r}, not a constant above 1")
        for key in ("v", "name"):
            if key in f:
                _check_name(f[key], "the name")


class _Jump(Exception):
    pass


class _Break(_Jump):
    pass


class _Continue(_Jump):
    pass


class _Return(Exception):
    def __init__(self, value):
        self.value = value


class Interpreter:
    """Runs the parsed program with Python's integer and list semantics (what the prompt states), on its own tree."""

    def __init__(self, lines: list[tuple[int, str, dict]]):
        self.tree = self._nest(lines, 1, 1)[0]

    def _nest(self, lines, start: int, depth: int) -> tuple[list, int]:
        out, i = [], start
        while i < len(lines) and lines[i][0] >= depth:
            d, kind, f = lines[i]
            if kind in BLOCKS:
                body, i = self._nest(lines, i + 1, depth + 1)
                out.append((kind, f, body))
            else:
                out.append((kind, f, None))
                i += 1
        return out, i

    def run(self, values: list, limit: int):
        self.env = {"values": values, "limit": limit}
        self.steps = 0
        try:
            self._block(self.tree)
        except _Return as r:
            return r.value
        raise Unreadable("the function ends without returning")

    def _tick(self) -> None:
        self.steps += 1
        if self.steps > STEP_BUDGET:
            raise Unreadable(f"the program runs more than {STEP_BUDGET:,} steps")

    def _atom(self, a: str):
        if a.isdigit():
            return int(a)
        if a not in self.env:
            raise Unreadable(f"{a!r} is read before it is set")
        return self.env[a]

    def _int(self, a: str) -> int:
        v = self._atom(a)
        if type(v) is not int:
            raise Unreadable(f"{a!r} is used as a number but holds a list")
        return v

    def _list(self, a: str) -> list:
        v = self._atom(a)
        if type(v) is not list:
            raise Unreadable(f"{a!r} is used as a list but holds a number")
        return v

    def expr(self, e: tuple):
        kind, a, b = e
        if kind == "atom":
            return self._atom(a)
        if kind == "len":
            return len(self._list(a))
        if kind == "sum":
            items = self._list(a)
            if any(type(x) is not int for x in items):
                raise Unreadable(f"the sum of {a!r} adds something other than numbers")
            return sum(items)
        if kind == "item":
            i, vals = self._int(a), self._list("values")
            if not 0 <= i < len(vals):
                raise Unreadable(f"element {i} of a list of {len(vals)} values")
            return vals[i]
        if kind == "abs":
            return abs(self._int(a))
        x, y = self._int(a), self._int(b)
        if kind == "plus":
            return x + y
        if kind == "minus":
            return x - y
        if kind == "times":
            return x * y
        if kind == "max":
            return x if x >= y else y
        if kind == "min":
            return x if x <= y else y
        if y <= 0:
            raise Unreadable(f"division by {y}")
        q = x // y  # Python's floor division and its matching remainder
        return q if kind == "div" else x - q * y

    def cond(self, c: tuple) -> bool:
        kind, left, b = c
        x = self.expr(left)
        if type(x) is not int:
            raise Unreadable("a condition compares a list")
        if kind == "even":
            return x % 2 == 0
        if kind == "odd":
            return x % 2 == 1
        y = self._int(b)
        if kind == "divisible":
            return x % y == 0
        return {"gt": x > y, "lt": x < y, "ge": x >= y, "le": x <= y, "eq": x == y, "ne": x != y}[kind]

    def _block(self, nodes: list) -> None:
        chain_done = False  # an if/elif of this chain already ran its body
        for kind, f, body in nodes:
            self._tick()
            if kind == "if":
                chain_done = self.cond(f["c"])
                if chain_done:
                    self._block(body)
            elif kind == "elif":
                if not chain_done and self.cond(f["c"]):
                    chain_done = True
                    self._block(body)
            elif kind == "else":
                if not chain_done:
                    self._block(body)
            else:
                self._statement(kind, f, body)

    def _statement(self, kind: str, f: dict, body) -> None:
        env = self.env
        if kind == "set":
            env[f["v"]] = self.expr(f["e"])
        elif kind == "empty":
            env[f["v"]] = []
        elif kind in ("add", "sub", "mul"):
            cur = self._int(f["v"])
            val = int(f["k"]) if kind == "mul" else self.expr(f["e"])
            if type(val) is not int:
                raise Unreadable(f"a list is added to {f['v']!r}")
            env[f["v"]] = cur + val if kind == "add" else cur - val if kind == "sub" else cur * val
        elif kind == "append":
            self._list(f["v"]).append(self.expr(f["e"]))
        elif kind == "return":
            raise _Return(self._atom(f["v"]))
        elif kind == "break":
            raise _Break()
        elif kind == "continue":
            raise _Continue()
        elif kind == "foreach":
            seq, i = self._list("values"), 0
            while i < len(seq):  # a Python list iterator: by index, over the live list
                env[f["v"]] = seq[i]
                i += 1
                if self._round(body):
                    break
        elif kind == "range":
            n = self.expr(f["e"])
            if type(n) is not int:
                raise Unreadable("a range over a list")
            for i in range(n):
                env[f["v"]] = i
                if self._round(body):
                    break
        elif kind == "while":
            while self.cond(f["c"]):
                self._tick()
                if self._round(body):
                    break
        else:
            raise Unreadable(f"a {kind!r} line where a statement belongs")

    def _round(self, body: list) -> bool:
        """One round of a loop body; True when it breaks the loop."""
        try:
            self._block(body)
        except _Break:
            return True
        except _Continue:
            return False
        return False


_FLIP = {"gt": "lt", "lt": "gt", "ge": "le", "le": "ge", "eq": "ne", "ne": "eq", "even": "odd", "odd": "even"}
_SWAP = {"plus": "minus", "minus": "plus", "times": "plus", "mod": "div", "div": "mod", "max": "min", "min": "max",
         "len": "sum", "sum": "len"}


def _one_more(n: str) -> str:
    return str(int(n) + 1)


def _expr_variants(e: tuple) -> list[tuple]:
    kind, a, b = e
    out = [(_SWAP[kind], a, b)] if kind in _SWAP else []
    if kind == "abs":
        out.append(("atom", a, ""))
    if kind == "atom" and a.isdigit():
        out.append(("atom", _one_more(a), ""))
    if kind in ("plus", "minus", "times", "mod", "div") and b.isdigit():
        out.append((kind, a, _one_more(b)))
    return out


def _cond_variants(c: tuple) -> list[tuple]:
    kind, left, b = c
    out = [(_FLIP[kind], left, b)] if kind in _FLIP else []
    if kind == "divisible":
        out.append((kind, left, _one_more(b)))
    if kind in ("gt", "lt", "ge", "le", "eq", "ne"):
        out += [(kind, e, b) for e in _expr_variants(left)]
    return out


def mutant_programs(lines: list[tuple[int, str, dict]]) -> list[list[tuple[int, str, dict]]]:
    """Every candidate single-line mutant of the parsed program, in the documented order (line by line: a swapped
    statement, a dropped one, then its expression's, then its condition's variants), as whole programs."""
    frozen: set[int] = set()  # a while loop's counter set and the last line of its body
    for i, (depth, kind, _) in enumerate(lines):
        if kind == "while":
            j = i + 1
            while j < len(lines) and lines[j][0] > depth:
                j += 1
            frozen |= {i - 1, j - 1}
    output = lines[-1][2]["v"]
    out: list[list[tuple[int, str, dict]]] = []
    loops: list[tuple[int, str]] = []
    for i, (depth, kind, f) in enumerate(lines):
        while loops and loops[-1][0] > depth:
            loops.pop()
        if kind in ("foreach", "range", "while"):
            loops.append((depth + 1, kind))
        if i in frozen or kind in ("def", "empty", "return", "foreach", "else"):
            continue
        news: list[tuple | None] = []
        if kind in ("add", "sub"):
            news.append((depth, {"add": "sub", "sub": "add"}[kind], f))
        elif kind == "mul":
            news.append((depth, kind, dict(f, k=_one_more(f["k"]))))
        elif kind == "break" and loops[-1][1] != "while":
            news.append((depth, "continue", f))
        elif kind == "continue":
            news.append((depth, "break", f))
        if kind in ("set", "add", "sub", "mul", "append", "break", "continue") and not (
                kind == "append" and f["v"] == output):
            news.append(None)
        if "e" in f and (kind != "range" or f["e"][0] == "atom"):
            news += [(depth, kind, dict(f, e=e)) for e in _expr_variants(f["e"])]
        if "c" in f:
            news += [(depth, kind, dict(f, c=c)) for c in _cond_variants(f["c"])]
        for new in news:
            out.append(lines[:i] + ([new] if new else []) + lines[i + 1:])
    return out


def kill_share(pseudo: str, lines: list[tuple[int, str, dict]], tests: list[dict]) -> tuple[int, int]:
    """(mutants run, mutants killed): the picked mutants, each run by this oracle's interpreter on the tests."""
    programs = mutant_programs(lines)
    picks = code_mutant_picks(pseudo, len(programs))
    killed = 0
    for k in picks:
        interp = Interpreter(programs[k])
        for t in tests:
            try:
                if interp.run(list(t["args"][0]), t["args"][1]) != t["result"]:
                    killed += 1
                    break
            except (Unreadable, RecursionError, ArithmeticError):
                killed += 1
                break
    return len(picks), killed


@functools.lru_cache(maxsize=None)
def _pieces() -> dict[str, str]:
    """The fixed text around the context and the task, rendered from the templates with markers."""
    ex = render(f"{T}/example.j2", pseudocode="\x00", python="\x01").rstrip("\n")
    ex_head, rest = ex.split("\x00")
    ex_mid, ex_tail = rest.split("\x01")
    full = render(f"{T}/prompt.j2", context="\x02", pseudocode="\x03", question="\x04")
    _, after = full.split("\x02")
    before_code, after_code = after.split("\x03")
    return {"open": render(f"{T}/open.j2"), "close": render(f"{T}/close.j2"), "ex_head": " " + ex_head,
            "ex_mid": ex_mid, "ex_tail": ex_tail + "\n\n",
            "code_open": before_code[before_code.rindex("\n", 0, -1) + 1:],
            "code_close": after_code[:after_code.index("\n", 1)]}


def _question_regex() -> re.Pattern:
    line = next(iter(frame_lines(f"{T}/question.j2")))
    return frame_regex(line, {"function": NAME, "tests": r"[0-9]+"})


def solve(sample: OracleInput) -> OracleResult:
    text, p = sample.input, _pieces()
    problems: list[str] = []
    start = text.find(p["open"])
    close = text.find(p["close"], start + 1) if start >= 0 else -1
    if start < 0 or close < 0:
        raise ValueError("the worked examples' opening or closing line is missing")
    end = close + len(p["close"])
    units, offsets = _read_examples(text, start + len(p["open"]), close, problems)
    after = text[end:]
    if after.count(p["code_open"]) != 1 or after.count(p["code_close"]) != 1 or p["code_open"] in text[:end]:
        raise ValueError("the prompt does not hold exactly one pseudocode block, after the examples")
    code_start = after.index(p["code_open"]) + len(p["code_open"])
    pseudo = after[code_start:after.index(p["code_close"], code_start)]
    m = _question_regex().fullmatch(sample.question.strip())
    if not m:
        raise ValueError(f"the question is not the task's question: {sample.question[:80]!r}")
    name, n_tests = m.group("function"), int(m.group("tests"))
    if sample.question not in after[after.index(p["code_close"]):]:
        problems.append("the question does not follow the pseudocode")
    try:
        lines = read_program(pseudo)
    except Unreadable as exc:
        raise ValueError(f"the task's pseudocode: {exc}") from None
    if lines[0][2]["name"] != name:
        problems.append(f"the pseudocode defines {lines[0][2]['name']!r}, the question asks for {name!r}")
    if name in units:
        problems.append(f"a worked example defines the task's function {name!r}")
    answer = translate(lines)
    interp = Interpreter(lines)
    tests = []
    for args in code_test_inputs(pseudo, n_tests):
        try:
            result = interp.run(list(args[0]), args[1])
        except Unreadable as exc:
            raise ValueError(f"running the pseudocode on {args}: {exc}") from None
        tests.append({"args": args, "result": result})
    tests_json = json.dumps(tests, separators=(",", ":"))
    if len({json.dumps(t["result"]) for t in tests}) < 2:
        problems.append("every hidden test gives the same result, so the tests tell no translation apart")
    n_mut, n_killed = kill_share(pseudo, lines, tests)
    if n_killed < code_mutant_threshold * n_mut:
        problems.append(f"the hidden tests kill {n_killed} of {n_mut} single-line mutants, under "
                        f"{code_mutant_threshold:.0%}")
    strict, _, reason = code_score(f"```python\n{answer}\n```", answer, [answer, tests_json])
    if strict != 1.0:
        problems.append(f"the reference fails its hidden tests in the sandbox: {reason}")
    return OracleResult(answer=answer, answers=[answer, tests_json], needle_offsets=[], anchor=None,
                        context_span=(start, end), unit_offsets=offsets,
                        problems=problems, measured={"mutants": n_mut, "mutants_killed": n_killed})


def _read_examples(text: str, pos: int, stop: int, problems: list[str]) -> tuple[dict[str, int], list[int]]:
    """The worked examples between ``pos`` and ``stop``: (function name -> how many examples define it, unit
    offsets); each must be whole and its Python this oracle's translation of its pseudocode."""
    p = _pieces()
    units: dict[str, int] = {}
    offsets: list[int] = []
    while pos < stop:
        offsets.append(pos)
        if not text.startswith(p["ex_head"], pos):
            problems.append(f"the context holds text that is not a worked example at character {pos}")
            return units, offsets
        nxt = text.find(p["ex_tail"] + p["ex_head"], pos, stop)
        unit_end = stop if nxt < 0 else nxt + len(p["ex_tail"])
        body = text[pos + len(p["ex_head"]):unit_end]
        if body.count(p["ex_mid"]) != 1 or (p["ex_tail"] and not body.endswith(p["ex_tail"])):
            problems.append(f"the worked example at character {pos} is not one pseudocode and its Python")
        else:
            pseudo, python = body[:len(body) - len(p["ex_tail"])].split(p["ex_mid"])
            try:
                lines = read_program(pseudo)
                if translate(lines) != python:
                    problems.append(f"the worked example at character {pos} is not the line-by-line translation")
                units[lines[0][2]["name"]] = units.get(lines[0][2]["name"], 0) + 1
            except Unreadable as exc:
                problems.append(f"the worked example at character {pos}: {exc}")
        pos = unit_end
    return units, offsets
