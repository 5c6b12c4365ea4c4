"""Start-up benchmark: how long a user waits for the commands they type first, and where that time goes.

In one run, side by side:

1. wall clock of ``lcgen --version``, ``lcgen list`` (target <= 0.3 s each) and
   ``lcgen make needle-threads --len 1M --variants single_needle --depths 50 --samples 1`` (target <= 1.0 s),
   each the median of ``--repeats`` fresh processes;
2. the breakdown of that make in one fresh process: Python start, lcgen imports (CLI and make path), tokenizer
   load, generation, writing (parquet, card, harness files), next to the physical limit (one tiktoken encode of
   the final text);
3. the heavy packages the make path imported (none of datasets, polars, matplotlib, pandas, bpe_openai should be).

Run: python bench/bench_start.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MAKE = ["make", "needle-threads", "--len", "1M", "--variants", "single_needle", "--depths", "50", "--samples", "1"]
TARGETS = {"--version": 0.3, "list": 0.3, "make 1M": 1.0}
HEAVY = ("datasets", "polars", "matplotlib", "pandas", "bpe_openai", "huggingface_hub", "transformers")

# The same work as ``lcgen make`` (one sample), phase by phase, in a fresh process.
PHASES = r"""
import time
t0 = time.perf_counter()
import json, sys
from pathlib import Path
import lcgen.cli.main, lcgen.cli.make, lcgen.cli.run_make
t1 = time.perf_counter()
from lcgen.make import MakeRequest, build_sample
from lcgen.dataset import DatasetWriter
from lcgen.schema import SCHEMA
from lcgen.shards import plan_shards, write_shard
from lcgen.registry import families
families.get("needle-threads")
t2 = time.perf_counter()
from lcgen.tokenizer import get_tokenizer
tok = get_tokenizer("cl100k_base")
t3 = time.perf_counter()
req = MakeRequest(family="needle-threads", lengths=[1_000_000], seed=0, variants=["single_needle"], depths=[50.0],
                  samples=1, tokenizer="cl100k_base", overrides={}, command="lcgen make (bench)")
req.check()
(spec,) = req.specs()
row = build_sample(spec)
t4 = time.perf_counter()
writer = DatasetWriter(Path(sys.argv[1]), req, req.split_counts())
(shard,) = plan_shards(req.recipes(), req.shard_size)
writer.add_shard(shard.recipe.config, shard.recipe.split, write_shard(Path(sys.argv[1]), shard, [row], (), SCHEMA))
writer.close()
t5 = time.perf_counter()
tok.encode(row["input"])
t6 = time.perf_counter()
heavy = sorted(m for m in sys.modules if m in json.loads(sys.argv[2]))
print(json.dumps({"lcgen CLI imports": t1 - t0, "family and make-path imports": t2 - t1,
                  "tokenizer load": t3 - t2, "generation": t4 - t3, "write (parquet, card, harness files)": t5 - t4,
                  "one encode of the final text": t6 - t5, "heavy": heavy}))
"""


def lcgen_command() -> list[str]:
    """The ``lcgen`` script of the Python running this bench (not whichever is first on PATH)."""
    beside = Path(sys.executable).parent / "lcgen"
    exe = str(beside) if beside.is_file() else shutil.which("lcgen")
    return [exe] if exe else [sys.executable, "-c", "from lcgen.cli.main import main; main()"]


def wall(args: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="lcgen-bench-") as tmp:
            extra = ["--out", str(Path(tmp) / "out")] if args[:1] == ["make"] else []
            start = time.perf_counter()
            done = subprocess.run([*lcgen_command(), *args, *extra], capture_output=True, text=True)
            times.append(time.perf_counter() - start)
            if done.returncode != 0:
                raise SystemExit(f"lcgen {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return statistics.median(times)


def python_start(repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def phases(repeats: int) -> dict:
    runs = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="lcgen-bench-") as tmp:
            done = subprocess.run([sys.executable, "-c", PHASES, str(Path(tmp) / "out"), json.dumps(HEAVY)],
                                  capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"phase run failed:\n{done.stderr}")
            runs.append(json.loads(done.stdout))
    out = {k: statistics.median(r[k] for r in runs) for k in runs[0] if k != "heavy"}
    out["heavy"] = sorted({m for r in runs for m in r["heavy"]})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5, help="fresh processes per figure; the median is reported")
    repeats = max(1, ap.parse_args().repeats)
    wall(MAKE, 1)  # warm the page cache (wheel files, BPE file) so the first figure is not an outlier

    measured = {"--version": wall(["--version"], repeats), "list": wall(["list"], repeats),
                "make 1M": wall(MAKE, repeats)}
    print(f"wall clock, median of {repeats} fresh processes")
    for name, seconds in measured.items():
        ok = "PASS" if seconds <= TARGETS[name] else "MISS"
        print(f"  {ok}  lcgen {name:<10} {seconds:6.3f} s   target <= {TARGETS[name]:g} s")
    print(f"  (lcgen make 1M = lcgen {' '.join(MAKE)})")

    parts = phases(repeats)
    start = python_start(repeats)
    print(f"\nbreakdown of the make in one process (median of {repeats})")
    print(f"  {'python start (interpreter, site)':<40} {start:6.3f} s")
    total = start
    for name, seconds in parts.items():
        if name in ("heavy", "one encode of the final text"):
            continue
        total += seconds
        print(f"  {name:<40} {seconds:6.3f} s")
    print(f"  {'sum':<40} {total:6.3f} s")
    limit = parts["one encode of the final text"]
    print(f"  physical limit: one encode of the final text {limit:.3f} s; generation / encode = "
          f"{parts['generation'] / limit:.2f}")
    print(f"\nheavy packages imported on the make path: {', '.join(parts['heavy']) or 'none'}")


if __name__ == "__main__":
    main()
