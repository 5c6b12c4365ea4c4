"""A scripted stand-in for an LLM behind tests/openai_server.py, for multihop-qa: it reads multihop-qa's prompts the
way a careful model would and answers deterministically, and can misbehave on purpose.

Stateless (every reply is a function of the prompt and its arrival count), so a killed run resumed against a new
server gets the same replies. Its own question wording ("What is the region of the birthplace of the founder of
Harlow Works?") is not lcgen's template wording, so a test can tell the model's questions from the fallback's.

Faults are chosen by the prompt's sha256, so which prompts misbehave is fixed; ``faults`` maps a kind to the share of
prompts of the kind it applies to:

- ``malformed``  single-hop reply that is not JSON (a Python repr);
- ``refusal``    single-hop reply "I'm sorry, but I can't help with that.";
- ``bad_quote``  single-hop evidence quotes reworded (not verbatim);
- ``leak``       closed-book reply gives the right answer (it reads the answer off the question's chain anyway);
- ``unanswerable`` answer-from-evidence reply "UNANSWERABLE" although the evidence is all there;
- ``shortcut``   merged question names the bridge entity;
- ``guess``      when the chain cannot be followed, answer with the first fact of the asked relation the passages
  state (a model that guesses by elimination: the drop-one check must catch a lucky guess);
- ``http429`` / ``timeout`` / ``http500``  the first arrival of a prompt fails at the HTTP level (``Fault``);
- ``down``       every arrival fails with HTTP 500 (a broken server: the run must stop in one line).

``delay`` slows every reply (a run slow enough to be killed halfway).
"""

from __future__ import annotations

import hashlib
import json
import re
import time

from lcgen.generators._world import RELATIONS
from lcgen.generators.qa import fact_patterns
from tests.openai_server import Fault

RELATION_NAMES = {
    "person_birth_year": "birth year", "person_birthplace": "birthplace", "person_profession": "profession",
    "person_employer": "employer", "town_region": "region", "town_founded": "founding year",
    "town_population": "population", "company_founded": "founding year", "company_founder": "founder",
    "company_headquarters": "headquarters", "company_industry": "industry",
    "company_employees": "number of employees",
}
_NAME_RELATIONS: dict[str, list[str]] = {}
for _rel, _name in RELATION_NAMES.items():
    _NAME_RELATIONS.setdefault(_name, []).append(_rel)
_NAMES_RX = "|".join(sorted(map(re.escape, _NAME_RELATIONS), key=len, reverse=True))


def _share(prompt: str, salt: str) -> float:
    return int(hashlib.sha256(f"{salt}\x00{prompt}".encode()).hexdigest()[:8], 16) / 2**32


def read_facts(text: str) -> list[tuple[str, str, str, str]]:
    """(relation, subject, value, sentence) of every fact sentence of a passage."""
    out = []
    for sentence in re.split(r"(?<=\.) (?=[A-Z])", text.strip()):
        for rel, rx in fact_patterns():
            m = rx.fullmatch(sentence.strip())
            if m:
                g = m.groupdict()
                value = re.sub(r"^(?:a|an) ", "", g.get("value") or g.get("a_value") or "")
                out.append((rel, m.group("subject"), value, sentence.strip()))
    return out


def phrase(start: str, relations: list[str]) -> str:
    text = start
    for rel in relations:
        text = f"the {RELATION_NAMES[rel]} of {text}"
    return f"What is {text}?"


def parse_question(question: str) -> tuple[str, list[str]] | None:
    """(start, relation names from the first hop to the last) of a question in this model's own wording."""
    m = re.fullmatch(r"What is (.+)\?", question.strip())
    if not m:
        return None
    rest, names = m.group(1), []
    while True:
        step = re.match(rf"the ({_NAMES_RX}) of (.+)", rest)
        if not step:
            break
        names.append(step.group(1))
        rest = step.group(2)
    return (rest, names[::-1]) if names else None


def follow(facts: list[tuple[str, str, str, str]], start: str, names: list[str]) -> str | None:
    current = start
    for name in names:
        hit = sorted({v for rel, s, v, _ in facts if s == current and rel in _NAME_RELATIONS[name]})
        if len(hit) != 1:
            return None
        current = hit[0]
    return current


