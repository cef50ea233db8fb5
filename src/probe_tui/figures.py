"""Pictures for slides (PNG or SVG, by the output's suffix), drawn with matplotlib from recorded
responses: a probe-tui run or session export, or a study's files read as `probe-tui score` reads them.

- dimensions: the model's mean per dimension next to the US, China and the nearest countries;
- gauge: where each condition sits between the US and China (by RMSE), one marker per condition;
- favourability: per-country combined favourability (country pairs) with 95% CIs;
- heatmap: the 8×8 pair heat map (row favoured over column);
- base-vs-chat: per-country favourability for two or more models side by side (seed 002's result);
- subgroups: seed 003's comparison, one panel per subgroup attribute: modal accuracy and NMAE per
  value of the attribute, against the group baselines in the data directory.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .core.errors import ProbeError
from .core.instruments import available_instruments, get_instrument
from .core.instruments.pairs import balanced_pairs
from .core.metrics import CN, US, favourability, pair_matrix, profiles_to_compare
from .core.report import signed
from .core.rescore import CONDITION

KINDS = ("dimensions", "gauge", "sensitivity", "favourability", "heatmap", "base-vs-chat", "subgroups")  # an instrument offers some (figure_kinds)
BLUE, RED, GREEN, GREY = "#2b6cb0", "#c53030", "#2f855a", "#718096"
MODEL_COLOURS = ["#4a5568", "#dd6b20", "#3182ce", "#38a169", "#805ad5"]


def _style():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "font.size": 12, "axes.titlesize": 14, "axes.titleweight": "bold", "axes.spines.top": False,
        "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.25, "grid.linestyle": "-",
        "figure.dpi": 100, "savefig.dpi": 200, "savefig.bbox": "tight", "legend.frameon": False,
        "svg.fonttype": "none",  # text stays text in an SVG: editable on the slide
    })
    return plt


def track_label(track) -> str:
    model, language, persona = track
    model = str(model).rsplit("/", 1)[-1].rsplit("#", 1)[-1].removesuffix(".gguf")
    return f"{model} · {str(language).upper()} · {persona}"


def draw(kind: str, frame: pd.DataFrame, instrument_key: str, output: Path, countries=(), title: str | None = None) -> Path:
    if kind not in KINDS:
        raise ProbeError(f"unknown figure {kind!r}; choose one of: {', '.join(KINDS)}")
    if output.suffix.lower() not in (".png", ".svg"):
        raise ProbeError(f"cannot draw to {output.name}: the file name must end in .png or .svg")
    instrument = get_instrument(instrument_key)
    if kind not in instrument.figure_kinds:
        offering = [key for key, other in available_instruments().items() if kind in other.figure_kinds]
        wanted = " or ".join(filter(None, [", ".join(offering[:-1]), offering[-1]])) if offering else "no instrument's"
        raise ProbeError(f"the {kind} figure is drawn from {wanted} responses, not {instrument_key}")
    plt = _style()
    figure = {"dimensions": _dimensions, "gauge": _gauge, "sensitivity": _sensitivity, "favourability": _favourability, "heatmap": _heatmap,
              "base-vs-chat": _base_vs_chat, "subgroups": _subgroups}[kind](plt, frame, instrument, list(countries))
    if title:
        figure.suptitle(title, fontsize=15, fontweight="bold")
    try:
        figure.savefig(output)
    except OSError as exc:
        raise ProbeError(f"cannot write {output}: {exc}") from None
    finally:
        plt.close(figure)
    return output


# --- Likert --------------------------------------------------------------------------------------

def _drawable(engine, keep) -> tuple[list, list[str]]:
    """The tracks keep(track) accepts, and a line for each one left out; an error when none is left:
    an empty figure is never written."""
    shown = [track for track in engine.tracks if keep(track)]
    left_out = [f"{track_label(t)}: {engine.missing_note(t) or 'too few answers to compare'}" for t in engine.tracks if t not in shown]
    if not shown:
        more = f" (and {len(left_out) - 1} more condition(s))" if len(left_out) > 1 else ""
        raise ProbeError(f"nothing to draw: {left_out[0]}{more}" if left_out else "nothing to draw: no numeric answers")
    return shown, left_out


def _note_left_out(figure, left_out: list[str]) -> None:
    if left_out:
        figure.text(0.01, 0, "Not drawn: " + "; ".join(left_out), fontsize=9, color=GREY, va="top", wrap=True)


def _likert_engine(bank, frame):
    if bank.baseline() is None:
        raise ProbeError(f"{bank.key} declares no human baseline, so there is nothing to draw its answers against")
    return bank.engine(frame)[0]


def _dimensions(plt, frame, bank, countries):
    engine = _likert_engine(bank, frame)
    tracks, left_out = _drawable(engine, lambda t: len(engine.ranking(t)) > 0)
    scale_free = engine.baseline.scale_free
    labels = bank.dimension_labels()  # WVS: one item per dimension, named by its construct
    human = engine.baseline.table
    unknown = [c for c in countries if c not in human.index]
    if unknown:
        raise ProbeError(f"no {bank.key} baseline for {unknown[0]!r}")
    figure, axes = plt.subplots(len(tracks), 1, figsize=(max(8, 1.2 * len(bank.dimensions) + 3), 4.2 * len(tracks)), squeeze=False)
    for axis, track in zip(axes[:, 0], tracks):
        ranking = engine.ranking(track)
        nearest = [c for c in ranking["country"] if c not in (US, CN)][:2]
        shown = countries or [US, CN, *nearest]
        table = profiles_to_compare(engine.profile(track), human.loc[shown, list(bank.dimensions)], scale_free)
        r = ranking.set_index("country")["profile_r"]
        width = 0.8 / len(table)
        x = np.arange(len(bank.dimensions))
        colours = {"model": GREEN, US: BLUE, CN: RED}
        for position, (name, values) in enumerate(table.iterrows()):
            label = name if not scale_free or name == "model" else f"{name} (r {r.get(name, np.nan):+.2f})"
            axis.bar(x + (position - (len(table) - 1) / 2) * width, values.to_numpy(float), width, label=label,
                     color=colours.get(name, MODEL_COLOURS[position % len(MODEL_COLOURS)]), alpha=0.95 if name == "model" else 0.75)
        axis.set_xticks(x, [labels[d] for d in bank.dimensions], rotation=30 if len(x) > 8 else 0, ha="right" if len(x) > 8 else "center")
        axis.set_title(track_label(track), loc="left", fontsize=12)
        axis.set_ylabel("index, standardised (z)" if scale_free else "mean on the item scale")
        axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1))  # beside the axes, clear of the (rotated) labels
        axis.grid(axis="x", visible=False)
    what = "standardised over its indices, with the profile r" if scale_free else "next to human means"
    figure.suptitle(f"{bank.name}: the model's answers {what}", fontsize=15, fontweight="bold")
    figure.tight_layout()
    _note_left_out(figure, left_out)
    return figure


def _sensitivity(plt, frame, bank, countries):
    """Per dimension, the mean under each prompt variant (grey dots), the standard asking's (black)
    and the order-corrected one (green), one panel per condition: how far the way of asking moves it."""
    from .core.sensitivity import CONDITION, sensitivity, variant_table

    if "expected" not in frame.columns and "response" in frame.columns:
        frame = frame.assign(expected=frame["response"])
    _, per_dimension = sensitivity(frame, bank)
    if per_dimension.empty:
        raise ProbeError("nothing to draw: no item was answered under two variants or more (run --variants order,anchors,frames)")
    table = variant_table(frame, bank)
    labels = bank.dimension_labels()
    conditions = list(per_dimension.groupby(CONDITION, sort=False).groups)
    figure, axes = plt.subplots(len(conditions), 1, figsize=(max(8, 1.3 * len(bank.dimensions) + 3), 4.2 * len(conditions)), squeeze=False)
    for axis, condition in zip(axes[:, 0], conditions):
        mine = table[(table[CONDITION] == pd.Series(condition, index=CONDITION)).all(axis=1)]
        dims = per_dimension[(per_dimension[CONDITION] == pd.Series(condition, index=CONDITION)).all(axis=1)].set_index("dimension")
        shown = [d for d in bank.dimensions if d in dims.index]
        x = np.arange(len(shown))
        for position, dimension in enumerate(shown):
            means = mine[mine["dimension"] == dimension].groupby("variant")["score"].mean()
            axis.scatter(np.full(len(means), position), means, color=GREY, alpha=0.6, s=25, label="one variant" if position == 0 else None)
        axis.scatter(x, dims.loc[shown, "score_standard"], color="black", marker="_", s=400, label="standard asking")
        axis.scatter(x, dims.loc[shown, "score_order_corrected"], color=GREEN, marker="D", s=40, label="order-corrected (both orders)")
        axis.set_xticks(x, [labels.get(d, d) for d in shown], rotation=30 if len(x) > 8 else 0, ha="right" if len(x) > 8 else "center")
        axis.set_title(track_label(condition), loc="left", fontsize=12)
        axis.set_ylabel("mean on the item scale")
        axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1))
        axis.grid(axis="x", visible=False)
    figure.suptitle(f"{bank.name}: the dimension means under each prompt variant", fontsize=15, fontweight="bold")
    figure.tight_layout()
    return figure


def _gauge(plt, frame, bank, countries):
    engine = _likert_engine(bank, frame)

    def placed(track) -> bool:  # the lean needs r (scale-free) or RMSE to both countries
        reading = engine.reading(track)
        return reading is not None and (reading.r_skew if reading.scale_free else reading.rmse_skew) is not None

    tracks, left_out = _drawable(engine, placed)
    figure, axis = plt.subplots(figsize=(12, 1.6 + 0.9 * len(tracks)))
    axis.axvline(0, color=GREY, linewidth=1)
    shares = []
    for row, track in enumerate(tracks):
        reading = engine.reading(track)
        if reading.scale_free:
            share = reading.r_skew / 2
            detail = f"r skew {reading.r_skew:+.2f}"
        else:
            us, cn = reading.fits[US].rmse, reading.fits[CN].rmse
            share = 0.0 if us + cn == 0 else (cn - us) / (us + cn)  # +1: at the US
            detail = f"RMSE to US {us:.2f}, to China {cn:.2f}"
        colour = BLUE if share > 0 else RED
        axis.plot([0, -share], [row, row], color=colour, linewidth=3, alpha=0.5)
        axis.scatter([-share], [row], s=140, color=colour, zorder=3)
        items = f"{reading.items_answered} item{'s' * (reading.items_answered != 1)}"
        axis.annotate(f"{detail} · {items}", (-share, row), xytext=(0, 10), textcoords="offset points",
                      ha="center", fontsize=10, color="#2d3748")
        shares.append(share)
    axis.set_yticks(range(len(tracks)), [track_label(t) for t in tracks])
    axis.set_ylim(-0.7, len(tracks) - 0.3)
    limit = max(0.25, 1.3 * max((abs(s) for s in shares), default=0))  # the axis: (RMSE_CN − RMSE_US) / (RMSE_CN + RMSE_US)
    axis.set_xlim(-limit, limit)
    axis.set_xticks([-limit, 0, limit], ["← closer to the United States", "equally close", "closer to China →"])
    axis.get_xticklabels()[0].set_color(BLUE)
    axis.get_xticklabels()[2].set_color(RED)
    axis.grid(axis="y", visible=False)
    figure.suptitle(f"{bank.name}: closer to American or to Chinese answers?", fontsize=15, fontweight="bold")
    figure.tight_layout()
    _note_left_out(figure, left_out)
    return figure


# --- country pairs -------------------------------------------------------------------------------

def _combined(frame) -> pd.DataFrame:
    """Per condition and country: the combined favourability with its 95% CI."""
    balanced = balanced_pairs(frame)
    parts = []
    for condition, group in balanced.groupby(CONDITION, sort=False):
        result = favourability(group)
        result = result[result["question"] == "combined"].assign(**dict(zip(CONDITION, condition)))
        parts.append(result)
    if not parts:
        raise ProbeError("no country-pair answers with a numeric log-odds")
    return pd.concat(parts, ignore_index=True)


def _favourability(plt, frame, instrument, countries):
    combined = _combined(frame)
    tracks = list(combined.groupby(CONDITION, sort=False))
    figure, axes = plt.subplots(1, len(tracks), figsize=(6.5 * len(tracks), 5), squeeze=False, sharex=True)
    for axis, (track, group) in zip(axes[0], tracks):
        group = group.sort_values("value")
        colours = [BLUE if v > 0 else RED for v in group["value"]]
        axis.barh(group["country"], group["value"], xerr=group["ci95"].fillna(0), color=colours, alpha=0.8,
                  error_kw={"ecolor": "#2d3748", "capsize": 4})
        axis.axvline(0, color=GREY, linewidth=1)
        axis.set_title(track_label(track), loc="left", fontsize=12)
        axis.set_xlabel("combined favourability (log-odds), 95% CI")
        axis.grid(axis="y", visible=False)
    figure.suptitle("Which countries the model favours in two-country scenarios", fontsize=15, fontweight="bold")
    figure.tight_layout()
    return figure


def _heatmap(plt, frame, instrument, countries):
    balanced = balanced_pairs(frame)
    tracks = list(balanced.groupby(CONDITION, sort=False))
    order = countries or list(dict.fromkeys(pd.concat([balanced["country_1"], balanced["country_2"]])))
    figure, axes = plt.subplots(1, len(tracks), figsize=(7.2 * len(tracks), 6.2), squeeze=False)
    for axis, (track, group) in zip(axes[0], tracks):
        matrix = pair_matrix(group, order)
        largest = float(np.nanmax(np.abs(matrix.to_numpy(dtype=float)))) if matrix.notna().any().any() else 0.0
        limit = largest or 1.0  # the colour scale spans the data, symmetric around 0
        digits = 1 if limit >= 1 else 2
        image = axis.imshow(matrix.to_numpy(dtype=float), cmap="RdBu", vmin=-limit, vmax=limit)
        axis.set_xticks(range(len(order)), order, rotation=45, ha="right")
        axis.set_yticks(range(len(order)), order)
        for i in range(len(order)):
            for j in range(len(order)):
                value = matrix.iloc[i, j]
                if value == value:
                    axis.text(j, i, signed(value, digits), ha="center", va="center", fontsize=9,
                              color="white" if abs(value) > 0.6 * limit else "#1a202c")
        axis.grid(False)
        axis.set_title(track_label(track), loc="left", fontsize=12)
        figure.colorbar(image, ax=axis, shrink=0.8, label="row favoured over column (log-odds)")
    figure.suptitle("Country-pair heat map", fontsize=15, fontweight="bold")
    figure.tight_layout()
    return figure


def _base_vs_chat(plt, frame, instrument, countries):
    combined = _combined(frame)
    models = list(dict.fromkeys(combined["model"]))
    if len(models) < 2:
        raise ProbeError("the base-vs-chat figure needs two models: give two response files with --labels, or one file with two models")
    order = (combined[combined["model"] == models[-1]].sort_values("value")["country"].tolist())
    figure, axis = plt.subplots(figsize=(9, 0.55 * len(order) + 1.8))
    height = 0.8 / len(models)
    y = np.arange(len(order))
    for position, model in enumerate(models):
        rows = combined[combined["model"] == model].set_index("country").reindex(order)
        axis.barh(y + (position - (len(models) - 1) / 2) * height, rows["value"], height, xerr=rows["ci95"].fillna(0),
                  label=model, color=MODEL_COLOURS[position % len(MODEL_COLOURS)], alpha=0.85,
                  error_kw={"ecolor": "#2d3748", "capsize": 3, "linewidth": 1})
    axis.axvline(0, color=GREY, linewidth=1)
    axis.set_yticks(y, order)
    axis.set_xlabel("combined favourability (log-odds), 95% CI across scenario types")
    axis.grid(axis="y", visible=False)
    axis.legend(loc="lower right")
    axis.set_title("Base vs chat: favourability per country", loc="left")
    figure.tight_layout()
    return figure


def _subgroups(plt, frame, bank, countries):
    """Seed 003: per subgroup attribute, each model's mean modal accuracy and NMAE per value of the
    attribute (over the subgroups with that value), from score's rows against the group baselines."""
    from .core.groups import load_group_baselines
    from .core.seed003 import SUBGROUPS

    groups = load_group_baselines()
    if groups.empty:
        raise ProbeError("nothing to draw: no group baselines in the data directory (build one with: probe-tui baselines build FILE)")
    scores = bank.score_responses(frame, n_resamples=0, groups=groups)
    rows = scores[(scores["persona"] == SUBGROUPS) & scores["metric"].isin(["accuracy_mean", "nmae_mean"])]
    if rows.empty:
        raise ProbeError("nothing to draw: fewer than two conditions have a persona with a group baseline "
                         "(ask under each subgroup's persona: probe-tui run --subgroups NAME)")
    attributes = list(dict.fromkeys(rows["question"]))
    figure, axes = plt.subplots(len(attributes), 2, figsize=(11, 3.2 * len(attributes)), squeeze=False)
    models = list(dict.fromkeys(zip(rows["model"], rows["language"])))
    for line, attribute in enumerate(attributes):
        part = rows[rows["question"] == attribute]
        values = list(dict.fromkeys(part["target"]))
        x = np.arange(len(values))
        width = 0.8 / len(models)
        for column, (metric, shown) in enumerate((("accuracy_mean", "modal accuracy (higher: better)"), ("nmae_mean", "NMAE (lower: better)"))):
            axis = axes[line][column]
            for position, (model, language) in enumerate(models):
                mine = part[(part["model"] == model) & (part["language"] == language) & (part["metric"] == metric)].set_index("target")
                heights = [mine["value"].get(v, np.nan) for v in values]
                axis.bar(x + (position - (len(models) - 1) / 2) * width, heights, width, color=MODEL_COLOURS[position % len(MODEL_COLOURS)],
                         label=track_label((model, language, "")).rstrip(" ·"))
            axis.set_xticks(x, [v.split("=", 1)[-1] for v in values], rotation=30 if len(values) > 5 else 0)
            axis.set_title(f"{attribute}: {shown}", loc="left", fontsize=12)
            if metric == "accuracy_mean":
                axis.set_ylim(0, 1)
        axes[line][1].legend(loc="upper left", bbox_to_anchor=(1.01, 1))
    figure.text(0.01, 0, "Each persona's answers against its group's: modal accuracy (the most likely option vs the group's modal answer), "
                "NMAE (expected answer vs the group mean, / scale range); the mean over the subgroups with that value. "
                f"Group baselines: {', '.join(sorted(groups['baseline'].unique()))}.", fontsize=9, color=GREY, va="top", wrap=True)
    figure.tight_layout()
    return figure
