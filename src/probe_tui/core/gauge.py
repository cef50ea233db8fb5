"""The running gauge engine: one scored answer at a time, separate tracks per condition.

Each track keeps its items' scores; the instrument turns them into its profile (means per
dimension, or VSM indices) and says what is missing, so the engine never knows an instrument by
name. The TUI, `probe-tui run` and `probe-tui score` all read their figures from here.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .baselines import Baseline
from .lean import N_RESAMPLES, Interval, percentile_interval
from .metrics import CN, US, GaugeReading, rank_countries, read_gauge


@dataclass
class Track:
    scores: dict[str, tuple[str, float]] = field(default_factory=dict)  # item code -> (dimension, score)
    variants: dict[str, tuple[float, ...]] = field(default_factory=dict)  # item code -> its score under each variant asked

    def add(self, code: str, dimension: str, score: float) -> None:
        self.scores[code] = (dimension, score)  # a re-asked item replaces its earlier score


class GaugeEngine:
    def __init__(self, instrument, baseline: Baseline | None, vsm_constant: float | dict[str, float] = 0.0):
        """instrument: the Instrument whose profile, missing items and notes the engine asks for."""
        self.instrument = instrument
        self.dimensions = tuple(instrument.dimensions)
        self.baseline = baseline
        self.vsm_constant = vsm_constant
        self.tracks: dict[object, Track] = defaultdict(Track)

    def add(self, track, code: str, dimension: str, score: float) -> None:
        self.tracks[track].add(code, dimension, score)

    def add_variants(self, track, code: str, scores) -> None:
        """The item's (keyed) score under each variant it was asked under: the bootstrap draws them too."""
        self.tracks[track].variants[code] = tuple(float(s) for s in scores)

    def profile(self, track) -> dict[str, float]:
        t = self.tracks.get(track)
        return self.instrument.profile(t.scores, self.vsm_constant) if t is not None else {}

    def missing_items(self, track) -> dict[str, list[str]]:
        """dimension -> the items it still needs before it has a value (VSM 2013: each index needs
        all four of its items); empty when nothing is missing."""
        t = self.tracks.get(track)
        return self.instrument.missing_items(t.scores if t else ())

    def missing_note(self, track) -> str | None:
        """missing_items in one line, or None."""
        return self.instrument.missing_note(self.missing_items(track))

    def interval_note(self, track) -> str | None:
        """Why the track's ranking has no bootstrap intervals; None when it has them."""
        return self.instrument.interval_note(len(self.tracks[track].scores) if track in self.tracks else 0)

    def reading(self, track, countries=(US, CN), interval: bool = True, n_resamples: int = N_RESAMPLES) -> GaugeReading | None:
        """interval: with the bootstrap interval of the lean (core/lean.py), from n_resamples."""
        if self.baseline is None or track not in self.tracks:
            return None
        reading = read_gauge(self.profile(track), self.baseline.table, self.dimensions, len(self.tracks[track].scores),
                             countries=countries, scale_free=self.baseline.scale_free)
        if reading is not None and interval:
            reading = replace(reading, lean_interval=self.lean_interval(track, reading, n_resamples))
        return reading

    def _with_variants(self, track) -> bool:
        t = self.tracks[track]
        return any(len(t.variants.get(code, ())) > 1 for code in t.scores)

    def lean_interval(self, track, reading: GaugeReading, n_resamples: int = N_RESAMPLES) -> Interval:
        """The bootstrap interval of the lean's skew (items resampled, and each item's variants)."""
        note = self.interval_note(track) or (None if n_resamples else "no bootstrap asked for")
        if note is not None:
            return Interval(reading.skew, note=note)
        samples = self.bootstrap(track, n_resamples)
        if samples is None:
            return Interval(reading.skew, note="no resamples")
        index = {c: i for i, c in enumerate(samples["countries"])}
        if reading.scale_free:
            skews = samples["profile_r"][:, index[US]] - samples["profile_r"][:, index[CN]]
        else:
            skews = samples["rmse"][:, index[CN]] - samples["rmse"][:, index[US]]
        return percentile_interval(skews, reading.skew, n_resamples, self._with_variants(track))

    def nearest_interval(self, track, n_resamples: int = N_RESAMPLES) -> tuple[list[str], Interval]:
        """The two nearest countries and the interval of how much nearer the first is than the
        second (RMSE(2nd) − RMSE(1st), or r(1st) − r(2nd) scale-free): it is clearly nearest only
        when the interval excludes 0."""
        ranking = self.ranking(track)
        top = ranking["country"].head(2).tolist()
        if len(top) < 2:
            return top, Interval(None, note="fewer than two countries to compare")
        metric = "profile_r" if self.baseline.scale_free else "rmse"
        first, second = (float(ranking[metric].iloc[i]) for i in (0, 1))
        gap = first - second if self.baseline.scale_free else second - first
        note = self.interval_note(track) or (None if n_resamples else "no bootstrap asked for")
        if note is not None:
            return top, Interval(gap, note=note)
        samples = self.bootstrap(track, n_resamples)
        if samples is None:
            return top, Interval(gap, note="no resamples")
        index = {c: i for i, c in enumerate(samples["countries"])}
        values = samples[metric]
        gaps = values[:, index[top[0]]] - values[:, index[top[1]]]
        return top, percentile_interval(gaps if self.baseline.scale_free else -gaps, gap, n_resamples, self._with_variants(track))

    def ranking(self, track) -> pd.DataFrame:
        return rank_countries(self.profile(track), self.baseline.table[list(self.dimensions)], self.baseline.scale_free)

    def ranking_with_intervals(self, track, n_resamples: int = 1000, level: float = 0.95) -> pd.DataFrame:
        """ranking() plus a bootstrap interval (items resampled) for each country's RMSE, or profile r
        where the comparison is scale-free: columns low and high (NaN where there is none;
        interval_note says why a track has none)."""
        ranking = self.ranking(track)
        resampled = self.bootstrap(track, n_resamples)
        if resampled is None or not len(ranking):
            return ranking.assign(low=np.nan, high=np.nan)
        values = resampled["profile_r" if self.baseline.scale_free else "rmse"]
        tail = 100 * (1 - level) / 2
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a country with no finite resample
            low, high = np.nanpercentile(values, [tail, 100 - tail], axis=0) if len(values) else (np.nan, np.nan)
        intervals = pd.DataFrame({"country": resampled["countries"], "low": low, "high": high})
        return ranking.merge(intervals, on="country", how="left")

    @staticmethod
    def _drawn(t: Track, codes, picks, rng) -> np.ndarray:
        """The scores of the picked items, shape (B, n): each pick draws one of the item's variants
        when it was asked under several (a two-stage bootstrap), else its score."""
        widths = [len(t.variants.get(c, ())) if len(t.variants.get(c, ())) > 1 else 1 for c in codes]
        table = np.full((len(codes), max(widths)), np.nan)
        for row, code in enumerate(codes):
            table[row, :widths[row]] = t.variants[code] if widths[row] > 1 else (t.scores[code][1],)
        which = np.floor(rng.random(picks.shape) * np.array(widths)[picks]).astype(int)
        return table[picks, which]

    def _pairs_bootstrap(self, scores, position, human_all, picks) -> dict[str, np.ndarray]:
        """One item per dimension (WVS): resample (model, human) item pairs and correlate them."""
        model = scores  # (B, n)
        human = np.transpose(human_all[:, position[picks]], (1, 0, 2))  # (B, countries, n)
        missing = np.isnan(human).any(axis=2)
        human = np.nan_to_num(human)
        model_centered = model - model.mean(axis=1, keepdims=True)
        human_centered = human - human.mean(axis=2, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.einsum("bn,bcn->bc", model_centered, human_centered) / np.sqrt(
                (model_centered ** 2).sum(axis=1)[:, None] * (human_centered ** 2).sum(axis=2))
        rmse = np.sqrt(((model[:, None, :] - human) ** 2).mean(axis=2))
        r[missing], rmse[missing] = np.nan, np.nan
        return {"countries": np.array(self.baseline.table.index), "profile_r": r, "rmse": rmse}

    def bootstrap(self, track, n_resamples: int = 1000, seed: int = 0) -> dict[str, np.ndarray] | None:
        """Resample the track's items with replacement: profile_r and rmse to every baseline
        country per resample, as arrays of shape (n_resamples, n_countries). Resamples that miss a
        dimension are dropped. None where interval_note says why (VSM 2013, too few items)."""
        if self.baseline is None or self.interval_note(track) is not None:
            return None
        t = self.tracks[track]
        codes = list(t.scores)
        rng = np.random.default_rng(seed)
        picks = rng.integers(0, len(codes), (n_resamples, len(codes)))
        scores = self._drawn(t, codes, picks, rng)
        columns = list(self.dimensions)
        position = np.array([columns.index(t.scores[c][0]) for c in codes])
        human_all = self.baseline.table[columns].to_numpy(dtype=float)  # (countries, dims)
        if len(set(position)) == len(position):
            return self._pairs_bootstrap(scores, position, human_all, picks)
        sums = np.zeros((n_resamples, len(columns)))
        counts = np.zeros((n_resamples, len(columns)))
        rows = np.repeat(np.arange(n_resamples), len(codes))
        np.add.at(sums, (rows, position[picks].ravel()), scores.ravel())
        np.add.at(counts, (rows, position[picks].ravel()), 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = sums / counts
        observed = self.profile(track)
        used = [j for j, d in enumerate(self.dimensions) if d in observed]
        means = means[:, used]
        keep = ~np.isnan(means).any(axis=1)
        means = means[keep]
        human = self.baseline.table[[self.dimensions[j] for j in used]].to_numpy(dtype=float)  # (countries, dims)
        complete_countries = ~np.isnan(human).any(axis=1)
        human = np.where(np.isnan(human), 0.0, human)
        model_centered = means - means.mean(axis=1, keepdims=True)
        human_centered = human - human.mean(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = (model_centered @ human_centered.T) / np.sqrt(
                (model_centered ** 2).sum(axis=1, keepdims=True) * (human_centered ** 2).sum(axis=1)[None, :])
        rmse = np.sqrt(((means[:, None, :] - human[None, :, :]) ** 2).mean(axis=2))
        r[:, ~complete_countries] = np.nan
        rmse[:, ~complete_countries] = np.nan
        return {"countries": np.array(self.baseline.table.index), "profile_r": r, "rmse": rmse}
