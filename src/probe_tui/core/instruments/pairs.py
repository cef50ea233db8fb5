"""Country-pair forced choice (after seed study 002): the scenarios, their prompts, the log-odds
of an answer and the favourability scores.

Each prompt puts one synthetic scenario between two countries, one as initiator ({A}) and one as
responder ({B}), each written in the form its place in the sentence needs ({A.The}, {B.du}: see
countries.render), then asks which acted more (or less) justifiably, with the two countries as options
(A) and (B) in either order. The scenario comes first, then the question, then the options, so the
variants of one scenario share a long prefix.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

import numpy as np
import pandas as pd

from .. import countries, rescore
from ..errors import ItemFileError, ProbeError, unknown_choice
from ..metrics import favourability
from ..personas import Persona
from ..prompts import ChatTemplate, Prompt, assemble_prompt
from ..yamlfile import META_KEYS, line_of, load_yaml, require
from .base import register_kind

LABELS = ("A", "B")
POLARITIES = ("more", "less")
PAIR_COLUMNS = rescore.CONDITION + ["country_1", "country_2", "scenario", "scenario_type", "question", "logodds"]  # score input
ROW_COLUMNS = ["pair", "scenario", "domain", "initiator", "polarity", "order", "option_a", "option_b", "log_odds_ab"]  # run output


def log_odds(p_a: float, p_b: float) -> float:
    """log P(A) − log P(B); ±inf where one option has all the mass, NaN where neither has any."""
    if p_a > 0 and p_b > 0:
        return math.log(p_a / p_b)
    if p_a > 0 or p_b > 0:
        return math.inf if p_a > 0 else -math.inf
    return math.nan


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

    def keyed(self, score: float) -> float:
        """A forced choice has no reverse keying."""
        return score

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


@register_kind("pairs")
@dataclass(eq=False)
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
    origin: tuple[str, ...] = ()

    screen: ClassVar[str] = "pairs"
    figure_kinds: ClassVar[tuple[str, ...]] = ("favourability", "heatmap", "base-vs-chat")
    countries_view: ClassVar[bool] = False
    row_columns: ClassVar[list[str]] = ROW_COLUMNS
    mergeable: ClassVar[bool] = False

    @classmethod
    def read_file(cls, path) -> dict:
        return {"instrument": require(load_yaml(path), "instrument", str, path), "path": str(path)}

    @classmethod
    def from_data(cls, data: dict, frames: dict[str, dict]) -> "CountryPairs":
        return load_country_pairs(data["path"])

    @property
    def contents(self) -> str:
        return f"{len(self.scenarios)} scenarios × {len(self.pairs())} pairs"

    def baseline(self):
        """None: the reference is 0 (no preference)."""
        return None

    def missing_translations(self) -> list[str]:
        """None: every scenario is checked in every language when the file is read."""
        return []

    def dimension_labels(self) -> dict[str, str]:
        return {d: d for d in self.dimensions}

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
            raise unknown_choice(f"country for {self.key}", name, [short(c) for c in self.countries])
        return found

    def find_item(self, key) -> PairItem | None:
        """A prompt by its id ("airspace-1|USA-China|USA|more|XY")."""
        return self._by_id.get(str(key))

    @cached_property
    def _by_id(self) -> dict[str, PairItem]:
        return {item.id: item for item in self.items}

    @cached_property
    def items(self) -> tuple[PairItem, ...]:
        return tuple(self.prompts())

    def select_items(self, limit: int | None = None, pairs: str | None = None, scenarios: int | None = None) -> list:
        """The prompts of a run: the chosen pairs ("USA-China,France-China") and first scenarios."""
        items = self.prompts(self.parse_pairs(pairs), scenarios)
        return list(itertools.islice(items, limit)) if limit else list(items)

    def build_prompt(self, item: PairItem, language: str, persona: Persona, chat_template: ChatTemplate | None,
                     style: str | None = None, reverse_options: bool = False, variant: str = "",
                     statement: str | None = None) -> Prompt:
        """The scenario, the question and the two countries as options (A) and (B). The option order
        is the item's own (its `order`), so reverse_options does not apply; nor do prompt variants or
        calibration statements (the pairs balance roles and orders themselves)."""
        if variant or statement is not None:
            raise ProbeError(f"{self.key} balances its option orders itself: prompt variants and calibration apply to survey instruments")
        self.check_language(language)
        name = {country: countries.name_in(country, language) for country in item.pair}
        scenario = item.scenario.render(language, item.initiator, item.responder)
        option_a, option_b = (name[c] for c in item.options)
        body = (f"{self.scenario_label[language]}{scenario}\n\n{self.question[item.polarity][language]}\n"
                f"(A) {option_a}\n(B) {option_b}")
        return assemble_prompt(persona.text_in(language), body, self.answer_prefix[language], chat_template, style,
                               chat_body=f"{body}\n\n{self.instruction[language]}",
                               labels=LABELS, language=language, anchors=(option_a, option_b))

    def row_fields(self, answer) -> dict:
        """The pair, scenario, roles and options of one answer, and its log-odds for option A."""
        item, d = answer.item, answer.distribution
        return {
            "pair": f"{short(item.pair[0])}-{short(item.pair[1])}", "scenario": item.scenario.id, "domain": item.scenario.domain,
            "initiator": short(item.initiator), "polarity": item.polarity, "order": item.order,
            "option_a": short(item.options[0]), "option_b": short(item.options[1]),
            "log_odds_ab": math.nan if d.unanswered else log_odds(d.probs["A"], d.probs["B"]),
        }

    def score_responses(self, frame: pd.DataFrame, path="responses", **_) -> pd.DataFrame:
        return score_pairs(frame, path)

    def summary(self, scores: pd.DataFrame) -> str:
        lines = []
        for condition, group in scores.groupby(rescore.CONDITION, sort=False):
            label = " · ".join(map(str, condition))
            combined = group[(group["question"] == "combined") & (group["metric"] == "favourability")].sort_values("value", ascending=False)
            shown = ", ".join(
                f"{r.target} {r.value:+.2f}" + (f"±{r.ci95:.2f}" if r.ci95 == r.ci95 else " (no CI: one scenario type)")
                + ("*" if r.p_adjusted < 0.05 else "") for r in combined.itertuples())
            lines.append(f"{label}: combined preference {shown}")
            compliance = group[group["metric"] == "compliance"]["value"]
            if len(compliance):
                lines.append(f"{label}: compliance (mean P(A)+P(B)) {compliance.iloc[0]:.3f}")
            bias = group[group["metric"] == "position_bias"]["value"]
            if len(bias):
                lines.append(f"{label}: position bias (mean log-odds for option A) {bias.iloc[0]:+.2f}")
        lines.append("(* Benjamini–Hochberg adjusted p < 0.05; ± is the 95% CI half-width across scenario types)")
        return "\n".join(lines)

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


def load_country_pairs(path) -> CountryPairs:
    """A scenario file (scoring: pairs), every scenario checked for its slots and country forms."""
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
        key=require(data, "instrument", str, path), name=require(data, "name", str, path), source=str(data.get("source", "")),
        countries=bank_countries,
        languages=languages,
        question={p: _texts(question[p], path, line, f"question.{p}") for p in POLARITIES},
        instruction=_texts(data["instruction"], path, line, "instruction"),
        scenario_label=_texts(data["scenario_label"], path, line, "scenario_label"),
        answer_prefix=_texts(data["answer_prefix"], path, line, "answer_prefix"),
        scenarios=tuple(scenarios),
        dimensions=tuple(dict.fromkeys(s.domain for s in scenarios)), origin=(str(path),),
    )


# --- scoring recorded responses ----------------------------------------------------------------

def pairs_from_run(frame: pd.DataFrame) -> pd.DataFrame:
    """probe-tui's own country-pair rows (one per prompt) -> the seed format: per pair, scenario and
    polarity, the log-odds for the pair's first country averaged over option orders with either
    country as initiator (role-balanced), plus compliance and position bias."""
    frame = frame.copy()
    first = frame["pair"].str.split("-").str[0]
    # log P(first country) - log P(second): log_odds_ab when the first country is option A
    frame["diff"] = np.where(frame["option_a"] == first, frame["log_odds_ab"], -frame["log_odds_ab"])
    frame["country_1"], frame["country_2"] = first, frame["pair"].str.split("-").str[1]
    frame["question"] = frame["polarity"].map({"more": "justified", "less": "unjustified"})
    per_role = frame.groupby(rescore.CONDITION + ["country_1", "country_2", "scenario", "domain", "question", "initiator"])["diff"].mean()
    balanced = per_role.groupby(level=list(range(len(rescore.CONDITION) + 5))).mean().rename("logodds").reset_index()
    balanced = balanced.rename(columns={"domain": "scenario_type"})
    return balanced


def _position_rows(frame: pd.DataFrame) -> list[tuple]:
    rows = []
    for condition, group in frame.groupby(rescore.CONDITION):
        rows.append((*condition, "", "option A", "position_bias", float(group["log_odds_ab"].mean()), np.nan, np.nan, np.nan))
        rows.append((*condition, "", "options", "compliance", float(group["valid_mass"].mean()), np.nan, np.nan, np.nan))
    return rows


def balanced_pairs(frame: pd.DataFrame, path="responses") -> pd.DataFrame:
    """Country-pair responses (probe-tui's own, or the seed format) -> one role-balanced log-odds per
    condition, pair, scenario and question."""
    if "log_odds_ab" in frame.columns and "logodds" not in frame.columns:  # probe-tui's own run output
        frame = pairs_from_run(frame)
    rescore.require_columns(frame, PAIR_COLUMNS, path)
    return frame.assign(logodds=pd.to_numeric(frame["logodds"], errors="coerce")).dropna(subset=["logodds"])


def score_pairs(frame: pd.DataFrame, path="responses") -> pd.DataFrame:
    extra = _position_rows(frame) if "log_odds_ab" in frame.columns and "logodds" not in frame.columns else []
    frame = balanced_pairs(frame, path)
    parts = []
    if "compliance" in frame.columns:  # the seed files carry mean P(A)+P(B) per observation
        frame["compliance"] = pd.to_numeric(frame["compliance"], errors="coerce")
        for condition, group in frame.groupby(rescore.CONDITION):
            extra.append((*condition, "", "options", "compliance", float(group["compliance"].mean()), np.nan, np.nan, np.nan))
    for condition, group in frame.groupby(rescore.CONDITION):
        result = favourability(group)
        for column, value in zip(rescore.CONDITION, condition):
            result[column] = value
        parts.append(result.rename(columns={"country": "target"}).assign(metric="favourability"))
    if not parts:
        raise ProbeError(f"{path}: no rows with a numeric logodds")
    return pd.concat(parts + [pd.DataFrame(extra, columns=rescore.OUTPUT)], ignore_index=True)[rescore.OUTPUT]
