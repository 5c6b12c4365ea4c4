import pytest

from lcgen.errors import ParamError
from lcgen.lengths import MAX_LENGTH, length_label, parse_length, parse_lengths


@pytest.mark.parametrize(
    "text, tokens",
    [("4096", 4096), ("1k", 1_000), ("128k", 128_000), ("1M", 1_000_000), ("1Ki", 1_024), ("128Ki", 131_072),
     ("1Mi", 1_048_576), (" 8k ", 8_000), ("16M", 16_000_000)],
)
def test_parse_length(text, tokens):
    assert parse_length(text) == tokens


@pytest.mark.parametrize("text", ["0", "-5", "abc", "1.5.3M", "1.5M", "", "k", "1G", "1m", "1kk", "17M", "0k"])
def test_bad_lengths(text):
    with pytest.raises(ParamError) as err:
        parse_length(text)
    assert "--len" in str(err.value) and "\n" not in str(err.value)


def test_max_is_documented_and_enforced():
    assert parse_length(str(MAX_LENGTH)) == MAX_LENGTH
    with pytest.raises(ParamError):
        parse_length(str(MAX_LENGTH + 1))


def test_lists_and_duplicates():
    assert parse_lengths("8k,32k,128k") == [8_000, 32_000, 128_000]
    with pytest.raises(ParamError, match="repeats"):
        parse_lengths("8k,8000")
    with pytest.raises(ParamError):
        parse_lengths("8k,,16k")


@pytest.mark.parametrize(
    "tokens, label",
    [(1_000_000, "1M"), (128_000, "128k"), (131_072, "128Ki"), (1_048_576, "1Mi"), (1500, "1500"), (2_000, "2k")],
)
def test_labels_round_trip(tokens, label):
    assert length_label(tokens) == label
    assert parse_length(label) == tokens
