"""Answer distribution bars: the model's probability for every option, and how it was obtained."""

from __future__ import annotations

import math

from rich.table import Table
from rich.text import Text
from textual.widget import Widget

from ..core.scoring import Distribution

LOW_VALID_MASS = 0.5


class DistributionView(Widget):
    DEFAULT_CSS = "DistributionView { height: auto; }"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.distribution: Distribution | None = None
        self.anchors: tuple[str, ...] = ()
        self.placeholder = "waiting for the model…"

    def show(self, distribution: Distribution | None, anchors=(), placeholder: str = "") -> None:
        self.distribution, self.anchors = distribution, tuple(anchors)
        if placeholder:
            self.placeholder = placeholder
        self.refresh(layout=True)

    def render(self):
        d = self.distribution
        if d is None:
            return Text(self.placeholder, style="dim italic")
        width = max(self.size.width, 30)
        bar_width = max(8, min(30, width - 36))
        table = Table.grid(padding=(0, 1))
        table.add_column(justify="right")
        table.add_column(width=bar_width, no_wrap=True)
        table.add_column(justify="right", width=6)
        table.add_column(overflow="ellipsis", no_wrap=True)
        for label, anchor in zip(d.labels, self.anchors or ("",) * len(d.labels)):
            p = d.probs[label]
            filled = round(p * bar_width)
            style = "bold green" if label == d.answer else "cyan"
            bar = Text("█" * filled, style=style) + Text("·" * (bar_width - filled), style="dim")
            table.add_row(Text(label, style="bold"), bar, f"{100 * p:5.1f}%", Text(anchor, style="dim"))
        mass_style = "bold red" if d.valid_mass < LOW_VALID_MASS else "green"
        summary = Text.assemble(
            ("valid_mass ", "dim"), (f"{d.valid_mass:.3f}", mass_style),
            ("  E[x] ", "dim"), f"{d.expected:.2f}",
            ("  argmax ", "dim"), d.answer,
            ("  entropy ", "dim"), f"{d.entropy_bits:.2f}/{d.max_entropy_bits:.2f} bits",
        )
        method = Text.assemble(("method ", "dim"), (d.method, "italic"), (" (next-token probabilities, renormalised over the options)", "dim"))
        grid = Table.grid()
        grid.add_row(table)
        grid.add_row(summary)
        grid.add_row(method)
        if d.valid_mass < LOW_VALID_MASS:
            top = ", ".join(f"{tok!r} {100 * math.exp(lp):.0f}%" for tok, lp in d.top_tokens[:4])
            grid.add_row(Text(f"⚠ only {100 * d.valid_mass:.0f}% of the mass is on the options; model's top tokens: {top}", style="yellow"))
        return grid
