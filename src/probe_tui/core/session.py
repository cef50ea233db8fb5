"""A probing session: the answers collected so far, per condition, and the running gauge."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from .gauge import GaugeEngine
from .instruments.base import Instrument
from .items import Item
from .metrics import GaugeReading
from .personas import Persona
from .prompts import Prompt
from .scoring import Distribution, distribution_from_logprobs
from .variants import parse_variant


@dataclass(frozen=True)
class Condition:
    model: str
    instrument: str
    language: str
    persona: str
    variant: str = ""  # core/variants.py: "" is the standard asking, else e.g. "order=reversed;anchors=verbal;frame=2"


@dataclass(frozen=True)
class Answer:
    condition: Condition
    item: Item
    prompt: Prompt
    distribution: Distribution  # on the real scale (mirrored back when the options were reversed)
    options_reversed: bool = False

    @property
    def score(self) -> float:
        """The item's score on the scale: the expected value, reverse-keyed where the item says so."""
        return self.score_by("expected")

    def score_by(self, method: str) -> float:
        """"expected": the expected value of the distribution; "argmax": the most likely option."""
        d = self.distribution
        if d.unanswered:
            return math.nan
        value = d.expected if method == "expected" else float(d.labels.index(d.answer) + 1)
        return self.item.keyed(value)


def reversed_under(condition: Condition, reverse_options: bool = False) -> bool:
    """Whether the options' meanings are reversed in the prompt: by the variant's order, or by the
    order check (which, on a reversed variant, asks the standard order)."""
    return parse_variant(condition.variant).reversed != reverse_options


def prompt_for(backend, instrument: Instrument, item, condition: Condition, persona: Persona,
               reverse_options: bool = False, statement: str | None = None, draw: int = 0) -> Prompt:
    """The exact prompt this backend is given for the item under the condition. statement: a
    calibration's content-free item in place of the item's text ("" for none); draw: a study's
    repeat (Prompt.draw)."""
    info = backend.info
    extra = {"variant": condition.variant} if condition.variant else {}
    if statement is not None:
        extra["statement"] = statement
    prompt = instrument.build_prompt(item, condition.language, persona, info.chat_template, info.prompt_style,
                                     reversed_under(condition, reverse_options), **extra)
    return replace(prompt, draw=draw) if draw else prompt


def ask(backend, instrument: Instrument, item, condition: Condition, persona: Persona,
        reverse_options: bool = False, statement: str | None = None, draw: int = 0) -> Answer:
    """Condition -> Prompt -> Backend -> Distribution, for one item (backend: a started Backend).

    reverse_options: ask with the options' meanings reversed (the order check); the distribution
    returned is mirrored back onto the real scale (so is that of a variant with its order reversed).
    statement: a calibration's reference prompt (core/calibration.py) instead of the item's."""
    prompt = prompt_for(backend, instrument, item, condition, persona, reverse_options, statement, draw)
    distribution = distribution_from_logprobs(backend.score(prompt), prompt.labels)
    if reversed_under(condition, reverse_options):
        distribution = distribution.mirrored()
    return Answer(condition=condition, item=item, prompt=prompt, distribution=distribution, options_reversed=reverse_options)


