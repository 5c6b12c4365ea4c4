"""Small Hugging Face tokenizers and model folders shaped like the common open-model families, built offline in a
second or so, for the model-exact-length tests (issue 12): no download, no ``transformers``.

- :func:`train_bpe` and :func:`train_unigram` train a byte-level BPE (Llama 3 / GPT-4 style split regex) and a
  SentencePiece-like Unigram (Metaspace, byte fallback) on a fixed corpus: prose from lcgen's procedural haystack,
  numbers and UUID-like hex, so the filler and the needles lcgen writes tokenize into a realistic mix of pieces.
- :func:`model_folder` adds a family's special tokens and writes ``tokenizer_config.json`` the way that family's
  models do (BOS/EOS as strings or as ``AddedToken`` dicts, the chat template from ``tests/data/chat_templates``).
- :func:`cache_model` puts a folder in a real HF cache, written by ``huggingface_hub`` itself from the tests' local
  Hub server, so resolving a model id offline is tested against the layout the library really produces.
- :func:`broken_folders` gives the bad inputs each needing a one-line error.

Training is deterministic: the corpus is drawn in a fixed order from a fixed seed, and the Unigram trainer's
output (whose tie order and tail scores vary with Rust's per-process hash seeds) is put in a canonical order
(:func:`_canonical`). The trained files are kept in memory for the session, never on disk outside the folders
the caller gives.
"""

from __future__ import annotations

import functools
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers

from lcgen.tests.hub_server import HubServer, client_env

STYLES = ("llama3", "chatml", "gemma", "mistral")
KINDS = ("bpe", "unigram")
TEMPLATES = Path(__file__).parent / "data" / "chat_templates"
VOCAB_SIZE = 1500  # of the trained tokenizer, before a style's special tokens are added
ASCII = [chr(c) for c in range(0x21, 0x7F)]  # always pieces, so text like "<0x41>" is spelt, not a byte
BYTE_PIECES = [f"<0x{b:02X}>" for b in range(256)]
# The pre-tokenizer split of Llama 3's tokenizer.json (cl100k_base's pattern): contractions, letters with one
# leading non-letter, digits in threes, punctuation runs, newlines, spaces.
SPLIT_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
               r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def _added(content: str) -> dict[str, Any]:
    """A special token as ``tokenizer_config.json`` serializes an ``AddedToken`` (Gemma's and Mistral's files)."""
    return {"__type": "AddedToken", "content": content, "lstrip": False, "normalized": False, "rstrip": False,
            "single_word": False}


# Per style: the special tokens added to the vocabulary (in this order), BOS and EOS as the family's
# tokenizer_config.json writes them, and the rest of that file.
SPECIALS: dict[str, dict[str, Any]] = {
    "llama3": {
        "tokens": ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
                   "<|eom_id|>", "<|python_tag|>", "<|finetune_right_pad_id|>"],
        "bos": "<|begin_of_text|>", "eos": "<|eot_id|>",
        "config": {"model_max_length": 131072, "tokenizer_class": "PreTrainedTokenizerFast",
                   "clean_up_tokenization_spaces": True},
    },
    "chatml": {
        "tokens": ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        "bos": None, "eos": "<|im_end|>",
        "config": {"model_max_length": 131072, "tokenizer_class": "Qwen2Tokenizer", "pad_token": "<|endoftext|>",
                   "clean_up_tokenization_spaces": False, "split_special_tokens": False, "errors": "replace"},
    },
    "gemma": {
        "tokens": ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>"],
        "bos": _added("<bos>"), "eos": _added("<eos>"),
        "config": {"model_max_length": 8192, "tokenizer_class": "GemmaTokenizer", "pad_token": _added("<pad>"),
                   "unk_token": _added("<unk>"), "add_bos_token": True, "add_eos_token": False,
                   "clean_up_tokenization_spaces": False},
    },
    "mistral": {
        "tokens": ["<unk>", "<s>", "</s>", "[INST]", "[/INST]", "[TOOL_CALLS]", "[AVAILABLE_TOOLS]",
                   "[/AVAILABLE_TOOLS]", "[TOOL_RESULTS]", "[/TOOL_RESULTS]"],
        "bos": _added("<s>"), "eos": _added("</s>"),
        # transformers' VERY_LARGE_INTEGER, which Mistral's own file carries: "no limit recorded"
        "config": {"model_max_length": 1000000000000000019884624838656, "tokenizer_class": "LlamaTokenizer",
                   "unk_token": _added("<unk>"), "add_bos_token": True, "add_eos_token": False,
                   "clean_up_tokenization_spaces": False, "legacy": False},
    },
}


def token_text(value: str | dict[str, Any] | None) -> str | None:
    """The text of a BOS/EOS entry as ``tokenizer_config.json`` holds it (string, AddedToken dict or null)."""
    return value["content"] if isinstance(value, dict) else value


