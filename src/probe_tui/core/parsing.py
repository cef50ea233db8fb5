"""Reading an option out of a free-text answer, for backends without logprobs."""

from __future__ import annotations

import re
import unicodedata

NUMBER_WORDS = {
    "en": ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"],
    "fr": ["un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix"],
    "zh": ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"],
}


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def parse_answer(text: str, labels, anchors=(), language: str = "en") -> str | None:
    """The option a free-text answer names, or None.

    Tried in order: the bare label; a leading "(A)", "A:", "A." or "A)"; an option's description in
    the prompt language; a label standing alone inside a sentence (digits only); a number word
    (in Chinese, only as the whole answer, since numerals are common inside words).
    Full-width characters are folded first (NFKC), so "３" reads as "3".
    """
    labels = tuple(labels)
    answer = _normalise(text)
    if not answer:
        return None
    if answer in labels:
        return answer
    lead = re.match(r"^[\s*_\"'“「]*[(\[]?([A-Za-z0-9]{1,2})[)\]]?(?=$|[\s:.,)、。：])", answer)
    if lead and lead.group(1) in labels:
        return lead.group(1)
    folded = answer.casefold()
    described = [(len(a), label) for label, a in zip(labels, anchors) if a and _normalise(a).casefold() in folded]
    if described:
        return max(described)[1]
    for match in re.finditer(r"(?<![\d.])(\d{1,2})(?![\d.]\d)", answer):
        if match.group(1) in labels:
            return match.group(1)
    words = NUMBER_WORDS.get(language, [])
    bare = re.sub(r"[\W_]+", " ", folded).strip()
    for position, word in enumerate(words, start=1):
        found = bare == word if language == "zh" else re.search(rf"\b{re.escape(word)}\b", bare)
        if str(position) in labels and found:
            return str(position)
    return None
