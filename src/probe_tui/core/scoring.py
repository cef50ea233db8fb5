"""From option log-probabilities to an answer distribution.

The backend reports, for every option label, the log-probability that the model's next tokens spell
that label (all tokenisation variants summed). Everything shown on screen is derived here.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field, replace



NO_MASS = "the model put no probability on any option (valid_mass 0): it was certain of another token"


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
    floored: tuple[str, ...] = ()  # options absent from a top-k list, given a floor probability
    samples: int = 0  # for sampled methods: answers drawn
    unparsed: int = 0  # for sampled methods: answers that named no option
    cached: bool = False  # replayed from the response cache (the numbers are the ones first obtained)
    unanswered: str = ""  # why this result carries no information about the answer ("" when it does)
    endpoint: str = ""  # the endpoint that answered, when a model is served by several (backends/sharded.py); "" otherwise


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
    floored: tuple[str, ...] = ()
    samples: int = 0
    unparsed: int = 0
    cached: bool = False
    unanswered: str = ""  # why there is no answer (probs, expected... are then NaN); "" when there is one
    endpoint: str = ""  # the endpoint that answered, of several serving the model; "" for one (the model names it) or a local model

    @property
    def max_entropy_bits(self) -> float:
        return math.log2(len(self.labels))

    def mirrored(self) -> "Distribution":
        """The same answer read on a mirrored scale: label i takes the probability of label k+1-i.
        For an answer given with the options' meanings reversed, this puts it back on the real scale."""
        if self.unanswered:
            return self
        k = len(self.labels)
        probs = {label: self.probs[self.labels[k - 1 - i]] for i, label in enumerate(self.labels)}
        return replace(self, probs=probs, expected=k + 1 - self.expected, answer=self.labels[k - 1 - self.labels.index(self.answer)])


def distribution_from_logprobs(raw: OptionLogprobs, labels: list[str] | tuple[str, ...]) -> Distribution:
    """Renormalise the option log-probabilities into a distribution and summarise it.

    `labels` are in scale order: the i-th label has scale value i+1.
    """
    from scipy.special import logsumexp  # scipy on first use, not at import: the app paints first

    labels = tuple(labels)
    reason = no_information(raw, labels)
    if reason:  # never renormalised into a uniform guess
        return Distribution(labels=labels, method=raw.method, top_tokens=raw.top_tokens, floored=raw.floored, samples=raw.samples,
                            unparsed=raw.unparsed, cached=raw.cached, endpoint=raw.endpoint, unanswered=reason, **no_figures(labels))
    missing = [label for label in labels if label not in raw.logprobs]
    if missing:
        raise ValueError(f"backend returned no log-probability for option(s) {missing}")
    values = [raw.logprobs[label] for label in labels]
    log_total = float(logsumexp(values))
    valid_mass = math.exp(log_total) if log_total > -math.inf else 0.0
    if valid_mass <= 0.0:  # certain of another token: answered, no mass on the options, nothing to renormalise
        return Distribution(labels=labels, method=raw.method, top_tokens=raw.top_tokens, floored=raw.floored, samples=raw.samples,
                            unparsed=raw.unparsed, cached=raw.cached, endpoint=raw.endpoint, unanswered=NO_MASS,
                            **no_figures(labels, valid_mass=0.0))
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
        floored=raw.floored,
        samples=raw.samples,
        unparsed=raw.unparsed,
        cached=raw.cached,
        endpoint=raw.endpoint,
    )


def no_figures(labels, valid_mass: float = math.nan) -> dict:
    """The figures of an answer that carries no information: all NaN, no argmax. valid_mass is 0
    for an answer that put no probability on the options, NaN when it is not known."""
    nan = math.nan
    return {"probs": dict.fromkeys(labels, nan), "valid_mass": valid_mass, "expected": nan, "answer": "", "entropy_bits": nan}


def no_information(raw: OptionLogprobs | Distribution, labels) -> str:
    """Why the result says nothing about the answer, or "": no sampled answer named an option, or
    every option was missing from the top-k list (its floors are a uniform guess, not a reading)."""
    if raw.unanswered:
        return raw.unanswered
    if labels and set(labels) <= set(raw.floored):
        return f"none of the {len(labels)} options is in the top-k list of next tokens: every one is a floor"
    return ""


