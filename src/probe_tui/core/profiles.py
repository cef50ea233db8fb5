"""Scores -> the model's profile on an instrument's dimensions, comparable with the baselines."""

from __future__ import annotations

import pandas as pd

# Instruments whose profile is a set of indices, each computed from whole items (not item means).
INDEX_SCORED = frozenset({"vsm2013"})

# VSM 2013 Manual (Hofstede & Minkov 2013): index = sum of weight × (mean of item a − mean of item b) + C
VSM_FORMULAS: dict[str, list[tuple[float, str, str]]] = {
    "pdi": [(35, "VSM07", "VSM02"), (25, "VSM20", "VSM23")],
    "idv": [(35, "VSM04", "VSM01"), (35, "VSM09", "VSM06")],
    "mas": [(35, "VSM05", "VSM03"), (35, "VSM08", "VSM10")],
    "uai": [(40, "VSM18", "VSM15"), (25, "VSM21", "VSM24")],
    "lto": [(40, "VSM13", "VSM14"), (25, "VSM19", "VSM22")],
    "ivr": [(35, "VSM12", "VSM11"), (40, "VSM17", "VSM16")],
}


def vsm_indices(item_means: dict[str, float], constant: float | dict[str, float] = 0.0) -> dict[str, float]:
    """The six VSM 2013 indices from mean answers per item code; an index needs all four of its
    items. constant: one C for every index, or C per index."""
    indices = {}
    for index, terms in VSM_FORMULAS.items():
        if all(a in item_means and b in item_means for _, a, b in terms):
            c = constant.get(index, 0.0) if isinstance(constant, dict) else constant
            indices[index] = sum(w * (item_means[a] - item_means[b]) for w, a, b in terms) + c
    return indices


def vsm_missing(answered) -> dict[str, list[str]]:
    """index -> the items it lacks among those answered (item codes), for the indices lacking any."""
    have = set(answered)
    missing = {index: [code for code in dict.fromkeys(c for _, a, b in terms for c in (a, b)) if code not in have]
               for index, terms in VSM_FORMULAS.items()}
    return {index: codes for index, codes in missing.items() if codes}


def describe_vsm_missing(missing: dict[str, list[str]]) -> str:
    """One line: what each incomplete index lacks."""
    lacks = "; ".join(f"{index.upper()} lacks {', '.join(codes)}" for index, codes in missing.items())
    return f"VSM indices need all 4 items of a dimension: {lacks}"


def model_profile(instrument: str, scored: list[tuple[str, str, float]], vsm_constant: float | dict[str, float] = 0.0) -> dict[str, float]:
    """scored: (item code, dimension, score) per answered item. MFQ-2 and WVS: the mean score per
    dimension; VSM 2013: the indices computable from the item means."""
    if not scored:
        return {}
    frame = pd.DataFrame(scored, columns=["code", "dimension", "score"])
    if instrument == "vsm2013":
        return vsm_indices(frame.groupby("code")["score"].mean().to_dict(), vsm_constant)
    return frame.groupby("dimension", sort=False)["score"].mean().to_dict()
