"""procedures/pseudocode_to_code: translate a generated pseudocode program into Python, line by line.

After LongProc's pseudocode-to-code (SPoC, C++), in Python and from generated programs: a function
``name(values, limit)`` over a list of integers and an integer, written as English pseudocode, one statement a line,
blocks by indentation (``templates/procedures/code/statements.j2``, ``expressions.j2``, ``conditions.j2``). The
program is a run of independent blocks: each sets its own variables, loops over ``values`` (or a range, or a
counted ``while``) with conditions, arithmetic and list building, and appends its variables modulo a constant to
``out``, which the function returns. Every loop is bounded (at most 8 items, while loops count to a constant and
their counters are written only by their last line), divisors are constants, so every run terminates.

The reference answer is the canonical Python, one line per pseudocode line; ``--output-len`` picks the number of
blocks (``closest_size``), then one-line blocks close the gap. ``answers = [answer, tests_json]``: the hidden tests'
inputs come from the pseudocode text alone (``code_test_inputs`` in the metric module), their results from running
the generator's own Python. The context is worked examples (small programs with their Python), engine filler.
"""

from __future__ import annotations

import functools
import json
import random
from dataclasses import dataclass

from lcgen.assemble import CONTEXT_SLOT, Plan, SamplePlan, split_prompt
from lcgen.errors import ParamError
from lcgen.frames import frame_lines, render_frame
from lcgen.params import FamilyParams, param
from lcgen.render import render
from lcgen.validators.metrics._proc_code import (code_mutant_picks, code_mutant_threshold, code_test_inputs)

from ._proc_common import closest_size, refuse_input, refuse_output, within

VARIANT = "pseudocode_to_code"
TEMPLATES = "procedures/code"
MAX_TINY = 40  # one-line blocks that may close the gap left by the last whole block
MIN_ROOM = 60  # context tokens the worked examples need at least, when there is room for any
MODULI = (11, 13, 17, 19, 23, 29)  # small primes: a wrong modulus shows on small totals too
PROBES = 12  # random inputs a drawn block's mutants are tried on (besides the empty list)
PROBE_HITS = 1  # of which each mutant must differ on at least this many, else the block is redrawn
BLOCK_ATTEMPTS = 12  # draws of a block before the strongest one is kept
PROBE_MUTANTS = 10  # mutants of a drawn block screened on the probes (evenly spread)
PROGRAM_ATTEMPTS = 6  # programs drawn before a sample whose hidden tests kill too few mutants is refused


@dataclass(frozen=True, kw_only=True)
class Knobs(FamilyParams):
    """pseudocode_to_code's knobs."""

    tests: int = param(10, help="Hidden tests the translated function is run on (pseudocode_to_code).", min=3,
                       max=50, variants=(VARIANT,))


@functools.lru_cache(maxsize=None)
def table(name: str) -> dict[str, tuple[str, str]]:
    """kind -> (pseudocode frame, Python frame) of statements, expressions or conditions."""
    out = {}
    for line in frame_lines(f"{TEMPLATES}/{name}.j2"):
        kind, pseudo, python = (part.strip() for part in line.split(" | "))
        out[kind] = (pseudo, python)
    return out


@functools.lru_cache(maxsize=None)
def pools() -> dict[str, tuple[str, ...]]:
    out = {}
    for line in frame_lines(f"{TEMPLATES}/names.j2"):
        kind, _, names = line.partition(" | ")
        out[kind.strip()] = tuple(names.split())
    return out


# A line is (depth, kind, fields); a field is a name or number (str), an expression ("e", kind, a, b) or a
# condition ("c", kind, a, b), where a condition's a may itself be an expression.


def _part(value: object, side: int) -> str:
    if isinstance(value, str):
        return value
    kind_table = table("expressions") if value[0] == "e" else table("conditions")
    return render_frame(kind_table[value[1]][side], a=_part(value[2], side), b=_part(value[3], side))


