"""Oracle for multihop-qa: follow the question's chain through the context's own sentences, and check it against the
knowledge graph the sample was drawn from.

The source (the world, its documents and candidate chains, replayed from the seed with no LLM call) says which
chains the sample may ask; the question names exactly one of their first entities (every name is unique and none
is part of another), which picks the chain. Each hop's fact must be stated exactly once for its subject in the
context, read with the world's own phrasings, and agree with the graph; the value is the next hop's subject, the last
value the answer. Every fact sentence of the context must be true in the graph, each evidence document must stand
once, whole, and the question must name no bridge entity and not the answer (else a hop could be skipped). What no
parser can read, whether the model's wording asks exactly this chain, was checked when the question was made (the
LLM answered it from the evidence alone, and failed with any one document dropped); ``meta.checks`` records it.

Corpus documents (``--documents haystack``) have no graph: the source is the sample's pool of chunks, replayed from
the seed, with the chain the model's questions claim (``meta.claims``). The oracle checks the claims against the text:
each hop's chunk stands once, whole; its quote is in it and nowhere else in the context; its answer is a span of the
quote; each answer is named in the next hop's question (the link); the question names no answer; and the final
answer appears nowhere in the context outside its own chunk. The answer it returns is the span of the last quote.
"""

from __future__ import annotations

import bisect
import re

from lcgen.generators._multihop_corpus import CorpusSource
from lcgen.generators._multihop_world import SampleWorld
from lcgen.generators.qa import fact_patterns
from lcgen.haystacks.sentences import split_sentences
from lcgen.oracle import OracleInput, OracleResult
from lcgen.registry import oracle


def _find(text: str, doc: str, start: int, end: int) -> int:
    """Where a whole document starts in ``text[start:end]`` (after whitespace, as a unit stands in a plain prompt
    or a conversation turn), or -1."""
    at = text.find(doc, start, end)
    while at >= 0 and not text[at - 1].isspace():
        at = text.find(doc, at + 1, end)
    return at


