"""ruler: RULER's format per task (the parity check), exact lengths, strict oracles, RULER's metric, corpora."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lcgen.errors import LcgenError, ParamError
from lcgen.generators import ruler
from lcgen.validate import check_row
from lcgen.validators.metrics.ruler import score_reply, string_match_all, string_match_part
from tests.generators.rows import make_row

NEEDLE = re.compile(r"One of the special magic (numbers|words|uuids) for (\S+) is: (\S+)\.")
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
VALUE = {"numbers": r"\d{7}", "words": r"[a-z'-]+-[a-z'-]+", "uuids": UUID}
NOISE = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again."


def row_of(variant: str, length: int = 3000, depth: float = 50.0, **knobs) -> dict:
    depth = 0.0 if variant in ruler.LISTS else depth
    return make_row("ruler", variant, length, depth, haystack="procedural", **knobs)


def meta(row: dict) -> dict:
    return json.loads(row["meta"])


def passes(row: dict) -> bool:
    problems = check_row(row, {})[0]
    assert problems == [], problems
    return True


# --- parity with RULER's format (docs/ruler.md, "Parity with RULER") ---------------------------------------------


@pytest.mark.parametrize("variant", ruler.NIAH)
def test_niah_matches_rulers_format(variant):
    row = row_of(variant)
    preset = ruler.VARIANTS[variant]
    k_type, v_type = preset["type_needle_k"], preset["type_needle_v"]
    needles = NEEDLE.findall(row["input"])
    k = max(preset.get("num_needle_k", 1), preset.get("num_needle_q", 1))
    mine = [n for n in needles if n[1] in meta(row)["all_keys"]]
    assert len(mine) == k * preset.get("num_needle_v", 1)
    assert all(kind == v_type and re.fullmatch(VALUE[k_type], key) and re.fullmatch(VALUE[v_type], value)
               for kind, key, value in mine)
    one = len(row["answers"]) == 1
    first_line = row["input"].split("\n", 1)[0]
    assert first_line.startswith("A special magic" if one else "Some special magic")
    assert row["question"].startswith("What is the special magic" if one else "What are all the special magic")
    assert row["input"].endswith(row["question"])
    prefix = meta(row)["answer_prefix"]
    assert prefix.startswith(" The special magic") and prefix.endswith(" is" if one else " are")
    assert meta(row)["tokens_to_generate"] == 128
    haystack = preset["type_haystack"]
    if haystack == "noise":
        assert row["input"].count(NOISE + "\n") > 10
    elif haystack == "needle":
        assert len(needles) > 10 * len(mine)  # the haystack is distractor needles
    else:
        assert NOISE not in row["input"] and len(needles) == len(mine)
    assert passes(row)


def test_vt_matches_rulers_format():
    row = row_of("vt")
    chain = row["answers"]
    assert len(chain) == 5 and all(re.fullmatch(r"[A-Z]{5}", n) for n in chain)
    value = re.search(r"value (\d{5}) ", row["question"]).group(1)
    context = row["input"][row["input"].rindex("\n\n"):]
    assert f"VAR {chain[0]} = {value}\n" in context
    assert all(f"VAR {b} = VAR {a}\n" in context for a, b in zip(chain, chain[1:]))
    example = row["input"][:row["input"].rindex("\n\n")]
    assert re.search(r"they are: [A-Z]{3}( [A-Z]{3}){4}\n", example)  # the one-shot example, answered
    assert meta(row)["answer_prefix"].startswith(" Answer: ") and "5 variables are assigned the value" in \
        meta(row)["answer_prefix"]
    assert passes(row)


def test_cwe_matches_rulers_format_and_frequencies():
    for length, (common, rare) in ((3000, (6, 1)), (5000, (30, 3))):
        row = row_of("cwe", length)
        text = row["input"]
        q = text.rindex(row["question"])
        listing = text[text.rindex("\n", 0, q - 2) + 1:q - 2]
        words = re.findall(r"(\d+)\. (\S+)", listing)
        assert [int(n) for n, _ in words] == list(range(1, len(words) + 1))
        counts = {}
        for _, w in words:
            counts[w] = counts.get(w, 0) + 1
        assert all(counts[w] == common for w in row["answers"]) and len(row["answers"]) == 10
        others = [c for w, c in counts.items() if w not in row["answers"]]
        assert set(others) <= {rare - 1, rare, rare + 1} and len([c for c in others if c != rare]) <= rare
        assert text.count("Question: Which are the 10 most common words") == 2  # the example's and the sample's
        assert passes(row)


def test_fwe_matches_rulers_format():
    row = row_of("fwe", 5000)
    text = row["input"]
    body = text[:text.rindex(row["question"]) - 2].split("most often.", 1)[1]
    words = body.split()
    counts = {w: words.count(w) for w in set(words)}
    ranked = sorted(counts, key=counts.get, reverse=True)
    assert ranked[0] == "..." and ranked[1:4] == row["answers"]
    assert all(re.fullmatch(r"[a-z]{6}", w) for w in ranked[1:])
    assert '"..."' in row["question"] and "...." not in row["question"]  # RULER's prompt says "...." by mistake
    assert passes(row)


@pytest.mark.parametrize("variant", ruler.QA)
def test_qa_matches_rulers_format(variant):
    row = row_of(variant)
    docs = re.findall(r"Document (\d+):\n", row["input"])
    assert [int(d) for d in docs] == list(range(1, len(docs) + 1)) and len(docs) > 10
    assert row["question"].startswith("Question: ") and meta(row)["answer_prefix"] == " Answer:"
    assert row["input"].count("Give only the answer, with no other words.") == 2  # before and after
    assert len(meta(row)["supporting_documents"]) == (1 if variant == "qa_1" else 2)
    assert len(meta(row)["gold_documents"]) == (1 if variant == "qa_1" else 10)
    assert passes(row)


# --- exact lengths and depth ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", list(ruler.VARIANTS))
def test_exact_in_another_tokenizer(variant):
    from lcgen.make import SampleSpec, build_sample
    from lcgen.registry import families

    fam = families.get("ruler")
    params = fam.params(**fam.variants[variant]).to_dict()
    depth = 0.0 if variant in ruler.LISTS else 90.0
    row = build_sample(SampleSpec("ruler", variant, 4321, depth, 0, 5, "o200k_base", params, "procedural"))
    assert row["length"] == 4321
    row["tokenizer_spec"] = "o200k_base"
    assert passes(row)


def test_depth_places_the_anchor():
    for depth in (0.0, 100.0):
        row = row_of("niah_multivalue", 8000, depth)
        assert min(abs(d - depth) for d in row["depth"]) < 3.0 and len(row["depth"]) == 4
    row = row_of("qa_1", 8000, 75.0)
    assert abs(row["depth"][0] - 75.0) < 5.0


# --- strict oracles ------------------------------------------------------------------------------------------------


def test_niah_oracle_catches_a_second_value_and_a_leak():
    row = row_of("niah_single_1")
    value = row["answers"][0]
    key = meta(row)["keys"][0]
    doubled = dict(row, input=row["input"].replace(NOISE + "\n", f"One of the special magic numbers for {key} is: "
                                                                f"1234567.\n", 1))
    assert "oracle answer differs from `answer`" in check_row(doubled, {})[0]
    leaked = dict(row, input=row["input"].replace("The sky is blue.", f"The sky is {value}.", 1))
    assert any("occurs outside its needles" in p for p in check_row(leaked, {})[0])


def test_vt_oracle_catches_a_branch():
    row = row_of("vt")
    chain = row["answers"]
    branched = dict(row, input=row["input"].replace(NOISE + "\n", f"VAR QQQQQ = VAR {chain[1]}\n", 1))
    assert any("branches" in p or "differs" in p for p in check_row(branched, {})[0])


def test_cwe_oracle_catches_a_tie():
    row = row_of("cwe", 5000)
    text = row["input"]
    q = text.rindex(row["question"])
    start = text.rindex("\n", 0, q - 2) + 1
    items = re.findall(r"\d+\. (\S+)", text[start:q - 2])
    rare = next(w for w in items if w not in row["answers"])
    short = 30 - items.count(rare)
    for i, w in enumerate(items):  # other rare words become ``rare`` until it occurs as often as a common word
        if short and w != rare and w not in row["answers"]:
            items[i], short = rare, short - 1
    tied = "".join(f" {i}. {w}" for i, w in enumerate(items, start=1))
    problems = check_row(dict(row, input=text[:start] + tied + text[q - 2:]), {})[0]
    assert any("strictly more frequent" in p for p in problems), problems


def test_qa_oracle_catches_a_second_statement():
    row = row_of("qa_1")
    text = row["input"]
    first = text.index("Document 1:\n") + len("Document 1:\n")
    subject_doc = text[text.index(f"Document {meta(row)['supporting_documents'][0]}:\n"):]
    body = subject_doc.split("\n", 2)[1]
    sentence = next(x for x in body.split(". ") if row["answer"] in x).rstrip(".") + ". "
    twice = text[:first] + sentence + text[first:]
    assert any("stated 2 times" in p for p in check_row(dict(row, input=twice), {})[0])


# --- metric ---------------------------------------------------------------------------------------------------------


def test_metric_is_rulers():
    assert string_match_all("The values are 1234567 and 7654321.", ["1234567", "7654321", "1111111"]) == 2 / 3
    assert string_match_part("the answer is PARIS\x00", ["Paris", "London"]) == 1.0
    assert score_reply("ABCDE FGHIJ", "", ["ABCDE", "FGHIJ", "KLMNO"], "vt") == {"strict": 2 / 3, "partial": 1.0}
    assert score_reply("nope", "", ["Paris"], "qa_1") == {"strict": 0.0, "partial": 0.0}
    assert score_reply("paris", "", ["Paris", "the city of Paris"], "qa_1")["strict"] == 1.0


# --- knobs, corpora, refusals --------------------------------------------------------------------------------------


def test_knobs_change_the_task():
    row = row_of("niah_single_1", num_needle_k=3, num_needle_v=2, num_needle_q=2, type_needle_v="uuids")
    assert len(row["answers"]) == 4 and all(re.fullmatch(UUID, a) for a in row["answers"])
    assert passes(row)
    row = row_of("vt", 4000, num_chains=3, num_hops=2, type_haystack="essay")
    context = row["input"][row["input"].rindex("\n\n"):]
    assert len(row["answers"]) == 3 and NOISE not in context and len(re.findall(r"VAR [A-Z]+ = ", context)) == 9
    assert passes(row)


def test_refusals_are_one_line():
    with pytest.raises(ParamError, match="vt takes noise or essay"):
        ruler._check(ruler.RulerParams(type_haystack="needle"), "vt", [4000])
    with pytest.raises(ParamError, match="--freq-cw"):
        ruler._check(ruler.RulerParams(freq_cw=4, freq_ucw=3), "cwe", [8000])
    with pytest.raises(LcgenError, match="--qa-source"):
        ruler._check(ruler.RulerParams(qa_source="files:/nonexistent/squad.json"), "qa_1", [8000])


def _squad_file(folder: Path, paragraphs: int) -> Path:
    """A SQuAD v2 dev file in RULER's download format: one article, paragraphs of varied length."""
    words = "the river town market bridge harbour valley council winter trade".split()
    data = [{"title": "Stand-in", "paragraphs": [
        {"context": f"Paragraph {i} tells of the {words[i % 10]}. " + " ".join(words[(i * j) % 10] for j in range(
            5 + (i * 7) % 40)) + ".",
         "qas": [{"question": f"What does paragraph {i} tell of?", "id": str(i), "is_impossible": False,
                  "answers": [{"text": words[i % 10], "answer_start": 0}]}]} for i in range(paragraphs)]}]
    path = folder / "dev-v2.0.json"
    path.write_text(json.dumps({"version": "v2.0", "data": data}), encoding="utf-8")
    return path


