"""Chat templates: the prompt a chat model receives is its template rendered over the messages, and that rendered
text is what lcgen sizes and counts (special tokens included).

Templates come from the tokenizer (``--chat-template auto``: ``chat_template.jinja`` or ``tokenizer_config.json``'s
``chat_template``, as transformers reads them) or from a Jinja file. They render in jinja2's
``ImmutableSandboxedEnvironment`` with the options transformers uses (``trim_blocks``, ``lstrip_blocks``,
``loopcontrols``, a ``tojson`` filter, ``raise_exception``), without importing transformers. Nothing reads the clock:
``strftime_now`` is left undefined, so templates that guard on it (Llama 3.2) take their fixed date.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ParamError

NONE, AUTO = "none", "auto"
_SENTINEL = "\ue000lcgen-{n}\ue001"  # private-use characters no template rewrites and no prompt holds
SPECIAL_KEYS = ("bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token", "mask_token")


class _TemplateRaised(Exception):
    """A template's own ``raise_exception(...)``."""


def _raise_exception(message: str) -> None:
    raise _TemplateRaised(message)


def _tojson(value: Any, ensure_ascii: bool = False, indent: int | None = None, separators: Any = None,
            sort_keys: bool = False) -> str:
    return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


@functools.lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"],
                                        keep_trailing_newline=False)
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    return env