class ProbeSession:
    def __init__(self, instrument: Instrument, vsm_constant: float = 0.0, score_by: str = "expected", on_record=None):
        """on_record(answer): called for each new answer (the app stores it in the session file)."""
        self.on_record = on_record
        self.score_method = score_by
        self.instrument = instrument
        self.baseline = instrument.baseline()
        self.vsm_constant = vsm_constant
        self._answers: dict[tuple[str, Condition], Answer] = {}
        self._order_checks: dict[tuple[str, Condition], Answer] = {}
        self._variants: dict[tuple[str, Condition], dict[str, Answer]] = {}  # (item, standard condition) -> variant -> answer
        self._references: dict[tuple, Distribution] = {}  # calibration references (core/calibration.py), by their frame
        self.engine = GaugeEngine(instrument, self.baseline, vsm_constant)

    def human(self, country: str) -> dict[str, float]:
        """The baseline country's figure per dimension (NaN where the source has none)."""
        if self.baseline is None or country not in self.baseline.table.index:
            return {}
        return self.baseline.table.loc[country].reindex(list(self.instrument.dimensions)).astype(float).to_dict()

    def dimension_labels(self) -> dict[str, str]:
        """A readable name per dimension."""
        return self.instrument.dimension_labels()

    def record_score(self, condition: Condition, item, score: float) -> None:
        """A score obtained earlier (e.g. read back from a journal), for the gauge; NaN (unanswered) is skipped."""
        if self.baseline is not None and not math.isnan(score):
            self.engine.add(condition, item.code, item.dimension, item.keyed(score))

    def record(self, answer: Answer, remember: bool = True) -> None:
        """remember=False: an answer read back from the session file (it is stored already)."""
        if remember and self.on_record is not None:
            self.on_record(answer)
        if answer.options_reversed:
            self._order_checks[(answer.item.id, answer.condition)] = answer
            return
        if answer.condition.variant:  # the item asked another way: beside its standard answer, not in its place
            standard = replace(answer.condition, variant="")
            self._variants.setdefault((answer.item.id, standard), {})[answer.condition.variant] = answer
            self._track_variants(answer.item, standard)
            return
        self._answers[(answer.item.id, answer.condition)] = answer
        self._track_variants(answer.item, answer.condition)
        if self.baseline is not None and not answer.distribution.unanswered:  # no information: not an answer of 3
            self.engine.add(answer.condition, answer.item.code, answer.item.dimension, answer.score_by(self.score_method))

    def _track_variants(self, item: Item, standard: Condition) -> None:
        """Give the gauge's bootstrap the item's score under every variant asked (the standard one included)."""
        asked = [self._answers.get((item.id, standard))] + list(self._variants.get((item.id, standard), {}).values())
        scores = [a.score_by(self.score_method) for a in asked if a is not None and not a.distribution.unanswered]
        if self.baseline is not None and len(scores) > 1 and (item.id, standard) in self._answers:
            self.engine.add_variants(standard, item.code, scores)

    @staticmethod
    def _reference_key(item: Item, condition: Condition, method: str) -> tuple:
        """Items that share a question and a scale share their reference prompts (they hold no item text)."""
        return method, condition, item.question.get(condition.language, ""), item.scale.labels

    def record_reference(self, item: Item, condition: Condition, method: str, distribution: Distribution) -> None:
        self._references[self._reference_key(item, condition, method)] = distribution

    def reference_for(self, item: Item, condition: Condition, method: str) -> Distribution | None:
        return self._references.get(self._reference_key(item, condition, method))

    def calibrated_view(self, answer: Answer, method: str) -> Distribution | None:
        """The answer's calibrated view (method: a core/calibration.py label), once its reference is asked."""
        from .calibration import calibrated

        reference = self.reference_for(answer.item, answer.condition, method)
        return calibrated(answer.distribution, reference, method) if reference is not None else None

    def variant_for(self, item: Item, condition: Condition, variant: str) -> Answer | None:
        """The item asked under this variant of the (standard) condition, if it was."""
        if not variant:
            return self.answer_for(item, condition)
        return self._variants.get((item.id, condition), {}).get(variant)

    def variant_answers(self, condition: Condition) -> list[Answer]:
        """Every answer under the condition and its variants (for the sensitivity)."""
        answers = self.answers_under(condition)
        for (_, standard), by_variant in self._variants.items():
            if standard == condition:
                answers += [a for a in by_variant.values() if not a.distribution.unanswered]
        return answers

    def answer_for(self, item: Item, condition: Condition) -> Answer | None:
        return self._answers.get((item.id, condition))

    def order_check_for(self, item: Item, condition: Condition) -> Answer | None:
        """The same item asked with the options' meanings reversed, if it was."""
        return self._order_checks.get((item.id, condition))

    def all_answers(self) -> list[Answer]:
        return list(self._answers.values())

    def mass_threshold(self, model: str):
        """The low-mass threshold of this model's answers to the instrument (core/flags.py)."""
        from .flags import mass_threshold

        return mass_threshold(a.distribution.valid_mass for (_, c), a in self._answers.items()
                              if c.model == model and not a.distribution.samples)

    def flags_for(self, answer: Answer, threshold=None, view=None) -> list:
        """threshold: mass_threshold's, when it is known already; view: a calibrated view to judge instead of the raw answer."""
        from .flags import answer_flags

        others = [a for (item_id, _), a in self._answers.items() if item_id == answer.item.id and a is not answer]
        threshold = threshold or self.mass_threshold(answer.condition.model)
        return answer_flags(answer, self.order_check_for(answer.item, answer.condition), others, threshold, view)

    def answers_under(self, condition: Condition) -> list[Answer]:
        """The answers that carry information (an unanswered item is shown, never compared or scored)."""
        return [a for (_, c), a in self._answers.items() if c == condition and not a.distribution.unanswered]

    def gauge(self, condition: Condition) -> GaugeReading | None:
        return self.engine.reading(condition)

    def group_comparison(self, condition: Condition, groups) -> dict[str, dict]:
        """For each user group baseline standing for this condition's persona: modal accuracy,
        normalised MAE and, where there are distributions, 1 − JSD and normalised W1."""
        from .groups import ModelAnswer, compare_to_group, groups_for

        if groups is None or not len(groups):
            return {}
        matching = groups_for(self.instrument, condition.persona, groups)
        answers = [ModelAnswer(a.item.code, a.distribution.expected, a.distribution.answer, a.distribution.probs)
                   for a in self.answers_under(condition)]
        return {name: compare_to_group(answers, rows, self.instrument.scale.labels) for name, rows in matching.items()}

    def nearest_countries(self, condition: Condition, n: int = 3) -> list[str]:
        """The baseline countries nearest to the answers so far (by RMSE, or by r when scale-free)."""
        reading = self.gauge(condition)
        if reading is None or (reading.scale_free and len(reading.model_means) < 3):
            return []
        return self.engine.ranking(condition)["country"].head(n).tolist()
