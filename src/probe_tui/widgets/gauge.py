"""The running US↔China gauge: foundation means so far next to both countries' human means."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widget import Widget

from ..core.lean import NO_CLEAR_LEAN
from ..core.metrics import CN, US, GaugeReading
from .script import visual
from .text import safe_text

SHORT = {US: "US", CN: "CN"}


class GaugeView(Widget):
    DEFAULT_CSS = "GaugeView { height: auto; }"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.reading: GaugeReading | None = None
        self.dimensions: tuple[str, ...] = ()
        self.labels: dict[str, str] = {}
        self.nearest: tuple[str, ...] = ()
        self.groups: dict[str, dict] = {}
        self.waiting = "no answers yet under this condition"
        self.source = ""
        self.human: dict[str, dict[str, float]] = {}
        self.caption = ""

    def show(self, reading: GaugeReading | None, dimension_labels: dict[str, str], human: dict[str, dict[str, float]], caption: str,
             baseline=None, nearest=(), groups=None, waiting: str = "no answers yet under this condition") -> None:
        self.waiting = waiting
        self.reading, self.labels, self.human, self.caption = reading, dimension_labels, human, caption
        self.nearest = tuple(nearest)
        self.groups = groups or {}
        self.dimensions = tuple(dimension_labels)
        self.source = baseline.source if baseline is not None else "no human baseline for this instrument"
        self.refresh(layout=True)

    def render(self):
        reading = self.reading
        grid = Table.grid()
        grid.add_row(safe_text(visual(self.caption, self.size.width or None, align=False), style="bold"))
        if reading is None:
            grid.add_row(Text(self.waiting, style="dim italic"))
            grid.add_row(Text(self.source, style="dim"))
            return grid
        table = Table.grid(padding=(0, 1))
        table.add_column()
        for _ in range(3):
            table.add_column(justify="right")
        table.add_row(Text("dimension", style="dim"), Text("model", style="dim"), Text("US", style="dim"), Text("CN", style="dim"))
        for dim in self.dimensions:
            model = reading.model_means.get(dim)
            table.add_row(
                safe_text(self.labels.get(dim, dim)[:15]),
                _number(model),
                _number(self.human[US].get(dim)),
                _number(self.human[CN].get(dim)),
            )
        fits = reading.fits

        def r_text(country):
            r = fits[country].profile_r
            return f"{r:+.2f}" if r is not None else Text("n/a", style="dim")

        table.add_row(Text("profile r", style="bold"), "", r_text(US), r_text(CN))
        if not reading.scale_free:
            table.add_row(Text("RMSE", style="bold"), "", f"{fits[US].rmse:.2f}", f"{fits[CN].rmse:.2f}")
        grid.add_row(table)
        if reading.scale_free:
            grid.add_row(Text("scale-free: indices use C=0, so only the profile r is compared", style="dim"))
        grid.add_row(self._needle(reading, width=max(20, min(self.size.width, 36))))
        grid.add_row(self._verdict(reading))
        if self.nearest:
            grid.add_row(Text.assemble(("nearest: ", "dim"), safe_text(", ".join(self.nearest))))
        for name, result in self.groups.items():
            accuracy = "n/a" if result["modal_accuracy"] is None else f"{result['modal_accuracy']:.2f}"
            nmae = "n/a" if result["nmae"] is None else f"{result['nmae']:.2f}"
            grid.add_row(Text.assemble(("vs group ", "dim"), safe_text(name[:24]), ("  modal acc ", "dim"), accuracy, ("  NMAE ", "dim"), nmae))
        grid.add_row(Text(self.source, style="dim"))
        return grid

    @staticmethod
    def _needle(reading: GaugeReading, width: int) -> Text:
        """US on the left, CN on the right; the needle sits by relative RMSE (or by r, scale-free),
        and ━ spans the lean's 95% interval where there is one."""
        inner = width - 6
        if reading.scale_free:
            scale = 2.0  # r skew lies in [-2, 2]
        else:
            scale = reading.fits[US].rmse + reading.fits[CN].rmse  # +1: at the US

        def column(skew: float) -> int:
            share = 0.0 if scale == 0 else max(-1.0, min(1.0, skew / scale))
            return round((1 - share) / 2 * (inner - 1))

        line = ["─"] * inner
        interval = reading.lean_interval
        if interval is not None and interval.low is not None:
            left, right = sorted((column(interval.low), column(interval.high)))
            for i in range(left, right + 1):
                line[i] = "━"
        line[inner // 2] = "┼"
        line[column(reading.skew or 0.0)] = "●"
        return Text.assemble(("US ", "bold blue"), ("".join(line), "yellow"), (" CN", "bold red"))

    @staticmethod
    def _verdict(reading: GaugeReading) -> Text:
        claim, interval = reading.claim, reading.lean_interval
        n = reading.items_answered
        items = f"{n} item{'s' * (n != 1)}"
        if claim == "neither":
            return Text(f"no lean yet ({items})", style="dim")
        by = "profile r" if reading.scale_free else "RMSE"
        span = f" · 95% {interval.low:+.2f}…{interval.high:+.2f}" if interval is not None and interval.low is not None else ""
        if claim == "" and interval is not None:
            return Text(f"no lean claimed: {interval.note} · {by} skew {reading.skew:+.2f}", style="dim")
        if claim == NO_CLEAR_LEAN:
            return Text.assemble(("no clear lean", "bold"), (f" · {by} skew {reading.skew:+.2f}{span} includes 0 · {items}", "dim"))
        lean = claim or reading.lean
        style = "bold blue" if lean == US else "bold red"
        if reading.scale_free:
            detail = f" by {abs(reading.r_skew):.2f} in profile r{span} · {items}"
        else:
            note = f" · r skew {reading.r_skew:+.2f}" if reading.r_skew is not None and not span else ""
            detail = f" by {abs(reading.rmse_skew):.2f} RMSE{span}{note} · {items}"
        return Text.assemble(("leans ", ""), (SHORT[lean], style), (detail, "dim"))


def needles(reading_of, tracks, label, width: int, selected=None, big: bool = False):
    """One US↔CN needle per condition track, each with its verdict (the gauge screen, the demo).
    reading_of: track -> its GaugeReading (the engine's `reading`, or readings computed before)."""
    from rich.console import Group

    rows = []
    for track in tracks:
        reading = reading_of(track)
        marker = "▶ " if track == selected else "  "
        rows.append(safe_text(marker + label(track), style="bold" if track == selected or big else ""))
        needle = GaugeView._needle(reading, width)
        if big:
            needle.stylize("bold")
        rows.append(Text.assemble("  ", needle))
        rows.append(Text.assemble("  ", GaugeView._verdict(reading)))
        if big:
            rows.append(Text(""))
    return Group(*rows)


def _number(value) -> Text | str:
    if value is None or value != value:  # None or NaN
        return Text("–", style="dim")
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"