LOGPROB_SLACK = 1e-4  # a certain token's logprob may round a little above 0
MASS_SLACK = 1e-2  # a top-k list's probabilities may round a little above 1 in total


def impossible_logprobs(top) -> str:
    """Why a server's (token, logprob) list cannot come from a model, or "": every logprob is a number
    ≤ 0 (-inf is probability 0), never NaN or +inf, and the probabilities sum to at most 1."""
    for _, logprob in top:
        if isinstance(logprob, bool) or not isinstance(logprob, (int, float)):
            return "a logprob that is not a number"
        if math.isnan(logprob) or logprob > LOGPROB_SLACK:
            return f"a logprob of {logprob!r} (a log-probability is a number ≤ 0)"
    total = sum(math.exp(logprob) for _, logprob in top)
    if total > 1 + MASS_SLACK:
        return f"probabilities that sum to {total:.3g}, more than 1"
    return ""


def label_of_token(token: str) -> str:
    """The option a token spells: " 1", "1" and the full-width "１" all spell "1"."""
    return unicodedata.normalize("NFKC", token).strip()


def logprobs_from_top_k(top: list[tuple[str, float]], labels, min_prob: float | None = None) -> OptionLogprobs:
    """Option log-probabilities from an API's top-k next-token list.

    Variants of a label (" 1", "1") are summed. An option missing from the top k gets a floor, as
    OpinionQA does: min(min_prob, remaining_mass / n_missing), where min_prob defaults to the smallest
    probability in the list and remaining_mass is what the list leaves. The method names how many
    options were floored: "logprobs-topk-floored(k)".
    """
    labels = tuple(labels)
    mass = dict.fromkeys(labels, 0.0)
    for token, logprob in top:
        label = label_of_token(token)
        if label in mass:
            mass[label] += math.exp(logprob)
    missing = tuple(label for label in labels if mass[label] == 0.0)
    if missing:
        listed = [math.exp(lp) for _, lp in top]
        smallest = min(listed) if listed else 0.0
        remaining = max(0.0, 1.0 - sum(listed))
        floor = min(smallest if min_prob is None else min_prob, remaining / len(missing))
        for label in missing:
            mass[label] = floor
    method = f"logprobs-topk-floored({len(missing)})" if missing else "logprobs"
    logprobs = {label: math.log(m) if m > 0 else -math.inf for label, m in mass.items()}
    return OptionLogprobs(logprobs=logprobs, method=method, top_tokens=tuple(top[:8]), floored=missing)


def option_logprobs_from_spellings(labels, spelled: dict[tuple[str, tuple], float]) -> dict[str, float]:
    """log P(label) from the log-probability of each of its spellings as a token sequence
    (spelled[(label, tokens)]), as lm-eval scores a continuation: the spellings' masses summed, each
    less the mass of another label's spelling that extends it ("10" begins with "1"). The one rule
    the local backend and the exact remote methods (prompt echo, llama-server) share."""
    result = {}
    for label in labels:
        masses = []
        for (own, variant), logprob in spelled.items():
            if own != label:
                continue
            longer = sum(
                math.exp(lp) for (other, spelling), lp in spelled.items()
                if other != label and len(spelling) > len(variant) and tuple(spelling[: len(variant)]) == tuple(variant)
            )
            masses.append(max(math.exp(logprob) - longer, 0.0))
        total = sum(masses)
        result[label] = math.log(total) if total > 0 else float("-inf")
    return result


def distinct_spellings(spellings: list[tuple]) -> list[tuple]:
    """A label's token sequences, less any that extends another (its mass is inside the shorter one)."""
    found = {tuple(s) for s in spellings if s}
    return sorted(v for v in found if not any(o != v and v[: len(o)] == o for o in found))


def logprobs_from_samples(answers: list[str | None], labels, method: str) -> OptionLogprobs:
    """An empirical distribution from parsed sampled answers (None: the answer named no option)."""
    parsed = [a for a in answers if a is not None]
    counts = {label: parsed.count(label) for label in labels}
    total = len(answers)
    logprobs = {label: math.log(c / total) if c else -math.inf for label, c in counts.items()}
    unanswered = "" if parsed else f"none of the {total} sampled answers named an option"
    return OptionLogprobs(logprobs=logprobs, method=method, samples=total, unparsed=total - len(parsed), unanswered=unanswered)
