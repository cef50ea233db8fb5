"""Country-pair forced-choice scenarios (after seed study 002).

Each prompt puts one synthetic scenario between two countries, one as initiator ({A}) and one as
responder ({B}), each written in the form its place in the sentence needs ({A.The}, {B.du}: see
countries.render), then asks which acted more (or less) justifiably, with the two countries as options
(A) and (B) in either order. The scenario comes first, then the question, then the options, so the
variants of one scenario share a long prefix.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cache

from . import countries, paths
from .errors import ItemFileError, ProbeError, unknown_choice
from .personas import Persona
from .prompts import CHAT, COMPLETION, MESSAGES, ChatTemplate, Prompt
from .yamlfile import META_KEYS, line_of, load_yaml, require

KEY = "country-pairs"
LABELS = ("A", "B")
POLARITIES = ("more", "less")


@dataclass(frozen=True)
class Scenario:
    id: str
    domain: str
    text: dict[str, str]  # language -> template with slots for A (initiator) and B (responder)

    def render(self, language: str, initiator: str, responder: str) -> str:
        return countries.render(self.text[language], {"A": initiator, "B": responder}, language)


@dataclass(frozen=True)
class PairItem:
    scenario: Scenario
    pair: tuple[str, str]  # canonical country names, in the pair list's order
    initiator: str
    polarity: str  # "more" or "less" justifiably
    order: str  # "XY": the pair's first country is option A; "YX": the second is
    instrument: str = KEY
    reverse: bool = False

    @property
    def responder(self) -> str:
        return self.pair[1] if self.initiator == self.pair[0] else self.pair[0]

    @property
    def options(self) -> tuple[str, str]:
        return self.pair if self.order == "XY" else (self.pair[1], self.pair[0])

    @property
    def code(self) -> str:
        return self.scenario.id

    @property
    def dimension(self) -> str:
        return self.scenario.domain

    @property
    def id(self) -> str:
        return f"{self.scenario.id}|{short(self.pair[0])}-{short(self.pair[1])}|{short(self.initiator)}|{self.polarity}|{self.order}"


@dataclass(frozen=True)
class CountryPairs:
    key: str
    name: str
    source: str
    countries: tuple[str, ...]
    languages: tuple[str, ...]
    question: dict[str, dict[str, str]]  # polarity -> language -> text
    instruction: dict[str, str]
    scenario_label: dict[str, str]
    answer_prefix: dict[str, str]
    scenarios: tuple[Scenario, ...]
    dimensions: tuple[str, ...] = ()

    def check_language(self, language: str) -> str:
        if language not in self.languages:
            raise unknown_choice(f"language for {self.key}", language, self.languages)
        return language

    def pairs(self) -> list[tuple[str, str]]:
        return list(itertools.combinations(self.countries, 2))

    def parse_pairs(self, spec: str | None) -> list[tuple[str, str]]:
        """"USA-China,France-China" -> pairs, in the pair list's own order."""
        if not spec:
            return self.pairs()
        chosen = []
        for part in spec.split(","):
            first, sep, second = part.strip().partition("-")
            if not sep:
                raise ProbeError(f"a pair is two countries joined by '-', e.g. USA-China; got {part!r}")
            a, b = (self._country(first), self._country(second))
            pair = next((p for p in self.pairs() if set(p) == {a, b}), None)
            if pair is None:
                raise ProbeError(f"{part!r} is not a pair of two different countries")
            chosen.append(pair)
        return chosen

    def _country(self, name: str) -> str:
        try:
            found = countries.canonical(name)
        except ProbeError:
            found = None
        if found not in self.countries:
            raise unknown_choice("country for country-pairs", name, [short(c) for c in self.countries])
        return found

    def find_item(self, key) -> PairItem | None:
        """A prompt by its id ("airspace-1|USA-China|USA|more|XY")."""
        if "_by_id" not in self.__dict__:
            object.__setattr__(self, "_by_id", {item.id: item for item in self.prompts()})
        return self.__dict__["_by_id"].get(str(key))

    @property
    def items(self) -> tuple[PairItem, ...]:
        return tuple(self.prompts())

    def prompts(self, pairs=None, n_scenarios: int | None = None):
        """Every prompt: scenario × pair × initiator × polarity × option order."""
        for scenario in self.scenarios[:n_scenarios]:
            for pair in pairs or self.pairs():
                for initiator in pair:
                    for polarity in POLARITIES:
                        for order in ("XY", "YX"):
                            yield PairItem(scenario, pair, initiator, polarity, order)


