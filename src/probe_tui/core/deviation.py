"""Seed 001's country alignment for VSM 2013: the model's six indices per target country against
Hofstede's published scores, summarised by the deviation ratio (Sukiennik et al. 2025).

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

from .profiles import VSM_FORMULAS, vsm_indices

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
    from .errors import ProbeError

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
