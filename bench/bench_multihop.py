"""Benchmark of multihop-qa: what the LLM stages cost beside the assembly, and what the cache saves.

Against the scripted model on a loopback server (``tests/generators/multihop_model.py``: it answers in
microseconds, so these figures are lcgen's own overhead, not a model's latency), for each length this prints side by
side: seconds per sample built without ``--llm`` (template questions) against one tiktoken encode of its text (the
physical limit), the run-wide stage's seconds and model calls per sample with a cold cache, the same run again from
a warm cache (no call), and ``lcgen validate``'s seconds per sample. Figures only, no pass/fail.

Run: python bench/bench_multihop.py [--len 32k,128k,1M] [--samples 4] [--hops 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lcgen.lengths import length_label, parse_lengths  # noqa: E402
from lcgen.make import MakeRequest, build_sample, make, run_prepare  # noqa: E402
from lcgen.tokenizer import get_tokenizer  # noqa: E402
from lcgen.validate import validate  # noqa: E402
from tests.generators.multihop_model import ScriptedModel  # noqa: E402
from tests.openai_server import OpenAIServer  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--len", default="32k,128k,1M")
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--hops", type=int, default=2)
    args = ap.parse_args()
    tok = get_tokenizer("cl100k_base")
    print(f"multihop-qa, --hops {args.hops}, {args.samples} samples per length, cl100k_base, scripted loopback model")
    print("| --len | build s/sample | encode s | ratio | stage s/sample (cold) | calls/sample | stage s/sample (warm) "
          "| calls (warm) | validate s/sample |")
    print("|---|---|---|---|---|---|---|---|---|")
    for length in parse_lengths(args.len):
        with tempfile.TemporaryDirectory() as tmp, OpenAIServer({}, respond=ScriptedModel({})) as srv:
            base = MakeRequest(family="multihop-qa", lengths=[length], seed=7, samples=args.samples, depths=[50.0],
                               overrides={"hops": args.hops})
            builds, encodes = [], []
            for spec in base.specs():
                start = time.perf_counter()
                row = build_sample(spec)
                builds.append(time.perf_counter() - start)
                start = time.perf_counter()
                tok.encode(row["input"])
                encodes.append(time.perf_counter() - start)
            llm = {"llm": f"openai:{srv.url}#bench", "llm_options": {"cache_dir": Path(tmp) / "cache"}}
            cold = dataclasses.replace(base, **llm)
            start = time.perf_counter()
            run_prepare(cold, cold.specs())
            cold_s = time.perf_counter() - start
            cold_calls = len(srv.model_requests())
            warm = dataclasses.replace(base, **llm)
            make(warm, Path(tmp) / "out", workers=1)
            warm_prepare = time.perf_counter()
            again = dataclasses.replace(base, **llm)
            run_prepare(again, again.specs())
            warm_s = time.perf_counter() - warm_prepare
            warm_calls = len(srv.model_requests()) - cold_calls
            start = time.perf_counter()
            validate(Path(tmp) / "out")
            val = (time.perf_counter() - start) / args.samples
        b, e = statistics.median(builds), statistics.median(encodes)
        print(f"| {length_label(length)} | {b:.3f} | {e:.3f} | {b / e:.1f} | {cold_s / args.samples:.3f} | "
              f"{cold_calls / args.samples:.1f} | {warm_s / args.samples:.3f} | {warm_calls} | {val:.3f} |")


if __name__ == "__main__":
    main()
