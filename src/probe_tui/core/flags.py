"""Odd-answer flags: answers worth a closer look, each with the reason in words."""

from __future__ import annotations

from dataclasses import dataclass

LOW_VALID_MASS = 0.5  # less than half the probability on the options
HIGH_ENTROPY = 0.9  # of the most entropy the scale allows: nearly uniform
JUMP = 0.25  # of the scale's range: an answer that moves this far when one condition changes


@dataclass(frozen=True)
class Flag:
    kind: str  # "low-mass", "high-entropy", "order-flip" or "jump"
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


def _side(expected: float, points: int) -> int:
    """-1 below the scale's midpoint, 1 above it, 0 on it."""
    middle = (points + 1) / 2
    return (expected > middle) - (expected < middle)


def _changed(a, b) -> str | None:
    """The one field in which two conditions differ, or None if they differ in none or several."""
    fields = [f for f in ("language", "persona", "model") if getattr(a, f) != getattr(b, f)]
    return fields[0] if len(fields) == 1 and a.instrument == b.instrument else None


def answer_flags(answer, order_check=None, others=()) -> list[Flag]:
    """Flags for one answer. order_check: the same item asked with the options' meanings reversed
    (mirrored back onto the real scale); others: answers to the same item under other conditions."""
    d = answer.distribution
    points = len(d.labels)
    flags = []
    if d.samples and d.unparsed > d.samples / 2:
        flags.append(Flag("low-mass", f"{d.unparsed} of {d.samples} answers named no option"))
    elif not d.samples and d.valid_mass < LOW_VALID_MASS:
        flags.append(Flag("low-mass", f"valid_mass {d.valid_mass:.2f}: most probability is off the options"))
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
