"""Country pairs (after seed study 002): one scenario between two countries, P(A) and P(B) for both
option orders, both initiators and both polarities; a running favourability chart per country with
95% CIs across scenario types; and the 8×8 pair heat map."""

from __future__ import annotations

import logging
import threading

import pandas as pd
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from ..backends.manager import LOADING, READY
from ..core import paths
from ..core.conditions import single_condition_jobs
from ..core.instruments.pairs import POLARITIES, log_odds, pairs_from_run, short
from ..core.metrics import favourability, pair_matrix
from ..core.personas import canonical_key, get_persona
from ..core.report import signed
from ..core.rows import answer_row
from ..core.session import Condition, ProbeSession
from ..widgets.guards import quitting
from ..widgets.script import ScriptText
from .commands import PairsCommands
from .dialogs import pick_persona
from .jobs import JobAnswered, RunEnded, run_for

log = logging.getLogger(__name__)
QUESTION = {"more": "more justifiable", "less": "less justifiable"}


class ChartsReady(Message):
    """The favourability chart and the heat map, computed in a worker from the answers under `condition`."""

    def __init__(self, condition: Condition, favourability, heat_map) -> None:
        super().__init__()
        self.condition, self.favourability, self.heat_map = condition, favourability, heat_map

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ChartsReady)  # only the newest charts are worth drawing