def render_line(line: tuple, side: int) -> str:
    """The line as pseudocode (side 0, two spaces a level) or Python (side 1, four spaces a level)."""
    depth, kind, fields = line
    text = render_frame(table("statements")[kind][side], **{k: _part(v, side) for k, v in fields.items()})
    return ("  " if side == 0 else "    ") * depth + text


def E(kind: str, a: str, b: str = "") -> tuple:  # noqa: N802 - a small constructor
    return ("e", kind, a, b)


def C(kind: str, a: object, b: str = "") -> tuple:  # noqa: N802
    return ("c", kind, a, b)


@dataclass
class _Scope:
    scalars: tuple[str, ...]
    lst: str | None
    items: tuple[str, ...] = ()
    indexes: tuple[str, ...] = ()  # range(len(values)) variables: element i of values is safe
    others: tuple[str, ...] = ()  # range(k) variables and while counters: plain numbers
    in_while: bool = False  # the innermost loop is a while (continue would skip its counter)

    def atoms(self) -> list[str]:
        return [*self.scalars, *self.items, *self.indexes, *self.others, "limit"]

    def names(self) -> set[str]:
        return {*self.scalars, *self.items, *self.indexes, *self.others, *([self.lst] if self.lst else [])}


class Writer:
    """Draws program blocks from ``rng``; every block reads only values, limit and the names it sets itself."""

    def __init__(self, rng: random.Random, probe: bool = False):
        self.rng = rng
        self.pools = pools()
        self.probes = None
        if probe:  # inputs from the hidden tests' distribution (a private draw, not the tests themselves)
            prng = random.Random(rng.getrandbits(64))
            self.probes = [[[], prng.randint(-5, 30)]] + [
                [[prng.randint(-9, 40) for _ in range(prng.randint(1, 8))], prng.randint(-5, 30)]
                for _ in range(PROBES)]

    def block(self) -> list[tuple]:
        """A block whose every candidate mutant shows on the probes (at least PROBE_HITS of them), when one of
        BLOCK_ATTEMPTS draws gives it, else the strongest draw: so no line is dead or nearly so."""
        if self.probes is None:
            return self._block()
        draws = []
        for _ in range(BLOCK_ATTEMPTS):
            draws.append(self._block())
            if probe_score(draws[-1], self.probes, stop=True) == 1.0:
                return draws[-1]
        return max(draws, key=lambda lines: probe_score(lines, self.probes))  # the first of the strongest

    def _block(self) -> list[tuple]:
        rng = self.rng
        scalars = tuple(rng.sample(self.pools["scalars"], rng.choice((1, 1, 2))))
        lst = rng.choice(self.pools["lists"]) if rng.random() < 0.35 else None
        lines = [(1, "set", {"v": s, "e": self._init()}) for s in scalars]
        if lst:
            lines.append((1, "empty", {"v": lst}))
        scope = _Scope(scalars, lst)
        lines += self.loop(1, scope, nest=rng.choice((1, 1, 2)))
        if rng.random() < 0.25:
            lines += self.if_chain(1, scope, loop=False)
        if lst:
            lines.append((1, "add", {"v": scalars[0], "e": E(rng.choice(("sum", "len")), lst)}))
        for s in scalars:
            lines.append((1, "append", {"v": self.pools["output"][0], "e": E("mod", s, str(rng.choice(MODULI)))}))
        return lines

    def tiny(self) -> list[tuple]:
        """A one-line block: a small number built from limit or the length of values."""
        rng = self.rng
        a = rng.choice(("limit", "limit", "values"))
        if a == "values":
            e = E("len", "values")
        else:
            kind = rng.choice(("atom", "plus", "minus", "times", "mod", "div", "max", "min", "abs"))
            b = str(rng.randint(2, 9))
            e = E(kind, a, b if kind not in ("atom", "abs") else "")
        return [(1, "append", {"v": self.pools["output"][0], "e": e})]

    def tiny_checked(self) -> list[tuple]:
        for _ in range(BLOCK_ATTEMPTS):
            lines = self.tiny()
            if probe_score(lines, self.probes, stop=True) == 1.0:
                return lines
        return lines

    def _init(self) -> tuple:
        rng = self.rng
        r = rng.random()
        if r < 0.5:
            return E("atom", str(rng.randint(0, 9)))
        if r < 0.8:
            return E("atom", "limit")
        return E("len", "values")

    def _fresh(self, pool: str, scope: _Scope) -> str:
        taken = scope.names()
        return self.rng.choice([n for n in self.pools[pool] if n not in taken])

    def loop(self, depth: int, scope: _Scope, nest: int) -> list[tuple]:
        rng = self.rng
        kind = rng.choice(("foreach", "foreach", "range_len", "range_k", "while"))
        if kind == "foreach":
            var = self._fresh("items", scope)
            head = [(depth, "foreach", {"v": var})]
            inner = _Scope(scope.scalars, scope.lst, scope.items + (var,), scope.indexes, scope.others)
        elif kind == "range_len":
            var = self._fresh("indexes", scope)
            head = [(depth, "range", {"v": var, "e": E("len", "values")})]
            inner = _Scope(scope.scalars, scope.lst, scope.items, scope.indexes + (var,), scope.others)
        elif kind == "range_k":
            var = self._fresh("indexes", scope)
            head = [(depth, "range", {"v": var, "e": E("atom", str(rng.randint(2, 4)))})]
            inner = _Scope(scope.scalars, scope.lst, scope.items, scope.indexes, scope.others + (var,))
        else:
            var = self._fresh("counters", scope)
            head = [(depth, "set", {"v": var, "e": E("atom", "0")}),
                    (depth, "while", {"c": C("lt", E("atom", var), str(rng.randint(2, 4)))})]
            inner = _Scope(scope.scalars, scope.lst, scope.items, scope.indexes, scope.others + (var,), True)
        body = self.body(depth + 1, inner, nest - 1)
        if kind == "while":
            body.append((depth + 1, "add", {"v": var, "e": E("atom", "1")}))
        return head + body

    def body(self, depth: int, scope: _Scope, nest: int) -> list[tuple]:
        rng = self.rng
        out: list[tuple] = []
        nested = False
        for _ in range(rng.randint(1, 3)):
            r = rng.random()
            if nest > 0 and not nested and r < 0.3:
                out += self.loop(depth, scope, nest)
                nested = True
            elif r < 0.6:
                out += self.if_chain(depth, scope, loop=True)
            else:
                out.append(self.update(depth, scope))
        return out

    def if_chain(self, depth: int, scope: _Scope, loop: bool) -> list[tuple]:
        rng = self.rng
        out = [(depth, "if", {"c": self.cond(scope)})] + self.simple(depth + 1, scope, loop)
        if rng.random() < 0.3:
            out += [(depth, "elif", {"c": self.cond(scope)})] + self.simple(depth + 1, scope, loop)
        if rng.random() < 0.4:
            out += [(depth, "else", {})] + self.simple(depth + 1, scope, loop)
        return out

    def simple(self, depth: int, scope: _Scope, loop: bool) -> list[tuple]:
        rng = self.rng
        out = [self.update(depth, scope) for _ in range(rng.choice((1, 1, 2)))]
        if loop and rng.random() < 0.15:
            jump = "break" if scope.in_while or rng.random() < 0.5 else "continue"
            if rng.random() < 0.4:
                out = []
            out.append((depth, jump, {}))
        return out

    def update(self, depth: int, scope: _Scope) -> tuple:
        rng = self.rng
        r = rng.random()
        if scope.lst and r < 0.2:
            return (depth, "append", {"v": scope.lst, "e": self.expr(scope)})
        target = rng.choice(scope.scalars)
        r = rng.random()
        if r < 0.35:
            return (depth, "add", {"v": target, "e": self.expr(scope)})
        if r < 0.55:
            return (depth, "sub", {"v": target, "e": self.expr(scope)})
        if r < 0.65:
            return (depth, "mul", {"v": target, "k": str(rng.randint(2, 3))})
        return (depth, "set", {"v": target, "e": self.expr(scope, around=target, keep=True)})

    def _atom(self, scope: _Scope, other: str = "") -> str:
        rng = self.rng
        if rng.random() < 0.25:
            return str(rng.randint(1, 9))
        choices = [a for a in scope.atoms() if a != other]
        return rng.choice(choices)

    def expr(self, scope: _Scope, around: str = "", keep: bool = False) -> tuple:
        """An expression; with ``keep`` one of ``around`` and something else (a set that transforms its target
        rather than overwrites what earlier lines did to it)."""
        rng = self.rng
        if keep:
            kinds = ["plus", "plus", "minus", "times", "max", "min"]
        else:
            kinds = ["atom", "plus", "plus", "minus", "times", "mod", "div", "max", "min", "abs"]
            if scope.indexes:
                kinds += ["item", "item"]
            if scope.lst:
                kinds += ["len", "sum"]
        kind = rng.choice(kinds)
        names = [a for a in scope.atoms() if a != "limit" or rng.random() < 0.5]
        a = around if around and (keep or rng.random() < 0.6) else rng.choice(names)
        if kind == "atom":
            return E("atom", self._atom(scope, other=around))
        if kind in ("plus", "minus", "max", "min"):
            return E(kind, a, self._atom(scope, other=a))
        if kind == "times":
            return E(kind, a, str(rng.randint(2, 5)))
        if kind in ("mod", "div"):
            return E(kind, a, str(rng.randint(2, 9)))
        if kind == "abs":
            return E(kind, a)
        if kind == "item":
            return E(kind, rng.choice(scope.indexes))
        return E(kind, scope.lst)

    def cond(self, scope: _Scope) -> tuple:
        rng = self.rng
        kind = rng.choice(("gt", "gt", "lt", "lt", "ge", "le", "eq", "ne", "even", "odd", "divisible"))
        first = rng.choice([*scope.items, *scope.indexes, *scope.others, *scope.scalars])
        if kind in ("even", "odd"):
            return C(kind, first)
        if kind == "divisible":
            return C(kind, first, str(rng.randint(2, 5)))
        if scope.indexes and rng.random() < 0.3:
            left = E("item", rng.choice(scope.indexes))
        elif rng.random() < 0.25:
            left = E(rng.choice(("plus", "minus", "mod")), first, str(rng.randint(2, 9)))
        else:
            left = E("atom", first)
        return C(kind, left, self._atom(scope, other=first))


