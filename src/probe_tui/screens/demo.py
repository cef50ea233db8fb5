"""The demo: a scripted tour for talks, with captions and a big gauge, at a set pace.

Every answer comes from a recorded session, the response cache, or the model, and the screen says
which: a talk rehearsed once replays offline and instantly; anything missing is computed live. The
model loads through the app's ModelManager, with progress and cancel (Esc), as in the main app."""

from __future__ import annotations

import threading
import time

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from ..core.instruments import get_instrument
from ..core.personas import get_persona, load_personas
from ..core.runner import Job
from ..core.session import Condition, ProbeSession
from ..widgets.distribution import DistributionView
from ..widgets.gauge import needles
from ..widgets.script import ScriptText
from ..widgets.text import printable, safe_text
from .jobs import JobAnswered, RunEnded, run_for


class DemoScreen(Screen):
    BINDINGS = [
        Binding("space", "toggle_pause", "Pause/play", id="demo.toggle_pause"),
        Binding("n,right", "step(1)", "Step", id="demo.next_step"),
        Binding("b,left", "step(-1)", "Back", id="demo.previous_step"),
        Binding("q", "app.quit", "Quit", id="demo.quit"),
        Binding("escape", "cancel_load", "Cancel load", show=False, tooltip="cancel the model's load", id="demo.cancel_load"),
    ]

    def __init__(self, backend, script, recorded=()):
        """recorded: answers from a session, played as they were stored."""
        super().__init__()
        self.backend, self.script = backend, script
        self.instrument = get_instrument(script.instrument)
        self.personas = load_personas()
        self.frames = script.frames()
        self.session = ProbeSession(self.instrument)
        self.recorded = {(a.item.id, a.condition): a for a in recorded if not a.options_reversed}
        self.position = -1
        self.paused = False
        self.shown_at = 0.0
        self.asking = False
        self.model_ready = False
        self.sources: dict[tuple, str] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield ScriptText(id="demo-caption")
        with Horizontal(id="demo-body"):
            with Vertical(id="demo-left"):
                yield ScriptText(id="demo-header")
                yield ScriptText(id="demo-item")
                yield DistributionView(id="demo-distribution")
            with Vertical(id="demo-right"):
                yield Static(id="demo-gauge")
        yield Static("", id="demo-source")
        yield Footer()

    def on_mount(self) -> None:
        self.app.sub_title = self.script.title
        self.query_one("#demo-caption", ScriptText).set_text(f"{self.script.title}\n(starting…)")
        self.start_model()
        self.set_interval(0.1, self.tick)

    # --- the model: loaded by the app's ModelManager, which reports here through the app ------------
    def start_model(self) -> None:
        self.app.models.load(self.backend)

    def model_loading(self, fraction: float) -> None:
        done = f" {100 * fraction:.0f}%" if fraction else ""
        self.query_one("#demo-caption", ScriptText).set_text(f"{self.script.title}\n(loading {self.backend.display_name}…{done}; Esc cancels)")

    def model_started(self) -> None:
        self.model_ready = True
        self.go_to(0)

    def model_failed(self, message: str) -> None:
        self.query_one("#demo-caption", ScriptText).set_text(f"{self.script.title}\n(the model did not load; q quits)")
        self.notify(printable(message), title="Model not loaded", severity="error", timeout=15, markup=False)

    def action_cancel_load(self) -> None:
        models = self.app.models
        if models.is_loading(self.backend) and not models.cancel(self.backend):
            self.notify("This backend's start cannot be cancelled; it gives up after its timeout.", severity="warning")

    # --- frames ------------------------------------------------------------------------------------
    def condition(self, frame) -> Condition:
        return Condition(self.backend.identity, self.instrument.key, frame.language, frame.persona)

    def tick(self) -> None:
        if self.paused or self.asking or not self.model_ready or self.position >= len(self.frames) - 1:
            return
        if time.monotonic() - self.shown_at >= self.script.pace:
            self.go_to(self.position + 1)

    def go_to(self, position: int) -> None:
        self.position = min(max(position, 0), len(self.frames) - 1)
        frame = self.frames[self.position]
        condition = self.condition(frame)
        if self.session.answer_for(frame.item, condition) is None:
            stored = self.recorded.get((frame.item.id, condition))
            if stored is not None:
                self.session.record(stored)
                self.sources[(frame.item.id, condition)] = "played from the recorded session"
            else:
                self.asking = True
                self.ask_frame(frame, condition)
        self.show()

    def ask_frame(self, frame, condition) -> None:
        job = Job(frame.item.id, frame.item, condition, get_persona(frame.persona, self.personas))
        self.ask_jobs([job], threading.Event())

    @work(thread=True, group="ask")
    def ask_jobs(self, jobs: list[Job], cancel: threading.Event) -> None:
        run_for(self, jobs, self.backend, self.instrument, cancel)

    def on_job_answered(self, message: JobAnswered) -> None:
        answer = message.answer
        self.session.record(answer)
        how = "replayed from the response cache" if answer.distribution.cached else "computed live by the model (it was not in the cache)"
        self.sources[(answer.item.id, answer.condition)] = how

    def on_run_ended(self, message: RunEnded) -> None:
        self.asking = False
        if message.error:
            self.paused = True
            self.notify(printable(f"{message.error}. Paused: space goes on."), title="Scoring failed", severity="error", timeout=15, markup=False)
        else:
            self.show()

    # --- display -------------------------------------------------------------------------------------
    def show(self) -> None:
        frame = self.frames[self.position]
        condition = self.condition(frame)
        persona = get_persona(frame.persona, self.personas)
        last = self.position == len(self.frames) - 1
        caption = frame.caption + ("\n\nThe end: b goes back, q quits." if last else "")
        self.query_one("#demo-caption", ScriptText).set_text(caption)
        self.query_one("#demo-header", ScriptText).set_text(
            f"step {frame.step + 1}/{len(self.script.steps)} · item {self.position + 1}/{len(self.frames)} · "
            f"{self.instrument.name} no. {frame.item.code} · {frame.language.upper()} · {persona.name_in(frame.language)}")
        self.query_one("#demo-item", ScriptText).set_text(frame.item.text_in(frame.language))
        answer = self.session.answer_for(frame.item, condition)
        self.query_one("#demo-distribution", DistributionView).show(
            answer.distribution if answer else None, frame.item.scale.anchors_in(frame.language), "asking the model…")
        engine = self.session.engine
        tracks = [t for t in engine.tracks if engine.reading(t) is not None]
        width = max(24, min(self.query_one("#demo-right").size.width - 6, 64))
        gauge = needles(engine.reading, tracks, self._label, width, selected=condition, big=True) if tracks else Text("the gauge fills as the model answers", style="dim italic")
        self.query_one("#demo-gauge", Static).update(gauge)
        source = self.sources.get((frame.item.id, condition), "asking the model…")
        state = "paused (space plays)" if self.paused else f"playing, {self.script.pace:g} s per item (space pauses)"
        self.query_one("#demo-source", Static).update(safe_text(f"{source} · {state}"))
        self.shown_at = time.monotonic()

    def _label(self, condition) -> str:
        persona = get_persona(condition.persona, self.personas)
        return f"{condition.language.upper()} · {persona.name_in('en')}"

    # --- keys ----------------------------------------------------------------------------------------
    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        if self.position >= 0:
            self.show()

    def action_step(self, by: int) -> None:
        if self.model_ready and not self.asking:
            self.go_to(self.position + by)
