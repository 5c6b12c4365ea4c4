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

from ._multihop_world import Chain, SampleWorld, describe, sample_world, template_question

LLM_TEMPLATES = ("single_hop", "merge", "answer", "closed_book")

# Every check, in the order a candidate meets them, and what it rejects (the card's table).
CHECKS: dict[str, str] = {
    "malformed": "the reply is not the JSON the prompt asks for",
    "refused": "the model declined to answer",
    "quote_verbatim": "a single-hop question's evidence quote is not in its chunk, character for character",
    "grounded": "a single-hop answer is not the fact its quote states (checked against the knowledge graph)",
    "self_contained": "a single-hop question does not name its subject in full",
    "no_question": "no single-hop question asks about the fact the hop needs",
    "answerable": "the model, given only the evidence, does not give the reference answer",
    "closed_book": "the model gives the reference answer with no context at all (leakage)",
    "start_named": "the merged question does not name the chain's first entity",
    "shortcut": "the merged question names a bridge entity or the answer, so a hop can be skipped",
    "hops_necessary": "the model still gives the answer with one evidence document dropped",
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
    """One candidate chain of one sample, as it goes through the stages."""

    chain: Chain
    index: int
    singles: list[Single | None] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    rejected: str | None = None
    detail: str = ""

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
    world: SampleWorld
    params: Any
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


def names(text: str, name: str) -> bool:
    """``name`` appears in ``text`` as a whole name (world names are unique and none is part of another)."""
    return re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", text) is not None


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
        """Stage 2 and its deterministic checks: one prompt per hop's chunk."""
        asks = [(job, a, k) for job, a in jobs for k in range(len(a.chain.hops))]
        prompts = [_prompt("single_hop", passage=job.world.documents[a.chain.hops[k].subject].text,
                           n=job.params.questions_per_chunk) for job, a, k in asks]
        for a in {id(a): a for _, a in jobs}.values():
            a.singles = [None] * len(a.chain.hops)
        for (job, a, k), reply in zip(asks, self._ask("single-hop questions", prompts)):
            self.tally.seen["single-hop replies"] += 1
            if a.rejected is not None:
                continue
            single = self._pick_single(job, a, k, reply)
            if single is None:
                continue
            a.singles[k] = single
        self._done(jobs)

    def _pick_single(self, job: Job, a: Attempt, k: int, reply: str) -> Single | None:
        hop = a.chain.hops[k]
        doc = job.world.documents[hop.subject]
        items = parse_json(reply)
        if isinstance(items, dict):
            items = [items]
        if not isinstance(items, list):
            check = _bad_reply(reply)
            self.tally.count(check)
            a.reject(check, f"hop {k + 1}")
            return None
        last_failure = None
        for item in items[: job.params.questions_per_chunk]:
            self.tally.seen["single-hop candidates"] += 1
            if not (isinstance(item, dict) and all(isinstance(item.get(key), str) and item[key].strip()
                                                   for key in ("question", "answer", "evidence"))):
                self.tally.count("malformed")
                last_failure = last_failure or "malformed"
                continue
            question, answer, quote = item["question"].strip(), item["answer"].strip(), item["evidence"].strip()
            if quote not in doc.text:
                self.tally.count("quote_verbatim")
                last_failure = "quote_verbatim"
                continue
            stated = [f for f, s in doc.facts if s in quote or quote in s]
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

    def verify_single(self, jobs: list[tuple[Job, Attempt]]) -> None:
        """Stage 3's model checks: each hop's question answered from its chunk alone, and closed-book."""
        asks = []
        for job, a in jobs:
            if a.rejected is not None or job.params.strictness == "basic":
                continue
            for k, single in enumerate(a.singles):
                passage = job.world.documents[a.chain.hops[k].subject].text
                asks.append((a, k, "answerable", _prompt("answer", passages=[passage], question=single.question)))
                asks.append((a, k, "closed_book", _prompt("closed_book", question=single.question)))
        self._judge(asks, "verify single-hop", lambda a, k: a.singles[k].answer)
        self._done(jobs)

    def _judge(self, asks: list, stage: str, reference: Callable[[Attempt, int], str]) -> None:
        replies = self._ask(stage, [p for *_, p in asks])
        for (a, k, check, _), reply in zip(asks, replies):
            if a.rejected is not None:
                continue
            got = answer_of(reply)
            right = same_answer(got, reference(a, k))
            if (check == "answerable" and not right) or (check != "answerable" and right):
                if check == "answerable" and _REFUSAL.search(reply):
                    check = "refused"
                self.tally.count(check)
                a.reject(check, f"hop {k + 1}" if stage == "verify single-hop" else "")

    def merge(self, jobs: list[tuple[Job, Attempt]]) -> None:
        """Stage 4: merge step by step, all samples' step s in one batch."""
        alive = [(job, a) for job, a in jobs if a.rejected is None]
        for a in (a for _, a in alive):
            a.merged = []
        steps = max((len(a.chain.hops) - 1 for _, a in alive), default=0)
        for s in range(1, steps + 1):
            asks = [(job, a) for job, a in alive if a.rejected is None and s < len(a.chain.hops)]
            prompts = []
            for _, a in asks:
                first = a.singles[0].question if s == 1 else a.merged[-1]
                prompts.append(_prompt("merge", first_question=first, first_answer=a.chain.hops[s - 1].value,
                                       second_question=a.singles[s].question, second_answer=a.singles[s].answer,
                                       bridge=a.chain.hops[s - 1].value))
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
                hidden = a.chain.bridges[:s] + [a.chain.hops[s].value]
                if not names(question, a.chain.start):
                    self.tally.count("start_named")
                    a.reject("start_named", f"merge step {s}")
                elif any(names(question, h) for h in hidden):
                    self.tally.count("shortcut")
                    a.reject("shortcut", f"merge step {s}")
                elif not question.endswith("?"):
                    self.tally.count("malformed")
                    a.reject("malformed", f"merge step {s}: not a question")
                else:
                    a.merged.append(question)
            self._done(jobs)

    def verify_multi(self, jobs: list[tuple[Job, Attempt]]) -> None:
        """Stage 5's model checks: from all evidence, closed-book, and with each evidence document dropped."""
        asks = []
        for job, a in jobs:
            if a.rejected is not None or job.params.strictness == "basic":
                continue
            q = a.merged[-1]
            asks.append((a, 0, "answerable", _prompt("answer", passages=_passages(job, a), question=q)))
            asks.append((a, 0, "closed_book", _prompt("closed_book", question=q)))
            if job.params.strictness == "strict":
                for k in range(len(a.chain.hops)):
                    asks.append((a, k, "hops_necessary",
                                 _prompt("answer", passages=_passages(job, a, drop=k), question=q)))
        self._judge(asks, "verify multi-hop", lambda a, k: a.chain.answer)
        self._done(jobs)


def _passages(job: Job, a: Attempt, drop: int | None = None) -> list[str]:
    """The evidence documents (less hop ``drop``'s) and, for each hop, another entity's document of the same kind
    whose value for the hop's relation differs, in an order fixed by their text: with a look-alike beside every hop,
    a model that is missing one document cannot answer by elimination (the only region the passages state, say), so
    "still answers" means the hop was not needed."""
    world = job.world.world
    chain = a.chain.entities
    docs = [e for k, e in enumerate(chain) if k != drop]
    for hop in a.chain.hops:  # a look-alike whose value for the hop's relation differs (no lucky guess)
        docs.append(next(o.name for o in world.of_kind(world.kind_of(hop.subject))
                         if o.name not in chain and o.name not in docs
                         and world.fact(o.name, hop.relation).text != hop.value))
    texts = [job.world.documents[name].text for name in docs]
    return sorted(texts, key=lambda t: hashlib.sha256(t.encode("utf-8")).hexdigest())


def run(specs: list[Any], llm: Any, stage: Callable[[str, int], Any], notify: Callable[[str], None],
        sample_rng: Callable[[Any], Any], params_of: Callable[[Any], Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every sample's payload by spec id, and the run's summary for the card."""
    jobs: dict[str, Job] = {}
    order: list[str] = []
    by_spec: dict[str, str] = {}
    for spec in specs:
        key = _sample_key(spec)
        by_spec[spec.id] = key
        if key not in jobs:
            p = params_of(spec)
            jobs[key] = Job(key, sample_world(sample_rng(spec), p.hops, p.candidates), p)
            order.append(key)
    tally = Tally()
    seen = NearDuplicates()
    if llm is not None:
        stages = Stages(llm, stage, tally)
        rounds = max(len(j.world.candidates) for j in jobs.values())
        for r in range(rounds):
            pending = [jobs[k] for k in order if jobs[k].chosen is None and r < len(jobs[k].world.candidates)]
            if not pending:
                break
            batch = []
            for job in pending:
                a = Attempt(job.world.candidates[r], r)
                job.attempts.append(a)
                batch.append((job, a))
            tally.seen["candidate chains"] += len(batch)
            stages.single_hop(batch)
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
        if llm is not None and job.params.fallback == "error":
            last = job.attempts[-1] if job.attempts else None
            why = f"the last was rejected by {last.rejected} ({last.detail})" if last else "none was tried"
            raise GenerationError(f"multihop-qa: every candidate question of {key} was rejected ({why}); "
                                  f"ask for more --candidates, a lower --strictness or --fallback template")
        job.chosen, job.source = _template_attempt(job, seen), "template"
        if llm is not None:
            fallback.append(key)
    if fallback:
        notify(f"{len(fallback)} of {len(order)} samples use lcgen's template question: every LLM candidate was "
               f"rejected (counts in the card)")
    identity = llm.identity() if llm is not None else None
    hashes = template_hashes() if llm is not None else {}
    payloads = {}
    for spec in specs:
        job = jobs[by_spec[spec.id]]
        payloads[spec.id] = _payload(job, identity, hashes)
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
    }
    return payloads, summary


def _template_attempt(job: Job, seen: NearDuplicates) -> Attempt:
    """The first candidate whose template question is not a near-copy of one already kept (else the first)."""
    tries = [Attempt(c, i, merged=[template_question(c)]) for i, c in enumerate(job.world.candidates)]
    for a in tries:
        if seen.find(a.question) is None:
            seen.add(job.key, a.question)
            return a
    raise GenerationError(f"multihop-qa: every template question of {job.key} nearly repeats an earlier sample's; "
                          f"ask for more --candidates")


def _payload(job: Job, identity: Any, hashes: dict[str, str]) -> dict[str, Any]:
    a = job.chosen
    rejected = Counter(t.rejected for t in job.attempts if t.rejected is not None)
    passed = [c for c in CHECKS if c not in ("malformed", "refused", "no_question")]
    strictness = job.params.strictness
    if job.source == "template":
        why = "not run: no --llm" if identity is None else "not run: template question (every candidate rejected)"
        checks = {c: why for c in passed}
        checks["start_named"] = checks["shortcut"] = checks["near_duplicate"] = "passed"
    else:
        checks = {c: "passed" for c in passed}
        if strictness != "strict":
            checks["hops_necessary"] = f"not run: --strictness {strictness}"
        if strictness == "basic":
            checks["answerable"] = checks["closed_book"] = "not run: --strictness basic"
    return {
        "question": a.question if a.question is not None else template_question(a.chain),
        "candidate": a.index,
        "question_source": job.source,
        "single_hop_questions": [s.question for s in a.singles if s is not None] if job.source == "llm" else [],
        "merge_steps": a.merged[:-1] if job.source == "llm" else [],
        "checks": dict(sorted(checks.items())),
        "rejected_candidates": dict(sorted(rejected.items())),
        "llm": identity,
        "prompt_templates": hashes,
    }


def _sample_key(spec: Any) -> str:
    """One sample whatever tokenizer it is made for (configs differ, the sample does not)."""
    return f"{spec.family}/{spec.variant}/{spec.label}/d{spec.depth:g}/{spec.index}"


__all__ = ["CHECKS", "GenerationError", "describe", "run", "same_answer", "template_hashes"]
