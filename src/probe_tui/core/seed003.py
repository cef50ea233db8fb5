"""Seed 003's comparison (Tan et al. 2026): how well a model emulates subgroups when asked under each
subgroup's persona, and how fairly across them.

For each (model, language), over the conditions whose persona has a group baseline:
- per subgroup: modal accuracy (the model's most likely answer equals the group's modal answer) and
  NMAE (|expected answer − group mean| / scale range), as core/groups.compare_to_group computes them;
- fairness over the subgroups, for accuracy and for NMAE: the normalised range (max − min) / max and
  the coefficient of variation (std / mean), over all subgroups and per attribute (the subgroups'
  mean per value of the attribute: sex=female, sex=male, ...);
- the Modal Diversity Score (core/metrics.modal_diversity) per item group (the instrument's
  dimensions, and all items together), for the model and for the humans.
Rows come in rescore.OUTPUT's long format under persona "(subgroups)"; studies and figures read them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .groups import ModelAnswer, _shares, compare_to_group, groups_for
from .metrics import coefficient_of_variation, modal_diversity, normalised_range

SUBGROUPS = "(subgroups)"
FAIRNESS = {"range": normalised_range, "cv": coefficient_of_variation}


def persona_attributes(persona: str, rows: pd.DataFrame) -> dict[str, str]:
    """attribute -> value of a group: from a subgroup persona's key, or the rows' country column."""
    kind, _, rest = persona.partition(":")
    if kind == "subgroup":
        return dict(part.split("=", 1) for part in rest.split(",") if "=" in part)
    if "country" in rows and str(rows["country"].iloc[0]).strip():
        return {"country": str(rows["country"].iloc[0]).strip()}
    return {}


def group_modes(rows: pd.DataFrame, labels) -> dict[str, str]:
    """item code -> the group's modal answer (from its distribution; the lowest of tied ones)."""
    modes = {}
    for r in rows.itertuples():
        if isinstance(r.distribution, str) and r.distribution.strip():
            shares = _shares(r.distribution, f"{r.source_file}:{r.source_line}")
            modes[r.item_code] = labels[int(np.argmax([shares.get(label, 0.0) for label in labels]))]
        elif "mode" in rows and str(getattr(r, "mode", "")).strip():
            modes[r.item_code] = str(r.mode)
    return modes


def subgroup_table(instrument, answers_by_track: dict[tuple, list[ModelAnswer]], groups: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, language, persona, group): accuracy, nmae, the attributes and the modes."""
    labels = tuple(instrument.scale.labels)
    rows = []
    for (model, language, persona), answers in answers_by_track.items():
        for name, group_rows in groups_for(instrument, persona, groups).items():
            result = compare_to_group(answers, group_rows, labels)
            rows.append({"model": model, "language": language, "persona": persona, "group": name,
                         "accuracy": result["modal_accuracy"], "nmae": result["nmae"],
                         "attributes": persona_attributes(persona, group_rows),
                         "model_modes": {a.code: a.answer for a in answers}, "human_modes": group_modes(group_rows, labels)})
    return pd.DataFrame(rows, columns=["model", "language", "persona", "group", "accuracy", "nmae", "attributes", "model_modes", "human_modes"])


def subgroup_rows(instrument, answers_by_track: dict[tuple, list[ModelAnswer]], groups: pd.DataFrame) -> list[tuple]:
    """Seed 003's fairness and Modal Diversity Score rows (rescore.OUTPUT) for every (model, language)
    with at least two subgroups; per-subgroup accuracy and NMAE are the conditions' own rows."""
    table = subgroup_table(instrument, answers_by_track, groups)
    out = []
    nan = np.nan
    for (model, language), part in table.groupby(["model", "language"], sort=False):
        if len(part) < 2:
            continue

        def add(question, target, metric, value):
            if value is not None and value == value:
                out.append((model, language, SUBGROUPS, question, target, metric, float(value), nan, nan, nan))

        add("", "all subgroups", "subgroups", len(part))
        for measure in ("accuracy", "nmae"):
            for kind, fairness in FAIRNESS.items():
                add("", "all subgroups", f"{measure}_{kind}", fairness(part[measure].dropna()))
        attributes = sorted({a for attrs in part["attributes"] for a in attrs})
        for attribute in attributes:
            values = part.assign(value=[attrs.get(attribute) for attrs in part["attributes"]]).dropna(subset=["value"])
            means = values.groupby("value")[["accuracy", "nmae"]].mean()
            for value, row in means.iterrows():
                add(attribute, f"{attribute}={value}", "accuracy_mean", row["accuracy"])
                add(attribute, f"{attribute}={value}", "nmae_mean", row["nmae"])
            if len(means) >= 2:
                for measure in ("accuracy", "nmae"):
                    for kind, fairness in FAIRNESS.items():
                        add(attribute, attribute, f"{measure}_{kind}", fairness(means[measure].dropna()))
        item_groups = {}
        for item in instrument.items:
            item_groups.setdefault(item.dimension, []).append(item.code)
        item_groups["all items"] = [item.code for item in instrument.items]
        for group_name, codes in item_groups.items():
            for who in ("model", "human"):
                modes = {code: [(m if who == "model" else h)[code] for m, h in zip(part["model_modes"], part["human_modes"])
                                if code in m and code in h] for code in codes}  # the items both sides have
                if any(len(v) >= 2 for v in modes.values()):
                    add(", ".join(codes) if group_name != "all items" else "", group_name, f"mds_{who}",
                        modal_diversity(modes, len(instrument.scale.labels)))
    return out
