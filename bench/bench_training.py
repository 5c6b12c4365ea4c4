"""Training-set mode against its limits, in one run, figures side by side.

1. Throughput: tokens/s of ``lcgen make`` (the parquet shards and card included) with the local engine at 1 and 2
   workers and with Ray (a local cluster of 2 CPUs), against the physical limit: one tiktoken encode of each final
   text, on one core. Target: 2 workers >= 1.8x one worker.
2. Memory: peak RSS of the whole process tree (driver and workers) of an ``lcgen make`` CLI run of N1 samples,
   against a run of N2 samples (10-100x more) watched while it makes its first samples and stopped after
   ``--watch`` rows: flat means the larger request costs no more memory as it goes. Target: within 10%.
3. The same shards from both engines: sha256 of every file equal.

Run: python bench/bench_training.py [--family needles] [--len 8k] [--samples 1500] [--memory 10000,1000000]
     [--watch 30000] [--skip-ray] [--skip-memory]
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pyarrow.parquet as pq

from lcgen.lengths import parse_length
from lcgen.make import MakeRequest, make
from lcgen.shards import ShardSize
from lcgen.tokenizer import get_tokenizer

LCGEN = [sys.executable, "-c", "from lcgen.cli.main import main; main()"]


def request(family: str, length: int, samples: int, shard_rows: int) -> MakeRequest:
    from lcgen.registry import families

    fam = families.get(family)
    variant = fam.variant_names()[0]
    depths = [50.0] if fam.depth_of else [0.0]
    return MakeRequest(family=family, lengths=[length], seed=7, variants=[variant], depths=depths, samples=samples,
                       shard_size=ShardSize(rows=shard_rows), command="bench")


def sha256s(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def encode_limit(folder: Path) -> tuple[float, int]:
    """Seconds of one encode of every final text (one core), and their tokens."""
    tok = get_tokenizer("cl100k_base")
    texts = [t for f in sorted(folder.rglob("*.parquet")) for t in pq.read_table(f, columns=["input"])["input"]
             .to_pylist()]
    start = time.perf_counter()
    tokens = sum(len(tok.encode(t)) for t in texts)
    return time.perf_counter() - start, tokens


def throughput(args: argparse.Namespace, work: Path) -> None:
    req = lambda: request(args.family, args.length, args.samples, args.shard_rows)  # noqa: E731
    runs: dict[str, tuple[float, int]] = {}
    for name, kw in (("local, 1 worker", {"workers": 1}), ("local, 2 workers", {"workers": 2}),
                     *(() if args.skip_ray else (("ray, 2 CPUs", {"engine": "ray"}),))):
        out = work / name.replace(", ", "-").replace(" ", "")
        if kw.get("engine") == "ray":
            import ray

            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            make(request(args.family, args.length, 4, args.shard_rows), work / "ray-warm", engine="ray")
        start = time.perf_counter()
        result = make(req(), out, **kw)
        runs[name] = (time.perf_counter() - start, result.tokens)
        if kw.get("engine") == "ray":
            import ray

            ray.shutdown()
    limit_s, limit_tokens = encode_limit(work / "local-1worker")
    print(f"\n## Throughput: {args.family} {args.length:,} tokens x {args.samples:,} samples "
          f"({args.samples * args.length / 1e6:.1f}M tokens), shards of {args.shard_rows} rows\n")
    print("| run | seconds | tokens/s | tokens/s per core | x one encode per token (1 core) |")
    print("|---|---:|---:|---:|---:|")
    limit_rate = limit_tokens / limit_s
    print(f"| limit: one tiktoken encode of each final text, 1 core | {limit_s:.1f} | {limit_rate:,.0f} | "
          f"{limit_rate:,.0f} | 1.00 |")
    for name, (seconds, tokens) in runs.items():
        cores = 1 if "1 worker" in name else 2
        rate = tokens / seconds
        print(f"| {name} | {seconds:.1f} | {rate:,.0f} | {rate / cores:,.0f} | {limit_rate / (rate / cores):.2f} |")
    one, two = runs["local, 1 worker"][0], runs["local, 2 workers"][0]
    print(f"\n2 workers / 1 worker speed-up: {one / two:.2f}x (target >= 1.8x)")
    if "ray, 2 CPUs" in runs:
        print(f"ray / local 2 workers: {runs['local, 2 workers'][0] / runs['ray, 2 CPUs'][0]:.2f}x")
    folders = [work / "local-1worker", work / "local-2workers"] + ([] if args.skip_ray else [work / "ray-2CPUs"])
    same = all(sha256s(f) == sha256s(folders[0]) for f in folders[1:])
    print(f"same sha256 for every file of {', '.join(f.name for f in folders)}: {same}")


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def watched_run(args: argparse.Namespace, work: Path, samples: int, stop_after: int | None) -> tuple[int, int, float]:
    """Peak RSS (bytes) of the process tree, rows made, seconds."""
    from lcgen.registry import families

    fam = families.get(args.family)
    cmd = [*LCGEN, "make", args.family, "--len", str(args.length), "--seed", "7", "--variants",
           fam.variant_names()[0], "--samples", str(samples), "--shard-size", str(args.shard_rows), "--workers", "2",
           "--out", f"mem{samples}"] + (["--depths", "50"] if fam.depth_of else [])
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    watched = psutil.Process(proc.pid)
    peak, rows = 0, 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(watched))
        shards = work.glob(f".mem{samples}.incomplete-*/data/*/*.parquet")
        rows = sum(pq.ParquetFile(p).metadata.num_rows for p in shards if not p.name.startswith("."))
        if stop_after is not None and rows >= stop_after:
            proc.kill()
            break
        time.sleep(0.2)
    proc.wait()
    return peak, stop_after if stop_after is not None else samples, time.perf_counter() - start


def memory(args: argparse.Namespace, work: Path) -> None:
    small, large = args.memory
    print(f"\n## Memory: peak RSS of driver + workers, {args.family} {args.length:,} tokens, 2 workers\n")
    print("| run | rows made | seconds | peak RSS MB |")
    print("|---|---:|---:|---:|")
    peak_small, rows, seconds = watched_run(args, work, small, None)
    print(f"| --samples {small:,} (complete, card included) | {rows:,} | {seconds:.0f} | {peak_small / 1e6:.0f} |")
    peak_large, rows, seconds = watched_run(args, work, large, args.watch)
    print(f"| --samples {large:,} (stopped after {args.watch:,} rows) | {rows:,} | {seconds:.0f} | "
          f"{peak_large / 1e6:.0f} |")
    print(f"\nlarge / small: {peak_large / peak_small:.3f} (target within 10%)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--family", default="needles")
    ap.add_argument("--len", dest="length", type=parse_length, default=8192)
    ap.add_argument("--samples", type=int, default=1500)
    ap.add_argument("--shard-rows", type=int, default=250)
    ap.add_argument("--memory", type=lambda v: [int(x) for x in v.split(",")], default=[10_000, 1_000_000])
    ap.add_argument("--watch", type=int, default=30_000)
    ap.add_argument("--skip-ray", action="store_true")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--skip-throughput", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lcgen-bench-training-"))
    try:
        if not args.skip_throughput:
            throughput(args, work)
        if not args.skip_memory:
            memory(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