def _named(text: str, name: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", text) is not None


def _context(text: str) -> tuple[int, int, int, int]:
    """The ``<documents>`` element: its span, and its inside."""
    start = text.index("<documents>")
    end = text.rindex("</documents>") + len("</documents>")
    return start, end, start + len("<documents>"), end - len("</documents>")


def _place(text: str, doc: str, lo: int, hi: int) -> tuple[int, str]:
    """Where an evidence document stands, and what is wrong with it ("" when it stands once, whole)."""
    at = _find(text, doc, lo, hi)
    if at < 0:
        return lo, "is not in the context whole"
    return at, "stands twice" if _find(text, doc, at + 1, hi) >= 0 else ""


def _sentences(text: str, lo: int, hi: int) -> list[tuple[int, str]]:
    """The context's sentences and where each starts."""
    out, pos = [], lo
    for piece in split_sentences(text[lo:hi]):
        out.append((pos, piece))
        pos += len(piece)
    return out


def _document_units(text: str, lo: int, hi: int, units: list[int], docs: list[str]) -> list[int]:
    """The sentence starts ``units``, less those inside a document: a document is one unit, as the generator
    placed it."""
    inside: set[int] = set()
    for doc in docs:
        at = _find(text, doc, lo, hi)
        if at >= 0:
            inside.update(units[bisect.bisect_right(units, at):bisect.bisect_left(units, at + len(doc))])
    return [u for u in units if u not in inside]


def _answers(answer: str) -> list[str]:
    """The answer, and a count without its thousands separators."""
    bare = answer.replace(",", "")
    return [answer] + ([bare] if bare != answer and bare.isdigit() else [])


@oracle("multihop-qa")
def solve(sample: OracleInput) -> OracleResult:
    sw = sample.source
    if isinstance(sw, CorpusSource):
        return _solve_corpus(sample, sw)
    if not isinstance(sw, SampleWorld):
        raise ValueError("no knowledge graph to check against (the sample's seed and parameters are unreadable)")
    text = sample.input
    start, end, inner_start, inner_end = _context(text)
    problems: list[str] = []
    world = sw.world
    stated: dict[tuple[str, str], list[tuple[int, str]]] = {}
    # A fact about the world names one of its entities: sentences that name none are not read (most of a long one).
    entity = re.compile("|".join(re.escape(n) for n in sorted(sw.documents, key=len, reverse=True)))
    sentences = _sentences(text, inner_start, inner_end)
    for pos, piece in sentences:
        sentence = piece.strip()
        for rel, rx in fact_patterns() if entity.search(sentence) else ():
            m = rx.fullmatch(sentence)
            if m is None:
                continue
            groups = m.groupdict()
            value = re.sub(r"^(?:a|an) ", "", groups.get("value") or groups.get("a_value") or "")
            subject = m.group("subject")
            try:
                true = world.fact(subject, rel).text
            except KeyError:
                continue  # a reading of the sentence the world has no such subject for
            stated.setdefault((subject, rel), []).append((pos, value))
            if value != true:
                problems.append(f"the context says the {rel} of {subject} is {value}; the graph says {true}")
    asked = [c for c in sw.candidates if _named(sample.question, c.start)]
    if len(asked) != 1:
        raise ValueError(f"the question names {len(asked)} of the sample's candidate first entities (one must)")
    chain = asked[0]
    current = chain.start
    for k, hop in enumerate(chain.hops):
        found = sorted(set(stated.get((current, hop.relation), [])))
        if len(found) != 1:
            raise ValueError(f"hop {k + 1}: the context states the {hop.relation} of {current} {len(found)} times")
        current = found[0][1]
        if current != hop.value:
            problems.append(f"hop {k + 1} reaches {current}, the graph {hop.value}")
    answer = current
    for name in chain.bridges + [answer]:
        if _named(sample.question, name):
            problems.append(f"the question names {name}, so a hop can be skipped")
    offsets = []
    for e in chain.entities:
        at, wrong = _place(text, sw.documents[e].text, inner_start, inner_end)
        if wrong:
            problems.append(f"the evidence document of {e} {wrong}")
        offsets.append(at)
    units = _document_units(text, inner_start, inner_end, [p for p, _ in sentences],
                            [d.text for d in sw.documents.values()])
    return OracleResult(answer=answer, answers=_answers(answer), needle_offsets=offsets, anchor=0,
                        context_span=(start, end), unit_offsets=units, problems=problems)


def _span(answer: str, text: str) -> str:
    m = re.search(rf"(?<!\w){re.escape(answer)}(?!\w)", text, re.IGNORECASE) if answer else None
    return m.group(0) if m else ""


def _solve_corpus(sample: OracleInput, src: CorpusSource) -> OracleResult:
    text = sample.input
    start, end, inner_start, inner_end = _context(text)
    claims = src.claims
    if not isinstance(claims, dict) or not isinstance(claims.get("hops"), list) or not claims["hops"]:
        raise ValueError("no recorded chain (meta.claims) to check the corpus sample against")
    chunks, hops, pool = claims["chunks"], claims["hops"], src.pool
    if len(chunks) != len(hops) or not all(isinstance(c, int) and 0 <= c < len(pool) for c in chunks):
        raise ValueError("meta.claims names chunks the sample's pool does not hold")
    problems: list[str] = []
    offsets, spans, answers = [], [], []
    for k, (c, hop) in enumerate(zip(chunks, hops)):
        doc = pool[c].text
        at, wrong = _place(text, doc, inner_start, inner_end)
        if wrong:
            problems.append(f"hop {k + 1}'s chunk {wrong}")
        offsets.append(at)
        spans.append((at, at + len(doc)))
        quote = hop["evidence"]
        if quote not in pool[c].text:
            problems.append(f"hop {k + 1}'s quote is not in its chunk")
        elif text.count(quote, inner_start, inner_end) != 1:
            problems.append(f"hop {k + 1}'s quote stands {text.count(quote, inner_start, inner_end)} times")
        answer = _span(hop["answer"], quote)
        if not answer:
            problems.append(f"hop {k + 1}'s answer is not a span of its quote")
        answers.append(answer or hop["answer"])
        if k and not _named(hops[k]["question"], answers[k - 1]):
            problems.append(f"hop {k + 1}'s question does not name hop {k}'s answer (no link)")
    for name in answers:
        if _named(sample.question, name):
            problems.append(f"the question names {name}, so a hop can be skipped")
    answer = answers[-1]
    last = spans[-1]
    outside = [m.start() for m in re.finditer(rf"(?<!\w){re.escape(answer)}(?!\w)", text[inner_start:inner_end],
                                              re.IGNORECASE) if not last[0] <= inner_start + m.start() < last[1]]
    if outside:
        problems.append(f"the answer {answer!r} appears {len(outside)} time(s) outside its evidence chunk")
    units = _document_units(text, inner_start, inner_end, [p for p, _ in _sentences(text, inner_start, inner_end)],
                            [chunk.text for chunk in pool])
    return OracleResult(answer=answer, answers=_answers(answer), needle_offsets=offsets, anchor=0,
                        context_span=(start, end), unit_offsets=units, problems=problems)
