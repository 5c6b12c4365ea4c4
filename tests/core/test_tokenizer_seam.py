"""Long texts are tokenized on two threads, split at ``exact_seam``: the two halves must give exactly the tokens of
one encode of the whole, for both tiktoken encodings, on any text. Checked at every seam the rule accepts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lcgen.tokenizer import _SEAM, get_tokenizer

ENCODINGS = ("cl100k_base", "o200k_base")
# The characters the pre-tokenizers treat specially, plus letters, digits, CJK, marks and Unicode spaces.
TRICKY = list("\n\r\t /.,:;'\"{}[]-_aZé9") + ["'s", "'LL", " \n", "\n\n", "\u3000", "\x85", "\u2028", "\u00a0",
                                              "\u0301", "中文", "٣", "\x1c", "\ufeff", "  ", "//"]


def _pieces_agree(enc, text: str) -> list[int]:
    """Every seam the rule accepts in ``text`` where the two halves do not add up to the whole."""
    whole = enc.encode_ordinary(text)
    return [m.end() for m in _SEAM.finditer(text)
            if enc.encode_ordinary(text[:m.end()]) + enc.encode_ordinary(text[m.end():]) != whole]


@pytest.mark.parametrize("name", ENCODINGS)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=st.lists(st.sampled_from(TRICKY) | st.text(max_size=3), max_size=60))
def test_every_accepted_seam_is_exact_on_random_text(name, parts):
    assert _pieces_agree(get_tokenizer(name)._enc, "".join(parts)) == []


@pytest.mark.parametrize("name", ENCODINGS)
@pytest.mark.parametrize("first, second", [
    ("a\n", " \nb"),  # another newline in the same whitespace run: the run is one piece
    ("a\n", "\n b"),
    ("a\r", "\nb"),  # inside a CRLF
    ("x.\n", "/b"),  # o200k's punctuation pieces run on through "/" after newlines
    ("a\n ", "b"),  # the space belongs to the next word
])
def test_the_rule_refuses_the_seams_that_are_not_exact(name, first, second):
    enc = get_tokenizer(name)._enc
    text = first + second
    assert len(first) not in [m.end() for m in _SEAM.finditer(text)]
    if (name, first) != ("cl100k_base", "x.\n"):  # cl100k happens to split there; o200k does not
        assert enc.encode_ordinary(first) + enc.encode_ordinary(second) != enc.encode_ordinary(text)


@pytest.mark.parametrize("name", ENCODINGS)
def test_long_texts_of_every_family_shape_match_one_encode(name):
    """Two-thread ends (the path of texts over 400k characters) against one single-threaded encode."""
    tok = get_tokenizer(name)
    rng = np.random.default_rng(0)
    words = ["alpha", "Beta", "\u4e2d\u6587", "caf\u00e9", "42", "1,234.5", "/path", "{", "}", '"k": "v",']
    lines = [" ".join(rng.choice(words, size=int(rng.integers(1, 12)))) for _ in range(60_000)]
    indents = ["", "  ", "\t", " \n", "\n"]
    text = "".join(rng.choice(indents) + line + "\n" for line in lines) + "<|endoftext|> <|fim_prefix|>\n"
    assert len(text) > 400_000
    ordinary = np.cumsum(tok._byte_len[np.asarray(tok.encode(text), dtype=np.int64)])  # encode_ordinary, whole
    assert np.array_equal(tok._token_ends(text), ordinary)
    assert tok.count(text) == len(ordinary)


@pytest.mark.parametrize("name", ENCODINGS)
def test_samples_measured_by_their_parts_equal_samples_measured_whole(name, monkeypatch):
    """Needle-threads' JSON lines meet at exact seams, so assemble measures the text from its parts' counts; every
    row must be byte-identical to the one built with one full tokenization of the final text."""
    import dataclasses

    from lcgen import assemble
    from lcgen.make import SampleSpec, build_sample
    from lcgen.registry import families

    fam = families.get("needle-threads")
    specs = [SampleSpec("needle-threads", variant, length, depth, 0, 3, name,
                        dataclasses.asdict(fam.params(**fam.variants[variant])), None)
             for variant in fam.variants for length in (2000, 16000) for depth in (0.0, 37.0, 100.0)]
    used = []
    real = assemble._index_by_parts
    monkeypatch.setattr(assemble, "_index_by_parts", lambda *a: used.append(real(*a)) or used[-1])
    by_parts = [build_sample(s) for s in specs]
    assert all(index is not None for index in used) and len(used) >= len(specs)
    monkeypatch.setattr(assemble, "_index_by_parts", lambda *a: None)
    assert [build_sample(s) for s in specs] == by_parts
    tok = get_tokenizer(name)
    assert all(row["length"] == len(tok.encode(row["input"])) for row in by_parts)
