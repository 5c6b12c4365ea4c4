"""Benchmark of the procedures family: seconds per sample at each output level, against the physical limit.

A sample's floor is one tiktoken encode of its final text (the prompt, and here also the reference trace, whose
tokens are checked against ``--output-len``). For every variant and output level this prints, side by side:
build_sample seconds (median over ``--repeats`` sample indexes), the seconds of one encode of input + answer, their
ratio, the trace's tokens against its target, and the validator's seconds per sample (the oracle re-solves it; for
pseudocode_to_code it also runs the reference in the sandbox). Figures only, no pass/fail: speed targets are not
unit tests.

Run: python bench/bench_procedures.py [--len 32k] [--outputs 500,2k,8k] [--repeats 3] [--variants a,b]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time

from lcgen.lengths import parse_length, parse_lengths
from lcgen.make import SampleSpec, build_sample
from lcgen.registry import families
from lcgen.tokenizer import get_tokenizer
from lcgen.validate import check_row

FAMILY, TOKENIZER, SEED = "procedures", "cl100k_base", 7


def spec(variant: str, length: int, output_len: int, index: int) -> SampleSpec:
    fam = families.get(FAMILY)
    params = dataclasses.asdict(fam.params(**fam.variants[variant], output_len=output_len))
    return SampleSpec(FAMILY, variant, length, 0.0, index, SEED, TOKENIZER, params, None)


def timed(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--len", dest="length", default="32k")
    ap.add_argument("--outputs", default="500,2k,8k")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--variants", default="")
    args = ap.parse_args()
    length = parse_length(args.length)
    outputs = parse_lengths(args.outputs)
    variants = args.variants.split(",") if args.variants else families.get(FAMILY).variant_names()
    tok = get_tokenizer(TOKENIZER)
    tok.count("warm up")
    print(f"procedures at --len {length:,}, {TOKENIZER}, median of {args.repeats} samples")
    print(f"{'variant':<20}{'output':>7}{'gen s':>9}{'encode s':>10}{'ratio':>7}{'trace tok':>11}{'validate s':>12}")
    for variant in variants:
        for output_len in outputs:
            gen, enc, val, traces = [], [], [], []
            for index in range(args.repeats):
                seconds, row = timed(build_sample, spec(variant, length, output_len, index))
                gen.append(seconds)
                text = row["input"] + row["answer"]
                enc.append(timed(tok.encode, text)[0])
                row["tokenizer_spec"] = TOKENIZER
                seconds, (problems, _) = timed(check_row, row, {})
                assert not problems, problems
                val.append(seconds)
                traces.append(tok.count(row["answer"]))
            g, e = statistics.median(gen), statistics.median(enc)
            print(f"{variant:<20}{output_len:>7,}{g:>9.3f}{e:>10.4f}{g / e:>7.1f}{statistics.median(traces):>11,}"
                  f"{statistics.median(val):>12.3f}")


if __name__ == "__main__":
    main()
