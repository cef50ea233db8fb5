"""Answer distribution bars: the model's probability for every option, and how it was obtained."""

from __future__ import annotations

import math

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text
from textual.widget import Widget

from ..core.scoring import Distribution
from .script import visual
from .text import printable, token_text

LOW_VALID_MASS = 0.5
MIN_BAR = 10  # the bar gives up cells for the anchors down to this


class DistributionView(Widget):
    DEFAULT_CSS = "DistributionView { height: auto; }"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.distribution: Distribution | None = None
        self.anchors: tuple[str, ...] = ()
        self.placeholder = "waiting for the model…"

    def show(self, distribution: Distribution | None, anchors=(), placeholder: str = "") -> None:
        self.distribution, self.anchors = distribution, tuple(printable(anchor) for anchor in anchors)
        if placeholder:
            self.placeholder = placeholder
        self.refresh(layout=True)

    def render(self):
        d = self.distribution
        if d is None:
            return Text(self.placeholder, style="dim italic")
        if d.unanswered:  # no information: no bars, never a uniform guess
            raw = ", ".join(repr(text[:40]) for text, _ in d.top_tokens[:4])
            return Text.assemble(("no answer: ", "bold yellow"), (d.unanswered, "yellow"), "\n", ("method ", "dim"), (d.method, "italic"),
                                 (f"\n{'the model wrote' if d.samples else 'its top next tokens'}: {raw}" if raw else "", "dim"))
        width = max(self.size.width, 24)
        label_width = max(len(label) for label in d.labels)
        room = width - label_width - 10  # label, space, bar, " 12.3%", marker
        anchor_width = max((cell_len(a) for a in self.anchors), default=0) + 1 if self.anchors else 0
        bar_width = max(min(MIN_BAR, room), min(40, room - anchor_width))
        anchor_width = min(anchor_width, room - bar_width)  # the anchors are abbreviated to what is left
        show_anchors = anchor_width >= 4
        lines = []
        anchors = abbreviate(self.anchors, anchor_width - 1) if show_anchors else ("",) * len(d.labels)
        for label, anchor in zip(d.labels, anchors):
            p = d.probs[label]
            filled = round(p * bar_width)
            floored = label in d.floored
            style = "yellow" if floored else "bold green" if label == d.answer else "cyan"
            line = Text.assemble(
                (label.rjust(label_width), "bold"), " ",
                ("▒" if floored else "█") * filled, ("·" * (bar_width - filled), "dim"),
                f" {100 * p:5.1f}%", ("≥" if floored else " ", "yellow"),
            )
            line.stylize(style, label_width + 1, label_width + 1 + filled)
            if show_anchors:
                line.append(" " + visual(anchor), style="dim")
            line.no_wrap, line.overflow = True, "ellipsis"
            lines.append(line)
        mass_style = "bold red" if d.valid_mass < LOW_VALID_MASS else "green"
        if d.samples:
            mass = Text.assemble(("parsed ", "dim"), (f"{d.samples - d.unparsed}/{d.samples}", mass_style))
        else:
            mass = Text.assemble(("valid_mass ", "dim"), (f"{d.valid_mass:.3f}", mass_style))
        summary = Text.assemble(
            mass,
            ("  E[x] ", "dim"), f"{d.expected:.2f}",
            ("  argmax ", "dim"), d.answer,
            ("  entropy ", "dim"), f"{d.entropy_bits:.2f}/{d.max_entropy_bits:.2f} bits",
        )
        method = Text.assemble(("method ", "dim"), (d.method, "italic"))
        if width >= 60 or d.floored or d.samples:  # narrow: the plain method name, unless the description warns
            method.append(f" ({describe_method(d)})", style="dim")
        if d.cached:
            method.append(" · replayed from the cache", style="dim")
        grid = Table.grid()
        for line in lines:
            grid.add_row(line)
        grid.add_row(summary)
        grid.add_row(method)
        if d.valid_mass < LOW_VALID_MASS and not d.samples:
            top = ", ".join(f"{token_text(tok)} {100 * math.exp(lp):.0f}%" for tok, lp in d.top_tokens[:4])
            grid.add_row(Text(f"⚠ only {100 * d.valid_mass:.0f}% of the mass is on the options; model's top tokens: {top}", style="yellow"))
        return grid


def abbreviate(anchors, width: int) -> tuple[str, ...]:
    """Anchors cut to width cells (in logical order, so an RTL anchor keeps its start). Words that
    begin another anchor too ("Describes me …") give way first where that makes the rest fit:
    "…a little", "…extremely well"."""
    shortened = []
    too_long = any(cell_len(anchor) > width for anchor in anchors)
    for anchor in anchors:
        words = anchor.split(" ")
        if too_long:  # all alike, so that the anchors still read as one scale
            shared = max((_shared_words(words, other.split(" ")) for other in anchors if other != anchor), default=0)
            rest = "…" + " ".join(words[shared:])
            if 0 < shared < len(words) and cell_len(rest) <= width:
                anchor = rest
        text = Text(anchor)
        text.truncate(width, overflow="ellipsis")
        shortened.append(text.plain)
    return tuple(shortened)


def _shared_words(a: list[str], b: list[str]) -> int:
    count = 0
    while count < min(len(a), len(b)) and a[count].lower() == b[count].lower():
        count += 1
    return count


def describe_method(d: Distribution) -> str:
    if d.samples:
        drawn = "one greedy answer" if d.method == "parsed" else f"{d.samples} answers drawn"
        return f"{drawn}, {d.unparsed} named no option; shares of the parsed answers"
    if d.floored:
        return f"top-k next-token probabilities; floored, not in the top k: {', '.join(d.floored)}"
    if d.method.startswith("logprobs"):
        return "next-token probabilities, renormalised over the options"
    return "not a model's probabilities: a test backend's fixed figures" if d.method == "scripted" else "renormalised over the options"
