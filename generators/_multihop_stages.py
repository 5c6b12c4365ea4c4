"""multihop-qa's run-wide stage: an LLM phrases single-hop questions and merges them into one multi-hop question per
sample, and every candidate passes checks or is counted by the check that rejected it.

Stages, each a plain function over a list of attempts with the LLM behind ``lcgen.llm.Client.complete`` (one batch
per stage across the whole dataset, so a vllm backend batches and a server sees bounded concurrency):

1. chunk: each hop's evidence is one entity's document (``_multihop_world``);
2. single-hop: the LLM writes up to ``--questions-per-chunk`` questions per chunk, each with an evidence quote;
3. verify: the quote is verbatim, the answer is the fact the quote states (checked against the graph), the question
   names its subject; then the LLM answers it from the chunk alone (must match) and with no context (must not);
4. bridge: the hops' questions are merged step by step into a 2-, 3- or 4-hop question (``--hops``) that names the
   start and no bridge entity nor the answer;
5. verify again: the LLM answers from all evidence (must match), closed-book (must not), and with each evidence
   document dropped in turn (must not: every hop is necessary); then no near-duplicate of an earlier sample's
   question (``lcgen.similarity``).

A sample tries its candidate chains in order (``--candidates``) until one passes; all results are cached by the
client, so the choice is the same on every rerun. Without ``--llm`` (or when every candidate fails and
``--fallback template``) the question is lcgen's own template for the chain.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lcgen.errors import LcgenError
from lcgen.render import environment, render
from lcgen.similarity import THRESHOLD, NearDuplicates

from ._multihop_corpus import Chunk, link, lookalike, names
from ._multihop_world import Chain, SampleWorld, template_question

LLM_TEMPLATES = ("single_hop", "merge", "answer", "closed_book")

# Every check, in the order a candidate meets them, and what it rejects (the card's table).
CHECKS: dict[str, str] = {
    "malformed": "the reply is not the JSON the prompt asks for",
    "refused": "the model declined to answer",
    "quote_verbatim": "a single-hop question's evidence quote is not in its chunk, character for character",
    "grounded": "a single-hop answer is not the fact its quote states (checked against the knowledge graph)",
    "self_contained": "a single-hop question does not name its subject in full",
    "no_question": "no single-hop question asks about the fact the hop needs",
    "no_chain": "corpus documents: no chain of single-hop questions, each answer named in the next question",
    "answerable": "the model, given only the evidence, does not give the reference answer",
    "closed_book": "the model gives the reference answer with no context at all (leakage)",
    "start_named": "the merged question does not name the chain's first entity",
    "shortcut": "the merged question names a bridge entity or the answer, so a hop can be skipped",
    "hops_necessary": "the model still gives the answer with one evidence document dropped",
    "answer_unique": "corpus documents: the answer is also named in another hop's chunk (a world chain states each "
                     "hop's fact once, by construction; validate checks the whole context either way)",
    "near_duplicate": f"the question nearly repeats an earlier sample's (word 3-gram Jaccard >= {THRESHOLD})",
}
_REFUSAL = re.compile(r"\b(?:i\s*(?:'m|am)\s*sorry|i\s*can(?:'|no)t|i\s*cannot|i\s*won't|as an ai|unable to "
                      r"(?:help|assist|comply))", re.IGNORECASE)
_UNANSWERED = {"unanswerable", "unknown", "", "none", "n/a"}


class GenerationError(LcgenError):
    """Every candidate of a sample was rejected and ``--fallback error`` was asked for."""


@dataclass
class Single:
    question: str
    answer: str
    evidence: str


@dataclass
class Attempt:
    """One candidate chain of one sample, as it goes through the stages: each hop's answer (the next hop's bridge;
    the last is the reference), evidence text and the look-alike shown beside it in the model checks."""

    index: int
    answers: list[str]
    evidence: list[str]
    lookalikes: list[str]
    start: str | None = None  # the first entity, which the question must name (None: not known, corpus documents)
    chain: Chain | None = None  # world documents: the graph's chain
    chunks: list[int] = field(default_factory=list)  # corpus documents: the hops' chunks in the pool
    singles: list[Single | None] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    rejected: str | None = None
    detail: str = ""

    @property
    def hops(self) -> int:
        return len(self.answers)

    @property
    def question(self) -> str | None:
        if self.rejected is not None:
            return None
        return self.merged[-1] if self.merged else None

    def reject(self, check: str, detail: str = "") -> None:
        if self.rejected is None:
            self.rejected, self.detail = check, detail


@dataclass
class Job:
    key: str
    params: Any
    world: SampleWorld | None = None  # world documents
    pool: list[Chunk] | None = None  # corpus documents
    candidates: list[Attempt] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    chosen: Attempt | None = None
    source: str = ""  # llm or template


@dataclass
class Tally:
    """What the checks rejected over the whole run, and how many candidates each stage saw."""

    rejected: Counter = field(default_factory=Counter)
    seen: Counter = field(default_factory=Counter)

    def count(self, check: str) -> None:
        self.rejected[check] += 1


def world_attempt(sw: SampleWorld, chain: Chain, index: int) -> Attempt:
    """A graph chain as a candidate: its documents, and beside each a look-alike of the same kind whose value for
    the hop's relation differs."""
    world = sw.world
    names = list(chain.entities)
    others: list[str] = []
    for hop in chain.hops:
        others.append(next(o.name for o in world.of_kind(world.kind_of(hop.subject))
                           if o.name not in names and o.name not in others
                           and world.fact(o.name, hop.relation).text != hop.value))
    return Attempt(index, [h.value for h in chain.hops], [sw.documents[e].text for e in names],
                   [sw.documents[o].text for o in others], start=chain.start, chain=chain)


