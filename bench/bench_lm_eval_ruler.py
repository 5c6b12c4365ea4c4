"""Benchmark of what lm-evaluation-harness 0.4.13's own ``ruler`` tasks cost before the first prompt is sent, against
lcgen's way: ``lcgen make ruler`` once, then lm-eval reading the pre-built rows through the shipped ``lcgen_ruler``
tasks.

lm-eval's ruler tasks have no data: every run calls the task's ``custom_dataset`` function, which searches the
haystack size by re-tokenizing a growing text with the model's HF tokenizer, then builds 500 samples per length
(``num_samples=500`` is fixed in lm-eval's code; no option changes it), tokenizing each again. This script measures,
per task and length, in fresh processes, one after the other:

1. ruler: that ``custom_dataset`` function called directly by the lm-eval Python (``niah_utils.niah_single_1(
   tokenizer=TOK, max_seq_lengths=[N])`` and so on), one process per task for all its lengths: setup s (importing the
   task module, which loads transformers, wonderwords' adjective-noun pair list and nltk, and loading the tokenizer
   with ``AutoTokenizer``; paid once per lm-eval run), search s
   (call start to the first sample), build s (the whole call, ``Dataset.from_list`` included) and peak RSS (VmHWM,
   reset between lengths). With ``--samples`` below 500 for a length, the per-sample loop is cut after that many
   samples (lm-eval's ``tqdm`` over ``range(500)`` in the task module is replaced by one that stops early; nothing
   else changes) and "ruler 500 s" extrapolates: search + 500 x the measured seconds per sample; at 500 it is the
   measured build s.
2. lcgen make: wall clock of ``lcgen make ruler --variants V --len N --reserve-output B --depths 50 --samples K
   --tokenizer TOK --workers 1`` with the same K (B = the task's generation budget, so lcgen's input target is RULER's
   bound N - B and the lm-eval metric is named N).
3. lcgen load: the shipped ``harness/lm_eval/utils.load_local`` (the lcgen tasks' ``custom_dataset``) called directly,
   with a fresh datasets cache (a cold first run), ``import datasets`` not included; and "lm_eval s", the wall clock
   of the whole ``lm_eval --include_path DIR/harness/lm_eval --tasks lcgen_<name> --model dummy --limit 1`` run
   (imports, task loading, the load, one dummy request), also with a fresh cache.

Ratios: ruler build s / lcgen load s (every run), and ruler build s / (lcgen make s + lcgen load s) (the first run).

Both sides count in one tokenizer. By default the script writes an HF tokenizer folder (``tokenizer.json`` +
``tokenizer_config.json``, ``PreTrainedTokenizerFast``) that is cl100k_base converted the way transformers'
``TikTokenConverter`` converts it (byte-level BPE, merges rebuilt from the ranks, ``ignore_merges``), from lcgen's
verified offline copy of the BPE file, and checks that it encodes a sample text exactly as tiktoken does;
``AutoTokenizer.from_pretrained(folder)`` loads it offline. ``--tokenizer FOLDER`` uses another HF folder instead.

Tasks: the six that need no download (``niah_single_1`` noise, ``niah_multikey_2``/``niah_multikey_3`` needle, ``vt``,
``cwe``, ``fwe``). lm-eval's essay tasks load ``baber/paul_graham_essays`` from the Hub and split it with NLTK's
``punkt_tab`` (a download), and its qa tasks download SQuAD and HotpotQA with ``requests``: not run here.

Skipped (one line, exit 0) without the lm-eval Python (``--lm-eval-python PATH`` or ``LCGEN_LM_EVAL_PYTHON``): a venv
with ``lm-eval==0.4.13 transformers wonderwords nltk`` (no torch). This Python needs lcgen and lm-eval (the
``lm_eval`` script beside it) for the lcgen side. Everything runs offline (``HF_HUB_OFFLINE=1``,
``HF_DATASETS_OFFLINE=1``, ``TRANSFORMERS_OFFLINE=1``, HF caches in a temporary folder).

Run: python bench/bench_lm_eval_ruler.py --lm-eval-python /path/to/venv/bin/python
     [--tasks niah_single_1,vt,...] [--lengths 4096,32768,131072] [--samples 500,50,10] [--tokenizer FOLDER]
     [--timeout 900]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lcgen.lengths import parse_lengths

# task -> (lm-eval module, its custom_dataset function, generation budget = lm-eval's tokens_to_generate)
TASKS = {
    "niah_single_1": ("niah_utils", "niah_single_1", 128),
    "niah_multikey_2": ("niah_utils", "niah_multikey_2", 128),
    "niah_multikey_3": ("niah_utils", "niah_multikey_3", 128),
    "vt": ("vt_utils", "get_vt_dataset", 30),
    "cwe": ("cwe_utils", "get_cw_dataset", 120),
    "fwe": ("fwe_utils", "fwe_download", 50),
}
NOT_RUN = {"niah_single_2": "essays", "niah_single_3": "essays", "niah_multikey_1": "essays",
           "niah_multivalue": "essays", "niah_multiquery": "essays", "qa_1": "SQuAD", "qa_2": "HotpotQA"}
RULER_SAMPLES, SEED, DEPTH = 500, 7, 50
OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false", "TQDM_DISABLE": "1"}
# The pre-tokenizer split of HF's converted cl100k tokenizers (TikTokenConverter's default; tiktoken's own pattern
# uses possessive quantifiers, which the tokenizers library reads differently).
SPLIT_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
               r"|\s*[\r\n]+|\s+(?!\S)|\s+")

# Run by the lm-eval Python: argv = module, function, tokenizer, then length:cap pairs. One JSON line per length.
RULER_PROBE = """
import importlib, json, sys, time
t0 = time.perf_counter()
mod = importlib.import_module("lm_eval.tasks.ruler." + sys.argv[1])
loop_mod = importlib.import_module("lm_eval.tasks.ruler.prepare_niah") if sys.argv[1] == "niah_utils" else mod
importlib.import_module("lm_eval.tasks.ruler.common_utils").get_tokenizer(sys.argv[3])  # cached, as the task calls it
import_s = time.perf_counter() - t0
loops = []
cap = 0

