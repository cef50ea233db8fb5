"""User-supplied baselines for demographic groups (seed 003's subgroup work).

A CSV, in <user_data_dir>/baselines/ or given with --groups, with columns:
  group        a name, e.g. "Singapore, Malay, 18–29"
  persona      the persona that stands for the group, e.g. subgroup:country=singapore,ethnicity=malay,age=18-29
  instrument   the key of a survey instrument (e.g. one of the shipped ones, or your own)
  item_id      the item's code ("1", "Q182", "VSM07") or id ("mfq2_01")
  mean         the group's mean answer (optional if distribution is given)
  distribution a JSON object label -> share, e.g. {"1": 0.1, "2": 0.2, ...} (optional if mean is given)
assets/baselines/example_group_baseline.csv shows the format (its numbers are made up).
"""

from __future__ import annotations

import json
import warnings
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


def _shares(text, where: str) -> dict[str, float]:
    """A distribution cell: a JSON object label -> share, finite and non-negative, not all zero."""
    try:
        shares = {str(label): float(share) for label, share in json.loads(text).items()}
    except (ValueError, TypeError, AttributeError, RecursionError):
        raise ProbeError(f"{where}: distribution: expected a JSON object label -> share") from None
    if not all(np.isfinite(v) and v >= 0 for v in shares.values()) or not sum(shares.values()) > 0:
        raise ProbeError(f"{where}: distribution: shares must be finite, non-negative and not all zero")
    return shares


def read_group_baselines(path: Path) -> pd.DataFrame:
    """One group-baseline CSV, every row checked; errors say file:line:column."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)  # a row longer than the header
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, index_col=False, encoding="utf-8-sig")
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserWarning) as exc:
        raise ProbeError(f"cannot read group baseline {path}: {exc}") from None
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing or not ({"mean", "distribution"} & set(frame.columns)):
        raise ProbeError(f"{path}: needs columns {', '.join(COLUMNS)} and mean and/or distribution; missing: {', '.join(missing) or 'mean/distribution'}")
    extra = [c for c in frame.columns if c not in COLUMNS + ["mean", "distribution"]]  # n, mode, level, attributes
    frame = frame.reindex(columns=COLUMNS + ["mean", "distribution"] + extra, fill_value="").fillna("").reset_index(drop=True)
    means = []
    for line, mean, text in zip(frame.index + 2, frame["mean"], frame["distribution"]):
        where = f"{path}:{line}"
        try:
            means.append(float(mean) if mean.strip() else np.nan)
        except ValueError:
            raise ProbeError(f"{where}: mean: expected a number, got {mean[:40]!r}") from None
        if mean.strip() and not np.isfinite(means[-1]):
            raise ProbeError(f"{where}: mean: expected a finite number, got {mean[:40]!r}")
        if text.strip():
            _shares(text, where)
        elif not mean.strip():
            raise ProbeError(f"{where}: needs a mean or a distribution")
    frame["mean"] = means
    frame["baseline"] = path.stem
    frame["source_file"] = str(path)
    frame["source_line"] = frame.index + 2
    return frame


def load_group_baselines(extra: Path | None = None) -> pd.DataFrame:
    """The user's group baselines, and `extra` (--groups). A bad file in the user's folder is skipped
    and its problem listed in the frame's attrs["problems"]; a bad `extra` file is an error."""
    frames, problems = [], []
    for path in sorted(user_groups_dir().glob("*.csv")) if user_groups_dir().is_dir() else []:
        try:
            frames.append(read_group_baselines(path))
        except ProbeError as exc:
            problems.append(str(exc))
    if extra:
        frames.append(read_group_baselines(extra))
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS + ["mean", "distribution"])
    frame.attrs["problems"] = problems
    return frame


def persona_match_key(persona: str) -> str:
    """One key for a persona however its subgroup attributes are ordered (subgroup:sex=female,age=18-29
    is subgroup:age=18-29,sex=female), and a subgroup of a country alone is that country's persona."""
    kind, _, rest = str(persona).partition(":")
    if kind == "country" and rest:
        rest = "country=" + rest
    elif kind != "subgroup":
        return persona
    parts = sorted(p.strip() for p in rest.split(",") if p.strip())
    if len(parts) == 1 and parts[0].startswith("country="):
        from .personas import national_persona

        try:
            return national_persona(parts[0].partition("=")[2]).key
        except ProbeError:
            return persona
    return "subgroup:" + ",".join(parts)


