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

import re

from lcgen.generators._multihop_corpus import CorpusSource
from lcgen.generators._multihop_world import SampleWorld
from lcgen.generators.qa import fact_patterns
from lcgen.haystacks.sentences import split_sentences
from lcgen.oracle import OracleInput, OracleResult
from lcgen.registry import oracle


def _find(text: str, doc: str, start: int, end: int) -> int:
    """Where a whole document starts in ``text[start:end]`` (after whitespace or the context's opening tag, as a
    unit stands in a plain prompt or a conversation turn), or -1."""
    at = text.find(doc, start, end)
    while at >= 0 and not (at == start or text[at - 1].isspace() or text[at - 1] == ">"):
        at = text.find(doc, at + 1, end)
    return at


def _named(text: str, name: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", text) is not None


@oracle("multihop-qa")
def solve(sample: OracleInput) -> OracleResult:
    sw = sample.source
    if isinstance(sw, CorpusSource):
        return _solve_corpus(sample, sw)
    if not isinstance(sw, SampleWorld):
        raise ValueError("no knowledge graph to check against (the sample's seed and parameters are unreadable)")
    text = sample.input
    start = text.index("<documents>")
    end = text.rindex("</documents>") + len("</documents>")
    inner_start, inner_end = start + len("<documents>"), end - len("</documents>")
    problems: list[str] = []
    world = sw.world
    stated: dict[tuple[str, str], list[tuple[int, str]]] = {}
    units, pos = [], inner_start
    for piece in split_sentences(text[inner_start:inner_end]):
        units.append(pos)
        sentence = piece.strip()
        for rel, rx in fact_patterns():
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
        pos += len(piece)
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
        doc = sw.documents[e].text
        at = _find(text, doc, inner_start, inner_end)
        if at < 0:
            problems.append(f"the evidence document of {e} is not in the context whole")
            offsets.append(inner_start)
            continue
        if _find(text, doc, at + 1, inner_end) >= 0:
            problems.append(f"the evidence document of {e} stands twice")
        offsets.append(at)
    inside = set()  # a document is one unit of the context, as the generator placed it
    for doc in sw.documents.values():
        at = _find(text, doc.text, inner_start, inner_end)
        if at >= 0:
            inside.update(u for u in units if at < u < at + len(doc.text))
    units = [u for u in units if u not in inside]
    answers = [answer] + ([answer.replace(",", "")] if re.fullmatch(r"\d{1,3}(?:,\d{3})+", answer) else [])
    return OracleResult(answer=answer, answers=answers, needle_offsets=offsets, anchor=0,
                        context_span=(start, end), unit_offsets=units, problems=problems)


def _span(answer: str, text: str) -> str:
    m = re.search(rf"(?<!\w){re.escape(answer)}(?!\w)", text, re.IGNORECASE) if answer else None
    return m.group(0) if m else ""


def _solve_corpus(sample: OracleInput, src: CorpusSource) -> OracleResult:
    text = sample.input
    start = text.index("<documents>")
    end = text.rindex("</documents>") + len("</documents>")
    inner_start, inner_end = start + len("<documents>"), end - len("</documents>")
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
        at = _find(text, doc, inner_start, inner_end)
        if at < 0:
            problems.append(f"hop {k + 1}'s chunk is not in the context whole")
            at = inner_start
        elif _find(text, doc, at + 1, inner_end) >= 0:
            problems.append(f"hop {k + 1}'s chunk stands twice")
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
    units, pos = [], inner_start
    for piece in split_sentences(text[inner_start:inner_end]):
        units.append(pos)
        pos += len(piece)
    inside = set()
    for chunk in pool:
        at = _find(text, chunk.text, inner_start, inner_end)
        if at >= 0:
            inside.update(u for u in units if at < u < at + len(chunk.text))
    units = [u for u in units if u not in inside]
    bare = answer.replace(",", "")
    return OracleResult(answer=answer, answers=[answer] + ([bare] if bare != answer and bare.isdigit() else []),
                        needle_offsets=offsets, anchor=0, context_span=(start, end), unit_offsets=units,
                        problems=problems)
