"""From option log-probabilities to an answer distribution.

The backend reports, for every option label, the log-probability that the model's next tokens spell
that label (all tokenisation variants summed). Everything shown on screen is derived here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from scipy.special import logsumexp


@dataclass(frozen=True)
class OptionLogprobs:
    """Raw backend output for one prompt: a log-probability per option label.

    `method` says how the numbers were obtained, e.g. "logprobs" for an exact next-token read-out.
    `top_tokens` holds the most likely next tokens (text, logprob), to show what else the model wanted.
    """

    logprobs: dict[str, float]
    method: str
    top_tokens: tuple[tuple[str, float], ...] = ()
    prompt_tokens: int = 0


@dataclass(frozen=True)
class Distribution:
    labels: tuple[str, ...]
    probs: dict[str, float]  # renormalised over the options, sums to 1
    valid_mass: float  # mass on the options before renormalising
    expected: float  # expected value on the scale (labels read as numbers 1..k by position)
    answer: str  # argmax label
    entropy_bits: float  # of the renormalised distribution
    method: str
    top_tokens: tuple[tuple[str, float], ...] = field(default=())

    @property
    def max_entropy_bits(self) -> float:
        return math.log2(len(self.labels))


def distribution_from_logprobs(raw: OptionLogprobs, labels: list[str] | tuple[str, ...]) -> Distribution:
    """Renormalise the option log-probabilities into a distribution and summarise it.

    `labels` are in scale order: the i-th label has scale value i+1.
    """
    labels = tuple(labels)
    missing = [label for label in labels if label not in raw.logprobs]
    if missing:
        raise ValueError(f"backend returned no log-probability for option(s) {missing}")
    values = [raw.logprobs[label] for label in labels]
    log_total = float(logsumexp(values))
    valid_mass = math.exp(log_total) if log_total > -math.inf else 0.0
    if valid_mass <= 0.0:
        raise ValueError("the model put zero probability on every option")
    probs = {label: math.exp(v - log_total) for label, v in zip(labels, values)}
    expected = sum((position + 1) * probs[label] for position, label in enumerate(labels))
    answer = max(labels, key=lambda label: probs[label])
    entropy = -sum(p * math.log2(p) for p in probs.values() if p > 0.0)
    return Distribution(
        labels=labels,
        probs=probs,
        valid_mass=min(valid_mass, 1.0),
        expected=expected,
        answer=answer,
        entropy_bits=entropy,
        method=raw.method,
        top_tokens=raw.top_tokens,
    )
