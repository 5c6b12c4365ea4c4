"""RULER's aggregation tasks, whose context is the task itself: cwe's numbered word list, fwe's coded text.

Both are sized at plan time to the exact room the prompt leaves (``lcgen.sizing.frame``), in tokens of the sample's
tokenizer, and handed to the engine whole. cwe: as many words as fit at RULER's frequencies, then the last few
tokens closed by giving a few rare words a longer spelling (a word of the pool with one token more, which adds
``freq_ucw`` tokens) and, when that leaves a remainder, one rare word one more occurrence (never enough to rival a
common word). fwe: as many coded words as fit under RULER's Zipf counts, the rest closed with the noise rank's
"..." (which is not part of the answer) and, if needed, one more coded word occurring once.
"""

from __future__ import annotations

import functools
import random
import re
import string
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from lcgen.assemble import CONTEXT_SLOT, Needle, Plan, SamplePlan, split_prompt
from lcgen.errors import ParamError
from lcgen.render import render
from lcgen.assemble import counts_after

from ._ruler_text import MAX_DRAWS, common_word_pool, invented_words

SHORT = 4096  # below this many tokens RULER's cwe uses 6 / 1 occurrences and a smaller example
NOISE = "..."  # fwe's rank-1 word
# The context's close: a space before the question's line, so the text after the context starts with a space as
# every piece does (a SentencePiece tokenizer counts a piece that starts a text without one a "▁" more).
CLOSE = " "
_RETRIES = 64  # fewer rare words tried when the last tokens cannot be closed


def check_cwe(p: Any, lengths: list[int | None]) -> None:
    for n in lengths:
        fc, fu = frequencies(p, n or SHORT)
        if fc <= fu + 1:
            raise ParamError(f"--freq-cw: {fc} must exceed --freq-ucw + 1 ({fu + 1}), or the common words are not "
                             "the most common")


def frequencies(p: Any, length: int) -> tuple[int, int]:
    """(common, other) occurrences: RULER's 6 and 1 below 4,096 tokens when the defaults are asked for."""
    if length < SHORT and (p.freq_cw, p.freq_ucw) == (30, 3):
        return 6, 1
    return p.freq_cw, p.freq_ucw


class _Counts:
    """Token counts of list numbers ("1.", " 2.", ...) for one tokenizer, grown as needed."""

    def __init__(self) -> None:
        self.counts: list[int] = []
        self.cum: list[int] = [0]

    def upto(self, tok: Any, m: int) -> None:
        if m > len(self.counts):
            start = len(self.counts) + 1
            new = counts_after(tok, [_number(i) for i in range(start, max(m, 2 * len(self.counts)) + 1)], " mock")
            self.counts.extend(new)
            self.cum = [0, *accumulate(self.counts)]


@functools.lru_cache(maxsize=8)
def _number_counts(name: str) -> _Counts:
    return _Counts()


def _number(i: int) -> str:
    """Item i's number; every item starts with a space, as a word does, so no tokenizer counts the first apart."""
    return f" {i}."


def numbered(words: list[str]) -> str:
    return "".join(f"{_number(i)} {w}" for i, w in enumerate(words, start=1))


@functools.lru_cache(maxsize=8)
def _prompt_words(num_cw: int) -> frozenset[str]:
    """Every word of cwe's instruction, question and answer prefix, lower-cased."""
    text = " ".join([render("ruler/cwe_prompt.j2", examples=[], context="", question=""),
                     render("ruler/cwe_question.j2", count=num_cw), render("ruler/cwe_prefix.j2", count=num_cw)])
    return frozenset(re.findall(r"[a-z]+", text.lower()))


def _example(rng: random.Random, words: list[str], k: int, fc: int, fu: int, num_cw: int) -> str:
    """One worked example: its own list (``k`` words), the question, the answer prefix and the answer."""
    common, rare = words[:num_cw], words[num_cw:k]
    items = common * fc + rare * fu
    rng.shuffle(items)
    question = render("ruler/cwe_question.j2", count=num_cw).rstrip("\n")
    body = render("ruler/cwe_prompt.j2", examples=[], context=numbered(items), question=question).rstrip("\n")
    prefix = render("ruler/cwe_prefix.j2", count=num_cw).rstrip("\n")
    return body + prefix + numbered(common)


