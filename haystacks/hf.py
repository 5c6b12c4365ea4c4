"""``hf:REPO[:CONFIG]:COLUMN[@REVISION]``: a text column of any dataset ``datasets.load_dataset`` can open.

A local folder, the offline cache, or the Hub when online. The dataset is read in streaming mode, so a large
corpus is never loaded whole; rows come in an order seeded by the sample's RNG (a shuffle buffer), each row a
document cut at sentence boundaries.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Iterator

from lcgen.errors import HaystackError, missing_dependency
from lcgen.haystack import Haystack, Passes, register_haystack

from .files import clean_sentence
from .sentences import split_sentences

SHUFFLE_BUFFER = 1_000


def parse_hf_spec(arg: str) -> tuple[str, str | None, str, str | None]:
    """``REPO[:CONFIG]:COLUMN[@REVISION]`` -> (repo, config, column, revision)."""
    body, _, revision = arg.partition("@")
    parts = body.split(":")
    if len(parts) == 2:
        (repo, column), config = parts, None
    elif len(parts) == 3:
        repo, config, column = parts
    else:
        raise HaystackError(f"--haystack: hf:{arg} is not hf:REPO[:CONFIG]:COLUMN[@REVISION]")
    if not repo or not column or (config is not None and not config):
        raise HaystackError(f"--haystack: hf:{arg} is not hf:REPO[:CONFIG]:COLUMN[@REVISION]")
    return repo, config, column, revision or None


@register_haystack
class HFHaystack(Haystack):
    scheme = "hf"
    shareable = True  # holds only the parsed value: a worker re-opens the stream, but skips the checks
    license = "see the source dataset's card"

    def __init__(self, arg: str | None):
        super().__init__(arg)
        self.repo, self.config, self.column, self.revision = parse_hf_spec(arg or "")
        stream = self._open()
        columns = list(stream.features or {}) if stream.features is not None else None
        if columns is not None and self.column not in columns:
            known = ", ".join(columns)
            raise HaystackError(f"--haystack: {self.repo} has no column {self.column!r} (columns: {known})")
        try:
            first = next(iter(stream), None)
        except Exception as exc:  # a corrupt shard, an unreadable file: datasets raises many kinds
            raise HaystackError(f"--haystack: cannot read dataset {self.repo!r}: {_first_line(exc)}") from None
        if first is None:
            raise HaystackError(f"--haystack: {self.repo} is empty")
        if self.column not in first:
            raise HaystackError(f"--haystack: {self.repo} has no column {self.column!r}")
        if not isinstance(first[self.column], str):
            raise HaystackError(f"--haystack: column {self.column!r} of {self.repo} does not hold text")
        self.description = f"column {self.column!r} of dataset {self.repo}" + (
            f" (config {self.config})" if self.config else ""
        ) + (f" at revision {self.revision}" if self.revision else "")

    def _open(self):
        try:
            import datasets
        except ImportError:
            raise missing_dependency("--haystack hf:", "datasets") from None
        try:
            splits = datasets.get_dataset_split_names(self.repo, self.config, revision=self.revision)
            split = "train" if "train" in splits else splits[0]
            return datasets.load_dataset(
                self.repo, self.config, split=split, streaming=True, revision=self.revision
            )
        except Exception as exc:  # datasets raises many kinds; all mean "cannot open this source"
            raise HaystackError(f"--haystack: cannot open dataset {self.repo!r}: {_first_line(exc)}") from None

    def documents(self, rng: random.Random, lang: str, avoid: Collection[str] = ()) -> Iterator[list[str]]:
        stream = None

        def one_pass() -> Iterator[list[str]]:
            nonlocal stream
            if stream is None:  # opened on the first draw, as before: resolving the source already checked it
                stream = self._open()
            try:
                for row in _buffer_shuffle(iter(stream), rng, SHUFFLE_BUFFER):
                    text = row.get(self.column)
                    if isinstance(text, str) and text.strip():
                        kept = [c for c in (clean_sentence(s, lang) for s in split_sentences(text)) if c]
                        if kept:
                            yield kept
            except HaystackError:
                raise
            except Exception as exc:  # a stream can fail midway (a lost connection, a corrupt shard)
                raise HaystackError(f"--haystack: cannot read dataset {self.repo!r}: {_first_line(exc)}") from None

        return Passes(one_pass, f"column {self.column!r} of {self.repo}")


def _first_line(exc: Exception) -> str:
    """The first non-blank line of an error's message (datasets' messages run over many lines)."""
    return next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)


def _buffer_shuffle(rows: Iterator[dict], rng: random.Random, size: int) -> Iterator[dict]:
    """Rows in an order seeded by ``rng``, holding at most ``size`` rows (the stream is never loaded whole).

    Our own buffer rather than ``IterableDataset.shuffle``: that one sleeps seconds at the end of every pass.
    """
    buffer: list[dict] = []
    for row in rows:
        if len(buffer) < size:
            buffer.append(row)
            continue
        i = rng.randrange(size)
        yield buffer[i]
        buffer[i] = row
    rng.shuffle(buffer)
    yield from buffer