def capped(iterable, *args, **kwargs):  # lm-eval's tqdm(range(num_samples)), stopped after `cap` samples
    items = list(iterable)
    loops.append([time.perf_counter(), 0.0, 0, len(items)])
    for item in items[:cap]:
        yield item
        loops[-1][1], loops[-1][2] = time.perf_counter(), loops[-1][2] + 1

loop_mod.tqdm = capped
for pair in sys.argv[4:]:
    length, cap = map(int, pair.split(":"))
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM to the current RSS
    loops.clear()
    start = time.perf_counter()
    ds = getattr(mod, sys.argv[2])(tokenizer=sys.argv[3], max_seq_lengths=[length])["test"]
    build = time.perf_counter() - start
    first, last, built, total = loops[-1]
    hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    print(json.dumps({"length": length, "import_s": import_s, "build_s": build, "search_s": first - start,
                      "per_sample_s": (last - first) / max(built, 1), "built": built, "total": total,
                      "rows": len(ds), "mean_len": sum(ds["length"]) / max(len(ds), 1), "peak_kb": hwm}), flush=True)
"""

# Run by this Python: the lcgen tasks' custom_dataset (harness/lm_eval/utils.load_local) on a fresh cache.
LOAD_PROBE = """
import importlib.util, json, sys, time
import datasets
spec = importlib.util.spec_from_file_location("lcgen_harness_utils", sys.argv[1])
utils = importlib.util.module_from_spec(spec)
spec.loader.exec_module(utils)
start = time.perf_counter()
test = utils.load_local(lcgen_config=sys.argv[2])["test"]
print(json.dumps({"load_s": time.perf_counter() - start, "rows": len(test)}))
"""


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte-level alphabet: every byte as a printable character."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    extra = [b for b in range(256) if b not in keep]
    return {**{b: chr(b) for b in keep}, **{b: chr(256 + i) for i, b in enumerate(extra)}}


def build_cl100k_folder(folder: Path) -> Path:
    """``folder`` as an HF tokenizer folder equal to cl100k_base (from lcgen's offline BPE file), checked."""
    from tokenizers import Regex, decoders, models, pre_tokenizers
    from tokenizers import Tokenizer as HFTok

    from lcgen.tokenizer import get_tokenizer

    enc = get_tokenizer("cl100k_base")._enc  # the tiktoken Encoding lcgen builds offline
    ranks: dict[bytes, int] = enc._mergeable_ranks
    alphabet = bytes_to_unicode()

    def text(token: bytes) -> str:
        return "".join(alphabet[b] for b in token)

    merges = []
    for token, rank in ranks.items():  # TikTokenConverter's merge extraction
        cuts = range(1, len(token))
        pairs = [(token[:i], token[i:], rank) for i in cuts if token[:i] in ranks and token[i:] in ranks]
        merges += sorted(pairs, key=lambda p: (ranks[p[0]], ranks[p[1]]))
    merges.sort(key=lambda p: p[2])
    tok = HFTok(models.BPE({text(t): r for t, r in ranks.items()}, [(text(a), text(b)) for a, b, _ in merges],
                           fuse_unk=False, ignore_merges=True))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(SPLIT_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    folder.mkdir(parents=True, exist_ok=True)
    tok.save(str(folder / "tokenizer.json"))
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 10**8}
    (folder / "tokenizer_config.json").write_text(json.dumps(config) + "\n", encoding="utf-8")
    sample = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8") * 4
    sample += " 2025 1234567 a1b2c3 don't I'LL  \n\n\t x" * 50
    if enc.encode_ordinary(sample) != tok.encode(sample, add_special_tokens=False).ids:
        raise SystemExit("the converted cl100k_base tokenizer does not encode as tiktoken does")
    return folder


def run(cmd: list[str], env: dict[str, str], cwd: Path, timeout: float, log: Path) -> tuple[str, float, bool]:
    """Run ``cmd``; its stdout, wall seconds and whether it timed out (output written to files, so a killed
    run's lines so far are kept). A non-zero exit raises with the log's tail."""
    with open(log, "wb") as out, open(log.with_suffix(".err"), "wb") as err:
        start = time.perf_counter()
        try:
            rc = subprocess.run(cmd, stdout=out, stderr=err, env=env, cwd=cwd, timeout=timeout).returncode
            timed_out = False
        except subprocess.TimeoutExpired:
            rc, timed_out = 0, True
        seconds = time.perf_counter() - start
    if rc != 0:
        tail = log.with_suffix(".err").read_text(errors="replace").strip().splitlines()[-15:]
        raise RuntimeError(f"exit {rc}: {' '.join(cmd)}\n" + "\n".join(tail))
    return log.read_text(errors="replace"), seconds, timed_out


def env_with(tmp: Path, name: str) -> dict[str, str]:
    """This environment, offline, with HF caches of its own (a fresh, cold datasets cache per ``name``)."""
    home = tmp / "hf" / name
    return {**os.environ, **OFFLINE, "HF_HOME": str(home), "HF_DATASETS_CACHE": str(home / "datasets")}


def ruler_side(py: str, task: str, lengths: list[int], caps: list[int], tok: Path, tmp: Path,
               timeout: float) -> tuple[dict[int, dict], str]:
    module, fn, _ = TASKS[task]
    pairs = [f"{n}:{k}" for n, k in zip(lengths, caps)]
    log = tmp / f"ruler-{task}.out"
    try:
        out, _, timed_out = run([py, "-c", RULER_PROBE, module, fn, str(tok), *pairs], env_with(tmp, "ruler"),
                                tmp, timeout, log)
    except RuntimeError as exc:
        return {}, str(exc).splitlines()[-1]
    rows = {r["length"]: r for r in map(json.loads, (line for line in out.splitlines() if line.startswith("{")))}
    return rows, ("timeout" if timed_out else "")


def lcgen_side(task: str, length: int, samples: int, tok: Path, tmp: Path, timeout: float) -> dict:
    _, _, budget = TASKS[task]
    here = Path(sys.executable).parent
    lcgen = [str(here / "lcgen")] if (here / "lcgen").exists() else [sys.executable, "-m", "lcgen"]
    out_dir = tmp / f"lcgen-{task}-{length}"
    cmd = [*lcgen, "make", "ruler", "--variants", task, "--len", str(length), "--reserve-output", str(budget),
           "--depths", str(DEPTH), "--samples", str(samples), "--seed", str(SEED), "--tokenizer", str(tok),
           "--out", str(out_dir), "--workers", "1"]
    _, make_s, timed_out = run(cmd, env_with(tmp, "make"), tmp, timeout, tmp / f"make-{task}-{length}.out")
    if timed_out:
        return {"make_s": None}
    harness = out_dir / "harness" / "lm_eval"
    out, _, _ = run([sys.executable, "-c", LOAD_PROBE, str(harness / "utils.py"), task],
                    env_with(tmp, f"load-{task}-{length}"), tmp, timeout, tmp / f"load-{task}-{length}.out")
    load = json.loads(out.strip().splitlines()[-1])
    names = [line.split(":", 1)[1].strip() for p in sorted(harness.glob("lcgen_*.yaml")) if p.name != "lcgen_ruler.yaml"
             for line in p.read_text().splitlines() if line.startswith("task:")]
    lm_eval = str(here / "lm_eval") if (here / "lm_eval").exists() else shutil.which("lm_eval") or "lm_eval"
    cli = [lm_eval, "--include_path", str(harness), "--tasks", names[0], "--model", "dummy", "--limit", "1"]
    _, cli_s, _ = run(cli, env_with(tmp, f"cli-{task}-{length}"), tmp, timeout, tmp / f"cli-{task}-{length}.out")
    shutil.rmtree(out_dir, ignore_errors=True)
    return {"make_s": make_s, "load_s": load["load_s"], "rows": load["rows"], "cli_s": cli_s, "task": names[0]}


def fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lm-eval-python", default=os.environ.get("LCGEN_LM_EVAL_PYTHON", ""),
                    help="Python of a venv with lm-eval 0.4.13, transformers, wonderwords, nltk")
    ap.add_argument("--tasks", default=",".join(TASKS), help=f"comma list of {', '.join(TASKS)}")
    ap.add_argument("--lengths", default="4096,32768,131072", help="comma list of sequence lengths (tokens)")
    ap.add_argument("--samples", default="500,50,10",
                    help="samples built per length on both sides, one per --lengths entry (500 = lm-eval's all)")
    ap.add_argument("--tokenizer", default="", help="an HF tokenizer folder (default: cl100k_base converted)")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per lm-eval ruler task (all lengths)")
    args = ap.parse_args()
    if not args.lm_eval_python:
        print("skipped: no lm-eval Python (pass --lm-eval-python PATH or set LCGEN_LM_EVAL_PYTHON)")
        return
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise SystemExit(f"--tasks: {', '.join(unknown)} not measurable here (known: {', '.join(TASKS)}; "
                         f"not run: {', '.join(f'{t} ({why})' for t, why in NOT_RUN.items())})")
    lengths = parse_lengths(args.lengths)
    caps = [min(int(k), RULER_SAMPLES) for k in args.samples.split(",")]
    if len(caps) != len(lengths):
        raise SystemExit("--samples needs one count per --lengths entry")
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="lcgen-bench-lmeval-") as name:
        tmp = Path(name)
        if args.tokenizer:
            tok = Path(args.tokenizer).resolve()
            print(f"tokenizer: {tok}")
        else:
            t0 = time.perf_counter()
            tok = build_cl100k_folder(tmp / "cl100k-hf")
            print(f"tokenizer: cl100k_base as an HF folder (checked equal to tiktoken), built in "
                  f"{time.perf_counter() - t0:.1f} s")
        print(f"lm-eval ruler builds {RULER_SAMPLES} samples per length, always; samples built here per length: "
              + ", ".join(f"{n}: {k}" for n, k in zip(lengths, caps)) + "\n")
        head = (f"{'task':<16} {'length':>7} {'n':>4} {'setup s':>8} {'search s':>8} {'build s':>8} "
                f"{'ruler500 s':>10} {'peak MB':>7} {'in tok':>7} | {'make s':>7} {'load s':>6} {'lm_eval s':>9} "
                f"| {'build/load':>10} {'build/(make+load)':>17}")
        print(head)
        for task in tasks:
            ruler, why = ruler_side(args.lm_eval_python, task, lengths, caps, tok, tmp, args.timeout)
            for length, cap in zip(lengths, caps):
                r = ruler.get(length)
                lc = lcgen_side(task, length, cap, tok, tmp, args.timeout)
                make, load = lc.get("make_s"), lc.get("load_s")
                if r is None:
                    cells = f"{'-':>8} {'-':>8} {(why or 'failed')[:8]:>8} {'-':>10} {'-':>7} {'-':>7}"
                    ratio1 = ratio2 = None
                else:
                    est = r["search_s"] + RULER_SAMPLES * r["per_sample_s"] if r["built"] < r["total"] else None
                    est_cell = fmt(est) + "*" if est is not None else fmt(r["build_s"])
                    cells = (f"{r['import_s']:>8.1f} {r['search_s']:>8.1f} {r['build_s']:>8.1f} {est_cell:>10} "
                             f"{r['peak_kb'] / 1024:>7.0f} {r['mean_len']:>7.0f}")
                    ratio1 = r["build_s"] / load if load else None
                    ratio2 = r["build_s"] / (make + load) if make and load else None
                print(f"{task:<16} {length:>7} {cap:>4} {cells} | {fmt(make):>7} {fmt(load, '.2f'):>6} "
                      f"{fmt(lc.get('cli_s')):>9} | {fmt(ratio1):>10} {fmt(ratio2, '.2f'):>17}", flush=True)
    print("\nn: samples built on both sides; setup s: importing the lm-eval task module and loading the tokenizer "
          "(once per lm-eval run); search s: "
          "lm-eval's haystack-size search; build s: the whole custom_dataset call for that length; ruler500 s: "
          "what lm-eval pays for its fixed 500 samples (* = search + 500 x measured per-sample seconds); peak MB: "
          "VmHWM of the lm-eval process during that length; in tok: mean lm-eval sample length (input + budget); "
          "make s: lcgen make wall clock (1 worker); load s: lcgen's custom_dataset (cold datasets cache); "
          "lm_eval s: the whole lm_eval --model dummy --limit 1 run of the lcgen task (cold cache). "
          "Ratios use measured seconds at the same n.")
    print(f"not run (need downloads): {', '.join(f'{t} ({why})' for t, why in NOT_RUN.items())}")
    print(f"total {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