def template_hashes() -> dict[str, str]:
    """sha256 of each prompt template's source: any edit to a prompt shows in meta and the card."""
    env = environment("lcgen.templates")
    out = {}
    for name in LLM_TEMPLATES:
        source, _, _ = env.loader.get_source(env, f"multihop_qa/llm/{name}.j2")
        out[name] = hashlib.sha256(source.encode("utf-8")).hexdigest()
    return out


def _prompt(name: str, **values: Any) -> str:
    return render(f"multihop_qa/llm/{name}.j2", **values).strip() + "\n"


# ----------------------------------------------------------------------------------------------- reply parsing


def parse_json(reply: str) -> Any:
    """The first JSON value of a reply (fences and prose around it allowed); None when there is none."""
    text = reply.strip()
    fence = re.search(r"```(?:json)?\s*(.*?)```", text, re.DOTALL)
    if fence:
        text = fence.group(1)
    decoder = json.JSONDecoder()
    for m in re.finditer(r"[\[{]", text):
        try:
            value, _ = decoder.raw_decode(text, m.start())
            return value
        except ValueError:
            continue
    return None


def _bad_reply(reply: str) -> str:
    """Which check a reply with no usable JSON fails."""
    return "refused" if _REFUSAL.search(reply) else "malformed"


def normalize(text: str) -> str:
    text = text.lower().replace("\u2019", "'")
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    text = re.sub(r"[^\w\s]", " ", text)
    text = re.sub(r"\b(?:a|an|the)\b", " ", text)
    return " ".join(text.split())


def same_answer(given: str, reference: str) -> bool:
    """The reference, or a short reply holding it as whole words ("in 1962" for 1962, not "1962 or 1963")."""
    g, r = normalize(given), normalize(reference)
    if not r or g in _UNANSWERED:
        return False
    if g == r:
        return True
    return bool(re.search(rf"(?<!\w){re.escape(r)}(?!\w)", g)) and len(g.split()) <= len(r.split()) + 3 \
        and " or " not in f" {g} "


def answer_of(reply: str) -> str:
    """The answer a reply gives: its JSON ``answer``, else its text (a model that answers in prose)."""
    value = parse_json(reply)
    if isinstance(value, dict) and isinstance(value.get("answer"), (str, int, float)):
        return str(value["answer"])
    return reply.strip()


# ----------------------------------------------------------------------------------------------- the stages


