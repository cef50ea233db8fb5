"""How much the answers depend on the way the question was asked: the same items under several
prompt variants (core/variants.py), per item and per dimension.

Per item: whether its most likely option (argmax) changes across the variants; the mean and the
largest |ΔE[x]| over every pair of variants; the order effect, half of E[x] asked in the standard
order minus E[x] asked with the meanings reversed, both on the real scale: 0 when the answer follows
the meaning, − when it is pulled towards the option listed first, + towards the one listed last.

Per dimension: the share of items whose argmax changes; the mean and largest |ΔE[x]|; the variance
between variants (of each variant's dimension mean) beside the variance between items (of each
item's mean over variants); and three scores: the standard asking's, the order-corrected one (the
mean over both orders, as seed 002 balances them) and the mean over every variant asked.

Scores are reverse-keyed where the item says so, as the gauge scores them.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from .variants import describe, parse_variant

CONDITION = ["model", "language", "persona"]
ITEM_METRICS = ["argmax_changes", "mean_abs_delta", "max_abs_delta", "order_effect", "variants"]
DIMENSION_METRICS = ["argmax_change_share", "mean_abs_delta", "max_abs_delta", "var_between_variants", "var_between_items",
                     "score_standard", "score_order_corrected", "score_all_variants", "order_effect", "items", "variants"]


def variant_table(frame: pd.DataFrame, instrument) -> pd.DataFrame:
    """Answered rows -> one row per (condition, item, variant): keyed score, argmax, order, and the
    variant with its order taken out (to pair the two orders of one asking)."""
    need = CONDITION + ["item_id", "expected"]
    rows = frame[[c for c in frame.columns if c in need + ["variant", "answer"]]].copy()
    rows["variant"] = frame["variant"].astype(object).fillna("").astype(str) if "variant" in frame.columns else ""
    rows["expected"] = pd.to_numeric(rows["expected"], errors="coerce")
    rows = rows.dropna(subset=["expected"])
    items = {key: instrument.find_item(key) for key in rows["item_id"].astype(str).unique()}
    rows = rows[rows["item_id"].astype(str).map(lambda k: items.get(k) is not None)]
    parsed = {v: parse_variant(v) for v in rows["variant"].unique()}
    rows["item"] = rows["item_id"].astype(str).map(lambda k: items[k].code)
    rows["dimension"] = rows["item_id"].astype(str).map(lambda k: items[k].dimension)
    rows["score"] = [items[str(k)].keyed(e) for k, e in zip(rows["item_id"], rows["expected"])]
    rows["order"] = rows["variant"].map(lambda v: parsed[v].order)
    rows["asking"] = rows["variant"].map(lambda v: str(parsed[v].without_order()))
    if "answer" not in rows.columns:
        rows["answer"] = ""
    rows["answer"] = rows["answer"].astype(object).fillna("").astype(str)
    return rows


def _item_row(group: pd.DataFrame) -> dict:
    scores = group.groupby("variant")["expected"].mean()
    deltas = [abs(a - b) for a, b in itertools.combinations(scores.to_numpy(), 2)]
    answers = set(group["answer"]) - {""}
    by_order = group.groupby(["asking", "order"])["expected"].mean().unstack("order")
    effect = math.nan
    if {"standard", "reversed"} <= set(by_order.columns):
        paired = by_order.dropna(subset=["standard", "reversed"])
        effect = float(((paired["standard"] - paired["reversed"]) / 2).mean()) if len(paired) else math.nan
    return {"argmax_changes": float(len(answers) > 1), "mean_abs_delta": float(np.mean(deltas)) if deltas else math.nan,
            "max_abs_delta": float(max(deltas)) if deltas else math.nan, "order_effect": effect, "variants": len(scores)}


def sensitivity(frame: pd.DataFrame, instrument) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per item, per dimension) for every condition in the rows; both empty when no item was asked
    under two variants or more."""
    rows = variant_table(frame, instrument)
    items, dims = [], []
    for condition, mine in rows.groupby(CONDITION, sort=False):
        asked = mine.groupby("item")["variant"].nunique()
        mine = mine[mine["item"].isin(asked[asked > 1].index)]
        if mine.empty:
            continue
        per_item = {}
        for code, group in mine.groupby("item", sort=False):
            per_item[code] = _item_row(group)
            items.append({**dict(zip(CONDITION, condition)), "item": code, "dimension": group["dimension"].iloc[0], **per_item[code]})
        present = set(mine["dimension"])
        for dimension in [d for d in instrument.dimensions if d in present]:  # in the instrument's order
            group = mine[mine["dimension"] == dimension]
            table = group.pivot_table(index="item", columns="variant", values="score", aggfunc="mean")
            mine_items = [per_item[c] for c in table.index]
            standard_pair = group[group["asking"] == ""]
            balanced = standard_pair.groupby(["item", "order"])["score"].mean().unstack("order")
            corrected = balanced.dropna().mean(axis=1).mean() if {"standard", "reversed"} <= set(balanced.columns) else math.nan
            dims.append({**dict(zip(CONDITION, condition)), "dimension": dimension,
                         "argmax_change_share": float(np.mean([i["argmax_changes"] for i in mine_items])),
                         "mean_abs_delta": float(np.nanmean([i["mean_abs_delta"] for i in mine_items])),
                         "max_abs_delta": float(np.nanmax([i["max_abs_delta"] for i in mine_items])),
                         "var_between_variants": float(table.mean(axis=0).var(ddof=1)) if table.shape[1] > 1 else math.nan,
                         "var_between_items": float(table.mean(axis=1).var(ddof=1)) if table.shape[0] > 1 else math.nan,
                         "score_standard": float(table[""].mean()) if "" in table.columns else math.nan,
                         "score_order_corrected": float(corrected),
                         "score_all_variants": float(table.mean(axis=1).mean()),
                         "order_effect": _mean_or_nan([i["order_effect"] for i in mine_items]),
                         "items": len(table.index), "variants": table.shape[1]})
    return pd.DataFrame(items), pd.DataFrame(dims)


