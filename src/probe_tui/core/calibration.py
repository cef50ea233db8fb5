"""Calibrated views of an answer, for small or biased models, shown beside the raw distribution and
never replacing it (the raw numbers are what is exported as probs/expected/answer).

Both divide the option probabilities by a reference distribution the model gives under the same
frame (persona, question, options, instruction, variant), then renormalise over the options:
- contextual calibration (Zhao et al. 2021, "Calibrate before use"): the reference is the answer to
  a content-free item, the statement "N/A" (method "calibrated-contextual");
- domain-conditional PMI (Holtzman et al. 2021, "Surface form competition"): p(option | item) /
  p(option | frame alone), the reference being the frame without any statement ("calibrated-pmi").
The references are real model queries, asked and cached like any other prompt. Dividing by the
renormalised or the raw reference gives the same result once renormalised.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

from .scoring import Distribution

CONTEXTUAL, PMI = "calibrated-contextual", "calibrated-pmi"
METHODS = {"contextual": CONTEXTUAL, "pmi": PMI}  # as named on the command line
CONTENT_FREE = "N/A"  # Zhao et al.'s content-free input
STATEMENTS = {CONTEXTUAL: CONTENT_FREE, PMI: ""}  # what replaces the item's statement in the reference prompt ("": none)
FLOOR = 1e-12  # a reference probability of 0 is taken as this, so that the division is defined


def parse_methods(spec: str | None) -> tuple[str, ...]:
    """"contextual,pmi" -> their method labels; "" or None -> none."""
    from .errors import ProbeError

    names = [n.strip().lower() for n in str(spec or "").split(",") if n.strip()]
    unknown = [n for n in names if n not in METHODS]
    if unknown:
        raise ProbeError(f"unknown calibration {', '.join(map(repr, unknown))}; expected any of: {', '.join(METHODS)}")
    return tuple(dict.fromkeys(METHODS[n] for n in names))


def calibrate_probs(probs: dict[str, float], reference: dict[str, float], labels) -> dict[str, float]:
    """p_i / q_i, renormalised over the options."""
    ratios = {label: probs[label] / max(reference[label], FLOOR) for label in labels}
    total = sum(ratios.values())
    return {label: ratio / total for label, ratio in ratios.items()}


def calibrated(raw: Distribution, reference: Distribution, method: str) -> Distribution:
    """The calibrated view of an answer; method: CONTEXTUAL or PMI (its method label). It keeps the
    raw valid_mass (how much the model put on the options at all); an answer or a reference that
    carries no information gives an unanswered view, with the reason."""
    if raw.unanswered:
        return replace(raw, method=method)
    if reference.unanswered:
        return replace(raw, method=method, unanswered=f"its reference prompt carries no information: {reference.unanswered}",
                       probs=dict.fromkeys(raw.labels, math.nan), expected=math.nan, answer="", entropy_bits=math.nan)
    labels = raw.labels
    probs = calibrate_probs(raw.probs, reference.probs, labels)
    expected = sum((position + 1) * probs[label] for position, label in enumerate(labels))
    entropy = -sum(p * math.log2(p) for p in probs.values() if p > 0.0)
    return replace(raw, probs=probs, expected=expected, answer=max(labels, key=lambda label: probs[label]), entropy_bits=entropy,
                   method=method, top_tokens=(), cached=raw.cached and reference.cached)


def columns(method: str) -> list[str]:
    """A calibrated view's columns in a run's CSV, beside the raw ones."""
    short = method.removeprefix("calibrated-")
    return [f"probs_{short}", f"expected_{short}", f"answer_{short}", f"method_{short}"]


def row_columns(raw_probs: str, reference: Distribution, labels, method: str) -> dict:
    """A calibrated view's cells for one CSV row, from its raw probs (JSON) and the reference."""
    names = columns(method)
    if not raw_probs or reference.unanswered:
        return dict.fromkeys(names, "") | {names[-1]: method}
    probs = json.loads(raw_probs)
    view = calibrated(Distribution(labels=tuple(labels), probs=probs, valid_mass=math.nan, expected=math.nan,
                                   answer="", entropy_bits=math.nan, method=""), reference, method)
    return dict(zip(names, (json.dumps(view.probs), view.expected, view.answer, view.method)))