class Stages:
    """The pipeline over a list of attempts; ``llm`` is an ``lcgen.llm.Client``."""

    def __init__(self, llm: Any, stage: Callable[[str, int], Any], tally: Tally):
        self.llm = llm
        self.stage = stage
        self.tally = tally

    def _ask(self, name: str, prompts: list[str]) -> list[str]:
        """One batch of prompts under the stage's progress bar, which stays open until :meth:`_done`."""
        self._bar = self.stage(name, len(prompts))
        try:
            replies = self.llm.complete(prompts, progress=self._bar.update) if prompts else []
        except BaseException:
            self._bar.close()
            raise
        return [r.text for r in replies]

    def _done(self, jobs: list[tuple[Job, Attempt]]) -> None:
        """Close the stage's bar with its count of candidates still in and rejected so far."""
        alive = sum(a.rejected is None for _, a in jobs)
        self._bar.set_postfix_str(f"{alive} candidates in, {len(jobs) - alive} rejected")
        self._bar.close()

    def single_hop(self, jobs: list[tuple[Job, Attempt]]) -> None:
        """Stage 2 for graph chains, with its deterministic checks: one prompt per hop's document."""
        asks = [(job, a, k) for job, a in jobs for k in range(a.hops)]
        prompts = [_prompt("single_hop", passage=a.evidence[k], n=job.params.questions_per_chunk)
                   for job, a, k in asks]
        for _, a in jobs:
            a.singles = [None] * a.hops
        for (job, a, k), reply in zip(asks, self._ask("single-hop questions", prompts)):
            self.tally.seen["single-hop replies"] += 1
            if a.rejected is None:
                a.singles[k] = self._pick_single(job, a, k, reply)
        self._done(jobs)

    def _items(self, reply: str, limit: int) -> list[dict[str, str]] | str:
        """A single-hop reply's well-formed items, or the check a reply with none fails."""
        items = parse_json(reply)
        if isinstance(items, dict):
            items = [items]
        if not isinstance(items, list):
            return _bad_reply(reply)
        out = []
        for item in items[:limit]:
            self.tally.seen["single-hop candidates"] += 1
            if isinstance(item, dict) and all(isinstance(item.get(key), str) and item[key].strip()
                                              for key in ("question", "answer", "evidence")):
                out.append({key: " ".join(item[key].split()) if key != "evidence" else item[key].strip()
                            for key in ("question", "answer", "evidence")})
            else:
                self.tally.count("malformed")
        return out

    def _pick_single(self, job: Job, a: Attempt, k: int, reply: str) -> Single | None:
        hop = a.chain.hops[k]
        doc = job.world.documents[hop.subject]
        items = self._items(reply, job.params.questions_per_chunk)
        if isinstance(items, str):
            self.tally.count(items)
            a.reject(items, f"hop {k + 1}")
            return None
        last_failure = None
        for item in items:
            question, answer, quote = item["question"], item["answer"], item["evidence"]
            if quote not in doc.text:
                self.tally.count("quote_verbatim")
                last_failure = "quote_verbatim"
                continue
            stated = [f for f, s in doc.facts if (s in quote or quote in s) and f.text in quote]
            fact = next((f for f in stated if same_answer(answer, f.text)), None)
            if fact is None:
                self.tally.count("grounded")
                last_failure = "grounded"
                continue
            if not names(question, doc.name):
                self.tally.count("self_contained")
                last_failure = "self_contained"
                continue
            if fact.relation.id != hop.relation:
                continue  # a good question about another fact of the chunk: this chain does not need it
            return Single(question, fact.text, quote)
        check = last_failure or "no_question"
        if last_failure is None:
            self.tally.count("no_question")
        a.reject(check, f"hop {k + 1}")
        return None

    def corpus_single_hop(self, jobs: list[Job]) -> dict[str, list[tuple[int, Single]]]:
        """Stage 2 for corpus documents: every chunk of every sample's pool, each item kept when its quote is in the
        chunk verbatim, its answer is a span of the quote, and the question does not hold its own answer."""
        asks = [(job, c) for job in jobs for c in range(len(job.pool))]
        prompts = [_prompt("single_hop", passage=job.pool[c].text, n=job.params.questions_per_chunk)
                   for job, c in asks]
        out: dict[str, list[tuple[int, Single]]] = {job.key: [] for job in jobs}
        for (job, c), reply in zip(asks, self._ask("single-hop questions", prompts)):
            self.tally.seen["single-hop replies"] += 1
            items = self._items(reply, job.params.questions_per_chunk)
            if isinstance(items, str):
                self.tally.count(items)
                continue
            text = job.pool[c].text
            for item in items:
                question, answer, quote = item["question"], item["answer"], item["evidence"]
                if quote not in text:
                    self.tally.count("quote_verbatim")
                elif not _span_of(answer, quote):
                    self.tally.count("grounded")
                elif _span_of(answer, question) or len(question.split()) < 4:
                    self.tally.count("self_contained")
                else:
                    out[job.key].append((c, Single(question, _span_of(answer, quote), quote)))
        self._bar.set_postfix_str(f"{sum(map(len, out.values()))} single-hop questions kept")
        self._bar.close()
        return out

    def verify_single(self, jobs: list[tuple[Job, Attempt]]) -> None:
        """Stage 3's model checks: each hop's question answered from its chunk alone, and closed-book."""
        asks = []
        for job, a in jobs:
            if a.rejected is not None or job.params.strictness == "basic":
                continue
            for k, single in enumerate(a.singles):
                asks.append((a, k, "answerable", _prompt("answer", passages=[a.evidence[k]],
                                                         question=single.question)))
                asks.append((a, k, "closed_book", _prompt("closed_book", question=single.question)))
        self._judge(asks, "verify single-hop", lambda a, k: a.singles[k].answer)
        self._done(jobs)

    def _judge(self, asks: list, stage: str, reference: Callable[[Attempt, int], str]) -> None:
        replies = self._ask(stage, [p for *_, p in asks])
        for (a, k, check, _), reply in zip(asks, replies):
            if a.rejected is not None:
                continue
            right = same_answer(answer_of(reply), reference(a, k))
            if (check == "answerable" and not right) or (check != "answerable" and right):
                if check == "answerable" and _REFUSAL.search(reply):
                    check = "refused"
                self.tally.count(check)
                a.reject(check, f"hop {k + 1}" if stage == "verify single-hop" else "")

    def merge(self, jobs: list[tuple[Job, Attempt]]) -> None:
        """Stage 4: merge step by step, all samples' step s in one batch."""
        alive = [(job, a) for job, a in jobs if a.rejected is None]
        for _, a in alive:
            a.merged = []
        steps = max((a.hops - 1 for _, a in alive), default=0)
        for s in range(1, steps + 1):
            asks = [(job, a) for job, a in alive if a.rejected is None and s < a.hops]
            prompts = []
            for _, a in asks:
                first = a.singles[0].question if s == 1 else a.merged[-1]
                prompts.append(_prompt("merge", first_question=first, first_answer=a.answers[s - 1],
                                       second_question=a.singles[s].question, second_answer=a.answers[s],
                                       bridge=a.answers[s - 1]))
            for (_, a), reply in zip(asks, self._ask(f"merge hops (step {s})", prompts)):
                self.tally.seen["merged candidates"] += 1
                value = parse_json(reply)
                question = value.get("question") if isinstance(value, dict) else None
                if not isinstance(question, str) or not question.strip():
                    check = _bad_reply(reply)
                    self.tally.count(check)
                    a.reject(check, f"merge step {s}")
                    continue
                question = " ".join(question.split())
                if a.start is not None and not names(question, a.start):
                    self.tally.count("start_named")
                    a.reject("start_named", f"merge step {s}")
                elif any(names(question, h) for h in a.answers[:s + 1]):
                    self.tally.count("shortcut")
                    a.reject("shortcut", f"merge step {s}")
                elif not question.endswith("?"):
                    self.tally.count("malformed")
                    a.reject("malformed", f"merge step {s}: not a question")
                else:
                    a.merged.append(question)
            self._done(jobs)

    def verify_multi(self, jobs: list[tuple[Job, Attempt]]) -> None:
        """Stage 5's model checks: from all evidence, closed-book, and with each evidence document dropped (a
        look-alike beside every hop, so a missing document cannot be made up for by elimination)."""
        asks = []
        for job, a in jobs:
            if a.rejected is not None or job.params.strictness == "basic":
                continue
            q = a.merged[-1]
            asks.append((a, 0, "answerable", _prompt("answer", passages=_passages(a), question=q)))
            asks.append((a, 0, "closed_book", _prompt("closed_book", question=q)))
            if job.params.strictness == "strict":
                for k in range(a.hops):
                    asks.append((a, k, "hops_necessary", _prompt("answer", passages=_passages(a, drop=k),
                                                                 question=q)))
        self._judge(asks, "verify multi-hop", lambda a, k: a.answers[-1])
        self._done(jobs)


