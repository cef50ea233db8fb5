"""The full-screen gauge: a US↔CN needle per condition (each its own track), the nearest countries
ranked with bootstrap intervals, and per-dimension bars for the model against selected countries.
The 1000-resample bootstrap runs in a worker, on a copy of the selected track; its ranking comes back
in a RankingReady Message."""

from __future__ import annotations

import copy
import math
from pathlib import Path

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from ..core.metrics import CN, US, profiles_to_compare
from ..core.personas import get_persona
from ..messages import RankingReady
from ..widgets.gauge import needles

RANKED = 10


class GaugeScreen(Screen):
    HELP = """\
# Gauge

A US ↔ CN needle per condition (model, language, persona) answered so far; the nearest baseline
countries of the selected one (▶), with 95% intervals from item resamples; and per dimension the
model's mean against the United States, China and the nearest countries.
"""
    BINDINGS = [
        Binding("t", "next_track", "Next track", tooltip="select the next condition's track (▶)", id="gauge.next_track"),
        Binding("escape", "app.pop_screen", "Back", tooltip="back to the probe screen", id="gauge.back"),
    ]

    def __init__(self, probe_screen):
        super().__init__()
        self.probe = probe_screen
        self.selected = probe_screen.condition()
        self.rankings: dict[tuple, object] = {}  # (condition, its scores) -> ranking with intervals

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static(id="tracks", classes="gauge-part")
            yield Static(id="ranking", classes="gauge-part")
            yield Static(id="dimensions", classes="gauge-part")
        yield Footer()

    def on_mount(self) -> None:
        self.show()

    def on_screen_resume(self) -> None:
        self.show()

    # --- parts ---------------------------------------------------------------------------------
    def tracks(self) -> list:
        engine = self.probe.session.engine
        return [t for t in engine.tracks if engine.reading(t) is not None]

    def label(self, condition) -> str:
        model = condition.model.rsplit("#", 1)[-1] if "#" in condition.model else Path(condition.model).stem
        persona = get_persona(condition.persona, self.probe.personas).name_in("en")
        return f"{condition.language.upper()} · {persona} · {model}"

    def show(self) -> None:
        tracks = self.tracks()
        if tracks and self.selected not in tracks:
            self.selected = tracks[0]
        self.query_one("#tracks", Static).update(self._tracks_part(tracks))
        if not tracks:
            self.query_one("#ranking", Static).update("")
            self.query_one("#dimensions", Static).update("")
            return
        key = self._ranking_key(self.selected)
        if key in self.rankings:
            self._show_ranking(self.rankings[key])
            return
        self.query_one("#ranking", Static).update(Text("ranking the nearest countries with 1000 item resamples…", style="dim italic"))
        self.query_one("#dimensions", Static).update("")
        self.rank(self._track_copy(self.selected), self.selected, key)

    def _ranking_key(self, condition) -> tuple:
        return condition, tuple(self.probe.session.engine.tracks[condition].scores.items())

    def _track_copy(self, condition):
        """The engine with a copy of this one track: the worker reads it while answers go on arriving."""
        engine = copy.copy(self.probe.session.engine)
        engine.tracks = {condition: copy.deepcopy(engine.tracks[condition])}
        return engine

    @work(thread=True, exclusive=True, group="bootstrap")
    def rank(self, engine, condition, key) -> None:
        self.post_message(RankingReady(condition, key, engine.ranking_with_intervals(condition)))

    def on_ranking_ready(self, message: RankingReady) -> None:
        self.rankings[message.key] = message.ranking
        if message.condition == self.selected:
            self._show_ranking(message.ranking)

    def _show_ranking(self, ranking) -> None:
        self.query_one("#ranking", Static).update(self._ranking_part(ranking))
        self.query_one("#dimensions", Static).update(self._dimensions_part(ranking))

    def _tracks_part(self, tracks):
        engine = self.probe.session.engine
        width = max(24, min(self.size.width - 4, 60))
        title = Text("US ↔ CN, one track per condition (t selects; ▶ is shown below)", style="bold")
        if not tracks:
            return Group(title, Text("no answers yet: answer some items on the probe screen first", style="dim italic"))
        return Group(title, needles(engine, tracks, self.label, width, self.selected))

    def _ranking_part(self, ranking):
        scale_free = self.probe.session.baseline.scale_free
        metric = "profile r" if scale_free else "RMSE"
        no_interval = self.probe.session.engine.interval_note(self.selected)
        title = Text(f"Nearest countries for ▶ (by {metric}; {no_interval or '95% interval from 1000 item resamples'})", style="bold")
        table = Table(box=None, padding=(0, 1))
        table.add_column("#", justify="right")
        table.add_column("country")
        table.add_column(metric, justify="right")
        if not no_interval:
            table.add_column("95% interval", justify="right")
        if not scale_free:
            table.add_column("profile r", justify="right")
        for position, row in enumerate(ranking.head(RANKED).itertuples(), start=1):
            value = row.profile_r if scale_free else row.rmse
            interval = [] if no_interval else ["–" if math.isnan(row.low) else f"{row.low:.2f}–{row.high:.2f}"]
            cells = [str(position), row.country, _fmt(value), *interval]
            if not scale_free:
                cells.append(_fmt(row.profile_r, signed=True))
            table.add_row(*cells, style="bold" if row.country in (US, CN) else None)
        return Group(title, table)

    def _dimensions_part(self, ranking):
        session = self.probe.session
        reading = session.engine.reading(self.selected)
        nearest = [c for c in ranking["country"].head(2) if c not in (US, CN)]
        countries = [US, CN] + nearest
        dimensions = list(session.instrument.dimensions)
        table = profiles_to_compare(reading.model_means, session.baseline.table.loc[countries, dimensions], reading.scale_free)
        values = [v for v in table.to_numpy(float).ravel() if v == v]
        low, high = self._scale_range(values, reading.scale_free)
        width = max(10, min(self.size.width - 34, 40))
        labels = session.dimension_labels()
        standardised = " (each standardised over the model's indices, as the profile r compares them)" if reading.scale_free else ""
        rows = [Text(f"Per dimension: the model (▶) against {', '.join(countries)}{standardised}", style="bold")]
        for dimension in dimensions:
            rows.append(Text(labels.get(dimension, dimension), style="underline"))
            for who, value, style in [("model", table.loc["model", dimension], "green")] + [
                    (c, table.loc[c, dimension], "blue" if c == US else "red" if c == CN else "magenta") for c in countries]:
                if value is None or value != value:
                    rows.append(Text(f"  {who[:14]:<14} –", style="dim"))
                    continue
                filled = round((value - low) / (high - low) * width) if high > low else 0
                rows.append(Text.assemble(f"  {who[:14]:<14} ", ("█" * filled, style), ("·" * (width - filled), "dim"), f" {_fmt(value)}"))
        return Group(*rows)

    def _scale_range(self, values, standardised: bool) -> tuple[float, float]:
        """The item scale (1..k) where the figures are on it; standardised ones span what they span."""
        if not standardised:
            return 1.0, float(len(self.probe.instrument.scale.labels))
        return min(values + [0.0]), max(values + [0.0])

    def action_next_track(self) -> None:
        tracks = self.tracks()
        if tracks:
            self.selected = tracks[(tracks.index(self.selected) + 1) % len(tracks)] if self.selected in tracks else tracks[0]
            self.show()


def _fmt(value, signed: bool = False) -> str:
    if value is None or value != value:
        return "–"
    return f"{value:+.2f}" if signed else f"{value:.2f}"