@dataclass
class Program:
    name: str
    lines: list[tuple]

    def pseudocode(self) -> str:
        return "\n".join(render_line(line, 0) for line in self.lines)

    def python(self) -> str:
        return "\n".join(render_line(line, 1) for line in self.lines)


def program(name: str, blocks: list[list[tuple]]) -> Program:
    out = pools()["output"][0]
    lines = [(0, "def", {"name": name}), (1, "empty", {"v": out})]
    for block in blocks:
        lines += block
    lines.append((1, "return", {"v": out}))
    return Program(name, lines)


def function_names(rng: random.Random) -> list[str]:
    """Every verb_noun function name, shuffled."""
    names = [f"{v}_{n}" for v in pools()["verbs"] for n in pools()["nouns"]]
    rng.shuffle(names)
    return names


class Examples:
    """Engine filler: one worked example a unit (a small program and its Python), never the task's function name.
    Each unit starts with a space and ends with a blank line (as best-answer's candidates do), so units add up in
    tokens for byte-level BPE and SentencePiece-like tokenizers alike."""

    def __init__(self, rng: random.Random, taken: str):
        self.rng = rng
        self.writer = Writer(rng)
        self.names = [n for n in function_names(random.Random(rng.getrandbits(64))) if n != taken]

    def draw(self) -> str:
        rng = self.rng
        n = rng.choice((0, 0, 1, 1, 1, 2))
        blocks = [self.writer.block() for _ in range(n)]
        blocks += [self.writer.tiny() for _ in range(rng.choice((0, 1, 2)) if n else rng.choice((1, 2)))]
        prog = program(rng.choice(self.names), blocks)
        text = render(f"{TEMPLATES}/example.j2", pseudocode=prog.pseudocode(), python=prog.python())
        return " " + text.rstrip("\n") + "\n\n"

    def draw_many(self, n: int) -> list[str]:
        return [self.draw() for _ in range(n)]


