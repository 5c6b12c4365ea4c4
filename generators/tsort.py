"""TSort: put the shuffled parts of one continuous passage back in their original order.

After Ada-LEval's TSort (Wang et al., arXiv 2404.06480): a passage of one document is cut at sentence boundaries
into ``--segments`` parts, shown in a shuffled order (never the original one) between the text just before it and
the text just after it (``--context-sentences``); the model answers the parts' original order. ``--len`` is exact:
the passage grows with it, and where it starts in its document is chosen so the prompt has exactly the target's
tokens. The default source is a procedural chronicle (``generators/_chronicle.py``) whose parts each open with a
dated entry, so the order is recoverable from the text; ``files:`` and ``hf:`` corpora of real books work too.
The answer is by design not in ``input``: the oracle re-derives it through the declared source (the document
regenerated from the recorded request) and, for chronicles, checks that the parts' dates give the same order.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from lcgen.assemble import CONTEXT_SLOT, Needle, Plan, SamplePlan, split_prompt
from lcgen.errors import HaystackError, ParamError
from lcgen.frames import frame_lines, render_frame
from lcgen.haystack import Haystack, unit_text
from lcgen.params import FamilyParams, param
from lcgen.registry import family
from lcgen.render import render
from lcgen.validators.metrics import tsort as tsort_metric

MAX_DOCUMENTS = 1_000  # documents of a corpus looked at for one long enough
MAX_STARTS = 4_000  # passage starts tried for an exact fit
MAX_CHECKS = 8  # fits whose blocks are counted in full before refusing
MAX_SHUFFLES = 1_000
_SLACK_TOKENS = 4_000  # a chronicle is written this far past the room at least, so many starts fit


@dataclass(frozen=True, kw_only=True)
class TsortParams(FamilyParams):
    """Knobs of the tsort family."""

    segments: int = param(4, help="Parts the passage is cut into (shown shuffled, never in the original order).",
                          min=3, max=32)
    context_sentences: int = param(2, help="Sentences shown just before and just after the parts (0: none).",
                                   min=0, max=50)
    lang: Literal["en", "zh"] = param("en", help="Language of the prompt and of the chronicle (pick a haystack to "
                                                 "match).")


@dataclass(frozen=True)
class TsortSource:
    """What the oracle regenerates: the documents the sample's passage was drawn from, in the order it drew them.

    ``kind`` is ``chronicle`` (the procedural default: one endless document, given as its entries) or ``corpus``
    (``files:``/``hf:``: whole documents, each a list of sentences).
    """

    kind: str
    lang: str
    documents: Iterator[Any]


def document_stream(haystack: Haystack, rng: random.Random, lang: str) -> TsortSource:
    """The sample's documents: a chronicle for the procedural source, else the corpus' whole documents."""
    if haystack.scheme == "procedural":
        from ._chronicle import chronicle

        return TsortSource("chronicle", lang, chronicle(rng, lang))
    return TsortSource("corpus", lang, haystack.whole_documents(rng, lang))


def regenerate(spec: Any) -> TsortSource:
    """the document its passage was cut from (the parts' original order is by design not in `input`).

    The declared source: the sample's documents, replayed from its recorded request and seed."""
    from lcgen.haystack import get_haystack
    from lcgen.make import sample_rng

    rng = sample_rng(spec)
    return document_stream(get_haystack(spec.haystack), random.Random(rng.getrandbits(64)), spec.params["lang"])


def _check(p: TsortParams, variant: str, lengths: list[int | None]) -> None:
    """A cheap bound before the first sample: each part and context sentence takes a dozen tokens at least."""
    floor = 150 + 12 * (p.segments + 2 * p.context_sentences)
    for length in lengths:
        if length is not None and length < floor:
            raise ParamError(f"--len: {length:,} tokens is too short for {p.segments} parts and "
                             f"{p.context_sentences} context sentences on each side (at least about {floor:,})")


@family(
    "tsort",
    params=TsortParams,
    variants={"order": {}},
    version="0.1.0",
    papers=("Wang et al., Ada-LEval: Evaluating long-context LLMs with length-adaptable benchmarks, "
            "arXiv:2404.06480",),
    depth_of=None,
    answer_format="The part numbers in their original reading order, as a JSON list such as [2, 4, 1, 3].",
    uses_haystack=True,
    turns=False,
    metric=tsort_metric.score_reply,
    source=regenerate,
    check=_check,
    difficulty=("segments",),
)
def tsort(p: TsortParams, variant: str, depth: float, rng: random.Random, haystack: Haystack,
          length: int | None = None, tokenizer: Any = None) -> SamplePlan:
    """Plan one sample: find a passage whose blocks fill the prompt exactly, cut it, shuffle the parts."""
    from lcgen.sizing import frame

    if length is None:
        raise ParamError("--len: tsort needs a length")
    source = document_stream(haystack, random.Random(rng.getrandbits(64)), p.lang)
    k, c = p.segments, p.context_sentences
    example = [3, 1, 2] if k != 3 else [4, 1, 3, 2]
    question = render(f"tsort/{p.lang}/question.j2", k=k, example=json.dumps(example), example_first=example[0],
                      example_second=example[1]).rstrip("\n")
    head, tail = split_prompt(render(f"tsort/{p.lang}/prompt.j2", k=k, context_sentences=c, context=CONTEXT_SLOT,
                                     question=question))
    layout = _Layout(p.lang, k, c)
    fr = frame(tokenizer, length, head, tail, layout.ctx_open, layout.ctx_close, unit=layout.mock)
    fit = _find_fit(fr, source, layout, rng)
    shown = _shuffle(rng, k)  # shown[j]: the original index of the part labelled j + 1
    order = [shown.index(t) + 1 for t in range(k)]
    blocks = layout.blocks(fit.sentences, fit.cuts, shown)
    needles = [Needle(text, 0.0, order=i) for i, text in enumerate(blocks)]
    plan = Plan(head=head, tail=tail, ctx_open=layout.ctx_open, ctx_close=layout.ctx_close, needles=needles,
                filler=None)
    answer = json.dumps(order)
    window = "\n".join(fit.sentences)
    meta: dict[str, Any] = {
        "lang": p.lang,
        "segments": k,
        "shown": [t + 1 for t in shown],
        "source": source.kind,
        "part_sentences": [b - a for a, b in itertools.pairwise(fit.cuts)],
        "part_tokens": fit.part_tokens,
        "passage_sha256": hashlib.sha256(window.encode()).hexdigest(),
        "document": fit.document,
    }
    return SamplePlan(plan=plan, question=question, answer=answer, answers=[answer], meta=meta)


class _Layout:
    """How the blocks are written: a label, the sentences as additive units, a blank line between blocks."""

    def __init__(self, lang: str, k: int, c: int):
        self.lang, self.k, self.c = lang, k, c
        before, part, after = frame_lines(f"tsort/{lang}/labels.j2")
        # Every block starts with a space, as a sentence unit does: a SentencePiece tokenizer then reads its first
        # word the same counted alone as after the blank line before it.
        labels = ([before] if c else []) + [render_frame(part, n=i + 1) for i in range(k)] + ([after] if c else [])
        self.labels = [" " + label for label in labels]
        self.sep = "\n" if lang == "zh" else ""  # after the label: Chinese units start a line, English ones a space
        # English: the close starts with a space like a sentence ("... the end. </text>"), so no tokenizer merges the
        # last block's end into it; Chinese units end their own line.
        self.ctx_open, self.ctx_close = "<text>\n", " </text>" if lang == "en" else "</text>"
        self.mock = " " + render_frame(part, n=1) + self.sep + unit_text("Mock.", lang) + "\n"

    def ends(self) -> list[str]:
        """What closes each block: a blank line between blocks, nothing after the last (the context's close
        follows)."""
        between = "\n\n" if self.lang == "en" else "\n"
        return [between] * (len(self.labels) - 1) + [""]

    def groups(self, cuts: list[int]) -> list[tuple[int, int]]:
        """The sentence ranges of the blocks in original order: before, the parts, after."""
        start, end, c = cuts[0], cuts[-1], self.c
        return ([(start - c, start)] if c else []) + list(itertools.pairwise(cuts)) + ([(end, end + c)] if c else [])

    def blocks(self, sentences: list[str], cuts: list[int], shown: list[int]) -> list[str]:
        """The block texts in text order: before, the parts as shown (labels 1..k), after."""
        units = [unit_text(s, self.lang) for s in sentences]
        ranges = self.groups(cuts)
        parts = ranges[1:-1] if self.c else ranges
        ordered = ([ranges[0]] if self.c else []) + [parts[t] for t in shown] + ([ranges[-1]] if self.c else [])
        ends = self.ends()
        return [label + self.sep + "".join(units[a:b]) + end for label, (a, b), end in zip(self.labels, ordered, ends)]


@dataclass
class _Fit:
    """The window found: before, passage and after, as sentences of one document."""

    sentences: list[str]
    cuts: list[int]  # part boundaries, indices into sentences (k + 1 of them)
    part_tokens: list[int]  # each part's block tokens, in original order
    document: dict[str, Any]  # where in the source: the window's first sentence, for a corpus the document


def _find_fit(fr: Any, source: TsortSource, layout: _Layout, rng: random.Random) -> _Fit:
    """A window of one document whose blocks take exactly the frame's room; ParamError/HaystackError if none."""
    labels_n = sum(fr.counts([label + layout.sep for label in layout.labels]))
    need = fr.room - labels_n  # tokens of the sentences (with their block ends)
    if need <= 0:
        raise ParamError(f"--len: {fr.target:,} tokens leave no room for the passage once the prompt is written")
    longest = 0
    documents = iter(source.documents)
    for draw in range(MAX_DOCUMENTS if source.kind == "corpus" else 1):
        doc = _next_document(source, documents, fr, need)
        if doc is None:
            break
        sentences, starts, counts = doc
        longest = max(longest, sum(map(len, sentences)))
        if sum(counts) < need:
            continue
        fit = _fit_in(fr, layout, sentences, starts, counts, need, labels_n, rng)
        if fit is not None:
            if source.kind == "corpus":
                fit.document.update(draw=draw, sha256=hashlib.sha256("\n".join(sentences).encode()).hexdigest(),
                                    sentences=len(sentences))
            return fit
    if source.kind == "corpus":
        raise HaystackError(f"--haystack: no document of the corpus has a passage that fits --len {fr.target:,} "
                            f"exactly ({need:,} tokens of sentences; the longest document drawn has {longest:,} "
                            "characters); use longer documents or a shorter --len")
    raise ParamError(f"--len: {fr.target:,} tokens cannot be hit exactly with --tokenizer {fr.tok.name}: no passage "
                     f"start of the chronicle gives a window of exactly {need:,} tokens")


def _next_document(source: TsortSource, documents: Iterator[Any], fr: Any, need: int):
    """The next document as (sentences, allowed part starts, unit counts), or None when the source is spent.

    A chronicle is written entry by entry until it holds the room and some slack (so many starts can be tried);
    parts start at entries only. A corpus document is taken whole; one with fewer characters than the room cannot
    hold it and is skipped without counting its tokens.
    """
    if source.kind == "chronicle":
        sentences: list[str] = []
        starts: list[int] = []
        counts: list[int] = []
        goal = need + max(need // 20, _SLACK_TOKENS)
        while sum(counts) < goal:
            new: list[str] = []
            while len(new) < max(64, (goal - sum(counts)) // 20):
                entry = next(documents)
                starts.append(len(sentences) + len(new))
                new.extend(entry.sentences)
            counts += _unit_counts(fr, [unit_text(s, source.lang) for s in new])
            sentences += new
        return sentences, starts, counts
    for doc in documents:
        if sum(map(len, doc)) < need:
            return doc, [], [0]
        return doc, list(range(len(doc))), _unit_counts(fr, [unit_text(s, source.lang) for s in doc])
    return None


def _unit_counts(fr: Any, units: list[str]) -> list[int]:
    """Each sentence's tokens as it runs inside a block: read off one tokenization of them all when no token
    straddles two (the engine's way of counting filler), else each counted alone. Either way the blocks found
    are counted in full before they are used."""
    return fr.tok.segment_counts(units) or fr.counts(units)


def _fit_in(fr: Any, layout: _Layout, sentences: list[str], starts: list[int], counts: list[int], need: int,
            labels_n: int, rng: random.Random) -> _Fit | None:
    """Search passage starts (from a seeded one) for a window whose blocks sum to exactly ``need`` tokens."""
    k, c = layout.k, layout.c
    prefix = [0, *itertools.accumulate(counts)]
    n = len(sentences)
    start_prefix = [prefix[s] for s in starts]
    allowed = [s for s in starts if c <= s and prefix[s - c] + need <= prefix[n]]
    if not allowed:
        return None
    ends = layout.ends()
    end_extra: dict[tuple[int, str], int] = {}

    def extra(i: int, end: str) -> int:
        """Tokens the block end adds after sentence i (0 when it merges into the sentence's last token)."""
        if (i, end) not in end_extra:
            unit = unit_text(sentences[i], layout.lang)
            end_extra[(i, end)] = fr.tok.count(unit + end) - counts[i]
        return end_extra[(i, end)]

    first = rng.randrange(len(allowed))
    checks = 0
    for step in range(min(MAX_STARTS, len(allowed))):
        a = allowed[(first + step) % len(allowed)]
        bc = max(bisect.bisect_left(prefix, prefix[a - c] + need - 2 * (k + 2)), a + k + c)
        while bc <= n and prefix[bc] - prefix[a - c] <= need:
            cuts = _cuts(prefix, starts, start_prefix, a, bc - c, k)
            bc += 1
            if cuts is None:
                continue
            ranges = layout.groups(cuts)
            total = prefix[bc - 1] - prefix[a - c] + sum(extra(r[1] - 1, e) for r, e in zip(ranges, ends))
            if total != need:
                continue
            window = sentences[a - c:bc - 1]
            local = [x - (a - c) for x in cuts]
            block_counts = fr.counts(layout.blocks(window, local, list(range(k))))
            checks += 1
            if sum(block_counts) == need + labels_n:
                parts = block_counts[1:-1] if c else block_counts
                return _Fit(window, local, list(parts), {"start": a - c})
            if checks >= MAX_CHECKS:
                return None
    return None


def _cuts(prefix: list[int], starts: list[int], start_prefix: list[int], a: int, b: int, k: int) -> list[int] | None:
    """k + 1 boundaries from a to b at allowed starts, each part's tokens as near 1/k of the passage as they go."""
    lo = bisect.bisect_right(starts, a)
    hi = bisect.bisect_left(starts, b)
    if hi - lo < k - 1:
        return None
    total = prefix[b] - prefix[a]
    cuts = [a]
    at = lo  # index into starts of the next candidate
    for i in range(1, k):
        want = prefix[a] + total * i / k
        j = bisect.bisect_left(start_prefix, want, at, hi)
        j = min(max(j, at), hi - (k - i))
        if j > at and abs(start_prefix[j - 1] - want) <= abs(start_prefix[j] - want):
            j -= 1
        cuts.append(starts[j])
        at = j + 1
    cuts.append(b)
    return cuts


def _shuffle(rng: random.Random, k: int) -> list[int]:
    """A uniformly random order of k parts other than the original one."""
    identity = list(range(k))
    for _ in range(MAX_SHUFFLES):
        order = identity[:]
        rng.shuffle(order)
        if order != identity:
            return order
    raise ParamError("--segments: could not shuffle the parts")  # 1 in k! per try: never for k >= 3
