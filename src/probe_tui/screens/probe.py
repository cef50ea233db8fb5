"""The probe screen: one item at a time, its answer distribution, and the running gauge."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, ProgressBar, Static

from ..core import paths
from ..core.errors import ProbeError
from ..core.metrics import CN, US
from ..core.groups import load_group_baselines
from ..core.instruments import item_bank
from ..core.personas import get_persona, national_persona, persona_bank
from ..core.prompts import CHAT, COMPLETION, MESSAGES
from ..core.session import Answer, Condition, ProbeSession, ask, prompt_for
from ..widgets.confirm import Confirm
from ..widgets.distribution import DistributionView
from ..widgets.gauge import GaugeView
from ..widgets.script import ScriptText
from ..widgets.text import printable, safe_text
from .commands import ProbeCommands
from .countries import CountriesScreen
from .dialogs import pick_persona

log = logging.getLogger(__name__)
PROMPT_STYLES = {CHAT: "chat template", MESSAGES: "chat API", COMPLETION: "completion prompt"}
COUNTRIES_INSTRUMENT = "vsm2013"  # the countries view asks VSM 2013


def language_label(language: str) -> str:
    name = item_bank().frames.get(language, {}).get("name", "")
    return f"{language.upper()} {name}".strip() if language not in ("en", "zh", "fr") else language.upper()


class ProbeScreen(Screen):
    COMMANDS = {ProbeCommands}
    HELP = """\
# probe-tui

The model answers one survey item at a time. The bars are its **real next-token probabilities** for
each option, renormalised over the options; `valid_mass` is how much of its probability landed on the
options at all before that. The gauge compares the mean answer per dimension, under the current
language and persona, with the human figures for the United States and China, and names the
nearest baseline countries.

