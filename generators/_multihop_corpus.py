"""multihop-qa's documents from a corpus (``--documents haystack``): the sample's pool of chunks, and the chains an
LLM's single-hop questions make when one question's answer is named in another's question (the shared entity).

The pool comes from ``--haystack`` (``files:``, ``hf:`` or the procedural prose) through ``whole_documents``, drawn
from the sample's rng before anything else, so the run-wide stage, the plan and the oracle's source see the same
chunks. No graph knows these facts: the model proposes them, each with a verbatim quote, and the checks decide.
"""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass
from typing import Any

from lcgen.errors import HaystackError
from lcgen.haystack import Haystack

CHUNK_SENTENCES = 8  # sentences per chunk: a few hundred tokens, one prompt each
CHUNKS_PER_DOCUMENT = 3
MAX_PATHS = 5_000  # chains enumerated per sample before choosing (bounded on a dense pool)


@dataclass(frozen=True)
class Chunk:
    doc: int
    index: int
    sentences: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


@dataclass(frozen=True)
class CorpusSource:
    """What the oracle checks a corpus sample against: the pool, and the chain the model's questions claim
    (``meta.claims``: each hop's chunk, question, answer and quote)."""

    pool: tuple[Chunk, ...]
    claims: Any


def corpus_pool(haystack: Haystack, rng: random.Random, documents: int) -> list[Chunk]:
    """Up to ``documents`` documents of the corpus, each cut into up to three chunks of eight sentences."""
    docs = haystack.whole_documents(random.Random(rng.getrandbits(64)), "en")
    pool: list[Chunk] = []
    for d, sentences in enumerate(itertools.islice(docs, documents)):
        sentences = [s for s in sentences if s.strip()]
        for i in range(min(CHUNKS_PER_DOCUMENT, (len(sentences) + CHUNK_SENTENCES - 1) // CHUNK_SENTENCES)):
            part = tuple(sentences[i * CHUNK_SENTENCES:(i + 1) * CHUNK_SENTENCES])
            if part:
                pool.append(Chunk(d, i, part))
    if len(pool) < 2:
        raise HaystackError(f"--documents haystack: {getattr(haystack, 'spec', 'the haystack')} gave {len(pool)} "
                            f"chunk(s); multi-hop questions need at least two")
    return pool


def names(text: str, name: str) -> bool:
    """``name`` appears in ``text`` as a whole name (world names are unique and none is part of another)."""
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text) is not None


def mentions(text: str, answer: str) -> bool:
    """``answer`` as whole words of ``text``, case aside (as the oracle counts an answer's occurrences)."""
    return re.search(rf"(?<!\w){re.escape(answer)}(?!\w)", text, re.IGNORECASE) is not None


def link(singles: list[tuple[int, Any]], pool: list[Chunk], hops: int) -> tuple[list[list[int]], int]:
    """Chains of ``hops`` accepted single-hop questions (indices into ``singles``), each hop's answer named in the
    next hop's question, every hop from another chunk, the last answer in no other hop's chunk (so it is unique in
    the evidence) and no hop's answer in its own question; and how many chains the last rule dropped."""
    edges: dict[int, list[int]] = {i: [] for i in range(len(singles))}
    for i, (ci, a) in enumerate(singles):
        if len(a.answer) < 3 or not re.search(r"[A-Za-z]", a.answer):
            continue  # a bare number or a short word is no entity to link through
        for j, (cj, b) in enumerate(singles):
            if cj != ci and names(b.question, a.answer) and not names(a.question, b.answer):
                edges[i].append(j)
    paths: list[list[int]] = []
    dropped = [0]

    def walk(path: list[int]) -> None:
        if len(paths) >= MAX_PATHS:
            return
        if len(path) == hops:
            last = singles[path[-1]][1]
            if any(mentions(pool[singles[k][0]].text, last.answer) for k in path[:-1]):
                dropped[0] += 1
            else:
                paths.append(list(path))
            return
        used = {singles[k][0] for k in path}
        for j in edges[path[-1]]:
            if singles[j][0] not in used:
                walk(path + [j])

    for i in range(len(singles)):
        walk([i])
    return paths, dropped[0]


def lookalike(pool: list[Chunk], avoid: list[int], answer: str, near: int) -> int | None:
    """A chunk shown beside a hop's evidence in the model checks: not an evidence chunk, not holding the answer;
    one of the same document as chunk ``near`` first."""
    rest = [k for k in range(len(pool)) if k not in avoid and not mentions(pool[k].text, answer)]
    rest.sort(key=lambda k: (pool[k].doc != pool[near].doc, k))
    return rest[0] if rest else None


__all__ = ["Chunk", "CorpusSource", "corpus_pool", "link", "lookalike", "mentions", "names"]
