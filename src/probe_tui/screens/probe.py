"""The probe screen: one item at a time, its answer distribution, and the running gauge. The app
holds the models and the current condition; this screen follows them, and asks through the queue
in asking.py: one request in flight, the latest one pending."""

from __future__ import annotations

from dataclasses import replace

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from ..backends.manager import FAILED, READY
from ..core.metrics import CN, US
from ..core.calibration import CONTEXTUAL, PMI
from ..core.personas import get_persona
from ..core.session import Condition, ProbeSession, prompt_for
from ..core.variants import variants_for
from ..messages import AnswerOpened, FreeTextDone, ItemChosen
from ..widgets.distribution import DistributionView
from ..widgets.free_text import FreeText
from ..widgets.guards import quitting
from ..widgets.gauge import GaugeView
from ..widgets.script import ScriptText
from ..widgets.status_line import StatusLine
from ..widgets.text import safe_text
from .asking import AskQueue, ProbeAsking
from .commands import ProbeCommands
from .dialogs import pick_persona
from .items_view import (change_line, condition_label, flags_line, group_baselines_and_problems, item_header, persona_choices,
                         restored, show_gauge)
from .navigation import ProbeNavigation


class ProbeScreen(ProbeAsking, ProbeNavigation, Screen):
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
        Binding("V", "toggle_variants", "Variants", show=False, id="probe.toggle_variants",
                tooltip="ask every item also under prompt variants: off → option order → order, anchors and frames → off"),
        Binding("K", "cycle_calibration", "Calibrate", show=False, id="probe.cycle_calibration",
                tooltip="a calibrated view beside the raw answer: none → contextual → PMI → none; the flags judge it"),
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
        self.instrument, self.personas = instrument, personas
        self.session = ProbeSession(instrument)
        self.items = tuple(instrument.items)  # those browsed: on mount, the app's (a study's subset)
        self.human = {c: self.session.human(c) for c in (US, CN)}
        self.index, self.groups = 0, None
        self.own = Condition(backend.identity, instrument.key, instrument.check_language(language), persona)  # where it stands
        self.previous_condition: Condition | None = None  # what the change line and the jump flag compare against
        self.queue = AskQueue()
        self.variants: list[str] = [""]  # the prompt variants each item is asked under (core/variants.py); "" alone: off
        self.calibration = ""  # the calibrated view picked (core/calibration.py), shown beside the raw answer; "": none

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            with VerticalScroll(id="left"):
                yield ScriptText(id="item-header")
                yield ScriptText(id="item-text")
                yield DistributionView(id="distribution")
                yield ScriptText(id="change")
                yield Static("", id="flags")
                yield FreeText(id="free-text-box")
                with VerticalScroll(id="prompt-box"):
                    yield ScriptText(id="prompt-text")
            with VerticalScroll(id="right"):
                yield GaugeView(id="gauge")
        yield StatusLine()
        yield Footer()

    def on_resize(self, event) -> None:
        footer = self.query_one(Footer)  # every key shown down to 80 columns, ? Help included (it lists Ctrl+P)
        footer.compact, footer.show_command_palette = event.size.width < 100, event.size.width >= 84

    def on_mount(self) -> None:
        if quitting(self):
            return
        self.items = self.app.items_of(self.instrument)  # a study's subset, else all the instrument's items
        self.index, self.own = restored(self.app.restore(self), self.items, self.instrument, self.own, self.personas, self.app.explicit)
        self.groups, problems = group_baselines_and_problems()
        if problems:
            self.notify(problems, title="A user file has a problem", severity="warning", timeout=15)
        if self.app.condition.instrument == self.instrument.key:  # still the instrument shown
            self.app.condition = self.own
        self.show_item()
        self.app.load_model()
        self._show_model()
        self.watch(self.app, "condition", self._follow_condition, init=False)
        self.watch(self.app, "model_status", self._follow_model, init=False)

    # --- state: the app's ------------------------------------------------------------------------
    item = property(lambda self: self.items[self.index])
    language = property(lambda self: self.own.language)
    persona = property(lambda self: self.own.persona)
    backend = property(lambda self: self.app.models.primary)
    model_ready = property(lambda self: self.own.model == self.backend.identity and self.app.model_ready())
    in_flight = property(lambda self: self.queue.in_flight)

    def condition(self) -> Condition:
        return self.own

    def _follow_condition(self, condition: Condition) -> None:
        """The app's condition changed (a key here, a model switch, coming back to this instrument)."""
        if condition.instrument != self.instrument.key or condition == self.own:
            return
        model_changed = condition.model != self.own.model
        status = self.app.model_status.get(self.own.model)
        if not model_changed or (status is not None and status.phase == READY):  # only a model that answered
            self.previous_condition = self.own
        self.own = condition
        if model_changed:
            self.queue.failure = None
            self.app.load_model()  # when another screen switched it, it may still have to start
            self._show_model()
        self.show_item()

    def _follow_model(self, before, after) -> None:
        if before.get(self.own.model) != after.get(self.own.model) and self.own.model == self.backend.identity:
            self._show_model()

    def _show_model(self) -> None:
        if quitting(self):
            return
        self.query_one(StatusLine).show_load()
        status = self.app.status_of(self.backend)
        if status is not None and status.phase == READY:
            self.show_item()
        elif status is not None and status.phase == FAILED:
            self.query_one(DistributionView).show(None, placeholder="no model loaded")

    def on_screen_resume(self) -> None:
        if quitting(self):
            return
        self.show_item()

    # --- display ---------------------------------------------------------------------------------
    def show_item(self) -> None:
        item, condition = self.item, self.own
        self.queue.showing(item, condition)
        self.app.save_position(self.instrument.key, {"index": self.index, "language": self.language, "persona": self.persona})
        persona = get_persona(self.persona, self.personas)
        self.query_one("#item-header", ScriptText).set_text(item_header(self.instrument, self.items, self.index, self.language, persona))
        self.query_one("#item-text", ScriptText).set_text(item.text_in(self.language))
        answer = self.session.answer_for(item, condition)
        placeholder = "waiting for the model…" if self.model_ready else "loading the model…"
        self.query_one(DistributionView).show(answer.distribution if answer else None, item.scale.anchors_in(self.language), placeholder)
        self.query_one("#flags", Static).update(safe_text(flags_line(self.session, answer, item, condition, self.calibration)))
        before = self.session.answer_for(item, self.previous_condition) if self.previous_condition else None
        self.query_one("#change", ScriptText).set_text(change_line(before, answer, condition_label(self.previous_condition, self.own, self.personas, self.app.model_name)))
        free_text = self.query_one(FreeText)
        if not free_text.running and free_text.written_for != (item, condition):
            free_text.remove_class("shown")
        self.query_one("#prompt-text", ScriptText).set_text(answer.prompt.text if answer else "(the prompt appears once the item is asked)")
        show_gauge(self.query_one(GaugeView), self.session, condition, self.human, self.groups, persona)
        self.request_answer()
        if answer is not None:
            self.ask_reference()
            self.ask_variants()
        self.show_status()

    # --- actions ---------------------------------------------------------------------------------
    def action_next_item(self) -> None:
        self.go_to(self.index + 1)

    def action_previous_item(self) -> None:
        self.go_to(self.index - 1)

    def go_to(self, index: int) -> None:
        self.index = min(max(index, 0), len(self.items) - 1)
        self.show_item()

    def on_item_chosen(self, message: ItemChosen) -> None:
        self.go_to(message.index)

    def action_cycle_language(self) -> None:
        languages = self.instrument.languages
        self.set_language(languages[(languages.index(self.language) + 1) % len(languages)])

    def set_language(self, language: str) -> None:
        self.app.condition = replace(self.own, language=language)

    def set_persona(self, key: str) -> None:
        self.app.condition = replace(self.own, persona=key)

    def action_pick_persona(self) -> None:
        pick_persona(self.app, self.persona_choices(), self.language, self.persona, self.personas, self.set_persona)

    def persona_choices(self) -> dict:
        return persona_choices(self.session, self.personas, self.persona)

    def action_order_check(self) -> None:
        """Ask the current item again with the options' meanings reversed."""
        if not self.session.answer_for(self.item, self.own):
            self.notify("Wait for the answer first: the order check compares against it.", severity="warning")
            return
        self.request_answer(reverse_options=True)

    def action_cycle_calibration(self) -> None:
        """No calibrated view → contextual → domain-conditional PMI → none. The flags then judge the calibrated view."""
        steps = ["", CONTEXTUAL, PMI]
        self.calibration = steps[(steps.index(self.calibration) + 1) % len(steps)] if self.instrument.screen == "items" else ""
        self.notify(f"Calibrated view: {self.calibration or 'off'} (beside the raw answer, which is kept and exported as it is)",
                    title="Calibration")
        self.show_item()

    def action_toggle_variants(self) -> None:
        """Off → the option order → order, anchors and frames → off. The gauge (g) shows the sensitivity."""
        steps = [(), ("order",), ("order", "anchors", "frames")]
        now = next((i for i, step in enumerate(steps) if variants_for(step) == self.variants), 0) if len(self.variants) > 1 else 0
        factors = steps[(now + 1) % len(steps)]
        if factors and self.instrument.screen != "items":
            return
        self.variants = variants_for(factors) if factors else [""]
        what = (f"on: {', '.join(factors)} ({len(self.variants) - 1} more prompts per item; g shows the sensitivity)"
                if factors else "off: each item asked the standard way only")
        self.notify(f"Variants {what}", title="Prompt variants")
        self.show_item()

    def action_free_text(self) -> None:
        """Stream the model's own words for the current prompt, beside the distribution."""
        if self.model_ready:
            backend, item, condition = self.backend, self.item, self.own
            persona = get_persona(condition.persona, self.personas)
            self.query_one(FreeText).start(backend, lambda: prompt_for(backend, self.instrument, item, condition, persona), (item, condition))

    def on_free_text_done(self, message: FreeTextDone) -> None:
        self.query_one(StatusLine).set(f"Free text: {message.ending}.")

    def action_cancel_free_text(self) -> None:
        """Esc: cancel the model's load, else stop the free text."""
        if not self.query_one(StatusLine).cancel_load():
            self.query_one(FreeText).stop()

    def on_answer_opened(self, message: AnswerOpened) -> None:
        """Show an answer from the session: its item, under its condition."""
        self.index = self.items.index(message.answer.item)
        condition = message.answer.condition
        self.app.condition = replace(self.own, language=condition.language, persona=condition.persona)
        self.show_item()

    def action_toggle_prompt(self) -> None:
        self.query_one("#prompt-box").toggle_class("shown")
