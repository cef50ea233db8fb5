"""Right-to-left text for terminals that draw cells left to right.

Arabic and Persian are stored in logical order (as typed, and as exported). Terminals such as tmux
and xterm neither reorder nor join the letters, so for display the text is shaped (arabic-reshaper),
wrapped to the width, then each line is put in visual order (python-bidi) and right-aligned.
PROBE_TUI_BIDI=0 turns this off, for terminals that apply the bidi algorithm themselves.
"""

from __future__ import annotations

import os
import re
import textwrap

from rich.text import Text
from textual.widgets import Static

RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")


def reorder_enabled() -> bool:
    return os.environ.get("PROBE_TUI_BIDI", "1").strip().lower() not in ("0", "off", "no", "false")


def has_rtl(text: str) -> bool:
    return bool(RTL.search(text))


def visual(text: str, width: int | None = None, align: bool = True) -> str:
    """text as a left-to-right terminal must draw it: unchanged unless it holds RTL script."""
    if not text or not has_rtl(text) or not reorder_enabled():
        return text
    import arabic_reshaper
    from bidi import get_base_level, get_display

    lines = []
    for paragraph in text.split("\n"):
        shaped = arabic_reshaper.reshape(paragraph)
        right_to_left = has_rtl(shaped) and get_base_level(shaped) == 1  # by its first strong letter
        wrapped = textwrap.wrap(shaped, width) if width and width > 8 else [shaped]
        for line in wrapped or [""]:
            shown = get_display(line, base_dir="R" if right_to_left else "L")
            lines.append(shown.rjust(width) if align and width and right_to_left else shown)
    return "\n".join(lines)


class ScriptText(Static):
    """A Static whose text may be in any script; RTL text is laid out for the terminal at render."""

    def __init__(self, text: str = "", **kwargs):
        super().__init__("", markup=False, **kwargs)
        self.logical = text

    def set_text(self, text: str) -> None:
        self.logical = text
        self.refresh(layout=True)

    def render(self):
        width = self.content_region.width or None
        return Text(visual(self.logical, width))