def template_text(style: str) -> str:
    """The chat template file of ``style``, as it goes into ``tokenizer_config.json``."""
    return (TEMPLATES / f"{style}.jinja").read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def corpus() -> tuple[str, ...]:
    """The training text, in a fixed order: haystack prose, then JSON-ish UUID pairs, then numbers."""
    from lcgen.haystack import get_haystack

    docs = get_haystack("procedural").documents(random.Random(12), "en")
    prose: list[str] = []
    while len(prose) < 400:
        prose += next(docs)
    rng = random.Random(12)

    def uuid() -> str:
        h = f"{rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    pairs = [f'"{uuid()}": "{uuid()}",' for _ in range(150)]
    numbers = [" ".join(str(rng.randrange(10 ** rng.randrange(1, 9))) for _ in range(12)) for _ in range(60)]
    return tuple(prose + pairs + numbers)


@functools.lru_cache(maxsize=None)
def _trained(kind: str) -> str:
    """The ``tokenizer.json`` text of a freshly trained tokenizer of ``kind`` (no special tokens but <unk>)."""
    if kind == "bpe":
        tok = Tokenizer(models.BPE(unk_token=None, fuse_unk=False, byte_fallback=False))
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(SPLIT_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
        ])
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=VOCAB_SIZE, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                      show_progress=False)
        tok.train_from_iterator(corpus(), trainer)
        return tok.to_str()
    if kind != "unigram":
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    tok = Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first")
    trainer = trainers.UnigramTrainer(vocab_size=VOCAB_SIZE - len(BYTE_PIECES), unk_token="<unk>",
                                      special_tokens=["<unk>"], initial_alphabet=ASCII, show_progress=False)
    tok.train_from_iterator(corpus(), trainer)
    data = json.loads(tok.to_str())
    unk, *pieces = data["model"]["vocab"]
    assert unk[0] == "<unk>" and data["model"]["unk_id"] == 0, unk
    pieces = _canonical(pieces)
    floor = round(pieces[-1][1] - 100.0, 4)  # byte pieces stand in for unknown characters, never for text they spell
    data["model"] = {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0]] + [[b, floor] for b in BYTE_PIECES]
                     + [list(ps) for ps in pieces], "byte_fallback": True}
    tok = Tokenizer.from_str(json.dumps(data))
    # Metaspace per piece (it drops every "▁" of the first piece it sees), so before Fuse.
    metaspace = decoders.Metaspace(replacement="▁", prepend_scheme="first")
    tok.decoder = decoders.Sequence([decoders.ByteFallback(), metaspace, decoders.Fuse()])
    return tok.to_str()


def _canonical(pieces: list[list[Any]]) -> list[tuple[str, float]]:
    """The Unigram trainer's pieces in an order and with scores that do not depend on Rust's per-process hash
    seeds. Its float sums differ in the last bits, so scores are rounded to 1e-4 and ties ordered by piece. And the
    characters it must keep but never chose get ``min + k * 1e-4``, k = 0, 1, ... in hash order (the k = 0 one
    indistinguishable from trained pieces at the minimum), so the single characters on that grid get the same
    scores handed out in character order instead."""
    low = min(s for _, s in pieces)
    steps = {p: (s - low) / 1e-4 for p, s in pieces if len(p) == 1}
    grid = {p: round(k) for p, k in steps.items() if abs(k - round(k)) < 1e-3 and round(k) <= len(steps)}
    ks = sorted(grid.values())
    penalised = [k for k in ks if k]
    if penalised != list(range(1, len(penalised) + 1)):
        raise RuntimeError("the Unigram trainer's penalised characters are not where expected")
    scores = {p: s for p, s in pieces} | {p: low + k * 1e-4 for p, k in zip(sorted(grid), ks)}
    return sorted(((p, round(s, 4)) for p, s in scores.items()), key=lambda ps: (-ps[1], ps[0]))


def _write(tok_json: str, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tokenizer.json"
    path.write_text(tok_json, encoding="utf-8")
    return path


def train_bpe(folder: Path) -> Path:
    """``folder/tokenizer.json``: a byte-level BPE like Llama 3's or Qwen's, vocabulary 1,500, no special tokens."""
    return _write(_trained("bpe"), Path(folder))


def train_unigram(folder: Path) -> Path:
    """``folder/tokenizer.json``: a SentencePiece-like Unigram (Metaspace "▁", prepend only at the start, byte
    fallback to ``<0xNN>`` pieces), vocabulary 1,500 with the 256 byte pieces and ``<unk>`` (id 0)."""
    return _write(_trained("unigram"), Path(folder))


@functools.lru_cache(maxsize=None)
def _model_tokenizer(style: str, kind: str) -> str:
    """The trained tokenizer with ``style``'s special tokens added, and BOS prepended by the post-processor the
    way those families' ``tokenizer.json`` files do it (so an encode that forgets ``add_special_tokens=False``
    after rendering a template with BOS in it gets two BOS tokens, as with the real models)."""
    spec = SPECIALS[style]
    tok = Tokenizer.from_str(_trained(kind))
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in spec["tokens"]])
    steps: list[Any] = [processors.ByteLevel(trim_offsets=False)] if kind == "bpe" else []
    bos = token_text(spec["bos"])
    if bos is not None:
        bos_id = tok.token_to_id(bos)
        steps.append(processors.TemplateProcessing(single=f"{bos}:0 $A:0", pair=f"{bos}:0 $A:0 {bos}:1 $B:1",
                                                   special_tokens=[(bos, bos_id)]))
    if steps:
        tok.post_processor = steps[0] if len(steps) == 1 else processors.Sequence(steps)
    return tok.to_str()


