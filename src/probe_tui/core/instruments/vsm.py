"""VSM 2013 (Hofstede & Minkov): Likert items scored by index formulas, and seed 001's country
alignment by the deviation ratio.

Each index is a weighted sum of differences between item means plus a constant C, so it needs all
four of its items, and the model is compared with Hofstede's scores scale-free (by profile r).

Seed 001's country alignment: the model's six indices per target country against Hofstede's
published scores, summarised by the deviation ratio (Sukiennik et al. 2025).

    DR_c = mean_d |GT_c,d − mean_c' GT_c',d| / mean_d |M_c,d − GT_c,d|

DR > 1: the model captures country c better than one "global average" answer would. The VSM
constant C_d decides where M sits against GT. By default ("centred") C_d makes the mean of M over
the evaluated countries equal the mean of GT over them, so a model that answers the same for every
country scores DR = 1 exactly. "fixed" uses given constants instead.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import rescore
from ..countries import canonical
from ..errors import ProbeError
from .base import register_kind
from .likert import LikertInstrument

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


DIMENSIONS = tuple(VSM_FORMULAS)
CENTRED, FIXED = "centred", "fixed"
MIN_CENTRED_COUNTRIES = 5  # centred constants are fitted to the countries compared: under 5, little is left


def centring_warning(convention: str, n_countries: int) -> str | None:
    """Why a centred DR over so few countries means little; None when it is not so."""
    if convention != CENTRED or n_countries >= MIN_CENTRED_COUNTRIES:
        return None
    same = " (with 2, both countries get the same DR by construction)" if n_countries == 2 else ""
    return (f"warning: the centred VSM constants are fitted to these {n_countries} countries themselves, so their DR "
            f"means little{same}; compare {MIN_CENTRED_COUNTRIES} or more countries, or fix the constants with --vsm-constant")


@dataclass(frozen=True)
class CountryAlignment:
    indices: pd.DataFrame  # country × dimension: the model's M, constants applied
    truth: pd.DataFrame  # country × dimension: Hofstede's scores, same countries
    deviation_ratio: pd.Series  # country -> DR
    correlation: pd.Series  # dimension -> Pearson r of M with GT across countries (NaN under 3 countries)
    convention: str  # CENTRED or FIXED
    constants: dict[str, float]  # the C_d used

    @property
    def mean_deviation_ratio(self) -> float:
        finite = self.deviation_ratio[np.isfinite(self.deviation_ratio)]
        return float(finite.mean()) if len(finite) else float("nan")

    def describe_convention(self) -> str:
        values = ", ".join(f"{d}={c:+.1f}" for d, c in self.constants.items())
        if self.convention == CENTRED:
            return f"centred: C_d sets the mean of M over the {len(self.indices)} countries to Hofstede's mean ({values})"
        return f"fixed constants ({values})"


def raw_indices(item_means: dict[str, dict[str, float]]) -> pd.DataFrame:
    """country -> {item code: mean answer} -> country × dimension indices with C = 0. Countries
    lacking any of the 24 items are left out: each index needs all four of its items."""
    rows = {country: vsm_indices(means) for country, means in item_means.items()}
    rows = {country: values for country, values in rows.items() if len(values) == len(DIMENSIONS)}
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(DIMENSIONS)).astype(float)


def align_countries(raw: pd.DataFrame, truth: pd.DataFrame, constants: dict[str, float] | None = None) -> CountryAlignment | None:
    """raw: country × dimension with C = 0 (from raw_indices); truth: Hofstede's table. constants:
    None for the centred convention, else C per dimension. None when no country can be compared."""
    countries = [c for c in raw.index if c in truth.index and truth.loc[c, list(DIMENSIONS)].notna().all()]
    if not countries:
        return None
    raw = raw.loc[countries, list(DIMENSIONS)]
    gt = truth.loc[countries, list(DIMENSIONS)].astype(float)
    if constants is None:
        convention, offsets = CENTRED, gt.mean() - raw.mean()
    else:
        convention, offsets = FIXED, pd.Series({d: float(constants.get(d, 0.0)) for d in DIMENSIONS})
    model = raw + offsets
    global_gap = (gt - gt.mean()).abs().mean(axis=1)
    model_gap = (model - gt).abs().mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = global_gap / model_gap
    correlation = pd.Series({d: _pearson(model[d], gt[d]) for d in DIMENSIONS})
    return CountryAlignment(model, gt, ratio.rename("deviation_ratio"), correlation, convention,
                            {d: float(offsets[d]) for d in DIMENSIONS})


def _pearson(x: pd.Series, y: pd.Series) -> float:
    if len(x) < 3 or x.nunique() < 2 or y.nunique() < 2:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(np.corrcoef(x.to_numpy(float), y.to_numpy(float))[0, 1])


def parse_constants(text: str | None) -> dict[str, float] | None:
    """--vsm-constant: None (centred), one number for every dimension, or pdi=…,idv=…"""
    if text is None or str(text).strip() == "":
        return None
    text = str(text).strip()
    try:
        if "=" not in text:
            return {d: float(text) for d in DIMENSIONS}
        constants = {d: 0.0 for d in DIMENSIONS}
        for part in text.split(","):
            key, _, value = part.partition("=")
            if key.strip() not in constants:
                raise ProbeError(f"--vsm-constant: unknown dimension {key.strip()!r}; use {', '.join(DIMENSIONS)}")
            constants[key.strip()] = float(value)
        return constants
    except ValueError:
        raise ProbeError(f"--vsm-constant expects a number or pdi=N,idv=N,...; got {text!r}") from None

# --- `probe-tui score` of a country sweep: a `country` column ------------------------------------

# Per target country, the model's indices, Hofstede's and the deviation ratio; per dimension, the
# across-country r and the constant used. These rows add `condition` (the sweep's aligned/en/zh);
# `question` holds the VSM-constant convention.
ALIGNMENT_OUTPUT = rescore.CONDITION + ["condition"] + rescore.OUTPUT[len(rescore.CONDITION):]
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


@register_kind("vsm-indices")
class VsmInstrument(LikertInstrument):
    countries_view = True

    def profile(self, scores, constant: float | dict[str, float] = 0.0) -> dict[str, float]:
        """item code -> (dimension, score) -> the indices computable from the item means."""
        return vsm_indices({code: score for code, (_, score) in scores.items()}, constant)

    def missing_items(self, answered) -> dict[str, list[str]]:
        """Each index needs all four of its items."""
        return vsm_missing(answered)

    def missing_note(self, missing: dict[str, list[str]]) -> str | None:
        return describe_vsm_missing(missing) if missing else None

    def interval_note(self, answered: int) -> str | None:
        return "no intervals: each VSM index needs all four of its items, so items cannot be resampled"

    def score_responses(self, frame: pd.DataFrame, path="responses", n_resamples: int = 1000,
                        vsm_constant=None, groups=None, **_) -> pd.DataFrame:
        scores = super().score_responses(frame, path, n_resamples, vsm_constant, groups)
        if "country" in frame.columns:
            scores = pd.concat([scores, self.alignment_rows(frame, path, vsm_constant)], ignore_index=True)
            scores = scores[ALIGNMENT_OUTPUT].fillna({"condition": ""})
        return scores

    def summary(self, scores: pd.DataFrame) -> str:
        lines = []
        if (scores["metric"] == "deviation_ratio").any():
            lines.append(alignment_summary(scores))
            scores = scores[~scores["metric"].isin(ALIGNMENT_METRICS) & ~scores["metric"].str.match(r"(index|hofstede)_")]
        rest = super().summary(scores)
        return "\n".join(lines + ([rest] if rest else []))

    def alignment_from_rows(self, frame: pd.DataFrame, value_column: str = "response", constants: dict[str, float] | None = None):
        """Rows with country, item_id and a numeric answer -> the CountryAlignment of their countries."""
        frame = frame.assign(code=frame["item_id"].map(lambda key: getattr(self.find_item(str(key).strip()), "code", None)),
                             value=pd.to_numeric(frame[value_column], errors="coerce"),
                             country=frame["country"].map(lambda name: canonical(str(name))))
        means = frame.dropna(subset=["code", "value"]).groupby(["country", "code"])["value"].mean()
        item_means = {country: group.droplevel(0).to_dict() for country, group in means.groupby(level=0)}
        return align_countries(raw_indices(item_means), self.baseline().table, constants)


    def alignment_rows(self, frame: pd.DataFrame, path, constants) -> pd.DataFrame:
        if "response" not in frame.columns and "expected" in frame.columns:
            frame = frame.assign(response=frame["expected"])
        rescore.require_columns(frame, ["model", "country", "item_id", "response"], path)
        by = ["model"] + (["condition"] if "condition" in frame.columns else [])
        rows = []
        frame = frame.assign(country=frame["country"].map(lambda name: canonical(str(name))))
        for key, group in frame.groupby(by, sort=False):
            key = key if isinstance(key, tuple) else (key,)
            alignment = self.alignment_from_rows(group, "response", constants)
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