def groups_for(instrument, persona: str, frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The group baselines standing for this persona on this instrument, by group name (with its
    baseline's name where several baselines have a group of that name), with each row's item_code
    resolved."""
    if frame.empty:
        return {}
    wanted = persona_match_key(persona)
    rows = frame[(frame["instrument"] == instrument.key) & (frame["persona"].map(persona_match_key) == wanted)].copy()
    if rows.empty:
        return {}
    items = [instrument.find_item(key) for key in rows["item_id"]]
    unknown = [f"{row.source_file}:{row.source_line}: item_id {row.item_id!r}" for row, item in zip(rows.itertuples(), items) if item is None]
    if unknown:
        raise ProbeError(f"group baseline: unknown item id(s) for {instrument.key}: {'; '.join(unknown[:5])}")
    rows["item_code"] = [item.code for item in items]
    source = rows["baseline"] if "baseline" in rows else pd.Series("", index=rows.index)
    several = rows.groupby("group")[source.name].nunique() > 1 if "baseline" in rows else pd.Series(dtype=bool)
    names = [f"{g} ({b})" if several.get(g, False) else g for g, b in zip(rows["group"], source)]
    return {name: group for name, group in rows.assign(_name=names).groupby("_name")}


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
            shares = _shares(r.distribution, f"{r.source_file}:{r.source_line}")
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


# --- distributions against every country (or group) of a baseline ----------------------------------

def distribution_baselines(instrument, frame: pd.DataFrame, level: str = "country") -> list[str]:
    """The baselines (by name) holding answer distributions for this instrument's items at this level
    (country groups, or subgroups), in name order."""
    if frame.empty or "level" not in frame:
        return []
    rows = frame[(frame["instrument"] == instrument.key) & (frame["level"] == level) & (frame["distribution"].str.strip() != "")]
    return sorted(rows["baseline"].unique())


def distribution_fits(answers: list[ModelAnswer], frame: pd.DataFrame, instrument, baseline: str, level: str = "country") -> pd.DataFrame:
    """Per item and group of one baseline: 1 − JS distance and normalised W1 between the model's
    answer distribution and the group's (columns group, item_code, js_similarity, wasserstein)."""
    labels = tuple(instrument.scale.labels)
    model = {a.code: np.array([a.probs.get(label, 0.0) for label in labels]) for a in answers if a.probs}
    rows = frame[(frame["instrument"] == instrument.key) & (frame["baseline"] == baseline) & (frame["level"] == level)
                 & (frame["distribution"].str.strip() != "")]
    fits = []
    for r in rows.itertuples():
        item = instrument.find_item(r.item_id)
        if item is None or item.code not in model:
            continue
        shares = _shares(r.distribution, f"{r.source_file}:{r.source_line}")
        total = sum(shares.values())
        human = np.array([shares.get(label, 0.0) / total for label in labels])
        fits.append((r.group, item.code, js_similarity(model[item.code], human), normalised_wasserstein(model[item.code], human)))
    return pd.DataFrame(fits, columns=["group", "item_code", "js_similarity", "wasserstein"])


def nearest_by_distribution(fits: pd.DataFrame) -> pd.DataFrame:
    """Groups nearest first by mean 1 − JSD over the items both have (ties: by mean W1): columns group,
    js_similarity, wasserstein, items."""
    if fits.empty:
        return pd.DataFrame(columns=["group", "js_similarity", "wasserstein", "items"])
    means = fits.groupby("group").agg(js_similarity=("js_similarity", "mean"), wasserstein=("wasserstein", "mean"),
                                      items=("item_code", "size")).reset_index()
    return means.sort_values(["js_similarity", "wasserstein"], ascending=[False, True]).reset_index(drop=True)


# --- the baselines in the data directory (`probe-tui baselines`) -------------------------------------

def provenance_of(path: Path) -> dict:
    """The <name>.json beside a baseline CSV ({} when there is none or it cannot be read)."""
    try:
        return json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def list_baselines() -> list[dict]:
    """Each group baseline in the data directory: name, source, coverage and its problem if unreadable."""
    found = []
    folder = user_groups_dir()
    for path in sorted(folder.glob("*.csv")) if folder.is_dir() else []:
        info = provenance_of(path)
        entry = {"name": path.stem, "path": str(path), "source": _source_line(info), "built": info.get("built", "")}
        try:
            frame = read_group_baselines(path)
        except ProbeError as exc:
            found.append(entry | {"problem": str(exc)})
            continue
        with_persona = frame[frame["persona"].str.strip() != ""]
        entry |= {"instruments": sorted(frame["instrument"].unique()), "groups": frame["group"].nunique(),
                  "with_persona": with_persona["group"].nunique(), "items": frame["item_id"].nunique(),
                  "distributions": int((frame["distribution"].str.strip() != "").sum()), "rows": len(frame),
                  "levels": sorted(set(frame["level"]) - {""}) if "level" in frame else []}
        found.append(entry)
    return found


def _source_line(info: dict) -> str:
    if not info:
        return "no provenance file (a hand-made baseline)"
    weight = info.get("weight", "")
    return (f"{info.get('kind', '?')}: {info.get('file', '?')} (sha256 {str(info.get('sha256', ''))[:12]}…), wave {info.get('wave', '?')}, "
            f"weight {weight}")
