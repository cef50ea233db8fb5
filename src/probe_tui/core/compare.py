"""Two answers to the same item under two conditions: how far apart they are."""

from __future__ import annotations

from dataclasses import dataclass

from .metrics import js_similarity


@dataclass(frozen=True)
class Difference:
    expected_shift: float  # E[x] of B minus E[x] of A, on the item's scale
    answer_changed: bool  # the most likely option differs
    js_similarity: float  # 1 − Jensen–Shannon distance (base 2) of the two distributions: 1 = the same
    valid_mass_shift: float

    def describe(self, a, b) -> str:
        changed = f"argmax {a.distribution.answer} → {b.distribution.answer}" if self.answer_changed else f"argmax {a.distribution.answer} in both"
        return (f"B − A: E[x] {self.expected_shift:+.2f} · {changed} · 1−JSD {self.js_similarity:.2f} · "
                f"valid_mass {a.distribution.valid_mass:.2f} → {b.distribution.valid_mass:.2f}")


def difference(a, b) -> Difference:
    """a, b: Answers to the same item (their distributions over the same labels)."""
    p, q = a.distribution, b.distribution
    return Difference(
        expected_shift=q.expected - p.expected,
        answer_changed=p.answer != q.answer,
        js_similarity=js_similarity([p.probs[label] for label in p.labels], [q.probs[label] for label in p.labels]),
        valid_mass_shift=q.valid_mass - p.valid_mass,
    )
