"""Model-exact lengths: a prompt rendered with a model's chat template is exactly ``--len`` tokens of that model's
tokenizer, special tokens included, for byte-level BPE and SentencePiece-like tokenizers and the template shapes of
the common open-model families; the same samples across several tokenizers; the tokenizer found again by
``lcgen validate``. Counts are checked with the ``tokenizers`` library directly, not through lcgen."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from tokenizers import Tokenizer

from lcgen.chat import ChatTemplate
from lcgen.make import MakeRequest, make
from lcgen.tests.tokenizer_models import KINDS, SPECIALS, STYLES, model_folder, token_text
from lcgen.validate import validate


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[tuple[str, str], Path]:
    root = tmp_path_factory.mktemp("models")
    return {(style, kind): model_folder(root, style, kind) for style in STYLES for kind in KINDS}


def rows_of(folder: Path) -> list[dict]:
    return [r for f in sorted(folder.glob("data/*/*.parquet")) for r in pq.read_table(f).to_pylist()]


def made(tmp_path: Path, name: str, **kw) -> Path:
    out = tmp_path / name
    make(MakeRequest(**kw), out, workers=1)
    return out


def count(folder: Path, text: str) -> int:
    """Tokens of ``text`` as the model's own tokenizer reads it, special-token text as special tokens."""
    return len(Tokenizer.from_file(str(folder / "tokenizer.json")).encode(text, add_special_tokens=False).ids)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("style", STYLES)
def test_rendered_prompt_is_exactly_the_length_with_special_tokens(tmp_path, folders, style, kind):
    folder = folders[(style, kind)]
    rng = random.Random(f"{style}/{kind}")
    lengths = sorted({rng.randint(1_500, 6_000) for _ in range(2)})
    out = made(tmp_path, "ds", family="needles", lengths=lengths, seed=3, depths=[10.0, 90.0], samples=1,
               variants=["single_retrieval"], tokenizer=str(folder), chat_template="auto")
    rows = rows_of(out)
    assert len(rows) == 2 * len(lengths)
    config = json.loads((folder / "tokenizer_config.json").read_text())
    template = ChatTemplate("auto", config["chat_template"], tuple(sorted(
        (k, token_text(config[k])) for k in ("bos_token", "eos_token", "pad_token", "unk_token")
        if token_text(config.get(k)) is not None)))
    bos = token_text(SPECIALS[style]["bos"])
    for row in rows:
        assert row["length"] == row["target_length"] == count(folder, row["input"]), row["id"]
        assert template.render(row["messages"]) == row["input"]
        assert row["messages"][0]["role"] == "user" and row["question"] in row["messages"][0]["content"]
        if bos:  # the template writes BOS once and the count holds it; nothing else adds another
            assert row["input"].startswith(bos) and row["input"].count(bos) == 1
    reports, failed = validate(out)
    assert failed == 0, [f for r in reports.values() for f in r.failures]


@pytest.mark.parametrize("family,variant", [("needle-threads", "threads"), ("ancestral-trace", "nth_ancestor"),
                                            ("holistic-queries", "selection")])
def test_every_family_validates_inside_a_trimming_template(tmp_path, folders, family, variant):
    """llama3 trims the message; the prompt's closing newline is then not in `input` but stays in `messages`."""
    folder = folders[("llama3", "bpe")]
    out = made(tmp_path, "ds", family=family, lengths=[3_000], seed=5, depths=[40.0], variants=[variant],
               tokenizer=str(folder), chat_template="auto")
    (row,) = rows_of(out)
    assert row["length"] == 3_000 == count(folder, row["input"])
    assert row["messages"][0]["content"].endswith("\n") and row["input"].endswith("<|end_header_id|>\n\n")
    reports, failed = validate(out)
    assert failed == 0, [f for r in reports.values() for f in r.failures]


def test_without_a_template_the_prompt_counts_no_special_tokens(tmp_path, folders):
    folder = folders[("mistral", "unigram")]
    out = made(tmp_path, "ds", family="needle-threads", lengths=[2_000], seed=1, depths=[50.0],
               variants=["single_needle"], tokenizer=str(folder))
    (row,) = rows_of(out)
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    assert row["length"] == 2_000 == len(tok.encode(row["input"], add_special_tokens=False).ids)
    assert len(tok.encode(row["input"]).ids) == 2_001  # what a harness that adds BOS sends: the card says so
    assert row["messages"] == [{"role": "user", "content": row["input"]}]
    assert "add_bos_token=False" in (out / "README.md").read_text()


