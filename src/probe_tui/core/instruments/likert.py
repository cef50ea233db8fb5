"""Likert instruments scored by means (MFQ-2, WVS and researchers' own YAML instruments): each
dimension's score is the mean of its items' (reverse-keyed) scores, compared with the declared
baseline by profile r and RMSE (or r alone where the baseline says scale-free).

The prompt puts the shared part (persona, question, options, instruction) first and the item last,
so consecutive items share a long prefix.
"""

from __future__ import annotations

import json
import string
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar

import numpy as np
import pandas as pd

from .. import rescore
from ..baselines import Baseline, BaselineSpec, read_baseline
from ..errors import ProbeError, unknown_choice
from ..groups import ModelAnswer, compare_to_group, groups_for
from ..items import Item, Scale, build_items
from ..metrics import CN, US
from ..personas import Persona
from ..prompts import ChatTemplate, Prompt, assemble_prompt
from ..variants import parse_variant
from .base import register_kind

# Under 5 items a bootstrap has a handful of distinct resamples (1 item: one, so a zero-width interval).
MIN_ITEMS_FOR_INTERVAL = 5
LIKERT_COLUMNS = rescore.CONDITION + ["item_id", "response"]


def _lean_rows(track, reading) -> list[tuple]:
    """The lean in long format: its skew, its interval's ends, and the claim (+1 US, −1 CN, 0 no
    clear lean, NaN no interval yet) with the claim in words in the question column."""
    from ..lean import NO_CLEAR_LEAN

    interval, claim = reading.lean_interval, reading.claim
    code = {US: 1.0, CN: -1.0, NO_CLEAR_LEAN: 0.0}.get(claim, np.nan)
    skew = "" if reading.skew is None else f"; {reading.lean_by} skew {reading.skew:+.3f}, positive = closer to the US"
    if claim in (US, CN):
        words = f"leans {'US' if claim == US else 'CN'} by {reading.lean_by} ({interval.text(3)}{skew})"
    elif claim == NO_CLEAR_LEAN:
        words = f"{NO_CLEAR_LEAN} by {reading.lean_by} ({interval.text(3)} includes 0{skew})"
    elif claim == "":
        words = f"no lean claimed (no interval: {interval.note}{skew})"
    else:
        words = "no lean (no difference)"
    target = f"{US}-{CN}"
    by = f"lean_{'profile_r' if reading.scale_free else 'rmse'}"
    return [(*track, words, target, "lean", code, np.nan, np.nan, np.nan),
            (*track, "", target, f"{by}_low", np.nan if interval.low is None else interval.low, np.nan, np.nan, np.nan),
            (*track, "", target, f"{by}_high", np.nan if interval.high is None else interval.high, np.nan, np.nan, np.nan)]


def _nearest_rows(track, top, interval) -> list[tuple]:
    """How much nearer the nearest country is than the next, with its interval, and whether that excludes 0."""
    if interval.low is None:
        words = f"{top[0]} over {top[1]}: no interval: {interval.note}"
    elif interval.excludes_zero:
        words = f"{top[0]} clearly nearer than {top[1]}"
    else:
        words = f"{top[0]} not clearly nearer than {top[1]}: the interval includes 0"
    low, high = (np.nan, np.nan) if interval.low is None else (interval.low, interval.high)
    target = f"{top[0]}-{top[1]}"
    return [(*track, words, target, "nearest_gap", interval.value, np.nan, np.nan, np.nan),
            (*track, "", target, "nearest_gap_low", low, np.nan, np.nan, np.nan),
            (*track, "", target, "nearest_gap_high", high, np.nan, np.nan, np.nan)]


def _option_line(label: str, anchor: str, position: int, points: int, style: str) -> str:
    """One option as the anchor style shows it: "1 = Agree" (both), "Agree (1)" (verbal), or the
    number alone but at the scale's two ends (numbered)."""
    if style == "verbal":
        return f"{anchor} ({label})"
    if style == "numbered" and 0 < position < points - 1 or not anchor:
        return label
    return f"{label} = {anchor}"


