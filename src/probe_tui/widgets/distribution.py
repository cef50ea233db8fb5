"""Answer distribution bars: the model's probability for every option, and how it was obtained."""

from __future__ import annotations

import math

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text
from textual.widget import Widget

from ..core.scoring import Distribution
from .script import visual

LOW_VALID_MASS = 0.5


class DistributionView(Widget):
    DEFAULT_CSS = "DistributionView { height: auto; }"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.distribution: Distribution | None = None
        self.anchors: tuple[str, ...] = ()
        self.placeholder = "waiting for the model…"

    def show(self, distribution: Distribution | None, anchors=(), placeholder: str = "") -> None:
        self.distribution, self.anchors = distribution, tuple(visual(anchor) for anchor in anchors)
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
        show_anchors = width >= 64 and self.anchors
        anchor_width = max((cell_len(a) for a in self.anchors), default=0) + 1 if show_anchors else 0
        bar_width = max(6, min(40, width - label_width - 10 - anchor_width))  # label, space, bar, " 12.3%", marker
        lines = []
        for label, anchor in zip(d.labels, self.anchors or ("",) * len(d.labels)):
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
                line.append(f" {anchor}", style="dim")
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
        method = Text.assemble(("method ", "dim"), (d.method, "italic"), (f" ({describe_method(d)})", "dim"))
        if d.cached:
            method.append(" · replayed from the cache", style="dim")
        grid = Table.grid()
        for line in lines:
            grid.add_row(line)
        grid.add_row(summary)
        grid.add_row(method)
        if d.valid_mass < LOW_VALID_MASS and not d.samples:
            top = ", ".join(f"{tok!r} {100 * math.exp(lp):.0f}%" for tok, lp in d.top_tokens[:4])
            grid.add_row(Text(f"⚠ only {100 * d.valid_mass:.0f}% of the mass is on the options; model's top tokens: {top}", style="yellow"))
        return grid


def describe_method(d: Distribution) -> str:
    if d.samples:
        drawn = "one greedy answer" if d.method == "parsed" else f"{d.samples} answers drawn"
        return f"{drawn}, {d.unparsed} named no option; shares of the parsed answers"
    if d.floored:
        return f"top-k next-token probabilities; floored, not in the top k: {', '.join(d.floored)}"
    if d.method.startswith("logprobs"):
        return "next-token probabilities, renormalised over the options"
    return "not a model's probabilities: a test backend's fixed figures" if d.method == "scripted" else "renormalised over the options"
