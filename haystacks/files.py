"""``files:PATH``: a UTF-8 text file, or a folder of them, cut at sentence boundaries.

Documents are the files (sorted by relative path, so the corpus is the same on every machine), visited in an
order the sample's RNG shuffles, reshuffled for each pass over the corpus (see :class:`lcgen.haystack.Passes`).

The text is read, split and cleaned once, when the source is resolved; what is kept is one copy of the usable
sentences (whitespace collapsed), so the source pickles compactly for worker processes. Dropped, and counted in
the refusal of a corpus left too small: lines without a closing terminator (headings, captions) and "sentences"
longer than :data:`MAX_SENTENCE_CHARS` (a file without sentence punctuation, a data dump; not prose, and one such
unit could outweigh a whole sample).
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Collection, Iterator
from pathlib import Path

from lcgen.errors import HaystackError
from lcgen.haystack import LANGS, MIN_SENTENCES, Haystack, Passes, register_haystack

from .sentences import split_sentences

CHUNK = 256  # sentences handed over at a time
MAX_SENTENCE_CHARS = 2_000  # longer "sentences" are dropped: about 400 English words, far past any real sentence

_TERMINATORS = ".!?。！？…"
_CLOSERS = "\"'”’」』）)]"
_ENDS = "a closing . ! ? … 。 ！ ？"
# Characters of Chinese text, which is written without spaces: CJK ideographs (with the radicals, the compatibility
# ideographs and the ideographic planes 2-3), CJK punctuation, vertical and compatibility forms, and the fullwidth
# forms (Ａ, ０, （, ，) with the halfwidth CJK punctuation. Not kana or Hangul: Korean is written with spaces.
_CJK = ("\u2e80-\u2fdf\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe10-\ufe1f\ufe30-\ufe4f"
        "\uff01-\uff64\uffe0-\uffe6\U00020000-\U0003ffff")
_SPACE_IN_CJK = re.compile(f"(?<=[{_CJK}]) (?=[{_CJK}])")


def clean_sentence(sentence: str, lang: str) -> str:
    """One line of text, internal whitespace collapsed (and, for zh, dropped between CJK characters); "" for a
    fragment.

    Headings, captions and other lines without a closing terminator are dropped: a needle placed after one would
    run into it ("Subscribe The code is ...") and no longer read as a sentence of its own. So is a "sentence"
    longer than ``MAX_SENTENCE_CHARS``.
    """
    collapsed = " ".join(sentence.split())
    if len(collapsed) > MAX_SENTENCE_CHARS:
        return ""
    text = _as_lang(collapsed, lang)
    return text if _complete(text) else ""


def _complete(text: str) -> bool:
    """Whether ``text`` ends a sentence: a terminator, then only closing quotes or brackets."""
    return text.rstrip(_CLOSERS)[-1:] in tuple(_TERMINATORS)


def _as_lang(sentence: str, lang: str) -> str:
    """A stored sentence (whitespace collapsed to single spaces) as ``clean_sentence`` writes it for ``lang``.

    Chinese drops the spaces a line break or a typesetter put between two CJK characters ("中国，" at a line's end
    and "已有" on the next are one phrase) and keeps every other one: "Stanford University", "工作了 3 年" and
    "한국 사람" keep theirs.
    """
    return _SPACE_IN_CJK.sub("", sentence) if lang == "zh" else sentence


def load_documents(texts: list[tuple[str, str]], what: str) -> tuple[list[list[str]], dict[str, int]]:
    """Split (name, text) pairs into documents of usable sentences, with how many each language can use.

    A sentence is stored once, whitespace collapsed to single spaces, if it is complete in either language's
    form (``_as_lang`` turns it into the other exactly); a corpus with too few usable sentences is refused in one line.
    """
    docs: list[list[str]] = []
    fragments = overlong = 0
    usable = dict.fromkeys(LANGS, 0)
    for _name, text in texts:
        doc = []
        for raw in split_sentences(text):
            sentence = " ".join(raw.split())
            if not sentence:
                continue
            if len(sentence) > MAX_SENTENCE_CHARS:
                overlong += 1
                continue
            ok = {lang: _complete(_as_lang(sentence, lang)) for lang in LANGS}
            if not any(ok.values()):
                fragments += 1
                continue
            for lang in LANGS:
                usable[lang] += ok[lang]
            doc.append(sentence)
        docs.append(doc)  # kept even when empty: the number of documents fixes the seeded order
    best = max(usable.values())
    if best < MIN_SENTENCES:
        dropped = _dropped(fragments, overlong)
        raise HaystackError(f"--haystack: {what} has {best:,} usable sentences, fewer than {MIN_SENTENCES}; too "
                            f"short for a haystack{dropped}")
    return docs, usable


def _dropped(fragments: int, overlong: int) -> str:
    parts = []
    if fragments:
        parts.append(f"{fragments:,} without {_ENDS}")
    if overlong:
        parts.append(f"{overlong:,} longer than {MAX_SENTENCE_CHARS:,} characters")
    return f" (dropped {' and '.join(parts)})" if parts else ""


def cycle_documents(docs: list[list[str]], rng: random.Random, what: str = "the corpus") -> Passes:
    """Documents in a seeded order, reshuffled every pass; a long document comes in consecutive chunks, so a
    sample that needs a few thousand sentences never handles a whole book."""
    order = list(range(len(docs)))

    def one_pass() -> Iterator[list[str]]:
        rng.shuffle(order)
        for i in order:
            for start in range(0, len(docs[i]), CHUNK):
                yield docs[i][start : start + CHUNK]

    return Passes(one_pass, what)


@register_haystack
class FilesHaystack(Haystack):
    scheme = "files"
    shareable = True
    license = "as licensed by the files' owner"

    def __init__(self, arg: str | None):
        super().__init__(arg)
        if not arg:
            raise HaystackError("--haystack: files: needs a path, e.g. files:corpus/ or files:book.txt")
        root = Path(arg)
        paths = _list_files(root, arg)
        texts = [(str(p), _read_text(p)) for p in paths]
        self.docs, self.usable = load_documents(texts, arg)
        self._by_lang: dict[str, list[list[str]]] = {}
        self.description = f"{len(paths)} local text file(s) from {root.name or arg}"

    def __getstate__(self) -> dict:
        """Pickle the stored sentences once, without the per-language views (rebuilt where they are needed)."""
        return {**self.__dict__, "_by_lang": {}}

    def documents(self, rng: random.Random, lang: str, avoid: Collection[str] = ()) -> Iterator[list[str]]:
        if self.usable.get(lang, 0) < MIN_SENTENCES:
            raise HaystackError(f"--haystack: {self.arg} has {self.usable.get(lang, 0):,} usable sentences for "
                                f"--lang {lang}, fewer than {MIN_SENTENCES}; too short for a haystack")
        return cycle_documents(self._view(lang), rng, f"files:{self.arg}")

    def whole_documents(self, rng: random.Random, lang: str) -> Iterator[list[str]]:
        """Each file whole, once, in a seeded order (no chunks, no second pass)."""
        docs = self._view(lang)
        order = list(range(len(docs)))
        rng.shuffle(order)
        return (docs[i] for i in order)

    def _view(self, lang: str) -> list[list[str]]:
        """The documents as ``lang`` reads them: once per process and language, not on every visit."""
        if lang not in self._by_lang:
            view = [[t for t in (_as_lang(s, lang) for s in doc) if _complete(t)] for doc in self.docs]
            same = all(len(v) == len(d) for v, d in zip(view, self.docs)) and lang != "zh"
            self._by_lang[lang] = self.docs if same else view  # English usually needs no second copy
        return self._by_lang[lang]


def _list_files(root: Path, arg: str) -> list[Path]:
    """The file itself, or the folder's non-hidden regular files sorted by path (links to files followed, links to
    folders not); one line for anything else, including a subfolder that cannot be listed."""
    try:
        if root.is_file():
            return [root]
        if not root.is_dir():
            what = ("is a broken symbolic link" if root.is_symlink() else
                    "is not a regular file or folder" if root.exists() else "does not exist")
            raise HaystackError(f"--haystack: {arg} {what}")
        paths = []
        for folder, subfolders, names in os.walk(root, onerror=_raise):
            subfolders[:] = [d for d in subfolders if not d.startswith(".")]
            for name in names:
                path = Path(folder, name)
                if name.startswith("."):
                    continue
                if path.is_file():
                    paths.append(path)
                elif path.is_symlink() and not path.exists():
                    raise HaystackError(f"--haystack: {path} is a broken symbolic link")
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise HaystackError(f"--haystack: cannot read folder {arg}: {exc.strerror or exc}{where}") from None
    if not paths:
        raise HaystackError(f"--haystack: folder {arg} holds no files")
    return sorted(paths)


def _raise(exc: OSError) -> None:
    raise exc


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise HaystackError(f"--haystack: cannot read {path}: {exc.strerror or exc}") from None
    if b"\x00" in raw:
        raise HaystackError(f"--haystack: {path} is a binary file, not text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise HaystackError(f"--haystack: {path} is not UTF-8 text") from None
    if not text.strip():
        raise HaystackError(f"--haystack: {path} is empty")
    return text.removeprefix("\ufeff")
