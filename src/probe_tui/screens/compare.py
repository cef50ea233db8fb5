"""Compare: the same item under two conditions side by side, the difference highlighted. Stepping
moves both sides together; the answers are shared with the probe screen's session."""

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
from ..widgets.distribution import DistributionView
from ..widgets.script import ScriptText
from .dialogs import pick_persona

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
        self.show()

    # --- display ------------------------------------------------------------------------------
    def _label(self, condition: Condition) -> str:
        persona = get_persona(condition.persona, self.probe.personas)
        label = f"{self.probe.language_name(condition.language)} · {persona.name_in(condition.language)}"
        if condition.model != self.condition_a.model or condition.model != self.condition_b.model:
            backend = self.backend_of(condition)
            name = backend.info.name if backend is not None and backend.info is not None else condition.model.rsplit("/", 1)[-1]
            label += f" · {name}"
        return label

    def show(self) -> None:
        probe, item = self.probe, self.probe.item
        self.query_one("#compare-item", ScriptText).set_text(
            f"{probe.instrument.name} · item {probe.index + 1}/{len(probe.instrument.items)} · official no. {item.code}")
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
        for side, condition in (("a", self.condition_a), ("b", self.condition_b)):
            backend = self.backend_of(condition)
            if not answers[side] and (backend is None or backend.info is None):
                self.query_one(f"#distribution-{side}", DistributionView).show(None, (), "loading this side's model…")
        if probe.model_ready and not (answers["a"] and answers["b"]):
            self.answer_both(item, self.condition_a, self.condition_b)

    def backend_of(self, condition: Condition):
        return self.probe.backend if condition.model == self.probe.backend.identity else self.probe.other_backends.get(condition.model)

    @work(thread=True, exclusive=True, group="compare")
    def answer_both(self, item, *conditions: Condition) -> None:
        for condition in conditions:
            backend = self.backend_of(condition)
            if self.probe.session.answer_for(item, condition) or backend is None or backend.info is None:
                continue
            persona = get_persona(condition.persona, self.probe.personas)
            try:
                answer = ask(backend, self.probe.instrument, item, condition, persona)
            except ProbeError as exc:
                log.exception("scoring failed")
                self.app.call_from_thread(self.notify, str(exc), title="Scoring failed", severity="error", markup=False)
                return
            self.app.call_from_thread(self._arrived, answer)

    def _arrived(self, answer) -> None:
        self.probe.session.record(answer)
        self.show()

    # --- actions --------------------------------------------------------------------------------
    def action_step(self, by: int) -> None:
        probe = self.probe
        probe.index = min(max(probe.index + by, 0), len(probe.instrument.items) - 1)
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
        """B answers with another model (base vs chat, say), loaded beside the probe screen's own."""
        from ..backends.choice import backend_for

        try:
            backend = backend_for(kind, spec, like=self.probe.backend)
        except ProbeError as exc:
            self.notify(str(exc), title="Model not loaded", severity="error", markup=False)
            return
        if backend.identity == self.probe.backend.identity:
            self.condition_b = replace(self.condition_b, model=backend.identity)
            self.show()
            return
        backend = self.probe.other_backends.setdefault(backend.identity, backend)
        self.condition_b = replace(self.condition_b, model=backend.identity)
        self.notify(f"Loading {backend.display_name} for B…", markup=False)
        self.start_model_b(backend)

    @work(thread=True, group="load-b")
    def start_model_b(self, backend) -> None:
        try:
            if backend.info is None:
                backend.start()
        except ProbeError as exc:
            log.exception("model B failed to load")
            self.app.call_from_thread(self.notify, str(exc), title="Model B not loaded", severity="error", markup=False)
            return
        self.app.call_from_thread(self.show)

    def action_swap(self) -> None:
        self.condition_a, self.condition_b = self.condition_b, self.condition_a
        self.show()

    def on_screen_resume(self) -> None:
        self.show()
