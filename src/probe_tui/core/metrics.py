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
    rmse: float  # on the instrument's own scale
    n_dimensions: int


@dataclass(frozen=True)
class GaugeReading:
    model_means: dict[str, float]  # dimension -> mean expected answer over the items answered
    items_answered: int
    fits: dict[str, CountryFit]
    rmse_skew: float | None  # rmse(CN) - rmse(US): > 0 means closer to the US
    r_skew: float | None  # r(US) - r(CN)

    @property
    def lean(self) -> str:
        """Which of US/CN the answers sit closer to, by RMSE (defined from the first answer)."""
        if self.rmse_skew is None or self.rmse_skew == 0:
            return "neither"
        return US if self.rmse_skew > 0 else CN


def dimension_means(scores: list[tuple[str, float]]) -> dict[str, float]:
    """Mean score per dimension from (dimension, score) pairs."""
    frame = pd.DataFrame(scores, columns=["dimension", "score"])
    return frame.groupby("dimension", sort=False)["score"].mean().to_dict()


def country_fit(model_means: dict[str, float], country: str, human: pd.Series) -> CountryFit:
    dims = [d for d in model_means if d in human.index and not math.isnan(human[d])]
    model = np.array([model_means[d] for d in dims], dtype=float)
    people = human[dims].to_numpy(dtype=float)
    rmse = float(np.sqrt(np.mean((model - people) ** 2)))
    r = None
    if len(dims) >= MIN_DIMENSIONS_FOR_R and np.ptp(model) > 0 and np.ptp(people) > 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = float(stats.pearsonr(model, people).statistic)
    return CountryFit(country=country, profile_r=r, rmse=rmse, n_dimensions=len(dims))


def read_gauge(
    scores: list[tuple[str, float]], baselines: pd.DataFrame, dimensions, countries=(US, CN)
) -> GaugeReading | None:
    """Compare the answers so far ((dimension, expected value) pairs) with each country's means."""
    if not scores:
        return None
    means = dimension_means(scores)
    ordered = {d: means[d] for d in dimensions if d in means}
    fits = {c: country_fit(ordered, c, baselines.loc[c, list(dimensions)].astype(float)) for c in countries}
    rmse_skew = r_skew = None
    if US in fits and CN in fits:
        rmse_skew = fits[CN].rmse - fits[US].rmse
        if fits[US].profile_r is not None and fits[CN].profile_r is not None:
            r_skew = fits[US].profile_r - fits[CN].profile_r
    return GaugeReading(model_means=ordered, items_answered=len(scores), fits=fits, rmse_skew=rmse_skew, r_skew=r_skew)