def _span_of(answer: str, text: str) -> str:
    """The answer as ``text`` writes it (case aside), when it is a whole-word span of it; else empty."""
    m = re.search(rf"(?<!\w){re.escape(answer.strip().rstrip('.'))}(?!\w)", text, re.IGNORECASE)
    return m.group(0) if m and answer.strip().rstrip(".") else ""


def _passages(a: Attempt, drop: int | None = None) -> list[str]:
    """The evidence (less hop ``drop``'s) and the look-alikes, in an order fixed by their text."""
    texts = [e for k, e in enumerate(a.evidence) if k != drop] + list(a.lookalikes)
    return sorted(texts, key=lambda t: hashlib.sha256(t.encode("utf-8")).hexdigest())


def corpus_attempts(job: Job, singles: list[tuple[int, Single]], rng: Any, tally: Tally) -> list[Attempt]:
    """Up to ``--candidates`` chains of the pool's questions with distinct first questions, drawn at random."""
    p = job.params
    paths, ambiguous = link(singles, job.pool, p.hops)
    tally.rejected["answer_unique"] += ambiguous
    by_start: dict[int, list[list[int]]] = {}
    for path in paths:
        by_start.setdefault(path[0], []).append(path)
    starts = sorted(by_start)
    out = []
    for i, start in enumerate(rng.sample(starts, min(p.candidates, len(starts)))):
        path = rng.choice(by_start[start])
        chunks = [singles[k][0] for k in path]
        hops = [singles[k][1] for k in path]
        looks = []
        for c, h in zip(chunks, hops):
            near = lookalike(job.pool, chunks + looks, h.answer, c)
            if near is not None:
                looks.append(near)
        out.append(Attempt(i, [h.answer for h in hops], [job.pool[c].text for c in chunks],
                           [job.pool[c].text for c in looks], chunks=chunks, singles=list(hops)))
    return out