def cwe(p: Any, rng: random.Random, length: int, tok: Any) -> SamplePlan:
    from lcgen.sizing import frame

    fc, fu = frequencies(p, length)
    pool = [w for w in common_word_pool() if w not in _prompt_words(p.num_cw)]  # no answer word in the question
    rng.shuffle(pool)
    short = length < SHORT
    k_example = 20 if short else 40
    example_words, pool = pool[:k_example], pool[k_example:]
    example = _example(rng, example_words, k_example, 3 if short else 10, 1 if short else 3, min(p.num_cw, 10))
    question = render("ruler/cwe_question.j2", count=p.num_cw).rstrip("\n")
    prompt = render("ruler/cwe_prompt.j2", examples=[example], context=CONTEXT_SLOT, question=question)
    head, tail = split_prompt(prompt.rstrip("\n"))
    fr = frame(tok, length, head, tail, "", CLOSE, unit=" 1. mock 2. mock")
    taken = set(common_word_pool())
    words = _cwe_words(fr, tok, rng, pool, taken, p.num_cw, fc, fu)
    common = words.common
    fewer = set(words.fewer)
    items = common * fc + [w for w in words.rare for _ in range(fu - (w in fewer))] + words.extra
    rng.shuffle(items)
    first = {}
    for i, w in enumerate(items):
        first.setdefault(w, i)
    common = sorted(common, key=first.__getitem__)  # the answer lists them in order of first occurrence
    text = numbered(items)
    plan = Plan(head=head, tail=tail, ctx_open="", ctx_close=CLOSE, needles=[Needle(text, 0.0, recorded=False)],
                filler=None, in_context=True)
    meta = {"answer_prefix": render("ruler/cwe_prefix.j2", count=p.num_cw).rstrip("\n"), "freq_cw": fc,
            "freq_ucw": fu, "words": len(common) + len(words.rare), "items": len(items),
            "invented_words": words.invented, "type_haystack": "word list", "respelled": words.swaps,
            "extra_occurrences": len(words.extra), "fewer_occurrences": len(words.fewer)}
    answer = numbered(common).lstrip()
    return SamplePlan(plan=plan, question=question, answer=answer, answers=list(common), meta=meta)


@dataclass
class _Words:
    """A sized list: the common words, the rare ones, the rare words occurring once more or once less."""

    common: list[str]
    rare: list[str]
    extra: list[str]
    fewer: list[str]
    invented: int
    swaps: int


