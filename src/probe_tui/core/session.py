"""A probing session: the answers collected so far, per condition, and the running gauge."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .items import Instrument, Item
from .metrics import GaugeReading, read_gauge
from .personas import Persona
from .prompts import Prompt, build_prompt
from .scoring import Distribution, distribution_from_logprobs


@dataclass(frozen=True)
class Condition:
    model: str
    instrument: str
    language: str
    persona: str


@dataclass(frozen=True)
class Answer:
    condition: Condition
    item: Item
    prompt: Prompt
    distribution: Distribution

    @property
    def score(self) -> float:
        """The item's score on the scale: the expected value, reverse-keyed where the item says so."""
        expected = self.distribution.expected
        return len(self.distribution.labels) + 1 - expected if self.item.reverse else expected


def ask(backend, instrument: Instrument, item: Item, condition: Condition, persona: Persona) -> Answer:
    """Condition -> Prompt -> Backend -> Distribution, for one item (backend: a started Backend)."""
    info = backend.info
    prompt = build_prompt(instrument, item, condition.language, persona, info.chat_template, info.prompt_style)
    raw = backend.score(prompt)
    return Answer(condition=condition, item=item, prompt=prompt, distribution=distribution_from_logprobs(raw, prompt.labels))


class ProbeSession:
    def __init__(self, instrument: Instrument, baselines: pd.DataFrame):
        self.instrument = instrument
        self.baselines = baselines
        self._answers: dict[tuple[str, Condition], Answer] = {}

    def record(self, answer: Answer) -> None:
        self._answers[(answer.item.id, answer.condition)] = answer

    def answer_for(self, item: Item, condition: Condition) -> Answer | None:
        return self._answers.get((item.id, condition))

    def answers_under(self, condition: Condition) -> list[Answer]:
        return [a for (_, c), a in self._answers.items() if c == condition]

    def gauge(self, condition: Condition) -> GaugeReading | None:
        scores = [(a.item.dimension, a.score) for a in self.answers_under(condition)]
        return read_gauge(scores, self.baselines, self.instrument.dimensions)
