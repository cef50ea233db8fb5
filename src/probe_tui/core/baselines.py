"""Human baselines: published country means, shipped in assets/baselines with their sources."""

from __future__ import annotations

from functools import cache

import pandas as pd

from . import paths

MFQ2_FILE = "mfq2_foundation_country_means.csv"


@cache
def mfq2_country_means() -> pd.DataFrame:
    """One row per country (index), one column per foundation, plus n, source and *_se columns."""
    frame = pd.read_csv(paths.assets_dir() / "baselines" / MFQ2_FILE)
    return frame.set_index("country")


def country_profile(instrument: str, country: str, dimensions) -> pd.Series:
    if instrument != "mfq2":
        raise KeyError(f"no baseline for instrument {instrument!r} yet")
    return mfq2_country_means().loc[country, list(dimensions)].astype(float)
