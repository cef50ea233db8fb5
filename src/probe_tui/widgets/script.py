"""Right-to-left text for terminals that draw cells left to right.

Arabic and Persian are stored in logical order (as typed, and as exported). Terminals such as tmux
and xterm neither reorder nor join the letters, so for display the text is shaped (arabic-reshaper),
wrapped to the width, then each line is put in visual order (python-bidi) and right-aligned.
PROBE_TUI_BIDI=0 turns this off, for terminals that apply the bidi algorithm themselves.
"""

from __future__ import annotations

import functools
import re
import textwrap

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Static

from ..core.settings import get_settings
from .text import printable

RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")


def count_spacing_marks_as_one_cell() -> None:
    """Rich measures spacing combining marks (Unicode category Mc, e.g. the Devanagari vowel sign
    ि) as zero cells wide; terminals (wcwidth in glibc, tmux) draw them one cell wide. Give Rich the
    terminals' width, so that lines of Hindi keep their length and borders stay put."""
    import unicodedata

    import rich.cells

    original = rich.cells.load_cell_table
    if getattr(original, "spacing_marks_fixed", False):
        return

    def load(unicode_version: str = "auto"):
        table = original(unicode_version)
        widths = []
        for start, end, width in table.widths:
            if width != 0:
                widths.append((start, end, width))
                continue
            run_start = start
            for codepoint in range(start, end + 1):  # drop Mc code points: absent from the table means 1 cell
                if unicodedata.category(chr(codepoint)) == "Mc":
                    if run_start < codepoint:
                        widths.append((run_start, codepoint - 1, 0))
                    run_start = codepoint + 1
            if run_start <= end:
                widths.append((run_start, end, 0))
        return table._replace(widths=widths)

    fixed = functools.cache(load)
    fixed.spacing_marks_fixed = True
    rich.cells.load_cell_table = fixed
    rich.cells.get_character_cell_size.cache_clear()
    rich.cells.cached_cell_len.cache_clear()


count_spacing_marks_as_one_cell()


def reorder_enabled() -> bool:
    return get_settings().bidi


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


NO_LINE_START = frozenset("。，、；：？！）」』】〕〉》〗”’・…ー～．，！？：；）］｝")  # CJK closing punctuation


def wrap(text: str, width: int) -> list[str]:
    """text in lines of at most width cells, broken at spaces or between wide (CJK) characters, never
    before closing punctuation such as "。": it keeps the character before it company."""
    lines = []
    for paragraph in text.split("\n"):
        units = []  # words, single wide characters and spaces; closing punctuation joins the unit before it
        for piece in re.findall(r"\s+|[^\s]", paragraph):
            if units and (piece in NO_LINE_START or (cell_len(piece) == 1 and not piece.isspace()
                                                      and cell_len(units[-1][-1]) == 1 and not units[-1].isspace())):
                units[-1] += piece
            else:
                units.append(piece)
        line = ""
        for unit in units:
            if cell_len(line + unit) <= width or not line.strip():
                line += unit
            else:
                lines.append(line.rstrip())
                line = "" if unit.isspace() else unit
            while cell_len(line) > width:  # a word longer than the line
                cut = next(i for i in range(len(line), 0, -1) if cell_len(line[:i]) <= width)
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line.rstrip())
    return lines


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
        text = printable(self.logical)
        if width and not has_rtl(text) and any(cell_len(char) == 2 for char in text):
            text = "\n".join(wrap(text, width))  # CJK: line breaks that keep "。" with its sentence
        return Text(visual(text, width), overflow="fold")
