"""Condition -> Prompt: the exact text a model sees for one survey item.

The shared part (persona, question, options, instruction) comes first and the item last, so
consecutive items share a long prefix. Chat models get their own GGUF chat template, rendered in a
Jinja sandbox; base models get a completion prompt that ends in an answer prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from . import paths
from .errors import ProbeError, unknown_choice
from .items import Instrument, Item
from .personas import Persona
from .yamlfile import load_yaml


@dataclass(frozen=True)
class Prompt:
    text: str  # exactly what is tokenised (special tokens written out)
    labels: tuple[str, ...]  # the option labels whose next-token probabilities are read
    style: str  # "chat" or "completion"


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


@cache
def prompt_frames() -> dict:
    data = load_yaml(paths.assets_dir() / "prompts.yaml")
    return {lang: frame for lang, frame in data.items() if lang != "__line__"}


def survey_body(instrument: Instrument, item: Item, language: str) -> str:
    """The question, the options, the instruction and the statement, in one language."""
    frames = prompt_frames()
    if language not in frames:
        raise unknown_choice("prompt language", language, frames)
    frame = frames[language]
    labels = instrument.scale.labels
    options = "\n".join(
        f"{label} = {anchor}" for label, anchor in zip(labels, instrument.scale.anchors_in(language))
    )
    instruction = frame["instruction"].format(first=labels[0], last=labels[-1])
    return (
        f"{instrument.question[language]}\n\n{frame['options_intro']}\n{options}\n\n{instruction}\n\n"
        f"{frame['statement']}: {item.text_in(language)}"
    )


def build_prompt(
    instrument: Instrument,
    item: Item,
    language: str,
    persona: Persona,
    chat_template: ChatTemplate | None,
) -> Prompt:
    instrument.check_language(language)
    body = survey_body(instrument, item, language)
    persona_text = persona.text_in(language)
    if chat_template is not None:
        messages = []
        if persona_text:
            messages.append({"role": "system", "content": persona_text})
        messages.append({"role": "user", "content": body})
        return Prompt(text=chat_template.render(messages), labels=instrument.scale.labels, style="chat")
    answer_prefix = prompt_frames()[language]["answer_prefix"]
    parts = [persona_text, body, answer_prefix] if persona_text else [body, answer_prefix]
    return Prompt(text="\n\n".join(parts[:-1]) + "\n" + parts[-1], labels=instrument.scale.labels, style="completion")
