"""Compare: the same item under two conditions side by side, the difference highlighted. Stepping
moves both sides together (the probe screen follows, told by a Message); the answers are shared with
the probe screen's session. B's model, when another, is a side model held by the app."""

from __future__ import annotations

import logging
from dataclasses import replace

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from ..core.compare import difference
from ..core.errors import ProbeError
from ..core.personas import get_persona
from ..core.session import Condition, ask
from ..messages import AnswerArrived, AnswerFailed, ItemChosen
from ..widgets.distribution import DistributionView
from ..widgets.script import ScriptText
from ..widgets.text import printable
from .dialogs import pick_persona
from .items_view import language_name

log = logging.getLogger(__name__)


class CompareScreen(Screen):
    HELP = """\
# Compare

The same item under two conditions, A (where the probe screen stands) and B, side by side, with the
difference between the two answers. Both sides step together.
"""
    BINDINGS = [
        Binding("n", "step(1)", "Next", tooltip="the next item, on both sides", id="compare.next_item"),
        Binding("b", "step(-1)", "Back", tooltip="the previous item, on both sides", id="compare.previous_item"),
        Binding("l", "cycle_language", "B lang", tooltip="cycle B's prompt language", id="compare.cycle_language"),
        Binding("p", "pick_persona", "B persona", tooltip="pick B's persona", id="compare.pick_persona"),
        Binding("m", "pick_model", "B model", tooltip="B answers with another model (base vs chat, say), loaded beside A's", id="compare.pick_model"),
        Binding("x", "swap", "Swap", tooltip="swap A and B", id="compare.swap"),
        Binding("escape", "app.pop_screen", "Close", tooltip="back to the probe screen", id="compare.close"),
    ]

    def __init__(self, probe_screen):
        super().__init__()
        self.probe = probe_screen
        self.index = probe_screen.index
        self.condition_a = probe_screen.condition()
        languages = probe_screen.instrument.languages
        other = next((language for language in ("zh", "en") if language != self.condition_a.language and language in languages),
                     self.condition_a.language)
        self.condition_b = replace(self.condition_a, language=other)

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield ScriptText(id="compare-item")
            with Horizontal(id="sides"):
                for side in ("a", "b"):
                    with Vertical(id=f"side-{side}", classes="side"):
                        yield ScriptText(id=f"title-{side}", classes="side-title")
                        yield ScriptText(id=f"text-{side}")
                        yield DistributionView(id=f"distribution-{side}")
            yield Static("", id="difference")
        yield Footer()

    def on_mount(self) -> None:
        self.watch(self.app, "model_status", self._model_status_changed, init=False)
        self.show()

    # --- display ------------------------------------------------------------------------------
    def _label(self, condition: Condition) -> str:
        persona = get_persona(condition.persona, self.probe.personas)
        label = f"{language_name(condition.language)} · {persona.name_in(condition.language)}"
        if condition.model != self.condition_a.model or condition.model != self.condition_b.model:
            backend = self.app.models.find(condition.model)
            name = backend.info.name if backend is not None and backend.info is not None else condition.model.rsplit("/", 1)[-1]
            label += f" · {name}"
        return label

    @property
    def item(self):
        return self.probe.items[self.index]

    def show(self) -> None:
        probe, item = self.probe, self.item
        self.query_one("#compare-item", ScriptText).set_text(
            f"{probe.instrument.name} · item {self.index + 1}/{len(probe.items)} · official no. {item.code}")
        answers = {}
        for side, condition in (("a", self.condition_a), ("b", self.condition_b)):
            answer = answers[side] = probe.session.answer_for(item, condition)
            self.query_one(f"#title-{side}", ScriptText).set_text(f"{side.upper()}: {self._label(condition)}")
            self.query_one(f"#text-{side}", ScriptText).set_text(item.text_in(condition.language))
            self.query_one(f"#distribution-{side}", DistributionView).show(
                answer.distribution if answer else None, item.scale.anchors_in(condition.language), "waiting for the model…")
        box = self.query_one("#difference", Static)
        if answers["a"] and answers["b"]:
            diff = difference(answers["a"], answers["b"])
            box.update(Text(diff.describe(answers["a"], answers["b"])))
            box.set_class(diff.answer_changed or abs(diff.expected_shift) >= 1.0, "changed")
        else:
            box.update(Text("the difference appears once both sides are answered", style="dim"))
            box.remove_class("changed")
        jobs = []
        for side, condition in (("a", self.condition_a), ("b", self.condition_b)):
            backend = self.app.models.find(condition.model)
            ready = backend is not None and self.app.model_ready(backend)
            if not answers[side] and not ready:
                self.query_one(f"#distribution-{side}", DistributionView).show(None, (), "loading this side's model…")
            elif not answers[side]:
                jobs.append((backend, condition, get_persona(condition.persona, self.probe.personas)))
        if probe.model_ready and jobs:
            self.answer_both(item, jobs)

    @work(thread=True, exclusive=True, group="compare")
    def answer_both(self, item, jobs) -> None:
        for backend, condition, persona in jobs:
            try:
                answer = ask(backend, self.probe.instrument, item, condition, persona)
            except ProbeError as exc:
                log.exception("scoring failed")
                self.post_message(AnswerFailed((item, condition, False), str(exc)))
                return
            self.post_message(AnswerArrived(answer))

    def on_answer_arrived(self, message: AnswerArrived) -> None:
        message.stop()
        if not self.probe.session.answer_for(message.answer.item, message.answer.condition):
            self.probe.session.record(message.answer)
        self.show()

    def on_answer_failed(self, message: AnswerFailed) -> None:
        message.stop()
        self.notify(printable(message.message), title="Scoring failed", severity="error", markup=False)

    def _model_status_changed(self, before, after) -> None:
        if any(before.get(c.model) != after.get(c.model) for c in (self.condition_a, self.condition_b)):
            self.show()

    # --- actions --------------------------------------------------------------------------------
    def action_step(self, by: int) -> None:
        self.index = min(max(self.index + by, 0), len(self.probe.items) - 1)
        self.probe.post_message(ItemChosen(self.index))
        self.show()

    def action_cycle_language(self) -> None:
        languages = self.probe.instrument.languages
        language = languages[(languages.index(self.condition_b.language) + 1) % len(languages)]
        self.condition_b = replace(self.condition_b, language=language)
        self.show()

    def action_pick_persona(self) -> None:
        def chosen(key: str) -> None:
            self.condition_b = replace(self.condition_b, persona=key)
            self.show()

        pick_persona(self.app, self.probe.persona_choices(), self.condition_b.language, self.condition_b.persona, self.probe.personas, chosen)

    def action_pick_model(self) -> None:
        from .models import ModelsScreen

        self.app.push_screen(ModelsScreen(self.probe, on_choose=self.use_model_b, current=self.condition_b.model))

    def use_model_b(self, kind: str, spec: str) -> None:
        """B answers with another model (base vs chat, say), loaded beside the primary one by the app."""
        backend = self.app.load_side_model(kind, spec)
        if backend is None:
            return
        self.condition_b = replace(self.condition_b, model=backend.identity)
        if not self.app.model_ready(backend):
            self.notify(f"Loading {backend.display_name} for B…", markup=False)
        self.show()

    def action_swap(self) -> None:
        self.condition_a, self.condition_b = self.condition_b, self.condition_a
        self.show()

    def on_screen_resume(self) -> None:
        self.show()
