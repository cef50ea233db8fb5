"""What makes a server's reply unusable: the checks every remote backend shares."""

from __future__ import annotations

from ..core.errors import ProbeError
from ..core.scoring import impossible_logprobs


class ImpossibleLogprobs(ProbeError):
    """A reply whose top-k list no model can give (NaN, +inf, above 0, not a number): asked again,
    then the item fails (never a reason to fall back to sampling)."""


def checked_top_k(pairs) -> list[tuple[str, float]]:
    """A reply's (token, logprob) pairs, each a text token and a logprob a probability can have."""
    pairs = list(pairs)
    if any(not isinstance(token, str) for token, _ in pairs):
        raise ImpossibleLogprobs("a token that is not text")
    reason = impossible_logprobs(pairs)
    if reason:
        raise ImpossibleLogprobs(reason)
    return [(token, float(logprob)) for token, logprob in pairs]


class MalformedReply(ProbeError):
    """A 2xx JSON reply without the fields an answer is read from: asked again, then the item fails."""