def short(country: str) -> str:
    return {"United States": "USA"}.get(country, country)


def _texts(value, path, line, field) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ItemFileError(path, line, field, "expected a mapping of language -> text")
    return {k: v if isinstance(v, str) else str(v) for k, v in value.items() if k not in META_KEYS}


@cache
def load_country_pairs() -> CountryPairs:
    path = paths.assets_dir() / "items" / "country-pairs" / "scenarios.yaml"
    data = load_yaml(path)
    languages = tuple(require(data, "languages", list, path))
    line = line_of(data)
    bank_countries = tuple(countries.canonical(c) for c in require(data, "countries", list, path))
    scenarios = []
    for index, entry in enumerate(require(data, "scenarios", list, path)):
        context = f"scenarios[{index}]"
        text = _texts(require(entry, "text", dict, path, context), path, line_of(entry), f"{context}.text")
        scenario = Scenario(str(require(entry, "id", str, path, context)), str(require(entry, "domain", str, path, context)), text)
        for language in languages:
            if {m["slot"] for m in countries.SLOT.finditer(text.get(language, ""))} != {"A", "B"}:
                raise ItemFileError(path, line_of(entry), f"{context}.text.{language}", "needs slots for both A and B, and no others")
            try:  # every form a slot names exists for every country
                for country in bank_countries:
                    scenario.render(language, country, country)
            except ProbeError as exc:
                raise ItemFileError(path, line_of(entry), f"{context}.text.{language}", str(exc)) from None
        scenarios.append(scenario)
    question = require(data, "question", dict, path)
    return CountryPairs(
        key=KEY, name=require(data, "name", str, path), source=str(data.get("source", "")),
        countries=bank_countries,
        languages=languages,
        question={p: _texts(question[p], path, line, f"question.{p}") for p in POLARITIES},
        instruction=_texts(data["instruction"], path, line, "instruction"),
        scenario_label=_texts(data["scenario_label"], path, line, "scenario_label"),
        answer_prefix=_texts(data["answer_prefix"], path, line, "answer_prefix"),
        scenarios=tuple(scenarios),
        dimensions=tuple(dict.fromkeys(s.domain for s in scenarios)),
    )


def build_pair_prompt(bank: CountryPairs, item: PairItem, language: str, persona: Persona,
                      chat_template: ChatTemplate | None, style: str | None = None) -> Prompt:
    bank.check_language(language)
    style = style or (CHAT if chat_template is not None else COMPLETION)
    name = {country: countries.name_in(country, language) for country in item.pair}
    scenario = item.scenario.render(language, item.initiator, item.responder)
    option_a, option_b = (name[c] for c in item.options)
    body = (f"{bank.scenario_label[language]}{scenario}\n\n{bank.question[item.polarity][language]}\n"
            f"(A) {option_a}\n(B) {option_b}")
    persona_text = persona.text_in(language)
    common = {"labels": LABELS, "language": language, "anchors": (option_a, option_b)}
    if style == COMPLETION:
        head = f"{persona_text}\n\n{body}" if persona_text else body
        return Prompt(text=f"{head}\n{bank.answer_prefix[language]}", style=COMPLETION, **common)
    messages = ([{"role": "system", "content": persona_text}] if persona_text else []) + [
        {"role": "user", "content": f"{body}\n\n{bank.instruction[language]}"}]
    if style == MESSAGES:
        import json

        return Prompt(text=json.dumps(messages, ensure_ascii=False), style=MESSAGES, messages=tuple(messages), **common)
    if chat_template is None:
        raise ProbeError("this model has no chat template; use a completion prompt")
    return Prompt(text=chat_template.render(messages), style=CHAT, messages=tuple(messages), **common)