def test_qa_from_squad_file_runs_out_unless_repeat_is_allowed(tmp_path):
    source = f"files:{_squad_file(tmp_path, 40)}"
    with pytest.raises(LcgenError, match="--allow-repeat"):
        row_of("qa_1", 6000, qa_source=source)
    row = make_row("ruler", "qa_1", 6000, 50.0, haystack="procedural", allow_repeat=True, qa_source=source)
    assert meta(row)["repeated_documents"] > 0 and row["length"] == 6000
    assert passes(row)
    row = row_of("qa_1", 1500, qa_source=source)
    assert "repeated_documents" not in meta(row) and passes(row)
    hotpot = f"files:{_hotpot_file(tmp_path, 12)}"
    row = make_row("ruler", "qa_2", 5000, 50.0, haystack="procedural", allow_repeat=True, qa_source=hotpot)
    assert passes(row) and len(meta(row)["gold_documents"]) == 10


def _hotpot_file(folder: Path, examples: int) -> Path:
    """A HotpotQA dev distractor file in RULER's download format: ten paragraphs an example, two supporting."""
    words = "the river town market bridge harbour valley council winter trade".split()
    data = []
    for e in range(examples):
        context = [[f"Title {e}-{p}", [" " + " ".join(words[(e + p * k + j) % 10] for j in range(1 + (e + p + k) % 7))
                                        + "." for k in range(1 + (e * 3 + p * 5) % 9)]] for p in range(10)]
        data.append({"_id": str(e), "question": f"What links title {e}-0 and title {e}-1?", "answer": words[e % 10],
                     "supporting_facts": [[f"Title {e}-0", 0], [f"Title {e}-1", 0]], "context": context})
    path = folder / "hotpot_dev_distractor_v1.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path
