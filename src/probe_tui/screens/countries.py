"""The countries view (seed 001): VSM 2013 asked for each target country in its own condition,
filling in country by country, with the deviation ratio per country as a sorted bar chart."""

from __future__ import annotations

import math
import threading

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from ..core.conditions import COUNTRY_CONDITION_NOTES, COUNTRY_CONDITIONS, country_condition, country_jobs, country_language, target_countries
from ..core.countries import name_in
from ..core.instruments.vsm import DIMENSIONS, CountryAlignment, align_countries, raw_indices
from ..core.personas import Persona
from ..core.session import Condition
from ..widgets.script import ScriptText, visual
from ..widgets.text import safe_text
from .jobs import JobAnswered, JobAsking, RunEnded, run_for


class CountriesScreen(Screen):
    HELP = """\
# Countries (VSM 2013)

Every item asked for 20 countries, each in its own condition with its national persona, and the
deviation ratio per country against Hofstede's scores: DR > 1 means closer than one global-average
answer. ↑/↓ picks a country for the detail pane.
"""
    BINDINGS = [
        Binding("s", "toggle_sweep", "Start/pause", tooltip="start or pause the sweep (answers already given are kept)", id="countries.toggle_sweep"),
        Binding("m", "cycle_condition", "Condition", tooltip="each country in its own language → all in English → all in Chinese", id="countries.cycle_condition"),
        Binding("escape", "back", "Back", tooltip="back to the probe screen", id="countries.back"),
    ]

    def __init__(self, probe_screen):
        super().__init__()
        self.probe = probe_screen
        self.session = probe_screen.session
        self.instrument = probe_screen.instrument
        self.condition_name = "aligned"
        self.countries = target_countries(self.instrument)
        self.truth = self.instrument.baseline().table
        self.running = threading.Event()  # the sweep is wanted: set by s, cleared by a pause, an error or the end
        self.cancel = threading.Event()  # the token of the run in flight
        self.run_active = False  # a run's worker is still going (its last item may be in flight after a pause)
        self.alignment: CountryAlignment | None = None
        self.cursor_country = self.countries[0] if self.countries else None
        self.asking = None  # the job in flight

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="countries-main"):
            with VerticalScroll(id="chart-pane"):
                yield Static(id="chart-caption")
                yield OptionList(id="chart")
            with VerticalScroll(id="detail-pane"):
                yield Static(id="detail")
                yield ScriptText(id="asking")
        yield Static("", id="countries-status")
        yield Footer()

    def on_mount(self) -> None:
        self.stale = False
        self.set_interval(0.25, self._tick)
        self.refresh_view()
        self.query_one("#chart", OptionList).focus()

    # --- the sweep: the job runner in a thread; answers go into the probe session -----------------
    def condition_for(self, country: str, condition_name: str | None = None) -> tuple[Condition, Persona]:
        return country_condition(self.instrument, country, condition_name or self.condition_name, self.probe.backend.identity)

    def answers_for(self, country: str) -> dict[str, float]:
        condition, _ = self.condition_for(country)
        return {a.item.code: a.score_by(self.session.score_method) for a in self.session.answers_under(condition)}

    def start_sweep(self) -> None:
        """Ask every item not answered yet under this condition, country by country."""
        jobs = [job for job in country_jobs(self.instrument, self.instrument.items, self.probe.backend.identity,
                                            self.countries, self.condition_name)
                if self.session.answer_for(job.item, job.condition) is None]
        if not jobs:
            self.running.clear()
            return
        self.cancel, self.run_active = threading.Event(), True
        self.sweep(jobs, self.probe.backend, self.cancel)

    @work(thread=True, group="countries")
    def sweep(self, jobs, backend, cancel: threading.Event) -> None:
        run_for(self, jobs, backend, self.instrument, cancel, ready=lambda: self.probe.model_ready)

    def on_job_asking(self, message: JobAsking) -> None:
        self.asking = message.job
        self._show_asking()

    def on_job_answered(self, message: JobAnswered) -> None:
        self.session.record(message.answer)
        if self.asking == message.job:
            self.asking = None
        self.stale = True  # redrawn by the next tick: at most a few redraws a second, however fast answers come

    def on_run_ended(self, message: RunEnded) -> None:
        self.run_active, self.asking = False, None
        if message.error:
            self.running.clear()
            self.set_status(f"✗ {message.error} (paused; press s to retry)", True)
        elif self.running.is_set():
            self.start_sweep()  # the condition was switched, or s pressed again while the last item finished
        self.refresh_view()

    def _tick(self) -> None:
        if self.stale:
            self.stale = False
            self.refresh_view()

    # --- display ---------------------------------------------------------------------------------------
    def set_status(self, text: str, error: bool = False) -> None:
        if not self.is_attached:
            return
        status = self.query_one("#countries-status", Static)
        status.update(safe_text(text))
        status.set_class(error, "error")

    def _show_asking(self) -> None:
        if self.is_attached and self.asking:
            job = self.asking
            self.query_one("#asking", ScriptText).set_text(f"asking for {job.country}:\n{job.item.text_in(job.condition.language)}")

    def refresh_view(self) -> None:
        if not self.is_attached:
            return
        answered = {c: self.answers_for(c) for c in self.countries}
        complete = {c: means for c, means in answered.items() if len(means) == len(self.instrument.items)}
        self.alignment = align_countries(raw_indices(complete), self.truth) if len(complete) >= 2 else None
        self.query_one("#chart-caption", Static).update(self._caption(len(complete)))
        self._draw_chart(answered)
        self._draw_detail(answered)
        self.query_one("#asking", ScriptText).set_text("")
        self._show_asking()
        if len(complete) == len(self.countries):
            self.set_status(f"All {len(self.countries)} countries answered under this condition · m switches condition.")
        elif not self.probe.model_ready:
            self.set_status("Waiting for the model to load…")
        elif self.running.is_set():
            done = sum(len(a) for a in answered.values())
            self.set_status(f"Sweeping: {done}/{len(self.countries) * len(self.instrument.items)} answers · "
                            f"{len(complete)}/{len(self.countries)} countries complete · s pauses")
        elif not self.query_one("#countries-status", Static).has_class("error"):
            self.set_status("Paused. Press s to ask every item for every country (answers already given are kept).")

    def _caption(self, complete: int) -> Text:
        text = Text.assemble(("Deviation ratio by country", "bold"), f" · {self.condition_name}: {COUNTRY_CONDITION_NOTES[self.condition_name]}\n")
        if self.alignment is None:
            text.append("DR appears once two countries have all 24 items (the constants are centred on them).", style="dim")
        else:
            text.append(f"mean DR {self.alignment.mean_deviation_ratio:.2f} over {len(self.alignment.indices)} countries · "
                        "│ marks DR = 1, the one-answer-fits-all middle ground", style="dim")
        return text

    def _draw_chart(self, answered: dict[str, dict]) -> None:
        chart = self.query_one("#chart", OptionList)
        width = max(6, (chart.content_region.width or 60) - 30)  # name, language and the number come first
        ratios = self.alignment.deviation_ratio.to_dict() if self.alignment is not None else {}
        order = sorted(self.countries, key=lambda c: -ratios[c] if c in ratios else float("inf"))
        top = max([2.0] + [r for r in ratios.values() if math.isfinite(r)])
        options = []
        for country in order:
            language = country_language(country, self.condition_name)
            label = Text.assemble((f"{country[:16]:<16} ", "bold"), (f"{language:<3}", "dim"))
            if country in ratios:
                ratio = float(ratios[country])
                label.append(f"{ratio:5.2f} " if ratio != float("inf") else "  inf ", style="bold")
                label.append_text(_bar(ratio, top, width))
            else:
                label.append(f"{len(answered[country])}/{len(self.instrument.items)} items", style="dim italic")
            options.append(Option(label, id=country))
        highlighted = self.cursor_country
        chart.clear_options()
        chart.add_options(options)
        if highlighted in order:
            chart.highlighted = order.index(highlighted)

    def _draw_detail(self, answered: dict[str, dict]) -> None:
        country = self.cursor_country
        detail = self.query_one("#detail", Static)
        if country is None:
            detail.update("No country has a primary language in this item bank.")
            return
        condition, persona = self.condition_for(country)
        native = name_in(country, condition.language)
        grid = Table.grid()
        grid.add_row(Text.assemble((country, "bold"), f" · {visual(native)} · {condition.language}"))
        width = self.query_one("#detail").content_region.width or 36  # before the first layout: the pane's usual width
        grid.add_row(Text(visual(persona.text_in(condition.language), width), style="dim", overflow="fold"))  # CJK and Thai have no spaces
        grid.add_row(Text(f"{len(answered[country])}/{len(self.instrument.items)} items answered", style="dim"))
        table = Table.grid(padding=(0, 1))
        table.add_column()
        table.add_column(justify="right")
        table.add_column(justify="right")
        table.add_row(Text("index", style="dim"), Text("model", style="dim"), Text("Hofstede", style="dim"))
        model = self.alignment.indices.loc[country] if self.alignment is not None and country in self.alignment.indices.index else None
        for dim in DIMENSIONS:
            mine = "–" if model is None else f"{model[dim]:.0f}"
            table.add_row(dim.upper(), mine, f"{self.truth.loc[country, dim]:.0f}")
        grid.add_row(table)
        if self.alignment is not None and country in self.alignment.deviation_ratio.index:
            ratio = float(self.alignment.deviation_ratio[country])
            verdict = "closer than the global mean" if ratio > 1 else "no closer than the global mean"
            grid.add_row(Text.assemble(("DR ", "dim"), (f"{ratio:.2f}", "bold"), (f"  {verdict}", "dim")))
            grid.add_row(Text(self.alignment.describe_convention(), style="dim"))
        else:
            grid.add_row(Text("model indices need all 24 items here and in one more country", style="dim"))
        grid.add_row(Text("Hofstede 6-D scores, 2015-08-16 vintage", style="dim"))
        detail.update(grid)

    # --- actions ------------------------------------------------------------------------------------
    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id and event.option.id != self.cursor_country:
            self.cursor_country = event.option.id
            self._draw_detail({c: self.answers_for(c) for c in self.countries})

    def action_toggle_sweep(self) -> None:
        if self.running.is_set():
            self.running.clear()
            self.cancel.set()
            note = " (the item in flight finishes first: llama.cpp cannot stop mid-prompt)" if self.asking else ""
            self.set_status(f"Pausing{note}.")
        else:
            self.query_one("#countries-status", Static).remove_class("error")
            self.running.set()
            if not self.run_active:  # else the run ending starts the next
                self.start_sweep()
            self.refresh_view()

    def action_cycle_condition(self) -> None:
        self.condition_name = COUNTRY_CONDITIONS[(COUNTRY_CONDITIONS.index(self.condition_name) + 1) % len(COUNTRY_CONDITIONS)]
        self.cancel.set()  # a sweep goes on under the new condition once the item in flight is answered
        self.refresh_view()

    def on_unmount(self) -> None:
        self.cancel.set()  # the sweep ends with the screen, or with the app

    def action_back(self) -> None:
        if not self.is_active:
            return  # a later key of a burst, handled after this screen closed
        self.cancel.set()
        self.running.clear()
        self.app.pop_screen()
        self.probe.show_item()


def _bar(ratio: float, top: float, width: int) -> Text:
    """A bar to ratio on a 0..top scale, with │ at DR = 1."""
    one = round(width / top)
    filled = width if ratio == float("inf") else max(0, min(width, round(ratio / top * width)))
    cells = ["█" if i < filled else " " for i in range(width)]
    style = "green" if ratio > 1 else "yellow"
    bar = Text()
    for i, cell in enumerate(cells):
        if i == one:
            bar.append("│" if cell == " " else "┃", style="bold white")
        else:
            bar.append(cell, style=style)
    return bar


