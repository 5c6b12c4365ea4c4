"""The knowledge graph behind multihop-qa: a seeded world (``_world``) as a networkx graph, one document per entity,
and the chains of hops a question can follow.

Everything here comes from one ``rng`` in a fixed order (world, documents, candidate chains), so the generator's
run-wide stage, its per-sample plan and the oracle's regenerated source all see the same graph. A hop is one edge:
``relation`` of ``subject`` is ``value``; in a chain each hop's value is the next hop's subject (the bridge entity),
and no entity is visited twice. Each entity's document states that entity's own facts and no other, one sentence
each, so a hop's evidence is exactly one document.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

import networkx as nx

from lcgen.frames import frame_lines, render_frame

from ._world import KINDS, Fact, World, build_world, verbalize

TEMPLATES = "multihop_qa"


@dataclass(frozen=True)
class Hop:
    """One edge of the graph, as text: ``relation`` (an id of ``_world.RELATIONS``) of ``subject`` is ``value``."""

    subject: str
    relation: str
    value: str

    def to_dict(self) -> dict[str, str]:
        return {"subject": self.subject, "relation": self.relation, "value": self.value}


@dataclass(frozen=True)
class Chain:
    hops: tuple[Hop, ...]

    @property
    def start(self) -> str:
        return self.hops[0].subject

    @property
    def answer(self) -> str:
        return self.hops[-1].value

    @property
    def bridges(self) -> list[str]:
        """The entities between the start and the answer: a question that names one skips a hop."""
        return [h.value for h in self.hops[:-1]]

    @property
    def entities(self) -> list[str]:
        """The hops' subjects, whose documents are the evidence."""
        return [h.subject for h in self.hops]


@dataclass(frozen=True)
class Document:
    """One entity's facts, one sentence each (its record order, then shuffled)."""

    name: str
    facts: tuple[tuple[Fact, str], ...]  # (fact, its sentence)

    @property
    def text(self) -> str:
        return " ".join(sentence for _, sentence in self.facts)

    def sentence_of(self, relation: str) -> str:
        return next(s for f, s in self.facts if f.relation.id == relation)


@dataclass(frozen=True)
class SampleWorld:
    world: World
    graph: nx.MultiDiGraph
    documents: dict[str, Document]
    candidates: tuple[Chain, ...]  # tried in order; their starts are distinct, so a question names one


def sample_world(rng: random.Random, hops: int, candidates: int) -> SampleWorld:
    """The world, documents and candidate chains of one sample, drawn from ``rng`` in that order."""
    world = build_world(rng)
    graph = knowledge_graph(world)
    documents = {}
    for kind in KINDS:
        for entity in world.of_kind(kind):
            facts = [(f, verbalize(f, rng)) for f in world.facts(entity.name)]
            rng.shuffle(facts)
            documents[entity.name] = Document(entity.name, tuple(facts))
    return SampleWorld(world, graph, documents, tuple(pick_chains(graph, hops, candidates, rng)))


def knowledge_graph(world: World) -> nx.MultiDiGraph:
    """Entities as nodes (``kind``), every fact as an edge ``subject -> value`` keyed by its relation id; a value that
    is not an entity (a year, a region, an industry) is a node of kind ``value``."""
    g = nx.MultiDiGraph()
    for kind in KINDS:
        for entity in world.of_kind(kind):
            g.add_node(entity.name, kind=kind)
    for kind in KINDS:
        for entity in world.of_kind(kind):
            for fact in world.facts(entity.name):
                if fact.text not in g:
                    g.add_node(fact.text, kind="value")
                g.add_edge(entity.name, fact.text, key=fact.relation.id, relation=fact.relation.id)
    return g


def all_chains(graph: nx.MultiDiGraph, hops: int) -> list[Chain]:
    """Every chain of ``hops`` edges: entity-valued edges to the last subject, then any of its facts; no entity
    twice. In the graph's insertion order (the world's), so the list is the same on every machine."""
    out: list[Chain] = []

    def walk(path: list[Hop], seen: list[str]) -> None:
        here = path[-1].value if path else seen[0]
        final = len(path) == hops - 1
        for _, value, rel in graph.out_edges(here, keys=True):
            entity = graph.nodes[value]["kind"] != "value"
            if value in seen:
                continue
            if final:
                out.append(Chain(tuple(path + [Hop(here, rel, value)])))
            elif entity:
                walk(path + [Hop(here, rel, value)], seen + [value])

    for node, kind in graph.nodes(data="kind"):
        if kind != "value":
            walk([], [node])
    return out


def pick_chains(graph: nx.MultiDiGraph, hops: int, n: int, rng: random.Random) -> list[Chain]:
    """``n`` chains with distinct starts (fewer if the world has fewer starts), each start and its chain drawn at
    random."""
    by_start: dict[str, list[Chain]] = {}
    for chain in all_chains(graph, hops):
        by_start.setdefault(chain.start, []).append(chain)
    starts = list(by_start)
    chosen = rng.sample(starts, min(n, len(starts)))
    return [rng.choice(by_start[s]) for s in chosen]


@functools.lru_cache(maxsize=None)
def _frame(kind: str, relation: str) -> str:
    return frame_lines(f"{TEMPLATES}/{kind}/{relation}.j2")[0]


def describe(chain: Chain, upto: int) -> str:
    """The entity hop ``upto`` is about, named through the hops before it ("the town where the founder of Harlow
    Works was born")."""
    text = chain.start
    for hop in chain.hops[:upto]:
        text = render_frame(_frame("descriptions", hop.relation), subject=text)
    return text


def template_question(chain: Chain) -> str:
    """The chain as one question from lcgen's templates: what a run without ``--llm`` asks, and the fallback."""
    return render_frame(_frame("questions", chain.hops[-1].relation), subject=describe(chain, len(chain.hops) - 1))


__all__ = ["Chain", "Document", "Hop", "SampleWorld", "all_chains", "describe", "knowledge_graph", "sample_world",
           "template_question"]
