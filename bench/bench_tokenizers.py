"""Benchmark: regenerating a sample for another model's tokenizer, against that tokenizer's physical limit.

The floor on building a sample is one encode of its final text with the sample's own tokenizer. This script prints,
side by side in one run, for one needle-threads (and one needles) sample at ``--length``:

1. tiktoken cl100k_base: build_sample seconds, one ``encode_ordinary`` of the same input, ratio;
2. a Hugging Face ``tokenizer.json`` (a byte-level BPE with a Llama-3-like split and ``--vocab`` entries, trained
   here on lcgen's procedural prose, since no model files are downloaded), without and with a ChatML chat template:
   build seconds, one ``tokenizers`` encode of the same input (special tokens parsed, none added), ratio;
3. ``--tokenizer cl100k_base,o200k_base,<hf>``: ``lcgen make`` of one sample per tokenizer, wall clock, next to
   the sum of one encode per tokenizer (the limit for making the same content three times).

Run: python bench/bench_tokenizers.py [--length 1M] [--vocab 32000]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from lcgen.lengths import length_label, parse_lengths
from lcgen.make import MakeRequest, SampleSpec, build_sample, make
from lcgen.registry import families
from lcgen.tokenizer import get_tokenizer

CHATML = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
          "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"
         r"|\s+(?!\S)|\s+")


def train(folder: Path, vocab: int) -> Path:
    """A byte-level BPE tokenizer.json with ChatML special tokens and a chat template, trained on procedural prose."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

    prose = build_sample(spec("needles", 300_000, "cl100k_base"))["input"]
    corpus = prose.split(". ") + [f"{i:08x}-{i * 7919 % 65536:04x}" for i in range(20_000)]
    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(SPLIT), behavior="isolated"), pre_tokenizers.ByteLevel(add_prefix_space=False,
                                                                                          use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=vocab, show_progress=False,
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok.add_special_tokens(["<|im_start|>", "<|im_end|>"])
    folder.mkdir(parents=True, exist_ok=True)
    tok.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps({"chat_template": CHATML, "eos_token": "<|im_end|>"}))
    return folder


def spec(family: str, length: int, tokenizer: str, chat: str = "none", fmt: str = "plain") -> SampleSpec:
    fam = families.get(family)
    variant = fam.variant_names()[0]
    params = dataclasses.asdict(fam.params(**fam.variants[variant]))
    return SampleSpec(family, variant, length, 50.0, 0, 7, tokenizer, params,
                      "procedural" if fam.uses_haystack else None, chat_template=chat, format=fmt)


def timed(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def encode_seconds(tokenizer: str, text: str, special: bool) -> float:
    tok = get_tokenizer(tokenizer)
    if hasattr(tok, "_tok"):  # tokenizers: one encode, special-token text parsed, none added
        return timed(lambda: tok._tok.encode(text, add_special_tokens=False))[0]
    return timed(lambda: tok._enc.encode(text, allowed_special="all" if special else set()))[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--length", default="1M")
    ap.add_argument("--vocab", type=int, default=32_000)
    args = ap.parse_args()
    (length,) = parse_lengths(args.length)
    work = Path(tempfile.mkdtemp(prefix="lcgen-bench-tok-"))
    try:
        t_train, hf = timed(train, work / "hf-bpe", args.vocab)
        print(f"trained a {args.vocab:,}-entry byte-level BPE in {t_train:.1f} s ({hf})\n")
        print(f"{'family':<16} {'format':<13} {'tokenizer':<18} {'template':<8} {'length':>7} {'gen s':>7} "
              f"{'encode s':>9} {'gen/enc':>8}")
        runs = [(f, "plain", t, c) for f in ("needle-threads", "needles")
                for t, c in (("cl100k_base", "none"), (str(hf), "none"), (str(hf), "auto"))]
        runs += [("needles", "chat-history", "cl100k_base", "none"), ("needles", "chat-history", str(hf), "auto")]
        for family, fmt, tokenizer, chat in runs:
            build_sample(spec(family, 4_000, tokenizer, chat, fmt))  # warm: load the tokenizer and templates
            gen, row = timed(build_sample, spec(family, length, tokenizer, chat, fmt))
            assert row["length"] == length
            enc = encode_seconds(tokenizer, row["input"], chat != "none" or fmt != "plain")
            name = "hf (trained BPE)" if tokenizer == str(hf) else tokenizer
            print(f"{family:<16} {fmt:<13} {name:<18} {chat:<8} {length_label(length):>7} {gen:>7.2f} {enc:>9.2f} "
                  f"{gen / enc:>8.2f}")
        many = f"cl100k_base,o200k_base,{hf}"
        req = MakeRequest(family="needle-threads", lengths=[length], seed=7, depths=[50.0], variants=["threads"],
                          tokenizer=many)
        wall, _ = timed(make, req, work / "many")
        rows = [r for f in sorted((work / "many").glob("data/*/*.parquet")) for r in pq.read_table(f).to_pylist()]
        floor = sum(encode_seconds(r["tokenizer"] if not r["tokenizer"].startswith("hf:") else str(hf), r["input"],
                                   False) for r in rows)
        print(f"\n--tokenizer cl100k_base,o200k_base,hf (needle-threads threads, {length_label(length)}, one sample "
              f"each, --workers 1): make {wall:.2f} s, three encodes {floor:.2f} s, ratio {wall / floor:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