Flags: `low-mass`, `high-entropy`, `order-flip` (after `o`), `jump` (a big change when only the
language, persona or model changes).
"""
    BINDINGS = [
        Binding("n", "next_item", "Next", tooltip="the next item", id="probe.next_item"),
        Binding("b", "previous_item", "Back", show=False, tooltip="the previous item", id="probe.previous_item"),
        Binding("l", "cycle_language", "Lang", tooltip="cycle the prompt language (EN → ZH → FR; VSM 2013 has 20 languages)", id="probe.cycle_language"),
        Binding("p", "pick_persona", "Persona", tooltip="pick a persona, or compose one", id="probe.pick_persona"),
        Binding("t", "toggle_prompt", "Prompt", show=False, tooltip="show or hide the exact prompt", id="probe.toggle_prompt"),
        Binding("o", "order_check", "Order", show=False, tooltip="the item again with the options' meanings reversed", id="probe.order_check"),
        Binding("f", "free_text", "Free text", tooltip="the model's own words for this prompt (Esc stops it)", id="probe.free_text"),
        Binding("escape", "cancel_free_text", "Stop", show=False, tooltip="stop the free text, or cancel a model load", id="probe.cancel_free_text"),
        Binding("a", "session_answers", "Answers", tooltip="every answer so far (f odd ones only, s sort, Enter open)", id="probe.session_answers"),
        Binding("v", "compare", "Compare", show=False, tooltip="this item under two conditions side by side", id="probe.compare"),
        Binding("m", "models", "Models", tooltip="load another model or endpoint (Esc cancels a load)", id="probe.models"),
        Binding("g", "gauge", "Gauge", tooltip="full screen: a track per condition, the nearest countries with intervals", id="probe.gauge"),
        Binding("i", "app.pick_instrument", "Instrument", show=False, tooltip="MFQ-2, WVS, VSM 2013 or the country pairs, on the same model", id="probe.pick_instrument"),
        Binding("c", "countries", "Countries", show=False,
                tooltip="VSM 2013 for 20 countries, each in its own language, with the deviation ratio per country", id="probe.countries"),
    ]

    def __init__(self, backend, instrument, personas, language: str, persona: str):
        super().__init__()
        self.backend = backend
        self.instrument = instrument
        self.personas = personas
        self.session = ProbeSession(instrument)
        self.human = {c: self.session.human(c) for c in (US, CN)}
        self.index = 0
        self.language = instrument.check_language(language)
        self.persona = persona
        self.model_ready = False
        self.model_loading = False
        self.in_flight: tuple | None = None
        self.groups = None
        self.pending: tuple | None = None
        self.previous_condition: Condition | None = None
        self.other_backends: dict = {}  # models loaded beside this one, e.g. B in the compare view
        self.free_text_cancel: threading.Event | None = None
        self.free_text = ""
        self.free_text_for: tuple | None = None
        self.load_error: str | None = None
        self.failure: tuple | None = None  # (key, message): the last answer that could not be obtained
        self.model_names: dict[str, str] = {}  # identity -> name, for models loaded before this one
        self.countries_next = False

    # --- layout --------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            with VerticalScroll(id="left"):
                yield ScriptText(id="item-header")
                yield ScriptText(id="item-text")
                yield DistributionView(id="distribution")
                yield ScriptText(id="change")
                yield Static("", id="flags")
                with VerticalScroll(id="free-text-box"):
                    yield ScriptText(id="free-text")
                with VerticalScroll(id="prompt-box"):
                    yield ScriptText(id="prompt-text")
            with VerticalScroll(id="right"):
                yield GaugeView(id="gauge")
        yield ProgressBar(id="load-progress", total=100, show_eta=False)
        yield Static("", id="status")
        yield Footer()

    def on_resize(self, event) -> None:
        footer = self.query_one(Footer)  # every key shown down to 80 columns, ? Help included (it lists Ctrl+P)
        footer.compact, footer.show_command_palette = event.size.width < 100, event.size.width >= 84

    def on_mount(self) -> None:
        self._restore(self.app.restore(self))
        self.show_item()
        self.load_model()

    def _restore(self, position: dict) -> None:
        """Where this instrument stood when the session was last open."""
        if not position:
            return
        self.index = min(max(int(position.get("index", 0)), 0), len(self.instrument.items) - 1)
        if position.get("language") in self.instrument.languages and not self.app.explicit["language"]:
            self.language = position["language"]
        try:
            if not self.app.explicit["persona"]:
                self.persona = get_persona(position.get("persona", self.persona), self.personas).key
        except ProbeError:
            pass  # a persona file since removed: keep the one asked for
        problems = item_bank().problems + persona_bank().problems
        try:
            self.groups = load_group_baselines()
            problems += self.groups.attrs["problems"]
        except ProbeError as exc:
            problems.append(str(exc))
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            self.notify(f"{problems[0]}{more}. That file was skipped; run: probe-tui items check",
                        title="A user file has a problem", severity="warning", timeout=15)

    # --- state ---------------------------------------------------------------------------------
    @property
    def item(self):
        return self.instrument.items[self.index]

    def condition(self) -> Condition:
        return Condition(model=self.backend.identity, instrument=self.instrument.key, language=self.language, persona=self.persona)

    def set_status(self, text: str, error: bool = False) -> None:
        status = self.query_one("#status", Static)
        status.update(safe_text(text))
        status.set_class(error, "error")

    def tell(self, message: str, **kwargs) -> None:
        """A notification whose text is data (an error from a server, a file name), never markup."""
        self.notify(printable(message), markup=False, **kwargs)

    def show_status(self) -> None:
        """The status line for the item shown: what the model is doing for it, or how it was answered."""
        if self.load_error is not None:
            self.set_status(f"✗ {self.load_error}. m picks another model, q quits; details in {paths.log_file()}", error=True)
            return
        if self.model_loading:
            return  # the load reports its own progress
        key = (self.item, self.condition())
        answer = self.session.answer_for(*key)
        if self.in_flight is not None and self.in_flight[:2] == key:
            self.set_status("Asking again with the options' meanings reversed…" if self.in_flight[2] else "Asking the model…")
        elif self.failure is not None and self.failure[0][:2] == key:
            self.set_status(f"✗ {self.failure[1]}", error=True)
        elif answer is not None:
            self.set_status(f"Answered: {PROMPT_STYLES.get(answer.prompt.style, answer.prompt.style)}, {answer.distribution.method}.")
        elif self.in_flight is not None:
            self.set_status("Waiting for the model to finish the previous item (llama.cpp cannot stop mid-prompt)…")
        else:
            self.set_status("")

    # --- model loading (in a thread; the model itself lives in a worker process) ---------------
    def load_model(self) -> None:
        if self.backend.info is not None:  # started already, for another instrument's screen
            self.call_after_refresh(self._model_loaded, self.backend.info, self.backend)
            return
        self.model_loading = True
        self._load_in_thread()

    def on_screen_resume(self) -> None:
        if self.backend is not self.app.backend:  # the model was switched on another screen
            self._leave_model()
            self.backend = self.app.backend
            self.load_model()
        self.show_item()
        if self.countries_next:  # switched here by c on another instrument's screen
            self.countries_next = False
            self.call_after_refresh(self.action_countries)

    @work(thread=True, exclusive=True, group="load")
    def _load_in_thread(self) -> None:
        backend = self.backend
        self.app.call_from_thread(self.set_status, f"Loading {backend.display_name}… (Esc cancels)")
        try:
            info = backend.start(on_progress=lambda p: self.app.call_from_thread(self._show_load_progress, p))
        except ProbeError as exc:
            log.exception("model load failed")
            self.app.call_from_thread(self._load_failed, str(exc), backend)
            return
        self.app.call_from_thread(self._model_loaded, info, backend)

    def _show_load_progress(self, fraction: float) -> None:
        self.query_one("#load-progress", ProgressBar).update(progress=100 * fraction)
        self.set_status(f"Loading {self.backend.display_name}… {100 * fraction:.0f}% (Esc cancels)")

    def _load_failed(self, message: str, backend=None) -> None:
        if backend is not None and backend is not self.backend:
            return  # a load given up for another model
        self.model_loading = False
        self.load_error = message
        self.query_one("#load-progress").add_class("hidden")
        self.show_status()
        self.query_one(DistributionView).show(None, placeholder="no model loaded")
        self.tell(message, title="Model not loaded", severity="error", timeout=10)

    def _model_loaded(self, info, backend=None) -> None:
        if backend is not None and backend is not self.backend:
            return
        self.model_loading = False
        self.model_ready = True
        self.load_error = None
        self.query_one("#load-progress").add_class("hidden")
        self.app.sub_title = f"{info.name} · {PROMPT_STYLES.get(info.prompt_style, info.prompt_style)} · session {self.app.session_name}"
        self.set_status(f"Model ready: {info.name} ({info.details.get('summary', '')}).")
        self.show_item()

    # --- asking ----------------------------------------------------------------------------------
    def request_answer(self, reverse_options: bool = False) -> None:
        key = (self.item, self.condition(), reverse_options)
        done = self.session.order_check_for if reverse_options else self.session.answer_for
        if done(*key[:2]) or not self.model_ready:
            return
        if self.in_flight is not None:
            if self.in_flight != key:
                self.pending = key
            return
        if self.failure is not None and self.failure[0] == key:
            return  # it failed just now: asked again when the user comes back to it
        self.in_flight = key
        self.show_status()
        self.score_item(*key)

    @work(thread=True, group="score")
    def score_item(self, item, condition: Condition, reverse_options: bool = False) -> None:
        persona = get_persona(condition.persona, self.personas)
        try:
            answer = ask(self.backend, self.instrument, item, condition, persona, reverse_options)
        except ProbeError as exc:
            log.exception("scoring failed")
            self.app.call_from_thread(self._answer_failed, (item, condition, reverse_options), str(exc))
            return
        self.app.call_from_thread(self._answer_arrived, answer)

    def _answer_arrived(self, answer: Answer) -> None:
        self.session.record(answer)
        self.in_flight = None
        self.show_item()
        self._ask_pending()

    def _answer_failed(self, key: tuple, message: str) -> None:
        self.in_flight = None
        self.failure = (key, message)
        self.show_status()
        self.tell(message, title="Scoring failed", severity="error")
        self._ask_pending()

    def _ask_pending(self) -> None:
        pending, self.pending = self.pending, None
        if pending and pending[2] and pending[:2] == (self.item, self.condition()):
            self.request_answer(reverse_options=True)
        else:
            self.request_answer()

    # --- display ---------------------------------------------------------------------------------
    def show_item(self) -> None:
        item, condition = self.item, self.condition()
        if self.failure is not None and self.failure[0][:2] != (item, condition):
            self.failure = None  # another item is shown: coming back asks again
        self.app.save_position(self.instrument.key, {"index": self.index, "language": self.language, "persona": self.persona})
        persona = get_persona(self.persona, self.personas)
        self.query_one("#item-header", ScriptText).set_text(
            f"{self.instrument.name} · item {self.index + 1}/{len(self.instrument.items)} · "
            f"official no. {item.code} · {item.construct or item.dimension} · {language_label(self.language)} · "
            f"persona: {persona.name_in(self.language)}"
        )
        self.query_one("#item-text", ScriptText).set_text(item.text_in(self.language))
        answer = self.session.answer_for(item, condition)
        anchors = item.scale.anchors_in(self.language)
        placeholder = "waiting for the model…" if self.model_ready else "loading the model…"
        self.query_one(DistributionView).show(answer.distribution if answer else None, anchors, placeholder)
        self._show_flags_and_change(answer)
        if self.free_text_cancel is None and self.free_text_for != (item, condition):
            self.query_one("#free-text-box").remove_class("shown")
        self.query_one("#prompt-text", ScriptText).set_text(answer.prompt.text if answer else "(the prompt appears once the item is asked)")
        caption = f"Gauge · {language_label(self.language)} · {persona.name_in(self.language)}"
        self.query_one(GaugeView).show(self.session.gauge(condition), self.session.dimension_labels(), self.human, caption,
                                       self.session.baseline, self.session.nearest_countries(condition),
                                       self.session.group_comparison(condition, self.groups), self._gauge_waiting(condition))
        self.request_answer()
        self.show_status()

    def _show_flags_and_change(self, answer: Answer | None) -> None:
        # low valid_mass is already shown under the bars, with the model's top tokens
        lines = [f"⚑ {flag}" for flag in self.session.flags_for(answer) if flag.kind != "low-mass"] if answer else []
        check = self.session.order_check_for(self.item, self.condition())
        if answer and check and not any(line.startswith("⚑ order-flip") for line in lines):
            lines.append(f"order check: E[x] {check.distribution.expected:.2f} with the meanings reversed (consistent)")
        self.query_one("#flags", Static).update(safe_text("\n".join(lines)))
        change = ""
        before = self.session.answer_for(self.item, self.previous_condition) if self.previous_condition else None
        if answer and before and before is not answer:
            a, b = before.distribution, answer.distribution
            change = (f"Change from {self._condition_label(self.previous_condition)}: E[x] {a.expected:.2f} → {b.expected:.2f} "
                      f"({b.expected - a.expected:+.2f}), argmax {a.answer} → {b.answer}")
        self.query_one("#change", ScriptText).set_text(change)

    def _condition_label(self, condition: Condition) -> str:
        label = f"{language_label(condition.language)} · {get_persona(condition.persona, self.personas).name_in(condition.language)}"
        if condition.model != self.backend.identity:
            label = f"{self.model_names.get(condition.model, condition.model)} · {label}"
        return label

    def _gauge_waiting(self, condition) -> str:
        answered = len(self.session.answers_under(condition))
        if answered and self.instrument.key == "vsm2013":
            return f"{answered} item(s) answered so far; each VSM index needs all four of its items"
        return "no answers yet under this condition"

    # --- actions ---------------------------------------------------------------------------------
    def action_next_item(self) -> None:
        self.index = min(self.index + 1, len(self.instrument.items) - 1)
        self.show_item()

    def action_previous_item(self) -> None:
        self.index = max(self.index - 1, 0)
        self.show_item()

    def action_cycle_language(self) -> None:
        languages = self.instrument.languages
        self.set_language(languages[(languages.index(self.language) + 1) % len(languages)])

    def set_language(self, language: str) -> None:
        if language != self.language:
            self.previous_condition = self.condition()
            self.language = language
            self.show_item()

    def set_persona(self, key: str) -> None:
        if key != self.persona:
            self.previous_condition = self.condition()
            self.persona = key
            self.show_item()

    @staticmethod
    def language_name(language: str) -> str:
        return language_label(language) if language not in ("en", "zh", "fr") else {"en": "EN English", "zh": "ZH 中文", "fr": "FR Français"}[language]

    def action_pick_persona(self) -> None:
        pick_persona(self.app, self.persona_choices(), self.language, self.persona, self.personas, self.set_persona)

    def persona_choices(self) -> dict:
        """The personas on offer: the saved ones, then a national one per baseline country."""
        choices = dict(self.personas)
        if self.session.baseline is not None:
            for country in sorted(self.session.baseline.table.index):
                national = national_persona(country)
                choices[national.key] = national
        if self.persona not in choices:
            choices[self.persona] = get_persona(self.persona, self.personas)
        return choices

    def action_order_check(self) -> None:
        """Ask the current item again with the options' meanings reversed."""
        if not self.session.answer_for(self.item, self.condition()):
            self.notify("Wait for the answer first: the order check compares against it.", severity="warning")
            return
        self.request_answer(reverse_options=True)

    def action_free_text(self) -> None:
        """Stream the model's own words for the current prompt, beside the distribution."""
        if not self.model_ready or self.free_text_cancel is not None:
            return
        if not self.backend.capabilities.stream:
            self.tell("This backend cannot write free text.", severity="warning")
            return
        box = self.query_one("#free-text-box")
        box.add_class("shown")
        self.free_text_cancel = threading.Event()
        self.free_text = ""
        self.free_text_for = (self.item, self.condition())
        self._show_free_text("waiting for the model…")
        self.write_free_text(self.item, self.condition(), self.free_text_cancel)

    @work(thread=True, group="free-text")
    def write_free_text(self, item, condition: Condition, cancel: threading.Event) -> None:
        persona = get_persona(condition.persona, self.personas)
        try:
            prompt = prompt_for(self.backend, self.instrument, item, condition, persona)
            result = self.backend.generate(prompt, lambda piece: self.app.call_from_thread(self._free_text_piece, piece), cancel)
        except ProbeError as exc:
            log.exception("free text failed")
            self.app.call_from_thread(self._free_text_done, f"✗ {exc}")
            return
        ending = {"stop": "the model ended its answer", "length": "stopped at the length limit",
                  "cancelled": "cancelled"}.get(result.finish, result.finish)
        self.app.call_from_thread(self._free_text_done, ending)

    def _free_text_piece(self, piece: str) -> None:
        self.free_text += piece
        self._show_free_text("writing… (Esc stops)")

    def _free_text_done(self, ending: str) -> None:
        self.free_text_cancel = None
        self._show_free_text(ending)
        self.set_status(f"Free text: {ending}.")

    def _show_free_text(self, state: str) -> None:
        self.query_one("#free-text", ScriptText).set_text(
            f"Free text (greedy continuation of the exact prompt) · {state}\n\n{self.free_text}")

    def action_cancel_free_text(self) -> None:
        if self.model_loading:
            self.cancel_load()
            return
        if self.free_text_cancel is None:
            self.query_one("#free-text-box").remove_class("shown")
            return
        self.free_text_cancel.set()
        waiting = " (llama.cpp finishes reading the prompt first)" if not self.free_text else ""
        self._show_free_text(f"stopping…{waiting}")

    def action_gauge(self) -> None:
        if self.session.baseline is None:
            self.notify("This instrument has no human baseline to gauge against.", severity="warning")
            return
        from .gauge import GaugeScreen

        self.app.push_screen(GaugeScreen(self))

    def action_models(self) -> None:
        from .models import ModelsScreen

        self.app.push_screen(ModelsScreen(self))

    def switch_model(self, kind: str, spec: str) -> None:
        """Load another model; the answers so far stay, each under its own model's condition."""
        from ..backends.choice import backend_for

        try:
            backend = backend_for(kind, spec, like=self.backend)
        except ProbeError as exc:
            self.tell(str(exc), title="Model not loaded", severity="error")
            return
        self.use_backend(backend)

    def use_backend(self, backend) -> None:
        if backend.identity == self.backend.identity:
            self.notify("That model is already loaded.")
            return
        if self.model_loading:
            self.cancel_load()
        old = self.backend
        self._leave_model()
        self.backend = self.app.backend = backend
        self.close_backend(old)
        self.query_one("#load-progress").remove_class("hidden")
        self.show_item()
        self.load_model()

    def _leave_model(self) -> None:
        """Before the model changes: the change line and the jump check compare against this condition."""
        if self.model_ready:
            self.previous_condition = self.condition()
            self.model_names[self.backend.identity] = self.backend.info.name
        self.model_ready, self.load_error, self.failure = False, None, None

    @work(thread=True, group="close")
    def close_backend(self, backend) -> None:
        backend.close()

    def cancel_load(self) -> None:
        cancel = getattr(self.backend, "cancel_load", None)
        if cancel is None:
            self.notify("This backend's start cannot be cancelled; it gives up after its timeout.", severity="warning")
            return
        self.set_status("Cancelling the load…")
        cancel()

    def action_compare(self) -> None:
        from .compare import CompareScreen

        self.app.push_screen(CompareScreen(self))

    def action_session_answers(self) -> None:
        from .answers import AnswersScreen

        self.app.push_screen(AnswersScreen(self))

    def open_answer(self, answer: Answer) -> None:
        """Show an answer from the session: its item, under its condition."""
        self.index = self.instrument.items.index(answer.item)
        if answer.condition != self.condition():
            self.previous_condition = self.condition()
        self.language, self.persona = answer.condition.language, answer.condition.persona
        self.show_item()

    def action_toggle_prompt(self) -> None:
        self.query_one("#prompt-box").toggle_class("shown")

    def action_countries(self) -> None:
        if self.instrument.key == COUNTRIES_INSTRUMENT:
            self.app.push_screen(CountriesScreen(self))
            return

        def switch(yes: bool | None) -> None:
            if yes:
                self.app.open_instrument(COUNTRIES_INSTRUMENT)
                self.app.instrument_screens[COUNTRIES_INSTRUMENT].countries_next = True

        self.app.push_screen(Confirm(
            "The countries view asks VSM 2013 in 20 countries, each in its own language.",
            f"Switch to VSM 2013 on {self.backend.display_name}? The answers to {self.instrument.name} are kept (i switches back)."), switch)
