"""Benchmark of natural-text haystacks: the needles family at 128k and 1M against its physical limit.

The floor on building a sample is one tiktoken encode of its final text. For each haystack source this prints,
side by side: seconds to build one needles sample, seconds of one encode of the same input, their ratio (target
<= 2.5 at 1M), and the peak RSS of a fresh process building one 1M sample (target <= 500 MB). The ``files:``
source is measured on a large local text (written once from the procedural source, ~``--corpus-mb`` MB): its
one-off load (read + sentence split) is reported separately from the per-sample cost.

Run: python bench/bench_haystacks.py [--lengths 128k,1M] [--repeats 3] [--corpus-mb 40]
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lcgen.haystack import get_haystack
from lcgen.lengths import length_label, parse_lengths
from lcgen.make import SampleSpec, build_sample
from lcgen.registry import families
from lcgen.tokenizer import get_tokenizer

MEM_CODE = """
import dataclasses, sys
from lcgen.make import SampleSpec, build_sample
from lcgen.registry import families
fam = families.get("needles")
p = dataclasses.asdict(fam.params())
build_sample(SampleSpec("needles", "multi_retrieval", 1_000_000, 50.0, 0, 7, "cl100k_base", p, sys.argv[1]))
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent, VmHWM starts afresh at exec
print(next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:')))
"""


def write_corpus(folder: Path, megabytes: float) -> float:
    """A large plain-text corpus from the procedural source; returns seconds spent writing it."""
    start = time.perf_counter()
    docs = get_haystack("procedural").documents(random.Random(0), "en")
    for i in range(8):
        with open(folder / f"part{i}.txt", "w", encoding="utf-8") as out:
            written = 0
            while written < megabytes * 1e6 / 8:
                text = " ".join(next(docs)) + "\n\n"
                out.write(text)
                written += len(text)
    return time.perf_counter() - start


def measure(haystack: str, lengths: list[int], repeats: int) -> list[tuple[str, str, float, float]]:
    tok = get_tokenizer()
    fam = families.get("needles")
    params = dataclasses.asdict(fam.params())
    rows = []
    for length in lengths:
        gens, encs = [], []
        for index in range(repeats):
            spec = SampleSpec("needles", "multi_retrieval", length, 50.0, index, 7, "cl100k_base", params, haystack)
            t = time.perf_counter()
            row = build_sample(spec)
            gens.append(time.perf_counter() - t)
            t = time.perf_counter()
            tok.encode(row["input"])
            encs.append(time.perf_counter() - t)
        rows.append((length_label(length), haystack.split(":")[0], statistics.median(gens), statistics.median(encs)))
    return rows


def peak_mb(haystack: str) -> float:
    out = subprocess.run([sys.executable, "-c", MEM_CODE, haystack], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lengths", default="128k,1M")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--corpus-mb", type=float, default=40.0)
    args = ap.parse_args()
    lengths = parse_lengths(args.lengths)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp)
        wrote = write_corpus(corpus, args.corpus_mb)
        t = time.perf_counter()
        get_haystack(f"files:{corpus}")
        load = time.perf_counter() - t
        build_sample(SampleSpec("needles", "single_retrieval", 4096, 50.0, 0, 7, "cl100k_base",
                                dataclasses.asdict(families.get("needles").params()), "procedural"))  # warm-up
        results = measure("procedural", lengths, args.repeats) + measure(f"files:{corpus}", lengths, args.repeats)
        print(f"{'length':>7} {'haystack':<11} {'gen s':>7} {'encode s':>9} {'gen/enc':>8}  target")
        for label, source, gen, enc in results:
            target = "<=2.5" if label in ("1M", "1Mi") else "-"
            print(f"{label:>7} {source:<11} {gen:7.3f} {enc:9.3f} {gen / enc:8.2f}  {target}")
        size = sum(p.stat().st_size for p in corpus.iterdir()) / 1e6
        print(f"\nfiles: corpus {size:.0f} MB written in {wrote:.1f} s; loaded and split once in {load:.1f} s")
        print("\npeak RSS, fresh process, one 1M multi_retrieval sample (target <= 500 MB)")
        for source in ("procedural", f"files:{corpus}"):
            print(f"  {source.split(':')[0]:<11} {peak_mb(source):7.1f} MB")


if __name__ == "__main__":
    main()
