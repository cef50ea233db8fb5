"""Prompts: the exact text a model sees, in one of three styles.

Each instrument kind builds its own body (core/instruments/); this module renders it. Chat models
get their own GGUF chat template, rendered in a Jinja sandbox; base models get a completion prompt that ends in an answer prefix.
"""

from __future__ import annotations

import functools
import json
import re
import sys
import time
from dataclasses import dataclass
from datetime import datetime

from jinja2 import TemplateError
from jinja2.filters import FILTERS
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .errors import ProbeError


CHAT, MESSAGES, COMPLETION = "chat", "messages", "completion"


@dataclass(frozen=True)
class Prompt:
    """What the model is given. `text` is exactly what is tokenised (chat, completion), or for a chat
    API the JSON of the messages sent (messages)."""

    text: str
    labels: tuple[str, ...]  # the option labels
    style: str  # CHAT: rendered with the model's template; MESSAGES: sent to a chat API; COMPLETION
    messages: tuple[dict, ...] = ()
    language: str = "en"
    anchors: tuple[str, ...] = ()  # the option descriptions, for parsing free-text answers
    draw: int = 0  # a study's repeat (0 = the first asking): a backend whose answers vary draws afresh for each


@dataclass(frozen=True)
class ChatTemplate:
    """A GGUF chat template (untrusted Jinja) and the special tokens it may refer to."""

    source: str
    bos_token: str = ""
    eos_token: str = ""

    def render(self, messages: list[dict[str, str]]) -> str:
        try:
            template = _BoundedSandbox().from_string(self.source)
            return _render_bounded(template, messages=messages, add_generation_prompt=True,
                                   bos_token=self.bos_token, eos_token=self.eos_token)
        except TemplateError as exc:
            raise ProbeError(f"the model's chat template failed to render: {exc}") from exc
        except RecursionError:
            raise ProbeError("the model's chat template failed to render: it recurses too deeply") from None


# A chat template is rendered once per prompt, so it is bounded at render time: in time (checked on
# every line the compiled template runs), in the size of every value it builds, and in its output.
RENDER_SECONDS = 2.0
MAX_TEMPLATE_CHARS = 1_000_000  # far more than any context window holds
_LONG_NUMBER = re.compile(r"\d{7}")  # a width in a format string above MAX_TEMPLATE_CHARS


def _too_big(what: str):
    return TemplateError(f"it builds {what} longer than {MAX_TEMPLATE_CHARS:,} characters")


def _check_value(value):
    if isinstance(value, (str, bytes, list, tuple, dict, set)) and len(value) > MAX_TEMPLATE_CHARS:
        raise _too_big("a value")
    if isinstance(value, int) and value.bit_length() > 4096:
        raise TemplateError("it builds a number too large")
    return value


def _check_arguments(args, kwargs, format_string=None):
    """Refuse counts and widths beyond the size limit before a call can allocate them."""
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_TEMPLATE_CHARS:
            raise _too_big("a value")
    if isinstance(format_string, str) and _LONG_NUMBER.search(format_string):
        raise _too_big("a formatted value")


def _bounded_filter(function):
    def bounded(*args, **kwargs):
        _check_arguments(args, kwargs, args[1] if function is FILTERS["format"] and len(args) > 1 else None)
        return _check_value(function(*args, **kwargs))

    return functools.update_wrapper(bounded, function)


class _BoundedSandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self):
        super().__init__(trim_blocks=True, lstrip_blocks=True)
        self.globals["raise_exception"] = _raise_template_exception
        self.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
        self.filters = {name: _bounded_filter(function) for name, function in self.filters.items()}

    def call_binop(self, context, operator, left, right):
        if operator == "*":
            for sized, count in ((left, right), (right, left)):
                if hasattr(sized, "__len__") and isinstance(count, int) and len(sized) * count > MAX_TEMPLATE_CHARS:
                    raise _too_big("a repeated value")
        if operator == "**" and isinstance(left, int) and isinstance(right, int) and abs(left) > 1:
            if left.bit_length() * right > 4096:
                raise TemplateError("it builds a number too large")
        if operator == "%" and isinstance(left, str):
            _check_arguments(right if isinstance(right, tuple) else (right,), {}, left)
        return _check_value(super().call_binop(context, operator, left, right))

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - jinja's own signature
        is_format = isinstance(getattr(__obj, "__self__", None), str) and __obj.__name__ in ("format", "format_map")
        _check_arguments(args, kwargs, __obj.__self__ if is_format else None)
        return _check_value(super().call(__context, __obj, *args, **kwargs))


def _render_bounded(template, **variables) -> str:
    deadline = time.monotonic() + RENDER_SECONDS

    def watch(frame, event, arg):
        if time.monotonic() > deadline:
            raise TemplateError(f"it took longer than {RENDER_SECONDS:g} seconds")
        return watch

    previous = sys.gettrace()
    sys.settrace(watch)
    try:
        pieces, size = [], 0
        for piece in template.generate(**variables):
            size += len(piece)
            if size > MAX_TEMPLATE_CHARS:
                raise _too_big("a prompt")
            pieces.append(piece)
    finally:
        sys.settrace(previous)
    return "".join(pieces)


def _raise_template_exception(message):
    raise TemplateError(message)


def assemble_prompt(persona_text: str, body: str, answer_prefix: str, chat_template: ChatTemplate | None,
                    style: str | None, chat_body: str | None = None, **common) -> Prompt:
    """One prompt in the asked style: the persona (if any), then the body; a completion ends in
    answer_prefix, a chat turn carries chat_body (default: the body). style defaults to CHAT when
    there is a chat template, COMPLETION when there is none."""
    style = style or (CHAT if chat_template is not None else COMPLETION)
    if style == COMPLETION:
        head = f"{persona_text}\n\n{body}" if persona_text else body
        return Prompt(text=f"{head}\n{answer_prefix}", style=COMPLETION, **common)
    messages = ([{"role": "system", "content": persona_text}] if persona_text else []) + [
        {"role": "user", "content": body if chat_body is None else chat_body}]
    if style == MESSAGES:
        return Prompt(text=json.dumps(messages, ensure_ascii=False), style=MESSAGES, messages=tuple(messages), **common)
    if chat_template is None:
        raise ProbeError("this model has no chat template; use a completion prompt")
    return Prompt(text=chat_template.render(messages), style=CHAT, messages=tuple(messages), **common)
