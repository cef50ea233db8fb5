"""An honest lean: the US↔CN skew with a bootstrap interval over items (and over the variants each
item was asked under, when it was), claimed only when the interval excludes 0. Below the
instrument's minimum number of items there is no interval, and the line says why. The same rule
decides whether the nearest country is clearly nearer than the next one."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LEVEL = 0.95
N_RESAMPLES = 1000
NO_CLEAR_LEAN = "no clear lean"


@dataclass(frozen=True)
class Interval:
    """A bootstrap percentile interval of a difference; low/high None with `note` saying why there is none."""

    value: float | None  # the observed difference
    low: float | None = None
    high: float | None = None
    note: str | None = None  # why there is no interval
    resamples: int = 0
    with_variants: bool = False  # the resamples drew each item's variants too

    @property
    def excludes_zero(self) -> bool:
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)

    def text(self, digits: int = 2) -> str:
        """"95% interval +0.05 to +0.21 (items and variants resampled)", or why there is none."""
        if self.low is None:
            return f"no interval: {self.note}" if self.note else "no interval"
        what = "items and their variants" if self.with_variants else "items"
        return f"{LEVEL:.0%} interval {self.low:+.{digits}f} to {self.high:+.{digits}f} ({self.resamples} resamples of {what})"


def percentile_interval(samples: np.ndarray, value: float | None, resamples: int, with_variants: bool) -> Interval:
    samples = samples[np.isfinite(samples)]
    if value is None or not len(samples):
        return Interval(value, note="no resample gave a value")
    tail = 100 * (1 - LEVEL) / 2
    low, high = np.percentile(samples, [tail, 100 - tail])
    return Interval(value, float(low), float(high), resamples=resamples, with_variants=with_variants)


def lean_claim(skew: float | None, interval: Interval | None, positive: str, negative: str) -> str:
    """positive (a skew > 0: the US) or negative (China) when the interval excludes 0; NO_CLEAR_LEAN
    when it includes it; "" when there is no interval to decide by (interval.note says why), "neither"
    with no skew."""
    if skew is None or skew == 0:
        return "neither"
    if interval is None or interval.low is None:
        return ""
    if not interval.excludes_zero:
        return NO_CLEAR_LEAN
    return positive if skew > 0 else negative
