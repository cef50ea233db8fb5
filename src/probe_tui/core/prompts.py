"""Condition -> Prompt: the exact text a model sees for one survey item.

The shared part (persona, question, options, instruction) comes first and the item last, so
consecutive items share a long prefix. Chat models get their own GGUF chat template, rendered in a
Jinja sandbox; base models get a completion prompt that ends in an answer prefix.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .errors import ProbeError, unknown_choice
from .items import Instrument, Item, item_bank
from .personas import Persona


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


@dataclass(frozen=True)
class ChatTemplate:
    """A GGUF chat template (untrusted Jinja) and the special tokens it may refer to."""

    source: str
    bos_token: str = ""
    eos_token: str = ""

    def render(self, messages: list[dict[str, str]]) -> str:
        environment = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        environment.globals["raise_exception"] = _raise_template_exception
        environment.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
        try:
            template = environment.from_string(self.source)
            return template.render(
                messages=messages,
                add_generation_prompt=True,
                bos_token=self.bos_token,
                eos_token=self.eos_token,
            )
        except TemplateError as exc:
            raise ProbeError(f"the model's chat template failed to render: {exc}") from exc


def _raise_template_exception(message):
    raise TemplateError(message)


def prompt_frames() -> dict:
    return item_bank().frames


def survey_body(instrument: Instrument, item: Item, language: str, reverse_options: bool = False) -> str:
    """The question, the options, the instruction and the statement, in one language.

    reverse_options: the labels keep their order but their meanings are reversed (1 = the last
    anchor), to see whether an answer follows the meaning or the position."""
    frames = prompt_frames()
    if language not in frames:
        raise unknown_choice("prompt language", language, frames)
    frame = frames[language]
    labels = item.scale.labels
    anchors = item.scale.anchors_in(language)
    options = "\n".join(
        f"{label} = {anchor}" for label, anchor in zip(labels, anchors[::-1] if reverse_options else anchors) if anchor
    )
    instruction = frame["instruction"].format(first=labels[0], last=labels[-1])
    if language not in item.question:
        raise ProbeError(f"item {item.id} has no {language} question")
    return (
        f"{item.question[language]}\n\n{frame['options_intro']}\n{options}\n\n{instruction}\n\n"
        f"{frame['statement']} {item.text_in(language)}"
    )


def build_prompt(
    instrument: Instrument,
    item: Item,
    language: str,
    persona: Persona,
    chat_template: ChatTemplate | None,
    style: str | None = None,
    reverse_options: bool = False,
) -> Prompt:
    """style defaults to CHAT when there is a chat template, COMPLETION when there is none."""
    instrument.check_language(language)
    style = style or (CHAT if chat_template is not None else COMPLETION)
    body = survey_body(instrument, item, language, reverse_options)
    persona_text = persona.text_in(language)
    anchors = item.scale.anchors_in(language)
    common = {"labels": item.scale.labels, "language": language, "anchors": anchors[::-1] if reverse_options else anchors}
    if style in (CHAT, MESSAGES):
        messages = ([{"role": "system", "content": persona_text}] if persona_text else []) + [{"role": "user", "content": body}]
        if style == MESSAGES:
            return Prompt(text=json.dumps(messages, ensure_ascii=False), style=MESSAGES, messages=tuple(messages), **common)
        if chat_template is None:
            raise ProbeError("this model has no chat template; use a completion prompt")
        return Prompt(text=chat_template.render(messages), style=CHAT, messages=tuple(messages), **common)
    answer_prefix = prompt_frames()[language]["answer_prefix"]
    head = f"{persona_text}\n\n{body}" if persona_text else body
    return Prompt(text=f"{head}\n{answer_prefix}", style=COMPLETION, **common)
