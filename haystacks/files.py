"""``files:PATH``: a UTF-8 text file, or a folder of them, cut at sentence boundaries.

Documents are the files (sorted by relative path, so the corpus is the same on every machine), visited in an
order the sample's RNG shuffles, reshuffled each time the corpus runs out.
"""

from __future__ import annotations

import random
import re
from collections.abc import Collection, Iterator
from pathlib import Path

from lcgen.errors import HaystackError
from lcgen.haystack import Haystack, register_haystack

from .sentences import split_sentences

CHUNK = 256  # sentences handed over at a time
MIN_SENTENCES = 20  # below this a corpus would repeat itself every few hundred tokens


_COMPLETE = re.compile(r"[.!?。！？…][\"'”’」』）)\]]*$")


def clean_sentence(sentence: str, lang: str) -> str:
    """One line of text, internal whitespace collapsed (CJK text has no spaces to keep); "" for a fragment.

    Headings, captions and other lines without a closing terminator are dropped: a needle placed after one would
    run into it ("Subscribe The code is ...") and no longer read as a sentence of its own.
    """
    text = "".join(sentence.split()) if lang == "zh" else " ".join(sentence.split())
    return text if _COMPLETE.search(text) else ""


def load_documents(texts: list[tuple[str, str]], what: str) -> list[list[str]]:
    """Split (name, text) pairs into documents of sentences; refuse a corpus too short to fill anything."""
    docs = []
    for _name, text in texts:
        sentences = [s.strip() for s in split_sentences(text)]
        docs.append([s for s in sentences if s])
    if sum(len(d) for d in docs) < MIN_SENTENCES:
        raise HaystackError(f"--haystack: {what} has fewer than {MIN_SENTENCES} sentences; too short for a haystack")
    return docs


def cycle_documents(docs: list[list[str]], rng: random.Random) -> Iterator[list[str]]:
    """Documents in a seeded order, reshuffled every pass; a long document comes in consecutive chunks, so a
    sample that needs a few thousand sentences never handles a whole book."""
    order = list(range(len(docs)))
    while True:
        rng.shuffle(order)
        for i in order:
            for start in range(0, len(docs[i]), CHUNK):
                yield docs[i][start : start + CHUNK]


@register_haystack
class FilesHaystack(Haystack):
    scheme = "files"
    license = "as licensed by the files' owner"

    def __init__(self, arg: str | None):
        super().__init__(arg)
        if not arg:
            raise HaystackError("--haystack: files: needs a path, e.g. files:corpus/ or files:book.txt")
        root = Path(arg)
        if not root.exists():
            raise HaystackError(f"--haystack: {arg} does not exist")
        paths = [root] if root.is_file() else sorted(
            p for p in root.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.parts)
        )
        if not paths:
            raise HaystackError(f"--haystack: folder {arg} holds no files")
        texts = [(str(p), _read_text(p)) for p in paths]
        self.docs = load_documents(texts, arg)
        self._cleaned: dict[str, list[list[str]]] = {}
        self.description = f"{len(paths)} local text file(s) from {root.name or arg}"

    def documents(self, rng: random.Random, lang: str, avoid: Collection[str] = ()) -> Iterator[list[str]]:
        if lang not in self._cleaned:  # once per process and language, not on every visit of a document
            self._cleaned[lang] = [[c for c in (clean_sentence(s, lang) for s in doc) if c] for doc in self.docs]
        return cycle_documents(self._cleaned[lang], rng)


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise HaystackError(f"--haystack: {path} is a binary file, not text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise HaystackError(f"--haystack: {path} is not UTF-8 text") from None
    if not text.strip():
        raise HaystackError(f"--haystack: {path} is empty")
    return text.removeprefix("\ufeff")
