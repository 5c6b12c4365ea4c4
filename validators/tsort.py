"""Oracle for tsort: the parts' order is not in ``input``, so it is found in the regenerated source document.

The oracle reads the blocks (before, the labelled parts, after) from ``input``, then looks for each part in the
document the family's declared source regenerates: the parts must be distinct, each found exactly once, and laid
end to end, with the before text right in front of the first and the after text right behind the last; their
places give the order. For a chronicle it also reads the order off the text alone: every part must open with a
dated entry and sorting the parts by those dates must give the same order (the recoverability criterion).
"""

from __future__ import annotations

import json
import re

from lcgen.frames import frame_lines, frame_regex
from lcgen.haystack import unit_text
from lcgen.oracle import OracleInput, OracleResult
from lcgen.registry import oracle

_QUESTION = re.compile(r"(?:Parts 1 to |第1到第)(\d+)")
_EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")
_DATE = {"en": re.compile(r"On (\d{1,2}) (" + "|".join(_EN_MONTHS) + r") (\d{4}), "),
         "zh": re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日，")}
MAX_SOURCE_FACTOR = 4  # a chronicle is read this many times the prompt's length (plus slack) before giving up
_SOURCE_SLACK = 400_000


def _date(sentence: str, lang: str) -> tuple[int, int, int] | None:
    m = _DATE[lang].match(sentence)
    if m is None:
        return None
    if lang == "en":
        return int(m.group(3)), _EN_MONTHS.index(m.group(2)) + 1, int(m.group(1))
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def _read_blocks(text: str, lang: str) -> tuple[list[tuple[str, str, int]], tuple[int, int], list[str]]:
    """The blocks between ``<text>`` and ``</text>`` as (label, content, offset), the context span, problems."""
    problems: list[str] = []
    close = " </text>" if lang == "en" else "</text>"
    start, end = text.find("<text>\n"), text.rfind(close)
    if start < 0 or end < start:
        return [], (0, 0), ["no <text> ... </text> context"]
    before, part, after = frame_lines(f"tsort/{lang}/labels.j2")
    label = re.compile(" (" + "|".join([re.escape(before), frame_regex(part, {"n": r"\d+"}).pattern, re.escape(after)])
                       + ")" + ("\n" if lang == "zh" else ""))
    body_start = start + len("<text>\n")
    body = text[body_start:end]
    between = "\n\n"
    blocks = []
    pos = 0
    for chunk in body.split(between):
        m = label.match(chunk)
        if m is None:
            problems.append(f"unreadable block at character {body_start + pos}: {chunk[:40]!r}")
        else:
            blocks.append((m.group(1), chunk[m.end():], body_start + pos))
        pos += len(chunk) + len(between)
    return blocks, (start, end + len(close)), problems


def _content_units(content: str, lang: str) -> str:
    """A block's sentences as the document's units run: English ones each after a space, Chinese ones each ending
    a line (the blank line between blocks is not part of them)."""
    if lang == "zh" and not content.endswith("\n"):
        content += "\n"
    return content


@oracle("tsort")
def solve(sample: OracleInput) -> OracleResult:
    params = sample.request.params if sample.request else {}
    lang = params.get("lang", "zh" if "第1到第" in sample.question else "en")
    blocks, span, problems = _read_blocks(sample.input, lang)
    before_label, part_frame, after_label = frame_lines(f"tsort/{lang}/labels.j2")
    m = _QUESTION.search(sample.question)
    k = int(m.group(1)) if m else 0
    numbered = frame_regex(part_frame, {"n": r"(\d+)"})
    parts: dict[int, tuple[str, int]] = {}
    before = after = None
    for label, content, offset in blocks:
        if label == before_label:
            before = content
        elif label == after_label:
            after = content
        else:
            n = int(numbered.fullmatch(label).group(1))
            if n in parts:
                problems.append(f"part {n} is shown twice")
            parts[n] = (_content_units(content, lang), offset)
    if sorted(parts) != list(range(1, k + 1)):
        problems.append(f"the parts shown are {sorted(parts)}, not 1 to {k} as the question says")
    if len({c for c, _ in parts.values()}) != len(parts):
        problems.append("two parts have the same text, so their order is ambiguous")
    order = _order_from_source(sample, parts, before, after, lang, problems)
    if order is not None and sample.source is not None and sample.source.kind == "chronicle":
        by_date = _order_from_dates(parts, before, lang, problems)
        if by_date is not None and by_date != order:
            problems.append(f"the parts' opening dates give the order {by_date}, the source gives {order}")
    answer = json.dumps(order) if order is not None else ""
    return OracleResult(answer=answer, answers=[answer], needle_offsets=[o for _, _, o in blocks],
                        anchor=None, context_span=span, unit_offsets=[o for _, _, o in blocks], problems=problems,
                        measured={"segments": len(parts)})


def _order_from_source(sample: OracleInput, parts: dict[int, tuple[str, int]], before: str | None,
                       after: str | None, lang: str, problems: list[str]) -> list[int] | None:
    """The parts' order from their places in the regenerated document, or None (with the problem said)."""
    if sample.source is None or not parts:
        problems.append("the source document could not be regenerated, so the order cannot be checked")
        return None
    limit = MAX_SOURCE_FACTOR * len(sample.input) + _SOURCE_SLACK
    for text in _documents(sample.source, lang, limit):
        places: dict[int, int] = {}
        for n, (content, _) in parts.items():
            at = text.find(content)
            if at < 0:
                break
            if text.find(content, at + 1) >= 0:
                problems.append(f"part {n} occurs twice in the source document, so its place is ambiguous")
                return None
            places[n] = at
        else:
            order = sorted(places, key=places.get)
            pos = places[order[0]]
            for n in order:
                if places[n] != pos:
                    problems.append("the parts are not one continuous passage of the source document")
                    return None
                pos += len(parts[n][0])
            if before is not None and not text[:places[order[0]]].endswith(_content_units(before, lang)):
                problems.append("the text before the parts is not what precedes the passage in the source")
            if after is not None and not text.startswith(_content_units(after, lang), pos):
                problems.append("the text after the parts is not what follows the passage in the source")
            return order
    problems.append("the parts are not found in any document the sample's source regenerates")
    return None


def _documents(source, lang: str, limit: int):
    """The regenerated documents as the text of their units: a chronicle read up to ``limit`` characters."""
    if source.kind == "chronicle":
        units: list[str] = []
        size = 0
        for entry in source.documents:
            for s in entry.sentences:
                units.append(unit_text(s, lang))
                size += len(units[-1])
            if size > limit:
                break
        yield "".join(units)
        return
    for _, doc in zip(range(1_000), source.documents):
        yield "".join(unit_text(s, lang) for s in doc)


def _order_from_dates(parts: dict[int, tuple[str, int]], before: str | None, lang: str,
                      problems: list[str]) -> list[int] | None:
    """The order the text alone gives a chronicle: every part opens with a dated entry, dates all different."""
    dates = {}
    for n, (content, _) in parts.items():
        first = content.lstrip(" ")
        date = _date(first, lang)
        if date is None:
            problems.append(f"part {n} does not open with a dated entry, so its place is not recoverable")
            return None
        dates[n] = date
    if len(set(dates.values())) != len(dates):
        problems.append("two parts open with the same date, so their order is not recoverable")
        return None
    order = sorted(dates, key=dates.get)
    if before is not None:
        seen = [d for d in (_date(s, lang) for s in _sentences(before, lang)) if d is not None]
        if seen and max(seen) >= dates[order[0]]:
            problems.append("the text before the parts is dated after the first part")
    return order


def _sentences(content: str, lang: str) -> list[str]:
    if lang == "zh":
        return [s for s in content.split("\n") if s]
    return [s for s in re.split(r"(?<=[.!?”\"]) (?=\S)", content.strip()) if s]