def run(specs: list[Any], llm: Any, stage: Callable[[str, int], Any], notify: Callable[[str], None],
        begin: Callable[[Any], tuple[Any, SampleWorld | None, list[Chunk] | None]]) -> tuple[dict, dict]:
    """Every sample's payload by spec id, and the run's summary for the card. ``begin(spec)`` gives a sample's
    params and its world (or corpus pool), drawn exactly as its plan will draw them."""
    import random

    jobs: dict[str, Job] = {}
    order: list[str] = []
    by_spec: dict[str, str] = {}
    for spec in specs:
        key = _sample_key(spec)
        by_spec[spec.id] = key
        if key not in jobs:
            params, world, pool = begin(spec)
            job = Job(key, params, world=world, pool=pool)
            if world is not None:
                job.candidates = [world_attempt(world, c, i) for i, c in enumerate(world.candidates)]
            jobs[key] = job
            order.append(key)
    tally = Tally()
    seen = NearDuplicates()
    corpus = [jobs[k] for k in order if jobs[k].pool is not None]
    if corpus and llm is None:
        raise GenerationError("--documents haystack: the model proposes the facts of corpus documents; give --llm")
    if llm is not None:
        stages = Stages(llm, stage, tally)
        if corpus:
            found = stages.corpus_single_hop(corpus)
            for job in corpus:
                chains = random.Random(f"lcgen multihop-qa chains {job.key} {specs[0].seed}")
                job.candidates = corpus_attempts(job, found[job.key], chains, tally)
                if not job.candidates:
                    tally.count("no_chain")
        rounds = max((len(j.candidates) for j in jobs.values()), default=0)
        for r in range(rounds):
            pending = [jobs[k] for k in order if jobs[k].chosen is None and r < len(jobs[k].candidates)]
            if not pending:
                break
            batch = [(job, job.candidates[r]) for job in pending]
            for job, a in batch:
                job.attempts.append(a)
            tally.seen["candidate chains"] += len(batch)
            if r:
                stages.stage = _labelled(stage, f"candidate {r + 1}")
            world_batch = [(job, a) for job, a in batch if a.chain is not None]
            if world_batch:
                stages.single_hop(world_batch)
            stages.verify_single(batch)
            stages.merge(batch)
            stages.verify_multi(batch)
            for job, a in batch:  # spec order: the first sample keeps a question, a later near-copy tries again
                if a.question is None:
                    continue
                dup = seen.find(a.question)
                if dup is not None:
                    tally.count("near_duplicate")
                    a.reject("near_duplicate", f"{dup[0]} ({dup[1]:.2f})")
                    continue
                seen.add(job.key, a.question)
                job.chosen, job.source = a, "llm"
    fallback = []
    for key in order:
        job = jobs[key]
        if job.chosen is not None:
            continue
        if job.pool is not None or (llm is not None and job.params.fallback == "error"):
            last = job.attempts[-1] if job.attempts else None
            why = (f"the last was rejected by {last.rejected}{f' ({last.detail})' if last.detail else ''}" if last
                   else "its pool gave no chain of linked questions" if job.pool is not None else "none was tried")
            hint = ("more --corpus-documents, fewer --hops" if job.pool is not None and not job.attempts else
                    "more --candidates, a lower --strictness" + ("" if job.pool is not None else
                                                                  " or --fallback template"))
            raise GenerationError(f"multihop-qa: every candidate question of {key} was rejected ({why}); ask for "
                                  f"{hint}")
        job.chosen, job.source = _template_attempt(job, seen), "template"
        if llm is not None:
            fallback.append(key)
    if fallback:
        notify(f"{len(fallback)} of {len(order)} samples use lcgen's template question: every LLM candidate was "
               f"rejected (counts in the card)")
    if llm is not None:  # not in the card: a rerun from the cache makes the same card with no call at all
        st = llm.stats
        notify(f"{llm.model}: {st['requests']:,} requests sent ({st['retries']:,} of them retries), "
               f"{st['cache_hits']:,} replies from the cache")
    identity = llm.identity() if llm is not None else None
    hashes = template_hashes() if llm is not None else {}
    payloads = {spec.id: _payload(jobs[by_spec[spec.id]], identity, hashes) for spec in specs}
    summary = {
        "llm": identity,
        "templates": hashes,
        "samples": len(order),
        "from_llm": sum(jobs[k].source == "llm" for k in order),
        "from_template": sum(jobs[k].source == "template" for k in order),
        "rejected": {check: tally.rejected.get(check, 0) for check in CHECKS},
        "seen": dict(sorted(tally.seen.items())),
        "checks": CHECKS,
        "threshold": THRESHOLD,
        "corpus": bool(corpus),
    }
    return payloads, summary