class CountryPairsScreen(Screen):
    COMMANDS = {PairsCommands}
    HELP = """\
# Country pairs

One scenario between two countries: P(A) and P(B) for both option orders, both initiators and both
polarities ("more" and "less justifiable"), with the log-odds for the first country averaged over the
orders. Below: a running favourability chart per country (95% CI across scenario types) and the 8×8
pair heat map, from the answers under the current language and persona.
"""
    BINDINGS = [
        Binding("n", "step(1)", "Pair", tooltip="the next of the 28 pairs", id="pairs.next_pair"),
        Binding("b", "step(-1)", "Back", show=False, tooltip="the previous pair", id="pairs.previous_pair"),
        Binding("right_square_bracket", "scenario(1)", "Scenario", tooltip="the next scenario", id="pairs.next_scenario"),
        Binding("left_square_bracket", "scenario(-1)", "Prev scenario", show=False, tooltip="the previous scenario", id="pairs.previous_scenario"),
        Binding("s", "toggle_sweep", "Sweep", tooltip="start or pause the sweep: every pair of a scenario, then the next scenario", id="pairs.toggle_sweep"),
        Binding("l", "cycle_language", "Lang", tooltip="cycle the prompt language (EN → ZH → FR)", id="pairs.cycle_language"),
        Binding("p", "pick_persona", "Persona", tooltip="pick a persona, or compose one", id="pairs.pick_persona"),
        Binding("t", "toggle_prompt", "Prompt", show=False, tooltip="show or hide the exact prompts of this scenario and pair", id="pairs.toggle_prompt"),
        Binding("a", "session_answers", "Answers", tooltip="every answer so far (f odd ones only, s sort, Enter open)", id="pairs.session_answers"),
        Binding("m", "models", "Models", show=False, tooltip="load another model or endpoint", id="pairs.models"),
        Binding("i", "app.pick_instrument", "Instrument", show=False, tooltip="MFQ-2, WVS, VSM 2013 or the country pairs, on the same model", id="pairs.pick_instrument"),
    ]

    def __init__(self, backend, bank, personas, language: str, persona: str):
        super().__init__()
        self.backend, self.bank, self.personas = backend, bank, personas
        self.instrument = bank  # as on the probe screen: what the session stores answers under
        self.language, self.persona = bank.check_language(language), persona
        self.session = ProbeSession(bank)
        self.pairs = bank.pairs()
        self.scenario_index = self.pair_index = 0
        self.model_ready = False
        self.sweeping = threading.Event()
        self.asking = False
        self.cancel = threading.Event()  # the token of the run in flight: set when the model is switched
        self.charts_busy = self.charts_wanted = False  # a worker is computing the charts; newer answers wait for it

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield ScriptText(id="scenario", classes="pairs-part")
            with VerticalScroll(id="prompt-box"):
                yield ScriptText(id="prompt-text")
            yield Static(id="pair-table", classes="pairs-part")
            yield Static(id="favourability", classes="pairs-part")
            yield Static(id="heat-map", classes="pairs-part")
        yield Static("", id="pairs-status")
        yield Footer()

    def on_mount(self) -> None:
        if quitting(self):
            return
        position = self.app.restore(self)
        if position:
            self.scenario_index = min(int(position.get("scenario", 0)), len(self.bank.scenarios) - 1)
            self.pair_index = min(int(position.get("pair", 0)), len(self.pairs) - 1)
            if position.get("language") in self.bank.languages:
                self.language = position["language"]
            self.persona = canonical_key(position.get("persona", self.persona), self.personas)
        self.show()
        self.load_model()
        self.watch(self.app, "model_status", self._show_model, init=False)

    # --- state ---------------------------------------------------------------------------------
    @property
    def items(self) -> tuple:
        """The prompts whose answers the answers table lists: a study's own, else all of them."""
        return self.app.items_of(self.bank)

    @property
    def scenario(self):
        return self.bank.scenarios[self.scenario_index]

    @property
    def pair(self):
        return self.pairs[self.pair_index]

    def condition(self) -> Condition:
        return Condition(self.backend.identity, self.bank.key, self.language, self.persona)

    def current_items(self):
        return [item for item in self.bank.prompts(pairs=[self.pair]) if item.scenario == self.scenario]

    def set_status(self, text: str, error: bool = False) -> None:
        status = self.query_one("#pairs-status", Static)
        status.update(Text(text))
        status.set_class(error, "error")

    # --- the model (the app's ModelManager loads it; this screen follows the app's model_status) ---
    def load_model(self) -> None:
        self.app.load_model(self.backend)
        self._show_model()

    def on_screen_resume(self) -> None:
        if quitting(self):
            return
        if self.backend is not self.app.backend:
            self.backend, self.model_ready = self.app.backend, False
            self.cancel.set()  # the run in flight stops at its next item
            self.load_model()
        self.show()

    def _show_model(self, before=None, after=None) -> None:
        if quitting(self):
            return
        status = self.app.status_of(self.backend)
        if status is None or self.model_ready:
            return
        if status.phase == LOADING:
            self.set_status(f"Loading {self.backend.display_name}…")
        elif status.phase == READY:
            self._model_loaded(self.backend.info, self.backend)
        else:
            self.set_status(f"✗ {status.error}. m picks another model, q quits; details in {paths.log_file()}", True)

    def _model_loaded(self, info, backend) -> None:
        if backend is not self.backend:
            return  # a model since switched away from
        self.model_ready = True
        self.app.sub_title = info.name
        self.set_status(f"Model ready: {info.name}.")
        self.show()

    def ask_current(self) -> None:
        missing = self._missing(self.current_items())
        if self.model_ready and not self.asking and missing:
            self.asking, self.cancel = True, threading.Event()
            jobs = single_condition_jobs(self.bank, missing, self.backend.identity, self.language, get_persona(self.persona, self.personas))
            self.ask_items(jobs, self.backend, self.cancel)

    def _missing(self, items):
        condition = self.condition()
        return [item for item in items if self.session.answer_for(item, condition) is None]

    @work(thread=True, group="ask")
    def ask_items(self, jobs, backend, cancel: threading.Event) -> None:
        run_for(self, jobs, backend, self.bank, cancel)

    def on_job_answered(self, message: JobAnswered) -> None:
        self.session.record(message.answer)
        self.show()  # the table fills in as the answers arrive

    def on_run_ended(self, message: RunEnded) -> None:
        self.asking = False
        if message.backend is not self.backend:  # the model was switched (or closed under it): the new one asks the rest
            self.show()
        elif message.error:
            self.sweeping.clear()
            self.set_status(f"✗ {message.error}", error=True)
        else:
            if self.sweeping.is_set():
                self._advance_sweep()
            self.show()

    def _advance_sweep(self) -> None:
        """The sweep walks every pair of the scenario, then the next scenario."""
        if self.pair_index + 1 < len(self.pairs):
            self.pair_index += 1
        elif self.scenario_index + 1 < len(self.bank.scenarios):
            self.scenario_index, self.pair_index = self.scenario_index + 1, 0
        else:
            self.sweeping.clear()

    # --- display -------------------------------------------------------------------------------
    def show(self) -> None:
        self.app.save_position(self.bank.key, {"scenario": self.scenario_index, "pair": self.pair_index,
                                               "language": self.language, "persona": self.persona})
        first, second = self.pair
        text = self.scenario.render(self.language, first, second)  # the pair's first country as initiator
        self.query_one("#scenario", ScriptText).set_text(
            f"Scenario {self.scenario_index + 1}/{len(self.bank.scenarios)} ({self.scenario.id}, {self.scenario.domain}) · "
            f"pair {self.pair_index + 1}/{len(self.pairs)}: {short(first)} vs {short(second)} · {self.language.upper()} · "
            f"{get_persona(self.persona, self.personas).name_in(self.language)}\n\n{text}")
        self.query_one("#prompt-text", ScriptText).set_text(self._prompts())
        self.query_one("#pair-table", Static).update(self._pair_table())
        self.charts_wanted = True
        if not self.charts_busy:
            self._compute_charts()
        self.ask_current()
        done = len([a for a in self.session.all_answers() if a.condition == self.condition()])
        sweep = " · sweeping (s pauses)" if self.sweeping.is_set() else ""
        asking = f" · asking the model for this pair's {len(self._missing(self.current_items()))} more…" if self.asking else ""
        if self.model_ready:
            self.set_status(f"{done} prompts answered under this condition{asking}{sweep}")

    def _compute_charts(self) -> None:
        condition = self.condition()
        answers = [a for a in self.session.all_answers() if a.condition == condition]
        self.charts_busy, self.charts_wanted = True, False
        self.charts(condition, answers)

    @work(thread=True, group="charts")
    def charts(self, condition: Condition, answers: list) -> None:
        """pandas and the t-tests, off the UI thread."""
        try:
            balanced = pairs_from_run(pd.DataFrame([answer_row(a) for a in answers])) if answers else None
            ready = ChartsReady(condition, self._favourability(balanced), self._heat_map(balanced))
        except Exception:
            log.exception("the pair charts failed")
            failed = Text("could not be computed; details in the log", style="red")
            ready = ChartsReady(condition, failed, failed)
        self.post_message(ready)

    def on_charts_ready(self, message: ChartsReady) -> None:
        self.charts_busy = False
        if message.condition == self.condition():
            self.query_one("#favourability", Static).update(message.favourability)
            self.query_one("#heat-map", Static).update(message.heat_map)
        if self.charts_wanted:
            self._compute_charts()  # answers came, or the condition changed, while it computed

    def country_name(self, country: str) -> str:
        from ..core import countries

        return countries.name_in(country, self.language)

    def _prompts(self) -> str:
        """The exact prompts of this scenario and pair, as the model saw them."""
        condition, parts = self.condition(), []
        for item in self.current_items():
            answer = self.session.answer_for(item, condition)
            parts.append(f"── {short(item.initiator)} initiates · {QUESTION[item.polarity]} · (A) {short(item.options[0])} ──\n"
                         + (answer.prompt.text if answer else "(the prompt appears once it is asked)"))
        return "\n\n".join(parts)

    def _pair_table(self):
        condition, (first, second) = self.condition(), self.pair
        table = Table(box=None, padding=(0, 1), title=Text(
            f"P(A), P(B) as answered; log-odds for {short(first)} averaged over the option orders", style="bold"), title_justify="left")
        for column in ("initiator", "question", f"A={short(first)}, B={short(second)}", f"A={short(second)}, B={short(first)}",
                       f"log-odds {short(first)}"):
            table.add_column(column, justify="left" if column in ("initiator", "question") else "right")
        for initiator in self.pair:
            for polarity in POLARITIES:
                cells, diffs = [], []
                for order in ("XY", "YX"):
                    item = next(i for i in self.current_items() if i.initiator == initiator and i.polarity == polarity and i.order == order)
                    answer = self.session.answer_for(item, condition)
                    if answer is None:
                        cells.append(Text("…", style="dim"))
                        continue
                    p_a, p_b = answer.distribution.probs["A"], answer.distribution.probs["B"]
                    cells.append(f"{p_a:.2f} / {p_b:.2f}")
                    p_first, p_second = (p_a, p_b) if order == "XY" else (p_b, p_a)
                    diffs.append(log_odds(p_first, p_second))
                mean = sum(diffs) / len(diffs) if len(diffs) == 2 else None
                table.add_row(short(initiator), QUESTION[polarity], *cells,
                              Text("…", style="dim") if mean is None else Text(f"{mean:+.2f}", style="blue" if mean > 0 else "red"))
        return table

    def _favourability(self, balanced):
        title = Text("Favourability per country (combined; 95% CI across scenario types)", style="bold")
        if balanced is None or balanced.empty:
            return Group(title, Text("no answers yet", style="dim italic"))
        result = favourability(balanced)
        combined = result[result["question"] == "combined"].sort_values("value", ascending=False)
        if combined.empty:
            return Group(title, Text("needs both polarities of a pair", style="dim italic"))
        span = max(1e-9, float((combined["value"].abs() + combined["ci95"].fillna(0)).max()))
        half = 16
        rows = [title, Text(f"{'':>10} {'−' + format(span, '.2f'):<{half}}0{format(span, '+.2f'):>{half}}", style="dim")]
        for row in combined.itertuples():
            line = [" "] * (2 * half + 1)
            line[half] = "│"
            if row.ci95 == row.ci95:
                low, high = (round(half + (row.value + d) / span * half) for d in (-row.ci95, row.ci95))
                for i in range(max(0, low), min(2 * half, high) + 1):
                    line[i] = "─" if line[i] == " " else line[i]
            line[min(2 * half, max(0, round(half + row.value / span * half)))] = "●"
            ci = f" ±{row.ci95:.2f} ({int(row.n_types)} types)" if row.ci95 == row.ci95 else f" ({int(row.n_types)} type, no CI)"
            style = "blue" if row.value > 0 else "red"
            rows.append(Text.assemble(f"{row.country[:10]:>10} ", ("".join(line), style), f" {row.value:+.2f}{ci}"))
        return Group(*rows)

    def _heat_map(self, balanced):
        countries = [short(c) for c in self.bank.countries]
        title = Text("Pair heat map: row favoured over column (mean log-odds; blue for, red against)", style="bold")
        if balanced is None or balanced.empty:
            return Group(title, Text("no answers yet", style="dim italic"))
        matrix = pair_matrix(balanced, countries)
        table = Table(box=None, padding=(0, 1))
        table.add_column("")
        for country in countries:
            table.add_column(country[:6], justify="right")
        for row_country in countries:
            cells = []
            for column_country in countries:
                value = matrix.loc[row_country, column_country]
                if row_country == column_country:
                    cells.append(Text("·", style="dim"))
                elif value != value:
                    cells.append(Text("", style="dim"))
                else:
                    strength = min(1.0, abs(value) / 2)
                    colour = "blue" if value > 0 else "red"
                    cells.append(Text(signed(value), style=f"bold {colour}" if strength > 0.5 else colour))
            table.add_row(row_country[:10], *cells)
        return Group(title, table)

    # --- actions -------------------------------------------------------------------------------
    def action_step(self, by: int) -> None:
        self.pair_index = (self.pair_index + by) % len(self.pairs)
        self.show()

    def action_scenario(self, by: int) -> None:
        self.scenario_index = (self.scenario_index + by) % len(self.bank.scenarios)
        self.show()

    def action_toggle_sweep(self) -> None:
        if self.sweeping.is_set():
            self.sweeping.clear()
        else:
            self.sweeping.set()
            if not self.asking and not self._missing(self.current_items()):
                self._advance_sweep()
        self.show()

    def action_cycle_language(self) -> None:
        languages = self.bank.languages
        self.language = languages[(languages.index(self.language) + 1) % len(languages)]
        self.show()

    def action_pick_persona(self) -> None:
        def chosen(key: str) -> None:
            self.persona = key
            self.show()

        pick_persona(self.app, dict(self.personas), self.language, self.persona, self.personas, chosen)

    def action_toggle_prompt(self) -> None:
        self.query_one("#prompt-box").toggle_class("shown")

    def action_session_answers(self) -> None:
        from .answers import AnswersScreen

        self.app.push_screen(AnswersScreen(self))

    def on_answer_opened(self, message) -> None:  # Enter on the answers screen
        self.open_answer(message.answer)

    def open_answer(self, answer) -> None:
        """Show an answer from the session: its scenario and pair, under its language and persona."""
        item = answer.item
        self.scenario_index = next(i for i, scenario in enumerate(self.bank.scenarios) if scenario.id == item.scenario.id)
        self.pair_index = self.pairs.index(item.pair)
        self.language, self.persona = answer.condition.language, answer.condition.persona
        self.show()

    def action_models(self) -> None:
        from .models import ModelsScreen

        self.app.push_screen(ModelsScreen(self))

    def switch_model(self, kind: str, spec: str) -> None:
        """Another model, for every screen (the app loads it); the answers so far stay, each under its own model.
        The run in flight stops when this screen resumes on the new model."""
        self.app.switch_model(kind, spec)
