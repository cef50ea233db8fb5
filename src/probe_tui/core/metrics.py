"""Distribution -> Score -> Gauge: how close the answers so far are to each country's humans."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

US, CN = "United States", "China"
MIN_DIMENSIONS_FOR_R = 3


@dataclass(frozen=True)
class CountryFit:
    country: str
    profile_r: float | None  # Pearson r over the answered dimensions; None if undefined
    rmse: float | None  # on the instrument's own scale; None when the comparison is scale-free
    n_dimensions: int


@dataclass(frozen=True)
class GaugeReading:
    model_means: dict[str, float]  # dimension -> the model's value (mean score, or VSM index)
    items_answered: int
    fits: dict[str, CountryFit]
    rmse_skew: float | None  # rmse(CN) - rmse(US): > 0 means closer to the US
    r_skew: float | None  # r(US) - r(CN)
    scale_free: bool = False

    @property
    def lean(self) -> str:
        """Which of US/CN the answers sit closer to: by RMSE (defined from the first answer), or by
        profile correlation where the comparison is scale-free."""
        skew = self.r_skew if self.scale_free else self.rmse_skew
        if skew is None or skew == 0:
            return "neither"
        return US if skew > 0 else CN

    @property
    def lean_by(self) -> str:
        return "profile r" if self.scale_free else "RMSE"


def dimension_means(scores: list[tuple[str, float]]) -> dict[str, float]:
    """Mean score per dimension from (dimension, score) pairs."""
    frame = pd.DataFrame(scores, columns=["dimension", "score"])
    return frame.groupby("dimension", sort=False)["score"].mean().to_dict()


def country_fit(model_means: dict[str, float], country: str, human: pd.Series, scale_free: bool = False) -> CountryFit:
    dims = [d for d in model_means if d in human.index and not math.isnan(human[d])]
    model = np.array([model_means[d] for d in dims], dtype=float)
    people = human[dims].to_numpy(dtype=float)
    rmse = None if scale_free or not dims else float(np.sqrt(np.mean((model - people) ** 2)))
    r = None
    if len(dims) >= MIN_DIMENSIONS_FOR_R and np.ptp(model) > 0 and np.ptp(people) > 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = float(stats.pearsonr(model, people).statistic)
    return CountryFit(country=country, profile_r=r, rmse=rmse, n_dimensions=len(dims))


def read_gauge(
    model_means: dict[str, float], baselines: pd.DataFrame, dimensions, items_answered: int,
    countries=(US, CN), scale_free: bool = False,
) -> GaugeReading | None:
    """Compare the model's profile so far with each country's human figures."""
    ordered = {d: model_means[d] for d in dimensions if d in model_means}
    if not ordered:
        return None
    fits = {c: country_fit(ordered, c, baselines.loc[c, list(dimensions)].astype(float), scale_free) for c in countries}
    rmse_skew = r_skew = None
    if US in fits and CN in fits:
        if fits[US].rmse is not None and fits[CN].rmse is not None:
            rmse_skew = fits[CN].rmse - fits[US].rmse
        if fits[US].profile_r is not None and fits[CN].profile_r is not None:
            r_skew = fits[US].profile_r - fits[CN].profile_r
    return GaugeReading(model_means=ordered, items_answered=items_answered, fits=fits, rmse_skew=rmse_skew, r_skew=r_skew, scale_free=scale_free)
