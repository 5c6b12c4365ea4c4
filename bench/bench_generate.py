"""Benchmark of sample generation (any family; needle-threads by default) against its physical limit.

Every sample ends as one text that must be tokenized at least once to know its length, so the floor on the cost of
building a sample is one tiktoken ``encode_ordinary`` of the final text. This script measures, in one run:

1. build_sample seconds per (length, variant) (median over ``--repeats`` indexes, depth 50) next to the seconds of one
   ``tok.encode`` of the same input, and their ratio (target: gen/encode <= 2.5 at 1M);
2. whether the cost is linear in length: microseconds per 1k tokens at each length, side by side;
3. peak RSS (VmHWM) of a fresh process that builds one 1M sample (first two variants), target <= 500 MB;
4. wall clock of the ``lcgen make`` CLI for one 1M sample, target <= 3 s (unless --skip-cli).

Run: python bench/bench_generate.py [--family needle-threads] [--lengths 128k,1M] [--repeats 3] [--variants a,b]
     [--skip-cli]
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lcgen.lengths import length_label, parse_lengths
from lcgen.make import SampleSpec, build_sample
from lcgen.registry import families
from lcgen.tokenizer import get_tokenizer

FAMILY, TOKENIZER, SEED, DEPTH = "needle-threads", "cl100k_base", 7, 50.0
RATIO_MAX, MEM_MAX_MB, CLI_MAX_S, MEM_LENGTH = 2.5, 500.0, 3.0, 1_000_000

MEM_CODE = """
import sys
sys.path.insert(0, sys.argv[4])
from bench_generate import spec
from lcgen.make import build_sample
build_sample(spec(sys.argv[1], sys.argv[2], int(sys.argv[3]), 0))
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent, VmHWM starts afresh at exec
print(next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:')))
"""


def spec(family: str, variant: str, length: int, index: int) -> SampleSpec:
    """One sample of ``variant`` with the variant's own preset (and the procedural haystack where one is used)."""
    fam = families.get(family)
    params = dataclasses.asdict(fam.params(**fam.variants[variant]))
    haystack = "procedural" if fam.uses_haystack else None
    depth = DEPTH if fam.depth_of else 0.0  # a family without depth builds every sample at 0
    return SampleSpec(family, variant, length, depth, index, SEED, TOKENIZER, params, haystack)


def timed(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def peak_mb(family: str, variant: str, length: int) -> float:
    here = str(Path(__file__).resolve().parent)
    done = subprocess.run([sys.executable, "-c", MEM_CODE, family, variant, str(length), here],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"memory probe failed for {variant}:\n{done.stderr}")
    return int(done.stdout.strip().splitlines()[-1]) / 1024  # VmHWM is in kB


def cli_seconds(family: str, variant: str) -> float:
    exe = shutil.which("lcgen")
    cmd = [exe] if exe else [sys.executable, "-m", "lcgen"]
    with tempfile.TemporaryDirectory(prefix="lcgen-bench-") as tmp:
        out = Path(tmp) / "out"
        depths = ["--depths", "50"] if families.get(family).depth_of else []
        cmd += ["make", family, "--len", "1M", "--seed", str(SEED), "--variants", variant, *depths,
                "--out", str(out), "--workers", "1"]
        seconds, done = timed(lambda: subprocess.run(cmd, capture_output=True, text=True))
        if done.returncode != 0:
            raise SystemExit(f"CLI failed ({done.returncode}): {' '.join(cmd)}\n{done.stderr}")
        shutil.rmtree(out, ignore_errors=True)
    return seconds


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lengths", default="128k,1M", help="comma list of target lengths (default 128k,1M)")
    ap.add_argument("--repeats", type=int, default=3, help="samples (indexes) per cell; median is reported")
    ap.add_argument("--family", default=FAMILY, help=f"family to measure (default {FAMILY})")
    ap.add_argument("--variants", default="", help="comma list of variants (default: all of the family's)")
    ap.add_argument("--skip-cli", action="store_true", help="do not time the lcgen make CLI")
    args = ap.parse_args()
    lengths = parse_lengths(args.lengths)
    family = args.family
    variants = [v.strip() for v in args.variants.split(",") if v.strip()] or families.get(family).variant_names()
    repeats = max(1, args.repeats)

    tok = get_tokenizer(TOKENIZER)  # warm-up: tokenizer load, imports, one small sample and encode
    tok.encode(build_sample(spec(family, variants[0], 4096, 0))["input"])

    print(f"{'length':>7} {'variant':<20} {'tokens':>9} {'gen s':>8} {'encode s':>9} {'gen/enc':>8} {'target':>7}")
    results: dict[tuple[int, str], tuple[float, float, int]] = {}
    for length in lengths:
        for variant in variants:
            gens, row = [], None
            for index in range(repeats):
                seconds, built = timed(build_sample, spec(family, variant, length, index))
                gens.append(seconds)
                row = row or built
            text = row["input"]
            enc = statistics.median(timed(tok.encode, text)[0] for _ in range(repeats))
            gen = statistics.median(gens)
            results[length, variant] = (gen, enc, row["length"])
            target = f"<={RATIO_MAX:g}" if length == MEM_LENGTH else "-"
            print(f"{length_label(length):>7} {variant:<20} {row['length']:>9,} {gen:>8.3f} {enc:>9.3f} "
                  f"{gen / enc:>8.2f} {target:>7}")

    print("\nlinearity: generation microseconds per 1k tokens (equal across lengths = linear)")
    print(f"{'variant':<20} " + " ".join(f"{length_label(n):>9}" for n in lengths) + f" {'max/min':>8}")
    for variant in variants:
        per = [results[n, variant][0] / results[n, variant][2] * 1e9 for n in lengths]
        print(f"{variant:<20} " + " ".join(f"{p:>9.1f}" for p in per) + f" {max(per) / min(per):>8.2f}")

    print(f"\npeak memory (fresh process, one {length_label(MEM_LENGTH)} sample)")
    mems = {v: peak_mb(family, v, MEM_LENGTH) for v in variants[:2]}
    for variant, mb in mems.items():
        print(f"  {variant:<20} {mb:8.1f} MB   target <= {MEM_MAX_MB:g} MB")

    cli = None
    if not args.skip_cli:
        cli = cli_seconds(family, variants[0])
        command = f"lcgen make {family} --len 1M --variants {variants[0]} --depths 50 --workers 1"
        print(f"\nCLI wall clock ({command}): {cli:.2f} s   target <= {CLI_MAX_S:g} s")

    print("\ntargets")
    at_1m = [(results[k][0] / results[k][1], k[1]) for k in results if k[0] == MEM_LENGTH]
    if at_1m:
        worst, who = max(at_1m)
        print(f"  {verdict(worst <= RATIO_MAX)}  gen/encode at 1M <= {RATIO_MAX:g}: worst {worst:.2f} ({who})")
    else:
        print("  ----  gen/encode at 1M: not measured (1M not in --lengths)")
    worst_mb, who = max((mb, v) for v, mb in mems.items())
    print(f"  {verdict(worst_mb <= MEM_MAX_MB)}  peak RSS at 1M <= {MEM_MAX_MB:g} MB: worst {worst_mb:.0f} MB ({who})")
    if cli is None:
        print("  ----  CLI 1M wall clock: skipped (--skip-cli)")
    else:
        print(f"  {verdict(cli <= CLI_MAX_S)}  CLI 1M wall clock <= {CLI_MAX_S:g} s: {cli:.2f} s")


if __name__ == "__main__":
    main()
