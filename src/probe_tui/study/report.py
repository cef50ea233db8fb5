"""`probe-tui study report`: one self-contained HTML file from a study folder's results, its figures
embedded as base64 PNG, so it opens anywhere (no network, no other file). It covers what the study
holds: r(US) and r(CN) per model and condition with the nearest countries; base-vs-chat
favourability with CIs; the deviation ratio per country; persona vs subgroup when a group baseline
is given; the order check; each figure with the method its numbers were obtained by; and the
provenance: model and template hashes, parameters, package versions and the study file itself.
Every text from outside (labels, model ids, the study file) is HTML-escaped."""

from __future__ import annotations

import base64
import html
import json
import math
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import ProbeError
from ..core.instruments import get_instrument
from ..core.metrics import CN, US
from .results import FIGURES, REPORT, RESPONSES, SCORES, _swap_in
from .spec import Study

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #1a202c; line-height: 1.45; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 2px solid #e2e8f0; padding-bottom: 0.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; max-width: 100%; }
th, td { border: 1px solid #cbd5e0; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
td { overflow-wrap: anywhere; }
th { background: #edf2f7; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #e2e8f0; }
figcaption { color: #4a5568; font-size: 0.9em; } .method { font-weight: bold; color: #2b6cb0; }
pre { background: #f7fafc; border: 1px solid #e2e8f0; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
.note { color: #718096; }
"""


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _number(value, digits: int = 2, sign: bool = True) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def _table(header: list[str], rows: list[list], numeric: set[int] = frozenset()) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td class=\"num\">{_e(c)}</td>" if i in numeric else f"<td>{_e(c)}</td>"
                                    for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _figure(path: Path, caption: str, method: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f'<figure><img alt="{_e(caption)}" src="data:image/png;base64,{data}">'
            f'<figcaption>{_e(caption)} — <span class="method">method: {_e(method)}</span></figcaption></figure>')


def _methods(rows: pd.DataFrame) -> str:
    return ", ".join(sorted(rows["method"].dropna().astype(str).unique())) or "none"


def _value(scores: pd.DataFrame, target: str, metric: str):
    found = scores[(scores["target"] == target) & (scores["metric"] == metric)]
    if found.empty:
        return None, None
    return float(found["value"].iloc[0]), float(found["ci95"].iloc[0]) if pd.notna(found["ci95"].iloc[0]) else None


def _with_ci(value, ci) -> str:
    return _number(value) + (f" ± {ci:.2f}" if ci is not None and math.isfinite(ci) else "")


def _likert_section(instrument, scores: pd.DataFrame, rows: pd.DataFrame, figures: Path) -> str:
    parts = []
    table = []
    unanswered = 0
    for (model, language, persona), group in scores.groupby(["model", "language", "persona"], sort=False):
        r_us, ci_us = _value(group, US, "profile_r")
        r_cn, ci_cn = _value(group, CN, "profile_r")
        skew, ci_skew = _value(group, f"{US}-{CN}", "skew_profile_r")
        ranks = group[group["metric"] == "rank"].sort_values("value")
        nearest = ", ".join(ranks["target"].head(3))
        answered = rows[(rows["model"] == model) & (rows["language"] == language) & (rows["persona"] == persona)]
        given = int((answered["unanswered"].astype(object).fillna("") == "").sum())
        unanswered += len(answered) - given
        table.append([model, language, persona, f"{given} of {len(answered)}", _with_ci(r_us, ci_us), _with_ci(r_cn, ci_cn),
                      _with_ci(skew, ci_skew), nearest or "–", _methods(answered)])
    if table:
        parts.append(_table(["model", "language", "persona", "answers", f"r({US})", f"r({CN})", "r(US) − r(CN)",
                             "nearest countries", "method"], table, numeric={3, 4, 5, 6}))
        parts.append('<p class="note">Profile r: Pearson r between the model\'s profile and each country\'s human profile; '
                     '± is the half-width of the 95% bootstrap interval over items (none under 5 items).</p>')
        if unanswered:
            parts.append(f'<p class="note"><b>{unanswered} answer(s) named no option</b> (answers: answered of asked): they '
                         'are left out of every score, so a condition scored on fewer items rests on less than it seems.</p>')
        if "variant" in rows and rows["variant"].astype(object).fillna("").astype(str).nunique() > 1:  # the order factor (or other variants) asked
            parts.append('<p class="note">Asked in more than one way (the order factor): each item\'s score here and in '
                         'the figures below is its mean over the ways it was asked, the order-corrected score (seed 002 '
                         'balances the orders so); the order check shows each order apart.</p>')
    missing = scores[scores["metric"] == "missing_items"]
    if len(missing):
        parts.append('<p class="note">Not yet comparable: ' + _e("; ".join(
            f"{m} · {lang} · {p}: {t} lacks {q}" for m, lang, p, t, q in
            missing[["model", "language", "persona", "target", "question"]].itertuples(index=False))) + "</p>")
    groups = scores[scores["metric"].isin(["modal_accuracy", "nmae", "js_similarity", "wasserstein"])]
    if len(groups):
        pivot = groups.pivot_table(index=["model", "language", "persona", "target"], columns="metric", values="value", aggfunc="first")
        parts.append("<h3>Persona vs subgroup (group baseline)</h3>")
        metrics = list(pivot.columns)
        parts.append(_table(["model", "language", "persona", "group", *metrics],
                            [[*index, *[_number(v, 3, sign=False) for v in values]] for index, values in
                             zip(pivot.index, pivot.to_numpy())], numeric=set(range(4, 4 + len(metrics)))))
    method = _methods(rows)
    for kind, caption in (("dimensions", "The model's mean per dimension beside the US, China and the nearest countries"),
                          ("gauge", "Where each condition sits between the US and China"),
                          ("sensitivity", "The dimension means under each prompt variant (the order check)")):
        path = figures / f"{instrument.key}-{kind}.png"
        if path.exists():
            parts.append(_figure(path, f"{instrument.key}: {caption}", method))
    return "".join(parts)


def _pairs_section(instrument, scores: pd.DataFrame, rows: pd.DataFrame, figures: Path) -> str:
    parts = []
    combined = scores[(scores["metric"] == "favourability") & (scores["question"] == "combined")]
    if len(combined):
        pivot = combined.pivot_table(index="target", columns="model", values="value", aggfunc="first")
        ci = combined.pivot_table(index="target", columns="model", values="ci95", aggfunc="first")
        models = list(pivot.columns)
        table = [[country, *[_with_ci(pivot.loc[country, m], ci.loc[country, m] if m in ci.columns else None) for m in models]]
                 for country in pivot.index]
        parts.append("<p>Combined favourability per country (log-odds signed for the country; mean over scenario types; "
                     "± half-width of the 95% interval across types).</p>")
        parts.append(_table(["country", *models], table, numeric=set(range(1, 1 + len(models)))))
    method = _methods(rows)
    for kind, caption in (("base-vs-chat", "Favourability per country, the models side by side (base vs chat)"),
                          ("favourability", "Combined favourability per country with 95% CIs"),
                          ("heatmap", "Pair heat map: row favoured over column")):
        path = figures / f"{instrument.key}-{kind}.png"
        if path.exists():
            parts.append(_figure(path, f"{instrument.key}: {caption}", method))
    return "".join(parts)


def _countries_section(study: Study, scores: pd.DataFrame, rows: pd.DataFrame, folder: Path) -> str:
    dr = scores[scores["metric"] == "deviation_ratio"]
    if dr.empty:
        return '<p class="note">No country has all its VSM items answered yet, so there is no deviation ratio.</p>'
    parts = []
    pivot = dr.pivot_table(index="target", columns=["model", "condition"], values="value", aggfunc="first")
    header = ["country", *[f"{m} · {c}" for m, c in pivot.columns]]
    parts.append("<p>Deviation ratio per country, DR = mean |GT − mean GT| / mean |M − GT| over the six dimensions "
                 "(> 1: the model captures the country better than one global answer); constants centred.</p>")
    parts.append(_table(header, [[country, *[_number(v, sign=False) for v in values]] for country, values in
                                 zip(pivot.index, pivot.to_numpy())], numeric=set(range(1, len(header)))))
    path = _dr_figure(pivot, folder)
    parts.append(_figure(path, "Deviation ratio per country (line at DR = 1)", _methods(rows)))
    return "".join(parts)


def _dr_figure(pivot: pd.DataFrame, folder: Path) -> Path:
    from ..figures import _style

    plt = _style()
    order = pivot.mean(axis=1).sort_values(ascending=False).index
    figure, axes = plt.subplots(figsize=(10, 0.35 * len(order) + 1.5))
    height = 0.8 / max(1, len(pivot.columns))
    for number, column in enumerate(pivot.columns):
        axes.barh(np.arange(len(order)) + number * height, pivot.loc[order, column], height=height, label=" · ".join(column))
    axes.axvline(1.0, color="#c53030", linestyle="--")
    axes.set_yticks(np.arange(len(order)) + height * (len(pivot.columns) - 1) / 2, list(order))
    axes.invert_yaxis()
    axes.set_xlabel("deviation ratio")
    axes.legend(loc="lower right")
    path = folder / FIGURES / "countries-deviation-ratio.png"
    path.parent.mkdir(exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path


def _order_section(frame: pd.DataFrame) -> str:
    """The order check: the same item asked with the options reversed, mirrored back; how far its
    expected value moved. With repeats, each order's expected value is first averaged over its
    answered draws, as the scores do, so a prompt counts once (a local model's repeats are copies)."""
    variant = frame["variant"].astype(object).fillna("").astype(str)
    answered = frame[frame["unanswered"].astype(object).fillna("") == ""]
    keys = ["study_model", "instrument", "language", "persona", "country", "condition", "item_id"]
    standard = answered[variant == ""].groupby(keys, sort=False)["expected"].mean()
    reversed_e = answered[variant == "order=reversed"].groupby(keys, sort=False)["expected"].mean()
    paired = pd.concat([standard, reversed_e.rename("expected_reversed")], axis=1, join="inner").reset_index()
    if paired.empty:
        return ""
    paired["shift"] = (paired["expected"] - paired["expected_reversed"]).abs()
    table = [[m, i, len(g), _number(g["shift"].mean(), sign=False), _number(g["shift"].max(), sign=False)]
             for (m, i), g in paired.groupby(["study_model", "instrument"], sort=False)]
    return ("<h2>Order check</h2><p>Each item asked again with the options' order reversed, its distribution mirrored "
            "back onto the scale: how far the expected value moved (0 = no order effect). Prompts: those answered in both "
            "orders; with repeats, each order's mean over its draws.</p>"
            + _table(["model", "instrument", "prompts", "mean |ΔE|", "max |ΔE|"], table, numeric={2, 3, 4}))


def _repeats_section(frame: pd.DataFrame) -> str:
    """How much the answers moved between a study's repeats: for each prompt, the spread of its
    expected value over the draws, and whether its most likely answer changed."""
    if frame["repeat"].nunique() < 2:
        return ""
    answered = frame[frame["unanswered"].astype(object).fillna("") == ""].assign(variant=frame["variant"].astype(object).fillna("").astype(str))
    keys = ["study_model", "instrument", "language", "persona", "country", "condition", "variant", "item_id"]
    draws = answered.groupby(keys, sort=False).agg(n=("repeat", "nunique"), sd=("expected", "std"), answers=("answer", "nunique"))
    asked = frame.assign(variant=frame["variant"].astype(object).fillna("")).drop_duplicates(keys).groupby(
        ["study_model", "instrument"]).size().to_dict()  # distinct prompts, answered or not
    draws = draws[draws["n"] > 1].reset_index()
    if draws.empty:
        return ""
    table = [[m, i, f"{len(g)} of {asked.get((m, i), len(g))}", int(g["n"].max()), _number(g["sd"].mean(), 3, sign=False), _number(g["sd"].max(), 3, sign=False),
              f"{(g['answers'] > 1).mean():.0%}", _methods(answered[(answered["study_model"] == m) & (answered["instrument"] == i)])]
             for (m, i), g in draws.groupby(["study_model", "instrument"], sort=False)]
    return ("<h2>Repeats</h2><p>Each prompt asked again: the standard deviation of its expected value over the draws, and the "
            "share of prompts whose most likely answer changed, over the prompts answered in at least two draws. Exact "
            "probabilities (a local model) are the same on every asking, so their repeats agree; sampled answers vary "
            "with the draw.</p>"
            + _table(["model", "instrument", "prompts", "draws", "mean SD of E", "max SD of E", "answer changed", "method"],
                     table, numeric={2, 3, 4, 5, 6}))


def _provenance_section(study: Study, frame: pd.DataFrame) -> str:
    table = []
    columns = ["model", "model_name", "model_sha256", "endpoint", "chat_template_sha256", "prompt_style", "params"]
    for label, group in frame.groupby("study_model", sort=False):
        first = group.iloc[0]
        table.append([label, *[first.get(c, "") for c in columns], ", ".join(sorted(group["method"].astype(str).unique()))])
    versions = json.loads(frame["versions"].iloc[0]) if "versions" in frame.columns and len(frame) else {}
    return ("<h2>Provenance</h2>"
            + _table(["study model", "model", "file", "model SHA-256", "endpoint", "chat template SHA-256", "prompt style",
                      "scoring parameters", "methods"], table)
            + "<p>Package versions: " + _e(", ".join(f"{k} {v}" for k, v in versions.items())) + "</p>"
            + f"<h3>The study file ({_e(study.path.name)})</h3><pre>{_e(study.text)}</pre>")


def build_report(study: Study) -> str:
    folder = study.folder
    responses = folder / RESPONSES
    if not responses.exists():
        raise ProbeError(f"{study.path.name} has no results yet in {folder}; run it first: probe-tui study run {study.path}")
    frame = pd.read_parquet(responses)
    frame["repeat"] = frame["repeat"].fillna(1).astype(int) if "repeat" in frame.columns else 1  # written before repeats existed
    scores = pd.read_csv(folder / SCORES, keep_default_na=False, na_values=[""]) if (folder / SCORES).exists() else pd.DataFrame()
    for column in ("model", "language", "persona", "target", "question", "condition", "instrument", "metric"):
        if column in scores.columns:
            scores[column] = scores[column].astype(object).fillna("").astype(str)
    scored = frame[~frame["options_reversed"].astype(bool)].assign(model=frame["study_model"])
    figures = folder / FIGURES
    sections = []
    summary = [[spec.label, spec.kind, ", ".join(sorted(frame[frame["study_model"] == spec.label]["method"].astype(str).unique())) or "–",
                int((frame["study_model"] == spec.label).sum())] for spec in study.models]
    sections.append("<h2>The study</h2>" + _table(["model", "kind", "method", "answers"], summary, numeric={3})
                    + (f"<p>Instruments: {_e(', '.join(f'{s.key} ({len(s.items)} items)' for s in study.instruments))}; "
                       f"languages: {_e(', '.join(study.languages))}; personas: {_e(', '.join(study.personas))}; "
                       f"orders: {_e(', '.join(o or 'standard' for o in study.orders))}"
                       f"{f'; each prompt asked {study.repeats} times' if study.repeats > 1 else ''}.</p>" if study.instruments else "")
                    + (f"<p>Country sweep: {_e(study.countries.key)} ({len(study.countries.items)} items) for "
                       f"{_e(', '.join(study.countries.countries))}; conditions: {_e(', '.join(study.countries.conditions))} "
                       "(each country with its national persona).</p>" if study.countries else ""))
    for chosen in study.instruments:
        instrument = get_instrument(chosen.key)
        rows = scored[(scored["instrument"] == chosen.key) & (scored["country"] == "")]
        if rows.empty:
            continue
        mine = scores[(scores["instrument"] == chosen.key) & (scores["condition"] == "")] if len(scores) else scores
        body = _pairs_section(instrument, mine, rows, figures) if instrument.screen == "pairs" else \
            _likert_section(instrument, mine, rows, figures)
        sections.append(f"<h2>{_e(chosen.key)} ({len(chosen.items)} of {len(instrument.items)} items)</h2>" + (body or '<p class="note">Nothing to score yet.</p>'))
    if study.countries is not None:
        rows = scored[scored["country"] != ""]
        mine = scores[(scores["instrument"] == study.countries.key) & (scores["condition"] != "")] if len(scores) else scores
        sections.append(f"<h2>{_e(study.countries.key)} across countries (seed 001)</h2>"
                        + _countries_section(study, mine, rows, folder))
    sections.append(_order_section(frame))
    sections.append(_repeats_section(frame))
    sections.append(_provenance_section(study, frame))
    made = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{_e(study.name)} · probe-tui study</title>"
            f"<style>{STYLE}</style></head><body><h1>{_e(study.name)}</h1>"
            f"<p class=\"note\">probe-tui study report, {made}: {len(frame)} answers from {_e(study.folder)}</p>"
            + "".join(sections) + "</body></html>")


def write_report(study: Study, output: Path | None = None) -> Path:
    output = Path(output) if output else study.folder / REPORT
    text = build_report(study)
    _swap_in(output, lambda p: p.write_text(text, encoding="utf-8"))
    return output
