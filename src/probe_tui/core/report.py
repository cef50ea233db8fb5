"""Plain-text summaries of results, for the command line."""

from __future__ import annotations

from .lean import NO_CLEAR_LEAN
from .metrics import CN, US, GaugeReading


def signed(value: float, digits: int = 1) -> str:
    """A signed number, "+1.2" or "-0.3"; one that rounds to zero is "0.0", never "-0.0"."""
    text = f"{value:+.{digits}f}"
    return text[1:] if float(text) == 0 else text


def lean_line(reading: GaugeReading) -> str:
    """The lean as it may be claimed: with its interval, "no clear lean" when that includes 0, and no
    claim, with the reason, before there are enough items for an interval."""
    skew, claim, interval = reading.skew, reading.claim, reading.lean_interval
    if claim == "neither":
        return f"Lean: neither (no {reading.lean_by} difference yet)"
    point = f"{reading.lean_by} skew {skew:+.3f}; positive = closer to the US"
    if interval is None:
        return f"Lean: {reading.lean} ({point})"
    if claim == "":
        return f"Lean: none claimed, {interval.text()} ({point})"
    if claim == NO_CLEAR_LEAN:
        return f"Lean: {NO_CLEAR_LEAN} ({point}; {interval.text(3)} includes 0)"
    return f"Lean: {claim} ({point}; {interval.text(3)})"


def nearest_line(countries, interval) -> str:
    """The nearest countries, and whether the first is clearly nearer than the second (the lean's rule)."""
    shown = f"Nearest countries: {', '.join(countries)}"
    if len(countries) < 2 or interval is None:
        return shown
    if interval.low is None:
        return f"{shown} (no interval yet: {interval.note})"
    if interval.excludes_zero:
        return f"{shown} ({countries[0]} clearly nearer than {countries[1]}: {interval.text(3)})"
    return f"{shown} ({countries[0]} not clearly nearer than {countries[1]}: {interval.text(3)} includes 0)"


def gauge_summary(reading: GaugeReading | None, human: dict[str, dict[str, float]], missing: str | None = None) -> str:
    """missing: what the profile still lacks (GaugeEngine.missing_note), said instead of the gauge
    when nothing can be compared yet, else below it."""
    if reading is None:
        return f"No gauge yet: {missing}" if missing else "No answers, no gauge."
    lines = [f"Gauge over {reading.items_answered} item(s), score = expected value of the option distribution",
             f"{'dimension':<16}{'model':>7}{'US':>7}{'CN':>7}"]
    for dim, value in reading.model_means.items():
        lines.append(f"{dim:<16}{value:>7.2f}{human[US].get(dim, float('nan')):>7.2f}{human[CN].get(dim, float('nan')):>7.2f}")

    def r(country):
        value = reading.fits[country].profile_r
        return f"{value:>7.2f}" if value is not None else f"{'n/a':>7}"

    lines.append(f"{'profile r':<16}{'':>7}{r(US)}{r(CN)}")
    if reading.scale_free:
        lines.append("Compared scale-free (profile r only): the VSM constant C is free, so RMSE means nothing here.")
    else:
        lines.append(f"{'RMSE':<16}{'':>7}{reading.fits[US].rmse:>7.2f}{reading.fits[CN].rmse:>7.2f}")
    lines.append(lean_line(reading))
    if missing:
        lines.append(missing)
    return "\n".join(lines)