def _cwe_words(fr: Any, tok: Any, rng: random.Random, pool: list[str], taken: set[str], num_cw: int, fc: int,
               fu: int) -> _Words:
    """The common words, the rare ones and any extra occurrences whose numbered list takes exactly ``fr.room``."""
    room = fr.room
    numbers = _number_counts(tok.name)
    words: list[str] = []
    wt: list[int] = []
    invented = 0

    def _numbers_of(n_rare: int) -> int:
        m = num_cw * fc + n_rare * fu
        numbers.upto(tok, m + 8)
        return numbers.cum[m]

    def more(n: int) -> None:
        nonlocal invented
        fresh = pool[len(words):len(words) + n]
        if len(fresh) < n:
            made = invented_words(rng, n - len(fresh), taken)
            invented += len(made)
            fresh = fresh + made
        words.extend(fresh)
        wt.extend(counts_after(tok, [" " + w for w in fresh], " 1."))

    per_item = 4.0
    more(num_cw + max(64, int(room / (fu * per_item) * 1.1)))

    def total(n_rare: int) -> int:
        """Tokens of the list with the common words and the first ``n_rare`` rare ones."""
        return fc * sum(wt[:num_cw]) + fu * sum(wt[num_cw:num_cw + n_rare]) + _numbers_of(n_rare)

    for _ in range(64):
        rare_cum = [0, *accumulate(wt[num_cw:])]
        common_cost = fc * sum(wt[:num_cw])
        n_rare = _largest(lambda n, rc=rare_cum, cc=common_cost: cc + fu * rc[n] + _numbers_of(n) <= room,
                          len(wt) - num_cw)
        if n_rare < len(wt) - num_cw - 16 or len(wt) - num_cw > 10 * room:
            break
        more(max(64, len(words) // 4))
    else:  # pragma: no cover - the loop grows the candidates geometrically
        raise ParamError(f"--len: {room:,} tokens: the word list could not be sized")
    if total(0) > room:
        raise ParamError(f"--len: {fr.target:,} tokens is too short for {num_cw} common words x {fc}")
    for n in range(n_rare, max(n_rare - _RETRIES, -1), -1):
        closed = _close(room - total(n), n, num_cw, fc, fu, words, wt, numbers, tok)
        if closed is not None:
            rare, extra, fewer, swaps = closed
            return _Words(words[:num_cw], rare, extra, fewer, invented, swaps)
    raise ParamError(f"--len: {fr.target:,} tokens cannot be hit exactly with --tokenizer {tok.name}: no word list "
                     "of RULER's frequencies takes exactly the room left")


def _largest(ok: Any, hi: int) -> int:
    """The largest n in [0, hi] with ok(n) (ok is monotone: true, then false); -1 when ok(0) is false."""
    lo, best = 0, -1
    while lo <= hi:
        mid = (lo + hi) // 2
        if ok(mid):
            best, lo = mid, mid + 1
        else:
            hi = mid - 1
    return best


def _close(left: int, n_rare: int, num_cw: int, fc: int, fu: int, words: list[str], wt: list[int], numbers: Any,
           tok: Any) -> tuple[list[str], list[str], list[str], int] | None:
    """Close ``left`` tokens with the first ``n_rare`` rare words: up to ``fu`` of them (of one spelling length)
    occur once more or once less, then rare words swap for unused words a token or two longer or shorter (each
    swap moves the total by ``fu`` per token). None when these rare words cannot."""
    rare = list(words[num_cw:num_cw + n_rare])
    rare_t = list(wt[num_cw:num_cw + n_rare])
    spare: dict[int, list[str]] = {}
    for w, t in zip(words[num_cw + n_rare:], wt[num_cw + n_rare:]):
        spare.setdefault(t, []).append(w)
    by_size: dict[int, list[int]] = {}
    for i, t in enumerate(rare_t):
        by_size.setdefault(t, []).append(i)
    m = num_cw * fc + n_rare * fu
    lowest = -fu if fu > 1 else 0  # a word occurring once cannot occur once less and stay in the list
    for e in sorted(range(lowest, fu + 1), key=abs):
        for size in sorted(by_size) if e else [0]:
            picked = by_size.get(size, [])[:abs(e)]
            if len(picked) < abs(e):
                continue
            if e >= 0:
                cost = e * size + numbers.cum[m + e] - numbers.cum[m]
            else:
                cost = e * size - (numbers.cum[m] - numbers.cum[m + e])
            rest = left - cost
            if rest % fu:
                continue
            swaps = _swaps(rest // fu, rare_t, spare, skip=set(picked))
            if swaps is None:
                continue
            chosen = list(rare)
            for i, w in swaps:
                chosen[i] = w
            changed = [chosen[i] for i in picked]
            return chosen, changed if e > 0 else [], changed if e < 0 else [], len(swaps)
    return None


def _swaps(need: int, rare_t: list[int], spare: dict[int, list[str]],
           skip: set[int]) -> list[tuple[int, str]] | None:
    """(index, new word) swaps changing the rare words' spellings by ``need`` tokens in all (a token or two, longer
    or shorter, each), from the last rare word back."""
    out: list[tuple[int, str]] = []
    used = dict.fromkeys(spare, 0)
    sign = 1 if need > 0 else -1
    left = abs(need)
    for i in range(len(rare_t) - 1, -1, -1):
        if left == 0:
            break
        if i in skip:
            continue
        for step in (2, 1) if left >= 2 else (1,):
            t = rare_t[i] + sign * step
            if used.get(t, 0) < len(spare.get(t, [])):
                out.append((i, spare[t][used[t]]))
                used[t] += 1
                left -= step
                break
    return out if left == 0 else None


# --- fwe ------------------------------------------------------------------------------------------------------


def zipf_counts(n_words: int, vocab: int, alpha: float) -> list[int]:
    """RULER's counts: rank k (1-based) occurs floor(n_words * k^-alpha / zeta(alpha)) times."""
    z = _zeta(alpha)
    return [int(n_words * k ** -alpha / z) for k in range(1, vocab + 1)]


@functools.lru_cache(maxsize=16)
def _zeta(alpha: float) -> float:
    """Riemann zeta(alpha) for alpha > 1: the partial sum to 10^5 and its integral tail (error < 1e-10)."""
    n = 100_000
    return sum(k ** -alpha for k in range(1, n + 1)) + n ** (1 - alpha) / (alpha - 1) - 0.5 * n ** -alpha


def _coded(rng: random.Random, letters: int, taken: set[str]) -> str:
    for _ in range(MAX_DRAWS):
        w = "".join(rng.choices(string.ascii_lowercase, k=letters))
        if w not in taken and w not in _fwe_prompt_words():
            taken.add(w)
            return w
    raise ParamError(f"--coded-wordlen: no fresh {letters}-letter word found in {MAX_DRAWS:,} draws")


def _close_fwe(left: int, wt: list[int], counts: list[int], rng: random.Random, letters: int, taken: set[str],
               tok: Any) -> tuple[int | None, list[Any]]:
    """How many more "..." and which at most two other changes take ``left`` tokens exactly: a fresh coded word
    once (its text) or one more occurrence of a rare word far behind the answer's third (its rank index). (None,
    []) when nothing small does."""
    noise_t = wt[0]
    fresh = [_coded(rng, letters, taken) for _ in range(64)]
    options: dict[int, list[Any]] = {}
    for w, t in zip(fresh, counts_after(tok, [" " + w for w in fresh], " mock")):
        options.setdefault(t, []).append(w)
    for k in range(4, len(counts)):
        if 0 < counts[k] <= counts[3] - 3:  # one more still leaves the third answer word two ahead
            options.setdefault(wt[k], []).append(k)
    sizes = sorted(options)
    for used in (0, 1, 2):
        for a in sizes if used else [0]:
            for b in (sizes if used == 2 else [0]):
                if used == 2 and (b < a or (a == b and len(options[a]) < 2)):
                    continue
                rest = left - a - b
                if rest >= 0 and rest % noise_t == 0:
                    picked = ([options[a][0]] if used else []) + ([options[b][1 if a == b else 0]] if used == 2
                                                                   else [])
                    return rest // noise_t, picked
    return None, []


@functools.lru_cache(maxsize=1)
def _fwe_prompt_words() -> frozenset[str]:
    text = " ".join([render("ruler/fwe_prompt.j2", context="", question=""), render("ruler/fwe_question.j2"),
                     render("ruler/fwe_prefix.j2")])
    return frozenset(re.findall(r"[a-z]+", text.lower()))


def fwe(p: Any, rng: random.Random, length: int, tok: Any) -> SamplePlan:
    from lcgen.sizing import frame

    question = render("ruler/fwe_question.j2").rstrip("\n")
    head, tail = split_prompt(render("ruler/fwe_prompt.j2", context=CONTEXT_SLOT, question=question).rstrip("\n"))
    fr = frame(tok, length, head, tail, "", CLOSE, unit=" mock mock")
    room = fr.room
    taken: set[str] = set()
    vocab_size = max(16, room // 50)  # RULER's default vocabulary size
    vocab = [NOISE] + [_coded(rng, p.coded_wordlen, taken) for _ in range(vocab_size - 1)]
    wt = counts_after(tok, [" " + w for w in vocab], " mock")
    # Tokens are monotone in the number of words: find the largest count whose text fits.
    def tokens(n: int) -> int:
        return sum(c * t for c, t in zip(zipf_counts(n, vocab_size, p.alpha), wt))

    n = _largest(lambda k: tokens(k) <= room, max(room * 4, 64))
    counts = zipf_counts(max(n, 0), vocab_size, p.alpha)
    if n < 0 or len([c for c in counts if c]) < 5 or not counts[1] > counts[2] > counts[3] > counts[4]:
        raise ParamError(f"--len: {fr.target:,} tokens is too short for fwe: the three most frequent coded words "
                         "would not be distinct in count")
    left = room - tokens(n)
    more_noise, extra = _close_fwe(left, wt, counts, rng, p.coded_wordlen, taken, tok)
    if more_noise is None:
        raise ParamError(f"--len: {fr.target:,} tokens cannot be hit exactly with --tokenizer {tok.name}: no mix of "
                         f"noise, fresh coded words and rare-word occurrences takes the last {left} tokens")
    for k in extra:
        if isinstance(k, int):
            counts[k] += 1
    extra = [w for w in extra if isinstance(w, str)]
    counts[0] += more_noise
    items = [w for w, c in zip(vocab, counts) for _ in range(c)] + extra
    rng.shuffle(items)
    if items[-1] == NOISE:  # "..." before the newline would merge with it: end on a coded word
        last = max(i for i, w in enumerate(items) if w != NOISE)
        items[last], items[-1] = items[-1], items[last]
    text = "".join(" " + w for w in items)
    plan = Plan(head=head, tail=tail, ctx_open="", ctx_close=CLOSE, needles=[Needle(text, 0.0, recorded=False)],
                filler=None, in_context=True)
    answers = vocab[1:4]
    meta = {"answer_prefix": render("ruler/fwe_prefix.j2").rstrip("\n"), "words": len(items),
            "counts": counts[:6], "vocab_size": vocab_size,
            "type_haystack": "coded text"}
    return SamplePlan(plan=plan, question=question, answer=" ".join(answers), answers=answers, meta=meta)


__all__ = ["check_cwe", "cwe", "frequencies", "fwe", "numbered", "zipf_counts"]