def run_tests(prog: Program, inputs: list[list]) -> list:
    """The program's results on ``inputs``, by running the generator's own Python (never a reply's)."""
    namespace: dict = {}
    exec(compile(prog.python(), f"<{prog.name}>", "exec"), namespace)  # noqa: S102 - the generator's own code
    fn = namespace[prog.name]
    return [fn(list(values), limit) for values, limit in inputs]


# Single-line mutants (the docs list them): what the hidden tests must tell apart from the reference.
CMP_FLIP = {"gt": "lt", "lt": "gt", "ge": "le", "le": "ge", "eq": "ne", "ne": "eq", "even": "odd", "odd": "even"}
OP_SWAP = {"plus": "minus", "minus": "plus", "times": "plus", "mod": "div", "div": "mod", "max": "min", "min": "max",
           "len": "sum", "sum": "len"}
DROPPABLE = ("set", "add", "sub", "mul", "append", "break", "continue")
GUARD_STEPS = 200_000  # while-loop rounds a mutant may run before it counts as killed (none should get near)


def _bump(n: str) -> str:
    return str(int(n) + 1)


def expr_mutants(e: tuple) -> list[tuple]:
    _, kind, a, b = e
    out = []
    if kind in OP_SWAP:
        out.append(E(OP_SWAP[kind], a, b))
    if kind == "abs":
        out.append(E("atom", a))
    if kind == "atom" and a.isdigit():
        out.append(E("atom", _bump(a)))
    if kind in ("plus", "minus", "times", "mod", "div") and b.isdigit():
        out.append(E(kind, a, _bump(b)))
    return out


