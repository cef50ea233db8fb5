"""Text from outside (model output, item and persona text, file names, server messages) on its way to
the screen. It is data: never read as markup, and nothing in it may drive the terminal.

printable() (core/text.py, shared with the command line) is the one cleaning step, and everything
below goes through it. Prefer safe_text(), a rich Text, which Textual shows as it is; or
printable(text) where an API takes markup=False. Where a string is read as markup anyway: safe_markup() for Textual's (the command palette) and safe_cell()
for Rich's (DataTable string cells). The two escape differently."""

from __future__ import annotations

import re

from rich.markup import escape
from rich.text import Text

from ..core.text import printable

HEX_TOKEN = re.compile(r"<([0-9a-f]{2}(?: [0-9a-f]{2})*)>")  # how the scorer writes a token that is not whole UTF-8


def safe_text(text, style: str = "", **kwargs) -> Text:
    """Outside text as a rich Text: shown as it is, square brackets included."""
    return Text(printable(text), style=style, **kwargs)


def safe_markup(text) -> str:
    """Outside text inside Textual markup: every "[" escaped (Textual reads [Gemma] as a tag too)."""
    return printable(text).replace("[", "\\[")


def safe_cell(text) -> str:
    """Outside text for a string that Rich reads as markup, such as a DataTable cell."""
    return escape(printable(text))


def token_text(token: str) -> str:
    """A next-token alternative for display, quoted. A token that stops partway through a character
    (the scorer writes its bytes: "<e4 bd>") shows the range of characters it can begin: '⟨佀–使⟩'.
    The alternatives are not a sequence: each is shown on its own, with its own probability."""
    match = HEX_TOKEN.fullmatch(token)
    if match:
        raw = bytes.fromhex(match.group(1))
        for cut in range(len(raw) - 1, max(len(raw) - 4, -1), -1):  # a whole head, then an unfinished character
            try:
                head = raw[:cut].decode("utf-8")
            except UnicodeDecodeError:
                continue
            begun = _characters_begun(raw[cut:])
            if begun:
                return f"'{printable(repr(head)[1:-1])}⟨{begun[0]}–{begun[1]}⟩'"
    return printable(repr(token))


def _characters_begun(tail: bytes) -> tuple[str, str] | None:
    """The first and last character whose UTF-8 encoding begins with tail (a lead byte, maybe some
    continuation bytes, the character unfinished); None if no character does."""
    lead = tail[0]
    length, payload, smallest, largest = (
        (2, lead & 0x1F, 0x80, 0x7FF) if 0xC2 <= lead <= 0xDF else
        (3, lead & 0x0F, 0x800, 0xFFFF) if 0xE0 <= lead <= 0xEF else
        (4, lead & 0x07, 0x10000, 0x10FFFF) if 0xF0 <= lead <= 0xF4 else (0, 0, 0, 0))
    if not len(tail) < length or any(not 0x80 <= byte <= 0xBF for byte in tail[1:]):
        return None
    for byte in tail[1:]:
        payload = payload << 6 | byte & 0x3F
    missing = 6 * (length - len(tail))
    low, high = max(payload << missing, smallest), min(payload << missing | (1 << missing) - 1, largest)
    if low > high or 0xD800 <= low <= high <= 0xDFFF:
        return None
    return chr(low if not 0xD800 <= low <= 0xDFFF else 0xE000), chr(high if not 0xD800 <= high <= 0xDFFF else 0xD7FF)
