"""`probe-tui score`: metrics for recorded responses (ours or another study's), in long format.

Likert input: model, language, persona, item_id, response (numeric on the item's scale); several
rows for one (model, language, persona, item) are averaged. Country-pair input: model, language,
persona, country_1, country_2, scenario, scenario_type, question, logodds (role-balanced, for
country_1). Output: model, language, persona, [question,] target, metric, value, ci95, p_value,
p_adjusted, where ci95 is the half-width of the 95% interval (1.96 × standard error: from a bootstrap
over items for the Likert metrics, across scenario types for favourability).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .baselines import baseline
from .countries import canonical
from .deviation import align_countries, centring_warning, raw_indices
from .errors import ProbeError
from .gauge import GaugeEngine
from .groups import ModelAnswer, compare_to_group, groups_for
from .items import get_instrument
from .metrics import CN, US, favourability
from .profiles import describe_vsm_missing

CONDITION = ["model", "language", "persona"]
LIKERT_COLUMNS = CONDITION + ["item_id", "response"]
PAIR_COLUMNS = CONDITION + ["country_1", "country_2", "scenario", "scenario_type", "question", "logodds"]
OUTPUT = CONDITION + ["question", "target", "metric", "value", "ci95", "p_value", "p_adjusted"]
# VSM 2013 with a `country` column (seed 001): per target country, the model's indices, Hofstede's
# and the deviation ratio; per dimension, the across-country r and the constant used. These rows
# add `condition` (the sweep's aligned/en/zh); `question` holds the VSM-constant convention.
ALIGNMENT_OUTPUT = CONDITION + ["condition"] + OUTPUT[len(CONDITION):]


def read_responses(path, rename: dict[str, str] | None = None, constants: dict[str, str] | None = None) -> pd.DataFrame:
    suffix = Path(str(path)).suffix.lower()
    try:
        if suffix == ".parquet":
            frame = pd.read_parquet(path)
        elif suffix == ".json":
            frame = pd.read_json(path, orient="records", dtype=False)
        else:
            frame = pd.read_csv(path, encoding="utf-8-sig")
    except (OSError, ValueError, UnicodeDecodeError, ImportError) as exc:
        raise ProbeError(f"cannot read responses {path}: {' '.join(str(exc).split())}") from None
    if "options_reversed" in frame.columns:  # a session export: order checks are not answers to score
        frame = frame[~frame["options_reversed"].astype(bool)].drop(columns="options_reversed")
    rename = rename or {}
    missing = [old for old in rename if old not in frame.columns]
    if missing:
        raise ProbeError(f"{path}: --map names column(s) it lacks: {', '.join(missing)}")
    taken = {old: new for old, new in rename.items() if new in frame.columns and new not in rename}
    if taken:  # a mapped column never silently replaces one of the same name
        old, new = next(iter(taken.items()))
        raise ProbeError(f"{path}: --map {old}={new} would overwrite its column {new!r}; "
                         f"rename that one too, e.g. --map {new}={new}_raw,{old}={new}")
    frame = frame.rename(columns=rename)
    for column, value in (constants or {}).items():
        frame[column] = value
    for column in CONDITION + ["item_id", "country_1", "country_2", "scenario", "scenario_type", "question"]:
        if column in frame.columns:  # identifiers are text, even when a cell is empty or looks numeric
            frame[column] = frame[column].astype(object).where(frame[column].notna(), "").astype(str)
    return frame


def _require(frame: pd.DataFrame, columns: list[str], path) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ProbeError(f"{path}: missing column(s) {', '.join(missing)}; it has {', '.join(map(str, frame.columns))} "
                         "(rename with --map OLD=NEW, or set one value with --set COLUMN=VALUE)")


def score_likert(instrument_key: str, frame: pd.DataFrame, path="responses", n_resamples: int = 1000,
                 vsm_constant: dict[str, float] | None = None, groups: pd.DataFrame | None = None) -> pd.DataFrame:
    with warnings.catch_warnings():
        scores = _score_likert(instrument_key, frame, path, n_resamples, vsm_constant or 0.0, groups)
    if instrument_key == "vsm2013" and "country" in frame.columns:
        scores = pd.concat([scores, alignment_rows(frame, path, vsm_constant)], ignore_index=True)
        scores = scores[ALIGNMENT_OUTPUT].fillna({"condition": ""})
    return scores


def alignment_from_rows(frame: pd.DataFrame, value_column: str = "response", constants: dict[str, float] | None = None):
    """Rows with country, item_id and a numeric answer -> the CountryAlignment of their countries."""
    instrument = get_instrument("vsm2013")
    frame = frame.assign(code=frame["item_id"].map(lambda key: getattr(instrument.find_item(str(key).strip()), "code", None)),
                         value=pd.to_numeric(frame[value_column], errors="coerce"),
                         country=frame["country"].map(lambda name: canonical(str(name))))
    means = frame.dropna(subset=["code", "value"]).groupby(["country", "code"])["value"].mean()
    item_means = {country: group.droplevel(0).to_dict() for country, group in means.groupby(level=0)}
    return align_countries(raw_indices(item_means), baseline("vsm2013").table, constants)


def alignment_rows(frame: pd.DataFrame, path, constants) -> pd.DataFrame:
    if "response" not in frame.columns and "expected" in frame.columns:
        frame = frame.assign(response=frame["expected"])
    _require(frame, ["model", "country", "item_id", "response"], path)
    by = ["model"] + (["condition"] if "condition" in frame.columns else [])
    rows = []
    frame = frame.assign(country=frame["country"].map(lambda name: canonical(str(name))))
    for key, group in frame.groupby(by, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        alignment = alignment_from_rows(group, "response", constants)
        if alignment is None:
            continue
        condition = key[1] if len(key) > 1 else ""
        note = alignment.convention

        def row(target, metric, value, language="", persona=""):  # language, persona: those of the country's rows
            rows.append((key[0], language, persona, condition, note, target, metric, value, np.nan, np.nan, np.nan))

        def asked(rows_of_country, column):
            return "/".join(sorted(rows_of_country[column].astype(str).unique())) if column in rows_of_country else ""

        for country in alignment.indices.index:
            mine = group[group["country"] == country]
            language, persona = asked(mine, "language"), asked(mine, "persona")
            row(country, "deviation_ratio", alignment.deviation_ratio[country], language, persona)
            for dim in alignment.indices.columns:
                row(country, f"index_{dim}", alignment.indices.loc[country, dim], language, persona)
                row(country, f"hofstede_{dim}", alignment.truth.loc[country, dim], language, persona)
        for dim, r in alignment.correlation.items():
            row(dim, "country_r", r)
            row(dim, "vsm_constant", alignment.constants[dim])
        row("all countries", "mean_deviation_ratio", alignment.mean_deviation_ratio)
    return pd.DataFrame(rows, columns=ALIGNMENT_OUTPUT)


def likert_engine(instrument_key, frame, path="responses", vsm_constant=0.0):
    """Recorded Likert responses -> (the gauge engine with a track per (model, language, persona),
    the instrument, the cleaned frame). The one place responses become scores."""
    if "response" not in frame.columns and "expected" in frame.columns:
        frame = frame.assign(response=frame["expected"])  # probe-tui's own run output
    _require(frame, LIKERT_COLUMNS, path)
    instrument = get_instrument(instrument_key)
    by_key = {key: instrument.find_item(key) for key in frame["item_id"].astype(str).str.strip().unique()}
    unknown = sorted(key for key, item in by_key.items() if item is None)
    if unknown:
        raise ProbeError(f"{path}: unknown item id(s) for {instrument_key}: {', '.join(repr(u) for u in unknown[:5])}")
    frame = frame.assign(item_key=frame["item_id"].astype(str).str.strip())
    frame["response"] = pd.to_numeric(frame["response"], errors="coerce")
    frame = frame.dropna(subset=["response"])
    means = frame.groupby(CONDITION + ["item_key"])["response"].mean().reset_index()
    engine = GaugeEngine(instrument.key, instrument.dimensions, baseline(instrument.key), vsm_constant)
    for row in means.itertuples(index=False):
        item = by_key[row.item_key]
        score = len(item.scale.labels) + 1 - row.response if item.reverse else row.response
        engine.add((row.model, row.language, row.persona), item.code, item.dimension, score)
    return engine, instrument, frame


def _score_likert(instrument_key, frame, path, n_resamples, vsm_constant, groups=None) -> pd.DataFrame:
    engine, instrument, frame = likert_engine(instrument_key, frame, path, vsm_constant)
    rows = []
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
        reading = engine.reading(track)  # None: nothing to compare yet (missing_items below says why)
        if reading is not None and reading.r_skew is not None:
            rows.append((*track, "", f"{US}-{CN}", "skew_profile_r", reading.r_skew, 1.96 * np.nanstd(skew) if samples is not None else np.nan, np.nan, np.nan))
        if reading is not None and reading.rmse_skew is not None:
            rows.append((*track, "", f"{US}-{CN}", "skew_rmse", reading.rmse_skew, 1.96 * np.nanstd(skew_rmse) if samples is not None else np.nan, np.nan, np.nan))
        if groups is not None and len(groups):
            rows += _group_rows(instrument, track, frame, groups)
        for dimension, codes in engine.missing_items(track).items():  # question: the items it lacks
            rows.append((*track, ", ".join(codes), dimension, "missing_items", len(codes), np.nan, np.nan, np.nan))
    if engine.tracks and not any(len(engine.ranking(track)) for track in engine.tracks):
        track = next(iter(engine.tracks))
        why = engine.missing_note(track)
        if why:
            more = f" (and {len(engine.tracks) - 1} more condition(s))" if len(engine.tracks) > 1 else ""
            raise ProbeError(f"{path}: nothing to score for {' · '.join(map(str, track))}{more}: {why}")
    return pd.DataFrame(rows, columns=OUTPUT)


def _group_rows(instrument, track, frame, groups) -> list[tuple]:
    """Compare a condition with the group baselines that stand for its persona."""
    matching = groups_for(instrument, track[2], groups)
    if not matching:
        return []
    mine = frame[(frame["model"] == track[0]) & (frame["language"] == track[1]) & (frame["persona"] == track[2])]
    answers = []
    for key, group in mine.groupby("item_key"):
        item = instrument.find_item(key)
        mean = float(group["response"].mean())
        probs = json.loads(group["probs"].iloc[0]) if "probs" in group and isinstance(group["probs"].iloc[0], str) else None
        answer = str(group["answer"].iloc[0]) if "answer" in group else item.scale.labels[int(np.clip(round(mean), 1, len(item.scale.labels))) - 1]
        answers.append(ModelAnswer(item.code, mean, answer, probs))
    rows = []
    for name, group_rows in matching.items():
        result = compare_to_group(answers, group_rows, instrument.scale.labels)
        for metric in ("modal_accuracy", "nmae", "js_similarity", "wasserstein"):
            if result[metric] is not None:
                rows.append((*track, "", name, metric, result[metric], np.nan, np.nan, np.nan))
    return rows


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
    per_role = frame.groupby(CONDITION + ["country_1", "country_2", "scenario", "domain", "question", "initiator"])["diff"].mean()
    balanced = per_role.groupby(level=list(range(len(CONDITION) + 5))).mean().rename("logodds").reset_index()
    balanced = balanced.rename(columns={"domain": "scenario_type"})
    return balanced


def _position_rows(frame: pd.DataFrame) -> list[tuple]:
    rows = []
    for condition, group in frame.groupby(CONDITION):
        rows.append((*condition, "", "option A", "position_bias", float(group["log_odds_ab"].mean()), np.nan, np.nan, np.nan))
        rows.append((*condition, "", "options", "compliance", float(group["valid_mass"].mean()), np.nan, np.nan, np.nan))
    return rows


def balanced_pairs(frame: pd.DataFrame, path="responses") -> pd.DataFrame:
    """Country-pair responses (probe-tui's own, or the seed format) -> one role-balanced log-odds per
    condition, pair, scenario and question."""
    if "log_odds_ab" in frame.columns and "logodds" not in frame.columns:  # probe-tui's own run output
        frame = pairs_from_run(frame)
    _require(frame, PAIR_COLUMNS, path)
    return frame.assign(logodds=pd.to_numeric(frame["logodds"], errors="coerce")).dropna(subset=["logodds"])


def score_pairs(frame: pd.DataFrame, path="responses") -> pd.DataFrame:
    extra = _position_rows(frame) if "log_odds_ab" in frame.columns and "logodds" not in frame.columns else []
    frame = balanced_pairs(frame, path)
    parts = []
    if "compliance" in frame.columns:  # the seed files carry mean P(A)+P(B) per observation
        frame["compliance"] = pd.to_numeric(frame["compliance"], errors="coerce")
        for condition, group in frame.groupby(CONDITION):
            extra.append((*condition, "", "options", "compliance", float(group["compliance"].mean()), np.nan, np.nan, np.nan))
    for condition, group in frame.groupby(CONDITION):
        result = favourability(group)
        for column, value in zip(CONDITION, condition):
            result[column] = value
        parts.append(result.rename(columns={"country": "target"}).assign(metric="favourability"))
    if not parts:
        raise ProbeError(f"{path}: no rows with a numeric logodds")
    return pd.concat(parts + [pd.DataFrame(extra, columns=OUTPUT)], ignore_index=True)[OUTPUT]


def summary(instrument_key: str, scores: pd.DataFrame) -> str:
    lines = []
    alignment = scores[scores["metric"] == "deviation_ratio"]
    if len(alignment):
        lines.append(alignment_summary(scores))
        scores = scores[~scores["metric"].isin(ALIGNMENT_METRICS) & ~scores["metric"].str.match(r"(index|hofstede)_")]
    for condition, group in scores.groupby(CONDITION, sort=False):
        label = " · ".join(map(str, condition))
        if instrument_key == "country-pairs":
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
            continue
        value = lambda target, metric: group[(group["target"] == target) & (group["metric"] == metric)]["value"]  # noqa: E731
        r_us, r_cn = value(US, "profile_r"), value(CN, "profile_r")
        nearest = group[group["metric"] == "rank"].sort_values("value")["target"].head(3).tolist()
        if len(r_us) and len(r_cn):
            lean = "US" if r_us.iloc[0] > r_cn.iloc[0] else "CN"
            lines.append(f"{label}: r(US) {r_us.iloc[0]:+.2f}  r(CN) {r_cn.iloc[0]:+.2f}  leans {lean}; nearest: {', '.join(nearest)}")
        elif nearest:
            lines.append(f"{label}: nearest: {', '.join(nearest)}")
        missing = group[group["metric"] == "missing_items"]
        if len(missing):
            lines.append(f"{label}: {describe_vsm_missing({r.target: r.question.split(', ') for r in missing.itertuples()})}")
        for r in group[group["metric"].isin(["modal_accuracy", "nmae"])].itertuples():
            lines.append(f"{label}: vs group {r.target}: {r.metric} {r.value:.2f}")
    if instrument_key == "country-pairs":
        lines.append("(* Benjamini–Hochberg adjusted p < 0.05; ± is the 95% CI half-width across scenario types)")
    return "\n".join(lines)


ALIGNMENT_METRICS = ("deviation_ratio", "country_r", "vsm_constant", "mean_deviation_ratio")


def alignment_summary(scores: pd.DataFrame) -> str:
    """The DR table per model (and condition) from score rows."""
    lines = []
    for (model, condition), group in scores[scores["metric"].isin(ALIGNMENT_METRICS)].groupby(["model", "condition"], sort=False):
        if not (group["metric"] == "mean_deviation_ratio").any():
            continue
        dr = group[group["metric"] == "deviation_ratio"].sort_values("value", ascending=False)
        mean = group[group["metric"] == "mean_deviation_ratio"]["value"].iloc[0]
        label = " · ".join(part for part in (model.rsplit("/", 1)[-1], condition) if part)
        lines.append(f"{label}: mean deviation ratio {mean:.2f} over {len(dr)} countries ({group['question'].iloc[0]} VSM constants)")
        warning = centring_warning(group["question"].iloc[0], len(dr))
        lines += [f"  {warning}"] if warning else []
        lines += [f"  {r.target:<16} {r.language:<6} DR {r.value:6.2f}" for r in dr.itertuples()]
        r = group[group["metric"] == "country_r"]
        lines.append("  across-country r: " + "  ".join(f"{t.target} {t.value:+.2f}" if t.value == t.value else f"{t.target} n/a" for t in r.itertuples()))
    return "\n".join(lines)