def cond_mutants(c: tuple) -> list[tuple]:
    _, kind, left, b = c
    out = []
    if kind in CMP_FLIP:
        out.append(C(CMP_FLIP[kind], left, b))
    if kind == "divisible":
        out.append(C(kind, left, _bump(b)))
    if kind in ("gt", "lt", "ge", "le", "eq", "ne"):
        out += [C(kind, m, b) for m in expr_mutants(left)]
    return out


def mutants(lines: list[tuple]) -> list[tuple[int, tuple | None]]:
    """Every candidate single-line mutant, in line order: (line index, the new line, or None for a dropped line).
    Lines that keep a while loop finite (its counter's set and the add that ends its body) are left alone, and so
    is a break whose innermost loop is a while (continue would skip the counter)."""
    keep: set[int] = set()
    for i, (depth, kind, _) in enumerate(lines):
        if kind == "while":
            j = i + 1
            while j < len(lines) and lines[j][0] > depth:
                j += 1
            keep |= {i - 1, j - 1}
    out: list[tuple[int, tuple | None]] = []
    loops: list[tuple[int, str]] = []
    output = pools()["output"][0]
    for i, (depth, kind, f) in enumerate(lines):
        while loops and loops[-1][0] > depth:
            loops.pop()
        if kind in ("foreach", "range", "while"):
            loops.append((depth + 1, kind))
        if i in keep or kind in ("def", "empty", "return", "foreach", "else"):
            continue
        if kind in ("add", "sub"):
            out.append((i, (depth, "sub" if kind == "add" else "add", f)))
        elif kind == "mul":
            out.append((i, (depth, kind, {**f, "k": _bump(f["k"])})))
        elif kind == "break" and loops[-1][1] != "while":
            out.append((i, (depth, "continue", f)))
        elif kind == "continue":
            out.append((i, (depth, "break", f)))
        if kind in DROPPABLE and not (kind == "append" and f["v"] == output):
            out.append((i, None))
        if kind == "range":
            if f["e"][1] == "atom":
                out += [(i, (depth, kind, {**f, "e": m})) for m in expr_mutants(f["e"])]
        elif "e" in f:
            out += [(i, (depth, kind, {**f, "e": m})) for m in expr_mutants(f["e"])]
        if "c" in f:
            out += [(i, (depth, kind, {**f, "c": m})) for m in cond_mutants(f["c"])]
    return out