class ScriptedModel:
    """``respond(prompt, arrivals)`` for OpenAIServer."""

    def __init__(self, faults: dict[str, float] | None = None, know: dict[str, str] | None = None,
                 delay: float = 0.0, timeout_delay: float = 1.0):
        self.faults = dict(faults or {})
        self.know = know or {}  # question -> answer: what a leaking model "knows"
        self.delay = delay
        self.timeout_delay = timeout_delay

    def _hit(self, kind: str, prompt: str) -> bool:
        return _share(prompt, kind) < self.faults.get(kind, 0.0)

    def __call__(self, prompt: str, arrivals: int) -> str | Fault:
        if self._hit("down", prompt):
            return Fault(status=500)
        if self.delay:
            time.sleep(self.delay)
        if arrivals == 1:
            if self._hit("http429", prompt):
                return Fault(status=429, retry_after="0")
            if self._hit("http500", prompt):
                return Fault(status=500)
            if self._hit("timeout", prompt):
                return Fault(delay=self.timeout_delay)
        task = prompt.split("\n", 1)[0]
        if task.startswith("Task: write single-hop"):
            return self.single_hop(prompt)
        if task.startswith("Task: merge"):
            return self.merge(prompt)
        if task.startswith("Task: answer a question from passages"):
            return self.answer(prompt)
        if task.startswith("Task: answer a question from your own"):
            return self.closed_book(prompt)
        return "I do not understand the task."

    def single_hop(self, prompt: str) -> str:
        if self._hit("refusal", prompt):
            return "I'm sorry, but I can't help with that."
        passage = re.search(r"<passage>\n(.*?)\n</passage>", prompt, re.DOTALL).group(1)
        n = int(re.search(r"Write up to (\d+) questions", prompt).group(1))
        items = []
        for rel, subject, value, sentence in read_facts(passage)[:n]:
            quote = sentence.replace(" is ", " was ") if self._hit("bad_quote", prompt) else sentence
            items.append({"question": phrase(subject, [rel]), "answer": value, "evidence": quote})
        if self._hit("malformed", prompt):
            return "Here are the questions: " + repr(items)
        return json.dumps(items)

    def merge(self, prompt: str) -> str:
        qa = re.search(r"Question A: (.*)\n", prompt).group(1)
        qb = re.search(r"Question B: (.*)\n", prompt).group(1)
        bridge = re.search(r"Answer A: (.*)\n", prompt).group(1)
        a, b = parse_question(qa), parse_question(qb)
        if a is None or b is None:
            return json.dumps({"question": "?"})
        names = a[1] + b[1]
        rels = [_NAME_RELATIONS[n][0] for n in names]  # wording only: which "founding year" is the model's guess
        question = phrase(a[0], rels)
        if self._hit("shortcut", prompt):
            question = question[:-1] + f", that is of {bridge}?"
        return json.dumps({"question": question})

    def answer(self, prompt: str) -> str:
        question = re.search(r"<question>(.*)</question>", prompt).group(1)
        parsed = parse_question(question)
        passages = re.findall(r"<passage>\n(.*?)\n</passage>", prompt, re.DOTALL)
        facts = [f for p in passages for f in read_facts(p)]
        if parsed is None:
            return json.dumps({"answer": "UNANSWERABLE"})
        if self._hit("unanswerable", question):
            return json.dumps({"answer": "UNANSWERABLE"})
        got = follow(facts, *parsed)
        if got is None and self._hit("guess", question):
            last = parsed[1][-1]
            got = next((v for rel, _, v, _ in facts if rel in _NAME_RELATIONS[last]), None)
        return json.dumps({"answer": got if got is not None else "UNANSWERABLE"})

    def closed_book(self, prompt: str) -> str:
        question = re.search(r"<question>(.*)</question>", prompt).group(1)
        if self._hit("leak", question) and question in self.know:
            return json.dumps({"answer": self.know[question]})
        return json.dumps({"answer": "UNKNOWN"})


def knowledge(worlds: list) -> dict[str, str]:
    """What a leaking model "knows": this model's wording of every candidate chain, and of each of its hops, mapped to
    the answer (from the samples' regenerated knowledge graphs)."""
    out = {}
    for sw in worlds:
        for chain in sw.candidates:
            out[phrase(chain.start, [h.relation for h in chain.hops])] = chain.answer
            for hop in chain.hops:
                out[phrase(hop.subject, [hop.relation])] = hop.value
    return out


assert set(RELATION_NAMES) == set(RELATIONS)
