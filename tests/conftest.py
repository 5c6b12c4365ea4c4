"""Shared fixtures. Hub access is switched off before anything imports datasets or huggingface_hub."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# A fresh datasets cache per test session: it keys local folders by path, and pytest reuses temporary paths.
os.environ.setdefault("HF_DATASETS_CACHE", tempfile.mkdtemp(prefix="lcgen-tests-hf-"))
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def tiny_hf_tokenizer(tmp_path_factory) -> str:
    """A small byte-level BPE tokenizer.json trained here, so the HF code path runs without downloads."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    corpus = [
        "Below is a JSON object. Every key and every value in it is a UUID. Read it carefully.",
        "Question: What is the value of the key? Answer with the value only, and nothing else.",
        '  "3f2a9c10-7b4e-4d21-9a0c-5e6f7a8b9c0d": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",',
    ] * 50 + [f"{i:x}-{i * 7919:x} deadbeef cafe {i}" for i in range(500)]
    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    trainer = trainers.BpeTrainer(vocab_size=400, initial_alphabet=alphabet, show_progress=False)
    tok.train_from_iterator(corpus, trainer)
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    tok.save(str(path))
    return str(path)