def _guarded(python: str) -> str:
    """The Python with a step guard on every while loop (a mutant that loops too long raises)."""
    return "\n".join(line.replace("while ", "while _guard() and ", 1) if line.lstrip().startswith("while ") else line
                      for line in python.split("\n"))


class _Guard:
    """Called at every round of a while loop of guarded code: stops a mutant that would run too long."""

    def __init__(self):
        self.steps = 0

    def __call__(self) -> bool:
        self.steps += 1
        if self.steps > GUARD_STEPS:
            raise RuntimeError("too many rounds")
        return True


def _results(python: str, name: str, inputs: list[list]) -> list | None:
    """The results of ``name`` from ``python`` (trusted: the generator's own text) on ``inputs``; None if it raises
    or runs too long."""
    namespace: dict = {"_guard": _Guard()}
    try:
        exec(compile(_guarded(python), f"<{name}>", "exec"), namespace)  # noqa: S102 - the generator's own code
        return [namespace[name](list(values), limit) for values, limit in inputs]
    except Exception:  # noqa: BLE001 - any failure tells the mutant apart
        return None


def kill_count(prog: Program, pseudo: str, inputs: list[list], results: list) -> tuple[int, int]:
    """(mutants run, mutants the tests kill): the picked single-line mutants of the reference, each run on the hidden
    test inputs; a mutant is killed when some result differs, or it raises or runs too long."""
    cands = mutants(prog.lines)
    picks = code_mutant_picks(pseudo, len(cands))
    py = [render_line(line, 1) for line in prog.lines]
    killed = 0
    for k in picks:
        i, new = cands[k]
        lines = list(py)
        lines[i] = render_line(new, 1) if new else "    " * prog.lines[i][0] + "pass"
        killed += _results("\n".join(lines), prog.name, inputs) != results
    return len(picks), killed