@register_kind("means")
@dataclass(eq=False)
class LikertInstrument:
    key: str
    name: str
    source: str
    dimensions: tuple[str, ...]
    languages: tuple[str, ...]
    items: tuple[Item, ...]
    frames: dict[str, dict] = field(default_factory=dict, repr=False)  # language -> prompt frame
    origin: tuple[str, ...] = ()  # the files it was built from
    baseline_spec: BaselineSpec | None = None

    screen: ClassVar[str] = "items"
    figure_kinds: ClassVar[tuple[str, ...]] = ("dimensions", "gauge", "sensitivity", "subgroups")
    countries_view: ClassVar[bool] = False
    row_columns: ClassVar[list[str]] = []
    mergeable: ClassVar[bool] = True

    # --- built from an item file ---------------------------------------------------------------

    @classmethod
    def read_file(cls, path) -> dict:
        from ..items import read_item_file

        return read_item_file(path)

    @classmethod
    def from_data(cls, data: dict, frames: dict[str, dict]):
        spec = BaselineSpec.from_block(data["baseline"]) if "baseline" in data else None
        items = build_items(data)
        return cls(key=data["instrument"], name=data["name"], source=data.get("source", ""), dimensions=tuple(data["dimensions"]),
                   languages=tuple(data["languages"]), items=items, frames=frames, origin=tuple(data["path"].split(" + ")),
                   baseline_spec=spec)

    # --- what it is ------------------------------------------------------------------------------

    @property
    def scale(self) -> Scale:
        """The first item's scale (the common one for single-scale instruments)."""
        return self.items[0].scale

    @property
    def contents(self) -> str:
        return f"{len(self.items)} items"

    def check_language(self, language: str) -> str:
        if language not in self.languages:
            raise unknown_choice(f"language for {self.key}", language, self.languages)
        return language

    def find_item(self, key) -> Item | None:
        """An item by id ("mfq2_01"), code ("1", "Q182", "VSM07") or bare number ("182", "7")."""
        key = str(key).strip()
        for item in self.items:
            bare = item.code.lstrip(string.ascii_letters).lstrip("0")  # "VSM07" -> "7"
            if key in (item.id, item.code) or (key.isdigit() and key.lstrip("0") == bare):
                return item
        return None

    def missing_translations(self) -> list[str]:
        problems = []
        for item in self.items:
            for language in self.languages:
                if language not in item.text:
                    problems.append(f"{self.key} {item.code}: no {language} text")
                if language not in item.question:
                    problems.append(f"{self.key} {item.code}: no {language} question")
                if language not in item.scale.anchors:
                    problems.append(f"{self.key} {item.code}: no {language} scale labels")
        return problems

    def dimension_labels(self) -> dict[str, str]:
        """A readable name per dimension: the construct of a one-item dimension (WVS), else its key."""
        labels = {d: d for d in self.dimensions}
        for item in self.items:
            if item.construct and item.dimension == item.code:
                labels[item.dimension] = item.construct
        return labels

    def select_items(self, limit: int | None = None, pairs: str | None = None, scenarios: int | None = None) -> list:
        if pairs or scenarios:
            raise ProbeError("--pairs and --scenarios apply to --instrument country-pairs only")
        return list(self.items[:limit] if limit else self.items)

    def row_fields(self, answer) -> dict:
        return {}

    # --- prompts ---------------------------------------------------------------------------------

    def survey_body(self, item: Item, language: str, reverse_options: bool = False, variant: str = "",
                    statement: str | None = None) -> str:
        """The question, the options, the instruction and the statement, in one language.

        reverse_options: the labels keep their order but their meanings are reversed (1 = the last
        anchor), to see whether an answer follows the meaning or the position. variant: the anchor
        style and the instruction's wording (core/variants.py; its order part is reverse_options).
        statement: the text put in place of the item's (a calibration's content-free item); "" leaves
        the statement out (the frame alone)."""
        if language not in self.frames:
            raise unknown_choice("prompt language", language, self.frames)
        shape = parse_variant(variant)
        frame = self.frames[language]
        labels = item.scale.labels
        anchors = item.scale.anchors_in(language)
        options = "\n".join(_option_line(label, anchor, position, len(labels), shape.anchors)
                             for position, (label, anchor) in enumerate(zip(labels, anchors[::-1] if reverse_options else anchors))
                             if anchor or shape.anchors == "numbered")
        wording = "instruction" if shape.frame == 1 else f"instruction_{shape.frame}"
        if wording not in frame:
            raise ProbeError(f"no {language} wording {shape.frame} of the instruction (prompts.yaml: {wording}), so frame={shape.frame} cannot be asked")
        instruction = frame[wording].format(first=labels[0], last=labels[-1])
        if language not in item.question:
            raise ProbeError(f"item {item.id} has no {language} question")
        head = f"{item.question[language]}\n\n{frame['options_intro']}\n{options}\n\n{instruction}"
        text = item.text_in(language) if statement is None else statement
        return f"{head}\n\n{frame['statement']} {text}" if text else head

    def build_prompt(self, item: Item, language: str, persona: Persona, chat_template: ChatTemplate | None,
                     style: str | None = None, reverse_options: bool = False, variant: str = "",
                     statement: str | None = None) -> Prompt:
        """style defaults to CHAT when there is a chat template, COMPLETION when there is none.
        variant, statement: as survey_body."""
        self.check_language(language)
        body = self.survey_body(item, language, reverse_options, variant, statement)
        anchors = item.scale.anchors_in(language)
        return assemble_prompt(persona.text_in(language), body, self.frames[language]["answer_prefix"], chat_template, style,
                               labels=item.scale.labels, language=language,
                               anchors=anchors[::-1] if reverse_options else anchors)

    # --- the baseline and the gauge ----------------------------------------------------------------

    def baseline(self) -> Baseline | None:
        return self._baseline

    @cached_property
    def _baseline(self) -> Baseline | None:
        return read_baseline(self.key, self.baseline_spec, self.dimensions) if self.baseline_spec else None

    def profile(self, scores: dict[str, tuple[str, float]], constant: float | dict[str, float] = 0.0) -> dict[str, float]:
        """item code -> (dimension, score) -> the mean score per dimension, in the dimensions' order."""
        sums: dict[str, float] = {}
        counts: dict[str, int] = {}
        for dimension, score in scores.values():
            sums[dimension] = sums.get(dimension, 0.0) + score
            counts[dimension] = counts.get(dimension, 0) + 1
        return {d: sums[d] / counts[d] for d in self.dimensions if counts.get(d)}

    def missing_items(self, answered) -> dict[str, list[str]]:
        """dimension -> the items it still needs before it has a value: none, for means."""
        return {}

    def missing_note(self, missing: dict[str, list[str]]) -> str | None:
        """missing_items in one line, or None."""
        return None

    def interval_note(self, answered: int) -> str | None:
        """Why a track of `answered` items has no bootstrap intervals; None when it has them."""
        if answered < MIN_ITEMS_FOR_INTERVAL:
            return f"intervals after {MIN_ITEMS_FOR_INTERVAL} items ({answered} so far)"
        return None

    # --- scoring recorded responses (`probe-tui score`, figures) ------------------------------------

    def engine(self, frame: pd.DataFrame, path="responses", vsm_constant=0.0):
        """Recorded responses -> (the gauge engine with a track per (model, language, persona), the
        cleaned frame). The one place recorded responses become scores."""
        from ..gauge import GaugeEngine

        if "response" not in frame.columns and "expected" in frame.columns:
            frame = frame.assign(response=frame["expected"])  # probe-tui's own run output
        rescore.require_columns(frame, LIKERT_COLUMNS, path)
        by_key = {key: self.find_item(key) for key in frame["item_id"].astype(str).str.strip().unique()}
        unknown = sorted(key for key, item in by_key.items() if item is None)
        if unknown:
            raise ProbeError(f"{path}: unknown item id(s) for {self.key}: {', '.join(repr(u) for u in unknown[:5])}")
        frame = frame.assign(item_key=frame["item_id"].astype(str).str.strip())
        frame["response"] = self.on_scale(frame["item_key"], frame["response"], path)
        frame = frame.dropna(subset=["response"])
        means = frame.groupby(rescore.CONDITION + ["item_key"])["response"].mean().reset_index()
        engine = GaugeEngine(self, self.baseline(), vsm_constant)
        for row in means.itertuples(index=False):
            item = by_key[row.item_key]
            engine.add((row.model, row.language, row.persona), item.code, item.dimension, item.keyed(row.response))
        if "variant" in frame.columns and frame["variant"].astype(object).fillna("").astype(str).nunique() > 1:  # asked under several variants
            per_variant = frame.assign(variant=frame["variant"].astype(object).fillna("").astype(str)).groupby(
                rescore.CONDITION + ["item_key", "variant"])["response"].mean()
            for (model, language, persona, key), scores in per_variant.groupby(level=[0, 1, 2, 3]):
                item = by_key[key]
                engine.add_variants((model, language, persona), item.code, [item.keyed(v) for v in scores])
        return engine, frame

    def on_scale(self, keys: pd.Series, values: pd.Series, path) -> pd.Series:
        """Recorded answers as numbers (a blank is no answer); a number off its item's scale (a code
        such as -99 or 99 for a missing answer, or inf) is refused in one line, never scored."""
        text = values.astype(object).where(values.notna(), "").astype(str).str.strip()
        numbers = pd.to_numeric(text.where(text != ""), errors="coerce").astype(float)
        unreadable = numbers.isna() & (text != "")
        scale_sizes = {key: len(item.scale.labels) if (item := self.find_item(key)) else np.nan for key in keys.unique()}
        sizes = keys.map(scale_sizes).astype(float)  # each item looked up once, not once per row
        off = (numbers.notna() & ~((numbers >= 1) & (numbers <= sizes))) | unreadable
        if off.any():
            shown = ", ".join(f"item {key} = {value}" for key, value in list(zip(keys[off], values[off]))[:3])
            raise ProbeError(f"{path}: {int(off.sum())} response(s) are not a number on their item's scale (1 to its number of "
                             f"options): {shown}; leave a missing answer blank")
        return numbers

    def score_responses(self, frame: pd.DataFrame, path="responses", n_resamples: int = 1000,
                        vsm_constant=None, groups: pd.DataFrame | None = None, **_) -> pd.DataFrame:
        if self.baseline() is None:
            raise ProbeError(f"{self.key} declares no human baseline, so there is nothing to score its answers against")
        with warnings.catch_warnings():
            return self._score(frame, path, n_resamples, vsm_constant or 0.0, groups)

    def _score(self, frame, path, n_resamples, vsm_constant, groups=None) -> pd.DataFrame:
        engine, frame = self.engine(frame, path, vsm_constant)
        rows, answers_by_track = [], {}
        for track in engine.tracks:
            ranking = engine.ranking(track)
            samples = engine.bootstrap(track, n_resamples) if n_resamples else None
            spread = {}
            if samples is not None:
                warnings.simplefilter("ignore", RuntimeWarning)  # countries lacking a dimension give all-NaN columns
                for metric in ("profile_r", "rmse"):
                    spread[metric] = dict(zip(samples["countries"], 1.96 * np.nanstd(samples[metric], axis=0)))
                index = {c: i for i, c in enumerate(samples["countries"])}
                skew = samples["profile_r"][:, index[US]] - samples["profile_r"][:, index[CN]]
                skew_rmse = samples["rmse"][:, index[CN]] - samples["rmse"][:, index[US]]
            for rank, fit in enumerate(ranking.itertuples(index=False), start=1):
                for metric in ("profile_r", "rmse"):
                    value = getattr(fit, metric)
                    if value is not None and value == value:
                        rows.append((*track, "", fit.country, metric, value, spread.get(metric, {}).get(fit.country, np.nan), np.nan, np.nan))
                rows.append((*track, "", fit.country, "rank", rank, np.nan, np.nan, np.nan))
            reading = engine.reading(track, n_resamples=n_resamples)  # None: nothing to compare yet (missing_items below says why)
            if reading is not None and reading.r_skew is not None:
                rows.append((*track, "", f"{US}-{CN}", "skew_profile_r", reading.r_skew, 1.96 * np.nanstd(skew) if samples is not None else np.nan, np.nan, np.nan))
            if reading is not None and reading.rmse_skew is not None:
                rows.append((*track, "", f"{US}-{CN}", "skew_rmse", reading.rmse_skew, 1.96 * np.nanstd(skew_rmse) if samples is not None else np.nan, np.nan, np.nan))
            if reading is not None and reading.lean_interval is not None:
                rows += _lean_rows(track, reading)
            if len(ranking) >= 2:
                rows += _nearest_rows(track, *engine.nearest_interval(track, n_resamples))
            if groups is not None and len(groups):
                answers_by_track[track] = self._model_answers(track, frame)
                rows += self._group_rows(track, answers_by_track[track], groups)
                rows += self._distribution_rows(track, answers_by_track[track], groups)
            for dimension, codes in engine.missing_items(track).items():  # question: the items it lacks
                rows.append((*track, ", ".join(codes), dimension, "missing_items", len(codes), np.nan, np.nan, np.nan))
        if answers_by_track:  # seed 003: fairness over the subgroups and the Modal Diversity Score
            from ..seed003 import subgroup_rows

            rows += subgroup_rows(self, answers_by_track, groups)
        if engine.tracks and not any(len(engine.ranking(track)) for track in engine.tracks):
            track = next(iter(engine.tracks))
            why = engine.missing_note(track)
            if why:
                more = f" (and {len(engine.tracks) - 1} more condition(s))" if len(engine.tracks) > 1 else ""
                raise ProbeError(f"{path}: nothing to score for {' · '.join(map(str, track))}{more}: {why}")
        if "variant" in frame.columns:
            from ..sensitivity import sensitivity_rows

            rows += sensitivity_rows(frame.assign(expected=frame["response"]), self)
        return pd.DataFrame(rows, columns=rescore.OUTPUT)

    def _model_answers(self, track, frame) -> list[ModelAnswer]:
        """A condition's recorded answers: expected value, most likely option and distribution (where recorded)."""
        mine = frame[(frame["model"] == track[0]) & (frame["language"] == track[1]) & (frame["persona"] == track[2])]
        answers = []
        for key, group in mine.groupby("item_key"):
            item = self.find_item(key)
            mean = float(group["response"].mean())
            probs = json.loads(group["probs"].iloc[0]) if "probs" in group and isinstance(group["probs"].iloc[0], str) else None
            answer = str(group["answer"].iloc[0]) if "answer" in group else item.scale.labels[int(np.clip(round(mean), 1, len(item.scale.labels))) - 1]
            answers.append(ModelAnswer(item.code, mean, answer, probs))
        return answers

    def _group_rows(self, track, answers: list[ModelAnswer], groups) -> list[tuple]:
        """Compare a condition with the group baselines that stand for its persona."""
        matching = groups_for(self, track[2], groups)
        if not matching:
            return []
        rows = []
        for name, group_rows in matching.items():
            result = compare_to_group(answers, group_rows, self.scale.labels)
            for metric in ("modal_accuracy", "nmae", "js_similarity", "wasserstein"):
                if result[metric] is not None:
                    rows.append((*track, "", name, metric, result[metric], np.nan, np.nan, np.nan))
        return rows

    def _distribution_rows(self, track, answers: list[ModelAnswer], groups) -> list[tuple]:
        """Against every country of each baseline holding distributions (question: the baseline's
        name): mean 1 − JSD (distribution_js) and normalised W1 (distribution_w1) over the items, and
        the rank by distribution (named apart from the persona-vs-group rows' js_similarity)."""
        from ..groups import distribution_baselines, distribution_fits, nearest_by_distribution

        rows = []
        for baseline in distribution_baselines(self, groups):
            nearest = nearest_by_distribution(distribution_fits(answers, groups, self, baseline))
            for rank, fit in enumerate(nearest.itertuples(), start=1):
                rows.append((*track, baseline, fit.group, "distribution_js", fit.js_similarity, np.nan, np.nan, np.nan))
                rows.append((*track, baseline, fit.group, "distribution_w1", fit.wasserstein, np.nan, np.nan, np.nan))
                rows.append((*track, baseline, fit.group, "rank_by_distribution", rank, np.nan, np.nan, np.nan))
        return rows

    def summary(self, scores: pd.DataFrame) -> str:
        lines = []
        for condition, group in scores.groupby(rescore.CONDITION, sort=False):
            label = " · ".join(map(str, condition))
            value = lambda target, metric: group[(group["target"] == target) & (group["metric"] == metric)]["value"]  # noqa: E731
            r_us, r_cn = value(US, "profile_r"), value(CN, "profile_r")
            nearest = group[group["metric"] == "rank"].sort_values("value")["target"].head(3).tolist()
            lean = group[group["metric"] == "lean"]
            lean_text = f"  {lean['question'].iloc[0]}" if len(lean) else ""
            gap = group[group["metric"] == "nearest_gap"]
            nearest_text = f"; nearest: {', '.join(nearest)}" + (f" ({gap['question'].iloc[0]})" if len(gap) else "")
            if len(r_us) and len(r_cn):
                lines.append(f"{label}: r(US) {r_us.iloc[0]:+.2f}  r(CN) {r_cn.iloc[0]:+.2f}{lean_text}{nearest_text}")
            elif nearest:
                lines.append(f"{label}:{lean_text}{nearest_text}")
            sensitive = group[group["metric"].str.startswith("sensitivity_") & ~group["metric"].str.startswith("sensitivity_item_")]
            if len(sensitive):
                from ..sensitivity import dimension_line

                wide = sensitive.pivot_table(index="target", columns="metric", values="value", sort=False, dropna=False)
                wide.columns = [c.removeprefix("sensitivity_") for c in wide.columns]
                for dimension, r in wide.iterrows():
                    lines.append(f"{label}: sensitivity {dimension_line({**r.to_dict(), 'dimension': dimension})}")
            missing = group[group["metric"] == "missing_items"]
            note = self.missing_note({r.target: r.question.split(", ") for r in missing.itertuples()}) if len(missing) else None
            if note:
                lines.append(f"{label}: {note}")
            by_distribution = group[group["metric"] == "rank_by_distribution"].sort_values("value")
            for baseline, ranked in by_distribution.groupby("question", sort=False):
                lines.append(f"{label}: nearest by distribution ({baseline}): {', '.join(ranked['target'].head(3))}")
            for r in group[group["metric"].isin(["modal_accuracy", "nmae"])].itertuples():
                lines.append(f"{label}: vs group {r.target}: {r.metric} {r.value:.2f}")
            overall = {r.metric: r.value for r in group[group["target"].isin(["all subgroups", "all items"])].itertuples()}
            if "subgroups" in overall:  # seed 003, over the subgroups
                shown = "; ".join(f"{name} {overall[name]:.2f}" for name in ("accuracy_range", "accuracy_cv", "nmae_range", "nmae_cv",
                                                                               "mds_model", "mds_human") if name in overall)
                lines.append(f"{label}: {int(overall['subgroups'])} subgroups: {shown}")
        return "\n".join(lines)
