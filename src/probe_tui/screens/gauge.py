"""The full-screen gauge: a US↔CN needle per condition (each its own track), the nearest countries
ranked with bootstrap intervals, and per-dimension bars for the model against selected countries.
The tracks' readings are computed in a worker once per change of their answers (TracksRead), and the
1000-resample bootstrap in another, on a copy of the selected track, which also draws the ranking and
the dimensions (RankingReady); both are kept by (condition, its scores), so a key press only redraws."""

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

from ..core.gauge import Track
from ..core.metrics import CN, US, profiles_to_compare
from ..core.personas import get_persona
from ..core.rows import answer_row
from ..messages import RankingReady, TracksRead
from ..widgets.gauge import needles
from ..widgets.text import safe_text
from .gauge_baselines import BaselinePanels

RANKED = 10


class GaugeScreen(BaselinePanels, Screen):
    HELP = """\
# Gauge

A US ↔ CN needle per condition (model, language, persona) answered so far; the nearest baseline
countries of the selected one (▶), with 95% intervals from item resamples; and per dimension the
model's mean against the United States, China and the nearest countries. Where group baselines
are in the data directory (`probe-tui baselines`): the persona against its subgroup (modal accuracy,
NMAE) and the nearest countries by answer distribution (1 − JSD, normalised W1).

The needle's ━ and the line under it are the lean's 95% bootstrap interval: "no clear lean" when it
includes 0, and no claim at all before 5 items. With prompt variants on (V on the probe screen), the
sensitivity of ▶ per dimension: the share of items whose argmax changes, the mean and largest |ΔE|,
the variance between variants beside that between items, and the order-corrected score.
"""
    BINDINGS = [
        Binding("t", "next_track", "Next track", tooltip="select the next condition's track (▶)", id="gauge.next_track"),
        Binding("escape", "app.pop_screen", "Back", tooltip="back to the probe screen", id="gauge.back"),
    ]

    def __init__(self, probe_screen):
        super().__init__()
        self.probe = probe_screen
        self.selected = probe_screen.condition()
        self.readings: dict[object, tuple] = {}  # condition -> (its scores' key, its reading), from a worker
        self.reading_now: dict[object, tuple] = {}  # condition -> the key a worker is reading
        self.rankings: dict[tuple, tuple] = {}  # (condition, its scores) -> (ranking with intervals, its parts)

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static(id="tracks", classes="gauge-part")
            yield Static(id="sensitivity", classes="gauge-part")
            yield Static(id="ranking", classes="gauge-part")
            yield from self.baseline_statics()  # persona vs subgroup; nearest by distribution (gauge_baselines.py)
            yield Static(id="dimensions", classes="gauge-part")
        yield Footer()

    def on_mount(self) -> None:
        self.show()

    def on_screen_resume(self) -> None:
        self.show()

    # --- parts ---------------------------------------------------------------------------------
    def tracks(self) -> list:
        """The conditions with a reading, as last read (in a worker); no pandas here."""
        return [t for t in self.probe.session.engine.tracks if self.readings.get(t, (None, None))[1] is not None]

    def label(self, condition) -> str:
        if self.app.study is not None and condition.model in self.app.study.models:  # a study's track: its model's label
            model = self.app.model_label(condition.model)
        else:
            model = condition.model.rsplit("#", 1)[-1] if "#" in condition.model else Path(condition.model).stem
        persona = get_persona(condition.persona, self.probe.personas).name_in("en")
        return f"{condition.language.upper()} · {persona} · {model}"

    def show(self) -> None:
        """Draw what has been read; what has changed since is read (and ranked) in workers."""
        engine = self.probe.session.engine
        keys = {condition: self._ranking_key(condition) for condition in engine.tracks}
        stale = [c for c, key in keys.items() if self.readings.get(c, (None,))[0] != key]
        unread = [c for c in stale if self.reading_now.get(c) != keys[c]]
        if unread:
            self.reading_now.update({c: keys[c] for c in unread})
            self.read_tracks(self._tracks_copy(unread), {c: keys[c] for c in unread})
        tracks = self.tracks()
        if tracks and self.selected not in tracks:
            self.selected = tracks[0]
        self.show_baselines()
        self.query_one("#tracks", Static).update(self._tracks_part(tracks, reading=bool(stale)))
        if not tracks:
            self.query_one("#ranking", Static).update("")
            self.query_one("#dimensions", Static).update("")
            return
        key = keys[self.selected]
        if key in self.rankings:
            self._show_ranking(*self.rankings[key][1])
            return
        self.query_one("#ranking", Static).update(Text("ranking the nearest countries with 1000 item resamples…", style="dim italic"))
        self.query_one("#dimensions", Static).update("")
        self.query_one("#sensitivity", Static).update("")
        rows = [answer_row(a) for a in self.probe.session.variant_answers(self.selected)]
        self.rank(self._tracks_copy([self.selected]), self.selected, key, self.size.width, rows)

    def _ranking_key(self, condition) -> tuple:
        track = self.probe.session.engine.tracks[condition]
        return condition, tuple(track.scores.items()), tuple(track.variants.items())

    def _tracks_copy(self, conditions):
        """The engine with a copy of these tracks: the worker reads them while answers go on arriving."""
        engine = copy.copy(self.probe.session.engine)
        engine.tracks = {c: Track(dict(engine.tracks[c].scores), dict(engine.tracks[c].variants)) for c in conditions}
        return engine

    @work(thread=True, group="readings")
    def read_tracks(self, engine, keys: dict) -> None:
        self.post_message(TracksRead({condition: (key, engine.reading(condition)) for condition, key in keys.items()}))

    def on_tracks_read(self, message: TracksRead) -> None:
        for condition, (key, reading) in message.readings.items():
            if self.reading_now.get(condition) == key:
                del self.reading_now[condition]
            self.readings[condition] = (key, reading)  # show() reads again what has changed since
        self.show()

    @work(thread=True, exclusive=True, group="bootstrap")
    def rank(self, engine, condition, key, width: int, variant_rows=()) -> None:
        ranking = engine.ranking_with_intervals(condition)
        parts = (self._ranking_part(ranking, engine, condition), self._dimensions_part(ranking, engine, condition, width),
                 self._sensitivity_part(variant_rows))
        self.post_message(RankingReady(condition, key, ranking, parts))

    def on_ranking_ready(self, message: RankingReady) -> None:
        self.rankings[message.key] = (message.ranking, message.parts)
        if message.condition == self.selected:
            self._show_ranking(*message.parts)

    def _show_ranking(self, ranking_part, dimensions_part, sensitivity_part) -> None:
        self.query_one("#sensitivity", Static).update(sensitivity_part)
        self.query_one("#ranking", Static).update(ranking_part)
        self.query_one("#dimensions", Static).update(dimensions_part)

    def _tracks_part(self, tracks, reading: bool = False):
        width = max(24, min(self.size.width - 4, 60))
        title = Text("US ↔ CN, one track per condition (t selects; ▶ is shown below)", style="bold")
        if not tracks:
            waiting = "reading the tracks…" if reading else "no answers yet: answer some items on the probe screen first"
            return Group(title, Text(waiting, style="dim italic"))
        return Group(title, needles(lambda track: self.readings[track][1], tracks, self.label, width, self.selected))

    # --- drawn in the ranking worker -------------------------------------------------------------
    def _ranking_part(self, ranking, engine, condition):
        scale_free = self.probe.session.baseline.scale_free
        metric = "profile r" if scale_free else "RMSE"
        no_interval = engine.interval_note(condition)
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

    def _sensitivity_part(self, rows):
        """A line per dimension: how much the answers of ▶ move between the prompt variants asked."""
        import pandas as pd

        from ..core.sensitivity import COMPACT_KEY, compact_line, sensitivity

        title = Text("Sensitivity of ▶ to the way of asking", style="bold")
        per_item, per_dimension = sensitivity(pd.DataFrame(rows), self.probe.instrument) if rows else (None, pd.DataFrame())
        if per_dimension.empty:
            return Group(title, Text("no item asked under two variants yet: V on the probe screen asks each item under prompt "
                                     "variants (option order; then anchors and frames too)", style="dim"))
        labels = self.probe.session.dimension_labels()
        lines = [safe_text(compact_line(r, labels.get(r["dimension"], r["dimension"]))) for _, r in per_dimension.iterrows()]
        effect = per_dimension["order_effect"].mean()
        count = f"{len(per_item)} item(s) × up to {int(per_dimension['variants'].max())} variants"
        note = f"{count} · order effect {effect:+.2f} (0: follows the meaning; −: the first option listed)" if effect == effect else count
        return Group(title, *lines, Text(note, style="dim"), Text(COMPACT_KEY, style="dim"))

    def _dimensions_part(self, ranking, engine, condition, screen_width: int):
        session = self.probe.session
        reading = engine.reading(condition)
        nearest = [c for c in ranking["country"].head(2) if c not in (US, CN)]
        countries = [US, CN] + nearest
        dimensions = list(session.instrument.dimensions)
        table = profiles_to_compare(reading.model_means, session.baseline.table.loc[countries, dimensions], reading.scale_free)
        values = [v for v in table.to_numpy(float).ravel() if v == v]
        low, high = self._scale_range(values, reading.scale_free)
        width = max(10, min(screen_width - 34, 40))
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