def probe_score(block: list[tuple], probes: list[list], stop: bool = False) -> float:
    """The share of a block's candidate mutants (the block alone as a function) that differ from it on at least
    PROBE_HITS of ``probes``, or on the empty list, or raise; with ``stop``, 0 at the first that does not."""
    lines = program("probe", [block]).lines
    py = [render_line(line, 1) for line in lines]
    cands = mutants(lines)
    if stop:  # a screen: every few mutants, spread over the block (the hidden tests' count is taken apart)
        cands = cands[::-(-len(cands) // PROBE_MUTANTS)] if cands else cands
    guard = _Guard()

    def function(source: str):
        namespace: dict = {"_guard": guard}
        exec(compile(_guarded(source), "<probe>", "exec"), namespace)  # noqa: S102 - the generator's own code
        return namespace["probe"]

    ref = [function("\n".join(py))(list(v), lim) for v, lim in probes]
    good = 0
    for i, new in cands:
        mut = list(py)
        mut[i] = render_line(new, 1) if new else "    " * lines[i][0] + "pass"
        hits = 0
        guard.steps = 0
        try:
            fn = function("\n".join(mut))
            for (v, lim), want in zip(probes, ref):
                if fn(list(v), lim) != want:
                    hits += 1 if v else PROBE_HITS
                    if hits >= PROBE_HITS:
                        break
        except Exception:  # noqa: BLE001 - raising tells the mutant apart
            hits = PROBE_HITS
        good += hits >= PROBE_HITS
        if stop and hits < PROBE_HITS:
            return 0.0
    return good / len(cands) if cands else 1.0


def build(p, rng: random.Random, length: int, tok) -> SamplePlan:
    name = function_names(random.Random(rng.getrandbits(64)))[0]
    examples = Examples(random.Random(rng.getrandbits(64)), taken=name)
    shares = []
    for _ in range(PROGRAM_ATTEMPTS):
        prog, n, m = _draw_program(p, random.Random(rng.getrandbits(64)), name, tok)
        pseudo = prog.pseudocode()
        inputs = code_test_inputs(pseudo, p.tests)
        results = run_tests(prog, inputs)
        n_mut, n_killed = kill_count(prog, pseudo, inputs, results)
        if n_killed >= code_mutant_threshold * n_mut:
            break
        shares.append(f"{n_killed}/{n_mut}")
    else:
        raise ParamError(f"--tests: {p.tests} hidden tests kill too few single-line mutants in {PROGRAM_ATTEMPTS} "
                         f"programs ({', '.join(shares)}; {code_mutant_threshold:.0%} needed); raise --tests")
    return _finish(p, length, tok, name, examples, prog, n, m, inputs, results, n_mut, n_killed)


def _draw_program(p, rng: random.Random, name: str, tok) -> tuple[Program, int, int]:
    """A program whose Python is closest to --output-len: whole blocks, then one-line blocks closing the gap."""
    writer = Writer(random.Random(rng.getrandbits(64)), probe=True)
    tiny_writer = Writer(random.Random(rng.getrandbits(64)), probe=True)
    target = p.output_len
    blocks: list[list[tuple]] = []
    tinies: list[list[tuple]] = []

    def ensure(n: int, store: list, draw) -> None:
        while len(store) < n:
            store.append(draw())

    def tokens(n: int, m: int = 0) -> int:
        ensure(n, blocks, writer.block)
        ensure(m, tinies, tiny_writer.tiny_checked)
        return tok.count(program(name, blocks[:n] + tinies[:m]).python())

    ensure(8, blocks, writer.block)
    base = tokens(0)
    per_block = max((tokens(8) - base) / 8, 1.0)
    hi = max(int((target - base) / per_block * 1.1) + 4, 1)
    for _ in range(40):  # the estimate from eight blocks was short: widen by a quarter (checked blocks cost)
        if tokens(hi) >= target:
            break
        hi += hi // 4 + 1
    n = closest_size(tokens, 0, hi, target)
    if n > 0 and tokens(n) > target:
        n -= 1  # the whole blocks stay under the target; one-line blocks close the rest
    m = closest_size(lambda k: tokens(n, k), 0, MAX_TINY, target)
    got = tokens(n, m)
    if not within(got, target):
        raise refuse_output(target, got, "pseudocode_to_code programs are at least a function header, its list and "
                            "its return")
    return program(name, blocks[:n] + tinies[:m]), n, m


def _finish(p, length: int, tok, name: str, examples, prog: Program, n: int, m: int, inputs: list, results: list,
            n_mut: int, n_killed: int) -> SamplePlan:
    pseudo, answer = prog.pseudocode(), prog.python()
    tests_json = json.dumps([{"args": a, "result": r} for a, r in zip(inputs, results)], separators=(",", ":"))
    question = render(f"{TEMPLATES}/question.j2", function=name, tests=p.tests).strip()
    head, tail = split_prompt(render(f"{TEMPLATES}/prompt.j2", context=CONTEXT_SLOT, pseudocode=pseudo,
                                     question=question))
    ctx_open = render(f"{TEMPLATES}/open.j2")
    ctx_close = render(f"{TEMPLATES}/close.j2")
    fixed = sum(tok.counts([head + ctx_open, ctx_close + tail]))
    if fixed > length or 0 < length - fixed < MIN_ROOM:
        raise refuse_input(length, fixed + (MIN_ROOM if fixed <= length else 0),
                           f"the pseudocode of a {len(prog.lines)}-line program and its instructions")
    plan = Plan(head=head, tail=tail, ctx_open=ctx_open, ctx_close=ctx_close, needles=[], filler=examples)
    meta = {"function": name, "blocks": n, "one_line_blocks": m, "lines": len(prog.lines), "tests": p.tests,
            "pseudocode_tokens": tok.count(pseudo), "mutants": n_mut, "mutants_killed": n_killed}
    return SamplePlan(plan=plan, question=question, answer=answer, answers=[answer, tests_json], meta=meta)