@dataclass(frozen=True)
class ChatTemplate:
    """A chat template with the special-token strings it reads, identified by the sha256 of both."""

    source: str  # "auto" (the tokenizer's own) or the path given
    text: str
    tokens: tuple[tuple[str, str], ...]  # (name, text) of the special tokens the template may read, sorted

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.to_json().encode()).hexdigest()

    def to_json(self) -> str:
        """The template and its special tokens, as hashed."""
        return json.dumps({"template": self.text, "tokens": dict(self.tokens)}, sort_keys=True, ensure_ascii=False)

    def record(self) -> dict[str, Any]:
        """What tokenizers.json records of the template: enough to render it again, and its sha256."""
        return {"source": self.source, "sha256": self.sha256, "template": self.text, "tokens": dict(self.tokens)}

    @classmethod
    def from_record(cls, record: Any) -> ChatTemplate | None:
        """The template tokenizers.json recorded, or None when the record is not one."""
        if not (isinstance(record, dict) and isinstance(record.get("template"), str)):
            return None
        tokens = record.get("tokens") if isinstance(record.get("tokens"), dict) else {}
        return cls(str(record.get("source")), record["template"], tuple(sorted(tokens.items())))

    def render(self, messages: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
        """The text a model gets for ``messages``; ParamError in one line when the template fails or refuses."""
        from jinja2 import TemplateError

        try:
            compiled = _compile(self.text)
            return compiled.render(messages=messages, add_generation_prompt=add_generation_prompt,
                                   **dict(self.tokens))
        except _TemplateRaised as exc:
            raise ParamError(f"--chat-template: the template refuses these messages ({exc})") from None
        except TemplateError as exc:
            raise ParamError(f"--chat-template: the template fails to render ({type(exc).__name__}: "
                             f"{str(exc).splitlines()[0] if str(exc) else ''})") from None

    @functools.lru_cache(maxsize=64)  # noqa: B019 - a handful of (lead, trail) pairs per template
    def wrap(self, lead: str = "", trail: str = "") -> tuple[str, str]:
        """The text the template puts before and after a user message that starts with whitespace ``lead`` and ends
        with ``trail`` (system prompt, BOS, generation prompt, and what it keeps of that whitespace): found by
        rendering a sentinel, so the prompt can be sized inside it before it exists."""
        mark = _SENTINEL.format(n=0)
        rendered = self.render([{"role": "user", "content": lead + mark + trail}])
        if rendered.count(mark) != 1:
            raise ParamError("--chat-template: the template does not show the user message exactly once")
        before, after = rendered.split(mark)
        return before, after

    def place(self, head: str, tail: str) -> tuple[str, str]:
        """The head and tail of a prompt as the rendered text holds them: inside the template's text, with the outer
        whitespace of the message as the template renders it (templates that ``trim`` drop it)."""
        lead, trail = outer_space(head, tail)
        before, after = self.wrap(lead, trail)
        return before + head[len(lead):], tail[:len(tail) - len(trail)] + after

    def message_shift(self, content: str) -> int:
        """Where ``content``'s offsets fall in the rendered text, less their offset in ``content``."""
        lead, trail = outer_space(content, content)
        return len(self.wrap(lead, trail)[0]) - len(lead)

    def conversation_gaps(self, lead_h: str, trail_h: str, lead_t: str, trail_t: str) -> list[str]:
        """The eight stretches of template text around the messages of a seven-message alternating conversation
        whose first user message has outer whitespace (lead_h, trail_h) and whose last has (lead_t, trail_t): before
        the first, between each two, after the last. Found with sentinels (lcgen.conversation reads them)."""
        roles = ["user", "assistant", "user", "assistant", "user", "assistant", "user"]
        marks = [_SENTINEL.format(n=i) for i in range(len(roles))]
        contents = list(marks)
        contents[0], contents[-1] = lead_h + marks[0] + trail_h, lead_t + marks[-1] + trail_t
        rendered = self.render([{"role": r, "content": c} for r, c in zip(roles, contents)])
        gaps, rest = [], rendered
        for mark in marks:
            if rest.count(mark) != 1:
                raise ParamError("--chat-template: the template does not show each message exactly once")
            gap, rest = rest.split(mark)
            gaps.append(gap)
        return gaps + [rest]


@functools.lru_cache(maxsize=16)
def _compile(text: str) -> Any:
    from jinja2 import TemplateError

    try:
        return _environment().from_string(text)
    except TemplateError as exc:
        raise ParamError(f"--chat-template: not a valid Jinja template ({str(exc).splitlines()[0]})") from None


def _token_text(value: Any) -> str | None:
    """A special token as tokenizer_config.json writes it: a string, or an AddedToken dict with ``content``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        return value["content"]
    return None


def chat_template(option: str, tokenizer: Any) -> ChatTemplate | None:
    """The template ``--chat-template`` names for ``tokenizer``: None for ``none``, the tokenizer's own for
    ``auto``, or the Jinja file at a path (with the tokenizer's special-token strings)."""
    if option == NONE:
        return None
    files = tokenizer.chat_files()
    config = files.get("config") or {}
    tokens = tuple(sorted((key, text) for key in SPECIAL_KEYS if (text := _token_text(config.get(key))) is not None))
    if option == AUTO:
        text = files.get("jinja") or _config_template(config)
        if not text:
            raise ParamError(f"--chat-template auto: tokenizer {tokenizer.name} has no chat template (give "
                             f"--chat-template PATH or none)")
        template = ChatTemplate(AUTO, text, tokens)
    else:
        path = Path(option)
        if not path.is_file():
            raise ParamError(f"--chat-template: {option!r} is not a file (use auto, none or a Jinja file's path)")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ParamError(f"--chat-template: cannot read {option} ({exc})".splitlines()[0]) from None
        template = ChatTemplate(option, text, tokens)
    _compile(template.text)
    template.wrap()  # refuse a template that cannot wrap one user message, before any sample
    return template


def _config_template(config: dict[str, Any]) -> str | None:
    """``chat_template`` of tokenizer_config.json: a string, or a list of named templates (take ``default``)."""
    value = config.get("chat_template")
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        named = {t.get("name"): t.get("template") for t in value if isinstance(t, dict)}
        default = named.get("default")
        return default if isinstance(default, str) else None
    return None


def outer_space(head: str, tail: str) -> tuple[str, str]:
    """The whitespace a prompt starts ``head`` with and ends ``tail`` with."""
    return head[:len(head) - len(head.lstrip())], tail[len(tail.rstrip()):]


class Wrapped:
    """A sample's tokenizer as its family sizes with it when a chat template is in use: it counts special tokens,
    and :func:`lcgen.sizing.frame` calls ``place`` to measure a prompt inside the template's text, as the engine
    will build it."""

    def __init__(self, tok: Any, chat: ChatTemplate):
        self._tok = tok
        self.place = chat.place

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tok, name)