def _config(style: str, tok_json: str, *, chat_template: bool = True) -> dict[str, Any]:
    spec = SPECIALS[style]
    tok = Tokenizer.from_str(tok_json)
    decoder = {str(tok.token_to_id(t)): {"content": t, "lstrip": False, "normalized": False, "rstrip": False,
                                         "single_word": False, "special": True} for t in spec["tokens"]}
    out: dict[str, Any] = {"added_tokens_decoder": decoder, "bos_token": spec["bos"], "eos_token": spec["eos"]}
    if chat_template:
        out["chat_template"] = template_text(style)
    return out | spec["config"]


def model_folder(root: Path, style: str, kind: str = "bpe") -> Path:
    """``root/<style>-<kind>/`` as a model repo holds it: ``tokenizer.json`` with the style's special tokens (each
    one token) and ``tokenizer_config.json`` with its chat template, BOS/EOS and limits."""
    if style not in STYLES or kind not in KINDS:
        raise ValueError(f"style must be one of {STYLES} and kind one of {KINDS}, not {style!r}, {kind!r}")
    tok_json = _model_tokenizer(style, kind)
    folder = Path(root) / f"{style}-{kind}"
    _write(tok_json, folder)
    config = json.dumps(_config(style, tok_json), indent=2, ensure_ascii=False) + "\n"
    (folder / "tokenizer_config.json").write_text(config, encoding="utf-8")
    return folder


_CACHE_MODEL = r"""
import json, sys
from pathlib import Path
from huggingface_hub import HfApi, snapshot_download
repo_id, folder = sys.argv[1], sys.argv[2]
api = HfApi()
api.create_repo(repo_id, repo_type="model", exist_ok=True)
commit = api.upload_folder(repo_id=repo_id, folder_path=folder, repo_type="model", commit_message="tokenizer")
snapshot = Path(snapshot_download(repo_id, repo_type="model"))
print(json.dumps({"uploaded": commit.oid, "snapshot": snapshot.name}))
"""


def cache_model(hub: HubServer, repo_id: str, folder: Path, home: Path, token: str) -> str:
    """Upload ``folder`` to ``hub`` as the model ``repo_id`` and download it once into the HF cache under
    ``home`` (``home/"hf"``), both by ``huggingface_hub`` in a child process (this one is offline); returns the
    commit sha, which is also what ``refs/main`` in the cache now names."""
    env = client_env(hub, Path(home), token)
    res = subprocess.run([sys.executable, "-c", _CACHE_MODEL, repo_id, str(folder)], env=env, capture_output=True,
                         text=True, timeout=120)
    if res.returncode != 0:
        raise RuntimeError(f"caching {repo_id} failed:\n{res.stderr}")
    out = json.loads(res.stdout.strip().splitlines()[-1])
    if out["uploaded"] != out["snapshot"]:
        raise RuntimeError(f"caching {repo_id}: uploaded {out['uploaded']} but downloaded {out['snapshot']}")
    return out["snapshot"]


def broken_folders(root: Path) -> dict[str, Path]:
    """Model folders that must each fail (or, without a template, be refused for ``--chat-template auto``) in one
    line: no ``tokenizer.json``; a truncated ``tokenizer.json``; a valid tokenizer whose config has no template."""
    root = Path(root)
    tok_json = _model_tokenizer("chatml", "bpe")
    config = _config("chatml", tok_json)
    out = {name: root / name for name in ("no_tokenizer_json", "corrupt", "no_chat_template")}
    for name, folder in out.items():
        folder.mkdir(parents=True, exist_ok=True)
        cfg = config if name != "no_chat_template" else _config("chatml", tok_json, chat_template=False)
        (folder / "tokenizer_config.json").write_text(json.dumps(cfg, indent=2) + "\n", encoding="utf-8")
    _write(tok_json[: len(tok_json) // 2], out["corrupt"])
    _write(tok_json, out["no_chat_template"])
    return out


__all__ = ["KINDS", "SPECIALS", "STYLES", "broken_folders", "cache_model", "corpus", "model_folder", "template_text",
           "token_text", "train_bpe", "train_unigram"]