def test_a_tiktoken_encoding_counts_a_template_s_special_tokens(tmp_path):
    template = tmp_path / "plain.jinja"
    template.write_text("{% for m in messages %}<|endoftext|>{{ m['role'] }}: {{ m['content'] }}{% endfor %}"
                        "{% if add_generation_prompt %}<|endoftext|>assistant:{% endif %}")
    out = made(tmp_path, "ds", family="needles", lengths=[2_500], seed=2, depths=[50.0],
               variants=["single_retrieval"], chat_template=str(template))
    (row,) = rows_of(out)
    from lcgen.tokenizer import get_tokenizer

    enc = get_tokenizer("cl100k_base")._enc  # tiktoken's own Encoding, built offline
    assert row["input"].startswith("<|endoftext|>user: ") and row["input"].endswith("<|endoftext|>assistant:")
    assert len(enc.encode(row["input"], allowed_special="all")) == 2_500 == row["length"]
    assert validate(out)[1] == 0


def test_reserve_output_sizes_the_prompt_to_the_rest(tmp_path, folders):
    out = made(tmp_path, "ds", family="needles", lengths=[4_000], seed=2, depths=[50.0],
               variants=["single_retrieval"], tokenizer=str(folders[("chatml", "bpe")]), chat_template="auto",
               reserve_output=300)
    (row,) = rows_of(out)
    assert row["id"].split("/")[2] == "4k" and row["target_length"] == row["length"] == 3_700
    assert json.loads(row["meta"])["reserve_output"] == 300
    assert "300 tokens: every prompt is sized to the length label minus 300" in (out / "README.md").read_text()
    assert validate(out)[1] == 0


@pytest.mark.parametrize("family", ["needles", "needle-threads", "ancestral-trace"])
def test_several_tokenizers_get_the_same_samples_each_at_its_exact_length(tmp_path, folders, family):
    folder = folders[("gemma", "unigram")]
    out = made(tmp_path, "ds", family=family, lengths=[3_000], seed=9, depths=[20.0, 70.0],
               tokenizer=f"cl100k_base,o200k_base,{folder}")
    rows = rows_of(out)
    by_sample: dict[tuple, list[dict]] = {}
    for row in rows:
        family_, config, label, depth, index = row["id"].split("/")
        assert config == f"{row['variant']}__{config.split('__')[1]}"
        by_sample.setdefault((row["variant"], label, depth, index), []).append(row)
    assert {len(v) for v in by_sample.values()} == {3}
    layout = {"context_span", "context_tokens", "max_unit_tokens", "needle_offsets"}  # where the filler put things
    for group in by_sample.values():
        assert {r["tokenizer"] for r in group} == {"cl100k_base", "o200k_base", "hf:gemma-unigram/tokenizer.json"}
        for key in ("question", "answer", "answers", "target_depth", "target_length", "length", "seed", "variant"):
            assert len({json.dumps(r[key]) for r in group}) == 1, key
        metas = [json.loads(r["meta"]) for r in group]
        assert {k for k in metas[0] if len({json.dumps(m[k], sort_keys=True) for m in metas}) > 1} <= layout
        assert all(m.keys() == metas[0].keys() for m in metas)
        (hf,) = [r for r in group if r["tokenizer"].startswith("hf:")]
        assert count(folder, hf["input"]) == 3_000
    reports, failed = validate(out)
    assert failed == 0, [f for r in reports.values() for f in r.failures]
    assert len(reports) == 3 * len({r["variant"] for r in rows})
    manifest = json.loads((out / "tokenizers.json").read_text())
    assert [t["config_suffix"] for t in manifest["tokenizers"]] == ["__cl100k_base", "__o200k_base",
                                                                   "__gemma_unigram"]


def test_a_dataset_says_what_to_pass_when_its_tokenizer_is_gone(tmp_path, folders):
    import shutil

    from lcgen.errors import DatasetError

    copy = tmp_path / "model"
    shutil.copytree(folders[("chatml", "unigram")], copy)
    out = made(tmp_path, "ds", family="needles", lengths=[2_000], seed=1, depths=[50.0],
               variants=["single_retrieval"], tokenizer=str(copy), chat_template="auto")
    sha = json.loads((out / "tokenizers.json").read_text())["tokenizers"][0]["sha256"]
    shutil.move(copy, tmp_path / "elsewhere")
    with pytest.raises(DatasetError, match=f"does not exist here; pass --tokenizer PATH .* sha256 {sha}"):
        validate(out)
    assert validate(out, str(tmp_path / "elsewhere"))[1] == 0
    with pytest.raises(DatasetError, match="no --tokenizer given has that sha256"):
        validate(out, f"cl100k_base,{folders[('llama3', 'bpe')]}")
