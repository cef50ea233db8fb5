"""Human baselines: published country figures, shipped in assets/baselines with their sources
(see assets/baselines/README.md). Every table is canonical country × the instrument's dimensions."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pandas as pd

from . import paths
from .countries import canonical
from .errors import ProbeError

SOURCES = {
    "mfq2": "Atari et al. 2023 (JPSP, Study 2); US and China: Haslett et al. 2025 human sample",
    "wvs": "World Values Survey wave 7 (Haerpfer et al. 2022), via Mohammadi et al.'s country scores",
    "vsm2013": "Hofstede 6-D country scores, vintage 2015-08-16 (geerthofstede.com)",
}


@dataclass(frozen=True)
class Baseline:
    instrument: str
    table: pd.DataFrame  # index: canonical country; columns: the instrument's dimensions
    source: str
    scale_free: bool  # True: compare by profile correlation only (VSM indices with a free constant)


def _read(name: str) -> pd.DataFrame:
    frame = pd.read_csv(paths.assets_dir() / "baselines" / name)
    frame["country"] = frame["country"].map(canonical)
    return frame.set_index("country")


@cache
def mfq2_country_means() -> pd.DataFrame:
    """MFQ-2 foundation means: one row per country, plus n, source and *_se columns."""
    return _read("mfq2_foundation_country_means.csv")


@cache
def baseline(instrument: str) -> Baseline:
    if instrument == "mfq2":
        frame = mfq2_country_means()
        return Baseline("mfq2", frame[["care", "equality", "proportionality", "loyalty", "authority", "purity"]], SOURCES["mfq2"], False)
    if instrument == "wvs":
        return Baseline("wvs", _read("wvs7_justifiability_q177_q195_country_means.csv"), SOURCES["wvs"], False)
    if instrument == "vsm2013":
        frame = _read("hofstede_6d_country_scores_2015.csv").drop(columns=["code"])
        return Baseline("vsm2013", frame, SOURCES["vsm2013"], True)
    raise ProbeError(f"no human baseline for instrument {instrument!r}")


def has_baseline(instrument: str) -> bool:
    return instrument in SOURCES