def _labelled(stage: Callable[[str, int], Any], label: str) -> Callable[[str, int], Any]:
    return lambda name, total: stage(f"{name} ({label})", total)


def lone_payload(params: Any, world: SampleWorld) -> dict[str, Any]:
    """The payload of a sample built on its own, without the run-wide stage: what a run without ``--llm`` gives a
    dataset of one sample."""
    job = Job("lone", params, world=world,
              candidates=[world_attempt(world, c, i) for i, c in enumerate(world.candidates)])
    job.chosen, job.source = _template_attempt(job, NearDuplicates()), "template"
    return _payload(job, None, {})


def _template_attempt(job: Job, seen: NearDuplicates) -> Attempt:
    """The first candidate whose template question is not a near-copy of one already kept."""
    for a in job.candidates:
        question = template_question(a.chain)
        if seen.find(question) is None:
            seen.add(job.key, question)
            return Attempt(a.index, a.answers, a.evidence, a.lookalikes, a.start, a.chain, merged=[question])
    raise GenerationError(f"multihop-qa: every template question of {job.key} nearly repeats an earlier sample's; "
                          f"ask for more --candidates")


def _payload(job: Job, identity: Any, hashes: dict[str, str]) -> dict[str, Any]:
    a = job.chosen
    rejected = Counter(t.rejected for t in job.attempts if t.rejected is not None)
    passed = [c for c in CHECKS if c not in ("malformed", "refused", "no_question", "no_chain")]
    strictness = job.params.strictness
    if job.source == "template":
        why = "not run: no --llm" if identity is None else "not run: template question (every candidate rejected)"
        checks = {c: why for c in passed}
        checks["start_named"] = checks["shortcut"] = checks["near_duplicate"] = checks["answer_unique"] = "passed"
    else:
        checks = {c: "passed" for c in passed}
        if strictness != "strict":
            checks["hops_necessary"] = f"not run: --strictness {strictness}"
        if strictness == "basic":
            checks["answerable"] = checks["closed_book"] = "not run: --strictness basic"
        if a.start is None:
            checks["start_named"] = "not run: corpus documents name no known first entity"
    out = {
        "question": a.question,
        "candidate": a.index,
        "question_source": job.source,
        "single_hop_questions": [s.question for s in a.singles if s is not None] if job.source == "llm" else [],
        "merge_steps": a.merged[:-1] if job.source == "llm" else [],
        "checks": dict(sorted(checks.items())),
        "rejected_candidates": dict(sorted(rejected.items())),
        "llm": identity,
        "prompt_templates": hashes,
    }
    if job.pool is not None:
        out["claims"] = {"chunks": a.chunks, "hops": [{"question": s.question, "answer": s.answer,
                                                       "evidence": s.evidence} for s in a.singles]}
    return out


def _sample_key(spec: Any) -> str:
    """One sample whatever tokenizer it is made for (configs differ, the sample does not)."""
    return f"{spec.family}/{spec.variant}/{spec.label}/d{spec.depth:g}/{spec.index}"


__all__ = ["CHECKS", "GenerationError", "lone_payload", "run", "same_answer", "template_hashes", "world_attempt"]
