"""A study's results, from its journal, in its folder:

- responses.parquet: one row per answer, in matrix order, with the columns of `probe-tui export`
  (the condition, the prompt, the numbers, the variant and its order, and their provenance) and the
  study's own: study, study_model (the model's label in the study file), country and condition (a
  country sweep), repeat (1 to the study's repeats), key (the journal's), answered_by (the endpoint
  that answered, for a model served by several);
- scores.csv: `probe-tui score` over the whole study, long format, with instrument and condition
  columns; the model column holds the study's model labels; order checks are not scored;
- figures/: each instrument's figures, PNG.

Each file is written beside its place and swapped in, so a reader never sees half of one."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from ..core import rescore
from ..core.errors import ProbeError
from ..core.groups import load_group_baselines
from ..core.instruments import get_instrument
from ..core.rows import write_whole
from .spec import Study

RESPONSES, SCORES, FIGURES, REPORT = "responses.parquet", "scores.csv", "figures", "report.html"
STUDY_COLUMNS = ["study", "study_model", "country", "condition", "repeat", "key", "answered_by"]  # answered_by: core/rows.py


def study_frame(study: Study, rows: list[dict], keys: list[str]) -> pd.DataFrame:
    """The journal's rows for the study's current matrix (keys, in order): one row per answer."""
    by_key = {row["key"]: row for row in rows}
    table = [by_key[key]["row"] for key in keys if key in by_key]
    frame = pd.DataFrame(table)
    if frame.empty:
        return frame
    frame.insert(0, "study", study.name)
    frame["repeat"] = frame["repeat"].fillna(1).astype(int) if "repeat" in frame.columns else 1  # journaled before repeats existed
    ordered = [c for c in frame.columns if c not in STUDY_COLUMNS] + [c for c in STUDY_COLUMNS if c in frame.columns]
    return frame[ordered]


def _swap_in(path: Path, write) -> None:
    write_whole(path, write, "the answers stay in the study's journal: run the same study again once it can be written")


def write_results(study: Study, frame: pd.DataFrame, warn=lambda line: print(line, file=sys.stderr)) -> list[Path]:
    """The Parquet, the scores and the figures; returns what was written."""
    study.folder.mkdir(parents=True, exist_ok=True)
    responses = study.folder / RESPONSES
    _swap_in(responses, lambda p: frame.to_parquet(p, index=False))
    written = [responses]
    scores, notes = score_study(study, responses)
    for note in notes:
        warn(f"probe-tui: note: {note}")
    scores_path = study.folder / SCORES
    _swap_in(scores_path, lambda p: scores.to_csv(p, index=False))
    written.append(scores_path)
    written += draw_figures(study, responses, warn)
    return written


def _scored_rows(responses: Path) -> pd.DataFrame:
    """The study's answers as `score` reads them (order checks left out), with the study's model labels."""
    frame = rescore.read_responses(responses)
    if frame.empty:
        return frame
    frame["model"] = frame["study_model"]
    return frame[frame["unanswered"].astype(object).fillna("").astype(str) == ""] if "unanswered" in frame.columns else frame


def score_study(study: Study, responses: Path) -> tuple[pd.DataFrame, list[str]]:
    """Every instrument's scores, and the conditions of the country sweep; notes for what cannot be scored."""
    frame = _scored_rows(responses)
    groups = load_group_baselines(study.groups) if study.groups or study.subgroups else None
    parts, notes = [], []
    if frame.empty:
        return pd.DataFrame(columns=["instrument", "condition"] + rescore.OUTPUT), ["no answers to score yet"]
    matrix = frame[frame["country"] == ""]
    for chosen in study.instruments:
        rows = matrix[matrix["instrument"] == chosen.key]
        instrument = get_instrument(chosen.key)
        if rows.empty:
            continue
        try:
            scores, _ = rescore.score(instrument, rows, responses, n_resamples=study.bootstrap, groups=groups)
        except ProbeError as exc:
            notes.append(f"{chosen.key}: {exc}")
            continue
        parts.append(scores.assign(instrument=chosen.key, condition=""))
    sweep = study.countries
    if sweep is not None:
        instrument = get_instrument(sweep.key)
        for condition in sweep.conditions:
            rows = frame[(frame["country"] != "") & (frame["condition"] == condition)]
            if rows.empty:
                continue
            try:
                scores, _ = rescore.score(instrument, rows, responses, n_resamples=study.bootstrap)
            except ProbeError as exc:
                notes.append(f"{sweep.key} countries ({condition}): {exc}")
                continue
            parts.append(scores.assign(instrument=sweep.key, condition=condition))
    if not parts:
        return pd.DataFrame(columns=["instrument", "condition"] + rescore.OUTPUT), notes
    scores = pd.concat(parts, ignore_index=True)
    first = ["instrument", "condition"]
    return scores[first + [c for c in scores.columns if c not in first]], notes


def draw_figures(study: Study, responses: Path, warn) -> list[Path]:
    """Each instrument's figures (those it offers; base-vs-chat when there are two models or more)."""
    from ..figures import draw

    frame = _scored_rows(responses)
    folder = study.folder / FIGURES
    folder.mkdir(exist_ok=True)
    drawn = []
    for chosen in study.instruments:
        rows = frame[(frame["country"] == "") & (frame["instrument"] == chosen.key)] if not frame.empty else frame
        if rows.empty:
            continue
        instrument = get_instrument(chosen.key)
        for kind in instrument.figure_kinds:
            if kind == "base-vs-chat" and rows["model"].nunique() < 2:
                continue
            if kind == "sensitivity" and rows["variant"].astype(object).fillna("").nunique() < 2:
                continue  # asked in one way only
            if kind == "subgroups" and study.groups is None and not study.subgroups:
                continue
            path = folder / f"{chosen.key}-{kind}.png"
            try:
                draw(kind, rows, chosen.key, path)
            except ProbeError as exc:
                warn(f"probe-tui: note: no {kind} figure for {chosen.key}: {exc}")
                continue
            drawn.append(path)
    return drawn
