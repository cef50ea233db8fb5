"""Odd-answer flags: answers worth a closer look, each with the reason in words."""

from __future__ import annotations

from dataclasses import dataclass

LOW_VALID_MASS = 0.5  # less than half the probability on the options: the absolute floor
LOW_MASS_PERCENTILE = 10  # ... and, relative to the model's own answers on the instrument, below its 10th percentile
MIN_ANSWERS_FOR_PERCENTILE = 10  # under this many answers the percentile says little: the floor alone
HIGH_ENTROPY = 0.9  # of the most entropy the scale allows: nearly uniform
JUMP = 0.25  # of the scale's range: an answer that moves this far when one condition changes


@dataclass(frozen=True)
class Flag:
    kind: str  # "low-mass", "high-entropy", "order-flip" or "jump"
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


@dataclass(frozen=True)
class MassThreshold:
    """When valid_mass counts as low: below the model's own 10th percentile on the instrument and
    under the absolute floor, so that a model that rarely puts much mass on the options (SmolLM2)
    has only its odd answers flagged; with few answers, below the floor alone."""

    value: float
    percentile: float | None  # the model's 10th percentile of valid_mass (None: too few answers)
    answers: int

    def __str__(self) -> str:
        if self.percentile is None:
            return (f"low-mass: valid_mass < {self.value:.2f} (the floor; relative to the model's own answers after "
                    f"{MIN_ANSWERS_FOR_PERCENTILE}, {self.answers} so far)")
        # two significant digits: a percentile of 0.0074 is not shown as a rounded 0.01
        return (f"low-mass: valid_mass < {self.value:.2g} (the model's {LOW_MASS_PERCENTILE}th percentile over "
                f"{self.answers} answers, {self.percentile:.2g}, under the {LOW_VALID_MASS:.2f} floor)")


def mass_threshold(valid_masses) -> MassThreshold:
    """The low-mass threshold for answers whose valid_mass values (NaN skipped) are these."""
    import numpy as np

    masses = [m for m in valid_masses if m == m]
    if len(masses) < MIN_ANSWERS_FOR_PERCENTILE:
        return MassThreshold(LOW_VALID_MASS, None, len(masses))
    percentile = float(np.percentile(masses, LOW_MASS_PERCENTILE))
    return MassThreshold(min(percentile, LOW_VALID_MASS), percentile, len(masses))


def _side(expected: float, points: int) -> int:
    """-1 below the scale's midpoint, 1 above it, 0 on it."""
    middle = (points + 1) / 2
    return (expected > middle) - (expected < middle)


def _changed(a, b) -> str | None:
    """The one field in which two conditions differ, or None if they differ in none or several."""
    fields = [f for f in ("language", "persona", "model") if getattr(a, f) != getattr(b, f)]
    return fields[0] if len(fields) == 1 and a.instrument == b.instrument else None


def answer_flags(answer, order_check=None, others=(), threshold: MassThreshold | None = None, view=None) -> list[Flag]:
    """Flags for one answer. order_check: the same item asked with the options' meanings reversed
    (mirrored back onto the real scale); others: answers to the same item under other conditions;
    threshold: when valid_mass is low (default: the absolute floor); view: the distribution to judge
    (a calibrated view the user picked; default the raw answer)."""
    d = view or answer.distribution
    limit = threshold.value if threshold is not None else LOW_VALID_MASS
    points = len(d.labels)
    flags = []
    if d.samples and d.unparsed > d.samples / 2:
        flags.append(Flag("low-mass", f"{d.unparsed} of {d.samples} answers named no option"))
    elif not d.samples and d.valid_mass < limit:
        why = "most probability is off the options" if threshold is None else f"under {limit:.2f}, odd for this model"
        flags.append(Flag("low-mass", f"valid_mass {d.valid_mass:.2f}: {why}"))
    if d.entropy_bits > HIGH_ENTROPY * d.max_entropy_bits:
        flags.append(Flag("high-entropy", f"{d.entropy_bits:.2f} of {d.max_entropy_bits:.2f} bits: close to a uniform guess"))
    if order_check is not None:
        before, after = _side(d.expected, points), _side(order_check.distribution.expected, points)
        if before and after and before != after:
            flags.append(Flag("order-flip", f"E[x] {d.expected:.2f} becomes {order_check.distribution.expected:.2f} "
                                            "when the options' meanings are reversed: it follows the position"))
    jumps = [(abs(other.distribution.expected - d.expected), field, other) for other in others
             if (field := _changed(answer.condition, other.condition))]
    if jumps:
        size, field, other = max(jumps, key=lambda jump: jump[0])
        if size >= JUMP * (points - 1):
            was = getattr(other.condition, field)
            if field == "model" and "://" not in was:  # a model file: its name, not the folders it sits in
                was = was.replace("\\", "/").rsplit("/", 1)[-1]
            flags.append(Flag("jump", f"E[x] {other.distribution.expected:.2f} → {d.expected:.2f} against {field} {was}"))
    return flags
