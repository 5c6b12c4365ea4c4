"""The model fixtures of ``tests/tokenizer_models.py`` are what the model-exact-length tests take them for: trained
tokenizers of the claimed kind, reproducible from process to process; special tokens that are one token each;
configs written as each family writes them; chat templates that render, in lcgen's sandbox, the exact strings the
real families' templates give; and an HF cache, written by ``huggingface_hub``, that resolves a model id offline."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from tokenizers import Tokenizer

from lcgen.tests.hub_server import HubServer, client_env, serving
from lcgen.tests.tokenizer_models import (
    KINDS, SPECIALS, STYLES, broken_folders, cache_model, model_folder, template_text, token_text, train_bpe,
    train_unigram,
)

TOKEN = "hf_fixturetoken"
OWNER = "lcgen-models"
PROSE = "She grew up in the town, where her father worked as a teacher for more than seven years."
SAMPLE = ("Marta Ruiz moved to Port Elsie in 1921.\n\n"
          '"3f2a9c10-7b4e-4d21-9a0c-5e6f7a8b9c0d": "a1b2c3d4", 1,234,567 items; 中文 é 😀\tend')


def raise_exception(message: str) -> None:
    raise TemplateError(message)


def render(style: str, messages: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
    """The template rendered the way lcgen renders one (and transformers does): sandboxed, trimmed blocks."""
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.globals["raise_exception"] = raise_exception
    spec = SPECIALS[style]
    return env.from_string(template_text(style)).render(
        messages=messages, add_generation_prompt=add_generation_prompt, bos_token=token_text(spec["bos"]) or "",
        eos_token=token_text(spec["eos"]))


def conversation(turns: int, system: str | None = None) -> list[dict[str, str]]:
    """``turns`` alternating messages from the user first (so an odd count ends with a question)."""
    out = [{"role": "system", "content": system}] if system else []
    return out + [{"role": ("user", "assistant")[i % 2], "content": f"message {i} says {'ab' * i}"}
                  for i in range(turns)]


ONE_TURN = {
    "llama3": "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\n"
              "Today Date: 26 Jul 2024\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nmessage 0 says"
              "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
    "chatml": "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
              "<|im_start|>user\nmessage 0 says <|im_end|>\n<|im_start|>assistant\n",
    "gemma": "<bos><start_of_turn>user\nmessage 0 says<end_of_turn>\n<start_of_turn>model\n",
    "mistral": "<s>[INST] message 0 says  [/INST]",
}
# Where the system message goes, and how a 5-turn conversation with one reads around its last user turn.
WITH_SYSTEM = {
    "llama3": ("Today Date: 26 Jul 2024\n\nBe brief.<|eot_id|><|start_header_id|>user",
               "<|start_header_id|>user<|end_header_id|>\n\nmessage 4 says abababab<|eot_id|>"
               "<|start_header_id|>assistant<|end_header_id|>\n\n"),
    "chatml": ("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nmessage 0 says <|im_end|>",
               "<|im_start|>user\nmessage 4 says abababab<|im_end|>\n<|im_start|>assistant\n"),
    "gemma": ("<bos><start_of_turn>user\nBe brief.\n\nmessage 0 says<end_of_turn>",
              "<start_of_turn>model\nmessage 3 says ababab<end_of_turn>\n<start_of_turn>user\nmessage 4 says abababab"
              "<end_of_turn>\n<start_of_turn>model\n"),
    "mistral": ("<s>[INST] message 0 says  [/INST]message 1 says ab</s>",
                "message 3 says ababab</s>[INST] Be brief.\n\nmessage 4 says abababab [/INST]"),
}


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[tuple[str, str], Path]:
    root = tmp_path_factory.mktemp("models")
    return {(style, kind): model_folder(root, style, kind) for style in STYLES for kind in KINDS}


def test_the_trained_tokenizers_are_the_claimed_kinds(tmp_path):
    bpe_path, uni_path = train_bpe(tmp_path / "bpe"), train_unigram(tmp_path / "uni")
    assert (bpe_path, uni_path) == (tmp_path / "bpe" / "tokenizer.json", tmp_path / "uni" / "tokenizer.json")
    bpe, uni = json.loads(bpe_path.read_text()), json.loads(uni_path.read_text())
    assert bpe["model"]["type"] == "BPE" and bpe["decoder"]["type"] == "ByteLevel"
    assert [p["type"] for p in bpe["pre_tokenizer"]["pretokenizers"]] == ["Split", "ByteLevel"]
    assert uni["model"]["type"] == "Unigram" and uni["model"]["byte_fallback"] is True
    assert uni["pre_tokenizer"] == {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": True}
    assert [d["type"] for d in uni["decoder"]["decoders"]] == ["ByteFallback", "Metaspace", "Fuse"]
    for path in (bpe_path, uni_path):
        tok = Tokenizer.from_file(str(path))
        assert tok.get_vocab_size() == 1500
        assert tok.decode(tok.encode(SAMPLE, add_special_tokens=False).ids) == SAMPLE  # lossless
        assert len(PROSE) / len(tok.encode(PROSE).ids) > 2.5  # and trained: common words are single pieces
    uni_tok = Tokenizer.from_file(str(uni_path))
    assert uni_tok.encode("中", add_special_tokens=False).tokens == ["▁", "<0xE4>", "<0xB8>", "<0xAD>"]  # byte fallback
    assert uni_tok.encode("<0x41>", add_special_tokens=False).tokens == ["▁", "<", "0", "x", "41", ">"]  # spelt
    assert uni_tok.token_to_id("<unk>") == 0


def test_training_is_reproducible_in_a_fresh_process(tmp_path):
    """The Unigram trainer's raw output changes with Rust's hash seeds; the canonical form must not."""
    here = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (train_bpe(tmp_path / "b"), train_unigram(tmp_path))]
    code = ("import hashlib; from lcgen.tests.tokenizer_models import _trained; "
            "print(*(hashlib.sha256(_trained(k).encode()).hexdigest() for k in ('bpe', 'unigram')))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert res.stdout.split() == here


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("style", STYLES)
def test_a_model_folder_holds_what_the_family_ships(folders, style, kind):
    folder = folders[(style, kind)]
    assert folder.name == f"{style}-{kind}" and sorted(p.name for p in folder.iterdir()) == [
        "tokenizer.json", "tokenizer_config.json"]
    spec, config = SPECIALS[style], json.loads((folder / "tokenizer_config.json").read_text())
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    for t in spec["tokens"]:  # each special token is one token, also inside text
        assert tok.encode(f"a{t}b", add_special_tokens=False).tokens[1] == t
        assert config["added_tokens_decoder"][str(tok.token_to_id(t))]["content"] == t
    assert config["chat_template"] == template_text(style)
    assert config["bos_token"] == spec["bos"] and config["eos_token"] == spec["eos"]
    shapes = {"llama3": (str, str), "chatml": (type(None), str), "gemma": (dict, dict), "mistral": (dict, dict)}
    assert (type(config["bos_token"]), type(config["eos_token"])) == shapes[style]
    if isinstance(config["bos_token"], dict):
        assert config["bos_token"]["__type"] == "AddedToken" and config["bos_token"]["normalized"] is False
    assert isinstance(config["model_max_length"], int) and config["tokenizer_class"]
    bos = token_text(spec["bos"])
    plain = tok.encode("hello", add_special_tokens=False).ids
    # The post-processor prepends BOS as the family's tokenizer.json does; chatml (Qwen) has no BOS.
    assert tok.encode("hello").ids == ([tok.token_to_id(bos)] if bos else []) + plain


@pytest.mark.parametrize("style", STYLES)
def test_the_templates_render_the_families_strings(folders, style):
    assert render(style, conversation(1)) == ONE_TURN[style]
    five = render(style, conversation(5))
    positions = [five.index(m["content"].strip()) for m in conversation(5)]
    assert positions == sorted(positions)
    first, last = WITH_SYSTEM[style]
    with_system = render(style, conversation(5, system="Be brief."))
    assert first in with_system and with_system.endswith(last) and with_system.count("Be brief.") == 1
    assert "You are a helpful assistant." not in with_system
    bos = token_text(SPECIALS[style]["bos"])
    for kind in KINDS:
        tok = Tokenizer.from_file(str(folders[(style, kind)] / "tokenizer.json"))
        ids = tok.encode(five, add_special_tokens=False).ids
        assert tok.decode(ids, skip_special_tokens=False) == five
        for t in SPECIALS[style]["tokens"]:
            assert ids.count(tok.token_to_id(t)) == five.count(t), t
        if bos:
            assert ids[0] == tok.token_to_id(bos) and ids.count(ids[0]) == 1


@pytest.mark.parametrize("style", ["gemma", "mistral"])
def test_templates_that_need_alternating_roles_refuse_others(style):
    with pytest.raises(TemplateError, match="alternate"):
        render(style, [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])


def test_the_llama3_template_dates_itself_only_where_strftime_now_is_defined():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    text = env.from_string(template_text("llama3")).render(
        messages=conversation(1), bos_token="", strftime_now=lambda fmt: "01 Jan 2030")
    assert "Today Date: 01 Jan 2030" in text and "26 Jul 2024" in render("llama3", conversation(1))


def test_broken_folders(tmp_path):
    out = broken_folders(tmp_path)
    assert sorted(out) == ["corrupt", "no_chat_template", "no_tokenizer_json"]
    assert [p.name for p in out["no_tokenizer_json"].iterdir()] == ["tokenizer_config.json"]
    with pytest.raises(Exception, match="EOF"):
        Tokenizer.from_file(str(out["corrupt"] / "tokenizer.json"))
    Tokenizer.from_file(str(out["no_chat_template"] / "tokenizer.json"))
    config = json.loads((out["no_chat_template"] / "tokenizer_config.json").read_text())
    assert "chat_template" not in config and config["eos_token"] == "<|im_end|>"


@pytest.fixture
def hub():
    yield from serving({TOKEN: OWNER})


OFFLINE = r"""
import json, sys
from huggingface_hub import hf_hub_download
repo, sha = sys.argv[1:]
print(json.dumps([hf_hub_download(repo, "tokenizer.json"),
                  hf_hub_download(repo, "tokenizer_config.json", revision=sha)]))
"""


def test_a_cached_model_resolves_by_id_offline(hub: HubServer, folders, tmp_path):
    repo, folder = f"{OWNER}/tiny-gemma", folders[("gemma", "unigram")]
    sha = cache_model(hub, repo, folder, tmp_path, TOKEN)
    assert sha == hub.repo(repo, "model").branches["main"]
    assert set(hub.files_at(repo, sha, "model")) == {".gitattributes", "tokenizer.json", "tokenizer_config.json"}
    before = len(hub.requests())
    env = client_env(hub, tmp_path) | {"HF_HUB_OFFLINE": "1"}
    res = subprocess.run([sys.executable, "-c", OFFLINE, repo, sha], env=env, capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stderr
    tok_path, config_path = map(Path, json.loads(res.stdout))
    assert tok_path.is_relative_to(tmp_path / "hf") and sha in tok_path.parts and sha in config_path.parts
    assert tok_path.read_bytes() == (folder / "tokenizer.json").read_bytes()
    assert config_path.read_bytes() == (folder / "tokenizer_config.json").read_bytes()
    assert hub.requests(before) == []  # resolved from the cache alone
