"""`probe-tui score`: metrics for recorded responses (ours or another study's), in long format.

This module reads the responses and hands them to the instrument, whose kind scores them
(core/instruments: likert.py, vsm.py, pairs.py). Likert input: model, language, persona, item_id,
response (numeric on the item's scale); several rows for one (model, language, persona, item) are
averaged. Country-pair input: model, language, persona, country_1, country_2, scenario,
scenario_type, question, logodds (role-balanced, for country_1). Output: model, language, persona,
[question,] target, metric, value, ci95, p_value, p_adjusted, where ci95 is the half-width of the
95% interval (1.96 × standard error: from a bootstrap over items for the Likert metrics, across
scenario types for favourability).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .errors import ProbeError

CONDITION = ["model", "language", "persona"]
OUTPUT = CONDITION + ["question", "target", "metric", "value", "ci95", "p_value", "p_adjusted"]
IDENTIFIERS = CONDITION + ["item_id", "country_1", "country_2", "scenario", "scenario_type", "question"]


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
    for column in IDENTIFIERS:
        if column in frame.columns:  # identifiers are text, even when a cell is empty or looks numeric
            frame[column] = frame[column].astype(object).where(frame[column].notna(), "").astype(str)
    return frame


def responses_of(frame: pd.DataFrame, instrument_key: str) -> pd.DataFrame:
    """A file holding several instruments' answers (a session export): this one's rows."""
    if "instrument" in frame.columns and frame["instrument"].nunique() > 1:
        return frame[frame["instrument"] == instrument_key]
    return frame


def require_columns(frame: pd.DataFrame, columns: list[str], path) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ProbeError(f"{path}: missing column(s) {', '.join(missing)}; it has {', '.join(map(str, frame.columns))} "
                         "(rename with --map OLD=NEW, or set one value with --set COLUMN=VALUE)")


def score(instrument, frame: pd.DataFrame, path="responses", **options) -> tuple[pd.DataFrame, str]:
    """The score rows of the instrument's responses, and their summary for the terminal. options:
    n_resamples, vsm_constant, groups (each kind takes those that apply to it)."""
    scores = instrument.score_responses(responses_of(frame, instrument.key), path, **options)
    return scores, instrument.summary(scores)
