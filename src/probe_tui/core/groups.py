"""User-supplied baselines for demographic groups (seed 003's subgroup work).

A CSV, in <user_data_dir>/baselines/ or given with --groups, with columns:
  group        a name, e.g. "Singapore, Malay, 18–29"
  persona      the persona that stands for the group, e.g. subgroup:country=singapore,ethnicity=malay,age=18-29
  instrument   mfq2, wvs or vsm2013
  item_id      the item's code ("1", "Q182", "VSM07") or id ("mfq2_01")
  mean         the group's mean answer (optional if distribution is given)
  distribution a JSON object label -> share, e.g. {"1": 0.1, "2": 0.2, ...} (optional if mean is given)
assets/baselines/example_group_baseline.csv shows the format (its numbers are made up).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import paths
from .errors import ProbeError
from .metrics import js_similarity, modal_accuracy, normalised_mae, normalised_wasserstein

COLUMNS = ["group", "persona", "instrument", "item_id"]


def user_groups_dir() -> Path:
    return paths.user_data_dir() / "baselines"


def read_group_baselines(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype={"item_id": str}, encoding="utf-8-sig")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ProbeError(f"cannot read group baseline {path}: {exc}") from None
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing or not ({"mean", "distribution"} & set(frame.columns)):
        raise ProbeError(f"{path}: needs columns {', '.join(COLUMNS)} and mean and/or distribution; missing: {', '.join(missing) or 'mean/distribution'}")
    frame = frame.reindex(columns=COLUMNS + ["mean", "distribution"])
    for line, text in zip(frame.index + 2, frame["distribution"]):
        if isinstance(text, str) and text.strip():
            try:
                shares = json.loads(text)
                assert isinstance(shares, dict) and all(float(v) >= 0 for v in shares.values())
            except (ValueError, AssertionError, TypeError):
                raise ProbeError(f"{path}:{line}: distribution: expected a JSON object label -> share") from None
    frame["source_file"] = str(path)
    return frame


def load_group_baselines(extra: Path | None = None) -> pd.DataFrame:
    files = sorted(user_groups_dir().glob("*.csv")) if user_groups_dir().is_dir() else []
    files += [extra] if extra else []
    frames = [read_group_baselines(f) for f in files]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS + ["mean", "distribution"])


def groups_for(instrument, persona: str, frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The group baselines standing for this persona on this instrument, by group name, with each
    row's item_code resolved."""
    rows = frame[(frame["instrument"] == instrument.key) & (frame["persona"] == persona)].copy()
    if rows.empty:
        return {}
    items = [instrument.find_item(key) for key in rows["item_id"]]
    unknown = [key for key, item in zip(rows["item_id"], items) if item is None]
    if unknown:
        raise ProbeError(f"group baseline: unknown item id(s) for {instrument.key}: {', '.join(map(str, unknown[:5]))}")
    rows["item_code"] = [item.code for item in items]
    return {name: group for name, group in rows.groupby("group")}


@dataclass(frozen=True)
class ModelAnswer:
    code: str
    expected: float
    answer: str  # argmax label
    probs: dict[str, float] | None  # the model's distribution, where known


def compare_to_group(answers: list[ModelAnswer], rows: pd.DataFrame, labels: tuple[str, ...]) -> dict[str, float | None]:
    """Modal-answer accuracy and normalised MAE (and, where both sides have distributions,
    mean 1 − JS distance and mean normalised W1) of the model against one group."""
    by_code = {a.code: a for a in answers}
    rows = rows[rows["item_code"].isin(by_code)]
    group_means = {r.item_code: float(r.mean) for r in rows.itertuples() if pd.notna(r.mean)}
    group_modes, js, w1 = {}, [], []
    for r in rows.itertuples():
        if isinstance(r.distribution, str) and r.distribution.strip():
            shares = {str(k): float(v) for k, v in json.loads(r.distribution).items()}
            total = sum(shares.values())
            group = np.array([shares.get(label, 0.0) / total for label in labels])
            group_modes[r.item_code] = labels[int(np.argmax(group))]
            group_means.setdefault(r.item_code, float(np.dot(group, np.arange(1, len(labels) + 1))))
            model = by_code[r.item_code].probs
            if model:
                p = np.array([model.get(label, 0.0) for label in labels])
                js.append(js_similarity(p, group))
                w1.append(normalised_wasserstein(p, group))
    model_means = {code: a.expected for code, a in by_code.items()}
    return {
        "modal_accuracy": modal_accuracy({c: a.answer for c, a in by_code.items()}, group_modes),
        "nmae": normalised_mae(model_means, group_means, 1, len(labels)),
        "js_similarity": float(np.mean(js)) if js else None,
        "wasserstein": float(np.mean(w1)) if w1 else None,
        "items": len(rows),
    }
