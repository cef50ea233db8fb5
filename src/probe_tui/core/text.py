"""The one cleaning step for text from outside (model output, server replies, file names, user files)
on its way to a terminal: the app's widgets (widgets/text.py) and the command line's lines both use
printable(). It keeps newlines and tabs, drops every other control character and escape sequence,
and shows a bidirectional override as its code."""

from __future__ import annotations

import re

# escape sequences (CSI, OSC, other ESC pairs, 8-bit CSI), then every C0/C1 control but \n and \t
CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[ -/]*[0-~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"
)
# bidirectional overrides, embeddings and isolates (the "Trojan Source" set): they reorder the text after
# them, so they are shown inertly, as their code (\u202e), never passed on; the marks (LRM, RLM) stay
BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")


def printable(text) -> str:
    """text without control characters or escape sequences (newlines and tabs stay); a bidirectional
    control (a right-to-left override) becomes its visible code, \\u202e."""
    text = CONTROL.sub("", str(text).replace("\r\n", "\n"))
    return BIDI.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
