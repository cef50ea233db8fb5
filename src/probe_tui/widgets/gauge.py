"""The running US↔China gauge: foundation means so far next to both countries' human means."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widget import Widget

from ..core.metrics import CN, US, GaugeReading

SHORT = {US: "US", CN: "CN"}


class GaugeView(Widget):
    DEFAULT_CSS = "GaugeView { height: auto; }"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.reading: GaugeReading | None = None
        self.dimensions: tuple[str, ...] = ()
        self.human: dict[str, dict[str, float]] = {}
        self.caption = ""

    def show(self, reading: GaugeReading | None, dimensions, human: dict[str, dict[str, float]], caption: str) -> None:
        self.reading, self.dimensions, self.human, self.caption = reading, tuple(dimensions), human, caption
        self.refresh(layout=True)

    def render(self):
        reading = self.reading
        grid = Table.grid()
        grid.add_row(Text(self.caption, style="bold"))
        if reading is None:
            grid.add_row(Text("no answers yet under this condition", style="dim italic"))
            return grid
        table = Table.grid(padding=(0, 1))
        table.add_column()
        for _ in range(3):
            table.add_column(justify="right")
        table.add_row(Text("foundation", style="dim"), Text("model", style="dim"), Text("US", style="dim"), Text("CN", style="dim"))
        for dim in self.dimensions:
            model = reading.model_means.get(dim)
            table.add_row(
                dim[:15],
                f"{model:.2f}" if model is not None else Text("–", style="dim"),
                f"{self.human[US][dim]:.2f}",
                f"{self.human[CN][dim]:.2f}",
            )
        fits = reading.fits

        def r_text(country):
            r = fits[country].profile_r
            return f"{r:+.2f}" if r is not None else Text("n/a", style="dim")

        table.add_row(Text("profile r", style="bold"), "", r_text(US), r_text(CN))
        table.add_row(Text("RMSE", style="bold"), "", f"{fits[US].rmse:.2f}", f"{fits[CN].rmse:.2f}")
        grid.add_row(table)
        grid.add_row(self._needle(reading, width=max(20, min(self.size.width, 36))))
        grid.add_row(self._verdict(reading))
        return grid

    @staticmethod
    def _needle(reading: GaugeReading, width: int) -> Text:
        """US on the left, CN on the right; the needle sits by relative RMSE."""
        inner = width - 6
        total = reading.fits[US].rmse + reading.fits[CN].rmse
        share = 0.0 if total == 0 else (reading.rmse_skew or 0.0) / total  # +1: at the US
        position = round((1 - share) / 2 * (inner - 1))
        line = ["─"] * inner
        line[inner // 2] = "┼"
        line[position] = "●"
        return Text.assemble(("US ", "bold blue"), ("".join(line), "yellow"), (" CN", "bold red"))

    @staticmethod
    def _verdict(reading: GaugeReading) -> Text:
        lean = reading.lean
        n = reading.items_answered
        if lean == "neither":
            return Text(f"no lean yet ({n} item{'s' * (n != 1)})", style="dim")
        style = "bold blue" if lean == US else "bold red"
        note = f" · r skew {reading.r_skew:+.2f}" if reading.r_skew is not None else ""
        return Text.assemble(
            ("leans ", ""), (SHORT[lean], style),
            (f" by {abs(reading.rmse_skew):.2f} RMSE{note} · {n} item{'s' * (n != 1)}", "dim"),
        )