def _mean_or_nan(values) -> float:
    values = [v for v in values if v == v]
    return float(np.mean(values)) if values else math.nan


def sensitivity_rows(frame: pd.DataFrame, instrument) -> list[tuple]:
    """The sensitivity in `probe-tui score`'s long format (rescore.OUTPUT): one row per metric, per
    dimension (target: the dimension) and per item (target: "item CODE", metric item_...)."""
    per_item, per_dimension = sensitivity(frame, instrument)
    rows = []
    for r in per_dimension.itertuples(index=False):
        for metric in DIMENSION_METRICS:
            rows.append((r.model, r.language, r.persona, "", r.dimension, f"sensitivity_{metric}", getattr(r, metric),
                         math.nan, math.nan, math.nan))
    for r in per_item.itertuples(index=False):
        for metric in ITEM_METRICS:
            rows.append((r.model, r.language, r.persona, "", f"item {r.item}", f"sensitivity_item_{metric}", getattr(r, metric),
                         math.nan, math.nan, math.nan))
    return rows


def dimension_line(r, label: str | None = None) -> str:
    """One dimension's sensitivity in one line (the gauge, `run`, `score`)."""
    r = {metric: r.get(metric, math.nan) for metric in DIMENSION_METRICS} | {"dimension": r.get("dimension", "")}

    def fmt(value, digits=2, signed=False):
        return "–" if value != value else (f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}")

    corrected = f"  order-corrected {fmt(r['score_order_corrected'])}" if r["score_order_corrected"] == r["score_order_corrected"] else ""
    return (f"{(label or r['dimension'])[:16]:<16} argmax changes {r['argmax_change_share']:>4.0%}  |ΔE| mean {fmt(r['mean_abs_delta'])} "
            f"max {fmt(r['max_abs_delta'])}  var variants {fmt(r['var_between_variants'], 3)} / items {fmt(r['var_between_items'], 3)}"
            f"{corrected}")


COMPACT_KEY = "Δargmax: items whose argmax changes · |ΔE| mean/max · var: between variants/between items · corr: order-corrected"


def compact_line(r, label: str | None = None) -> str:
    """One dimension's sensitivity in under 70 columns (the gauge screen; COMPACT_KEY says what is what)."""
    def fmt(value, digits=2):
        return "–" if value != value else f"{value:.{digits}f}"

    return (f"{(label or r['dimension'])[:12]:<12} Δargmax {r['argmax_change_share']:>4.0%} |ΔE| {fmt(r['mean_abs_delta'])}/"
            f"{fmt(r['max_abs_delta'])} var {fmt(r['var_between_variants'])}/{fmt(r['var_between_items'])}"
            f" corr {fmt(r['score_order_corrected'])}")


def summary(frame: pd.DataFrame, instrument, variants=()) -> str:
    """The sensitivity of a run in a few lines, with how to read them."""
    per_item, per_dimension = sensitivity(frame, instrument)
    if per_dimension.empty:
        return "No item was answered under two variants or more, so there is no sensitivity to report."
    asked = f"{len(variants)} variants: {', '.join(describe(v) for v in variants)}" if 0 < len(variants) <= 4 else \
        f"{len(variants) or int(per_dimension['variants'].max())} variants, each item asked under every one"
    lines = [f"Sensitivity to the way the question was asked ({asked}):"]
    labels = instrument.dimension_labels()
    for condition, group in per_dimension.groupby(CONDITION, sort=False):
        lines.append(" · ".join(map(str, condition)))
        for _, r in group.iterrows():
            lines.append("  " + dimension_line(r, labels.get(r["dimension"], r["dimension"])))
        effect = _mean_or_nan(group["order_effect"].tolist())
        if effect == effect:
            toward = "the last" if effect > 0 else "the first"
            lines.append(f"  order effect {effect:+.2f} on the scale: answers move towards {toward} option listed "
                         "(0 = they follow the meaning, not the position)")
    flips = per_item[per_item["argmax_changes"] > 0] if not per_item.empty else per_item
    lines.append(f"{len(flips)} of {len(per_item)} item(s) change their most likely option across the variants"
                 + (f"; largest |ΔE[x]| {per_item['max_abs_delta'].max():.2f} (item {per_item.loc[per_item['max_abs_delta'].idxmax(), 'item']})"
                    if len(per_item) else ""))
    return "\n".join(lines)
