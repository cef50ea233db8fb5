"""The Textual application. It paints a start screen first, then imports the screens (and with them
pandas and scipy) in a thread, so the first paint does not wait on them.

The app holds the state every screen shares: the session file, the models (a ModelManager: the
primary model and the side ones, loaded in threads that report back as Messages) and the current
condition, one frozen Condition replaced whole, with model_status, the loads, beside it. Screens
watch these two reactives; worker threads only post Messages (messages.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

from textual import work
from textual.app import App, ComposeResult
from textual.await_complete import AwaitComplete
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Static

from .backends.manager import FAILED, LOADING, READY, ModelManager, ModelStatus
from .backends.provenance import provenance
from .core.errors import ProbeError
from .core.instruments import get_instrument
from .core.personas import get_persona, load_personas
from .core.session import Condition
from .core.settings import get_settings, load_remembered, save_remembered
from .core.store import SessionStore, new_session_name
from .keymap import binding_ids, checked_keymap
from .messages import ModelFailed, ModelLoadProgress, ModelReady, ScreensImported, WorkDone
from .widgets import guards
from .widgets.text import printable

log = logging.getLogger(__name__)
guards.install()  # Textual's failures under key bursts (widgets/guards.py)

# Every screen's and dialog's styles, relative to this file (and shipped in the wheel with the package).
STYLESHEETS = ["styles/screens.tcss", "styles/dialogs.tcss"]


def posting_models(app: App, backend) -> ModelManager:
    """The app's ModelManager, with backend as its primary model: its loads report to the app as
    Messages (ModelLoadProgress, ModelReady, ModelFailed), posted from the loading thread."""
    return ModelManager(backend, on_progress=lambda b, f: app.post_message(ModelLoadProgress(b, f)),
                        on_ready=lambda b, info: app.post_message(ModelReady(b, info)),
                        on_failed=lambda b, message: app.post_message(ModelFailed(b, message)))


class StartScreen(Screen):
    def compose(self) -> ComposeResult:
        yield Static("probe-tui · starting…", id="starting")


class ProbeApp(App):
    """The app owns the session file, the models (a ModelManager) and the current condition: one
    frozen Condition, replaced whole, which the instrument screens watch."""

    TITLE = "probe-tui"
    CSS_PATH = STYLESHEETS
    BINDINGS = [  # on every screen; a modal one has its own
        Binding("question_mark", "help", "Help", tooltip="this screen's keys", id="app.help"),
        Binding("q", "quit", "Quit", show=False, tooltip="quit; every answer is already in the session file", id="app.quit"),
    ]
    condition: reactive[Condition] = reactive(Condition("", "", "en", "none"), init=False)
    model_status: reactive[Mapping[str, ModelStatus]] = reactive(MappingProxyType({}), init=False)  # identity -> its load

    def __init__(self, backend, instrument: str | None = None, language: str | None = None, persona: str | None = None,
                 session: str | None = None, store: SessionStore | None = None, study=None):
        """instrument: None means the settings' one.
        study: a study's scope (study/session.py's StudyScope) when the app shows a study's answers: its
        name heads the app, its instruments' items are those browsed, its model labels name the tracks.
        session: the name to record under (and resume, if it exists); a new dated one by default.
        language, persona: None means where the session stood (the settings', en and none, for a new one).
        A bad config.toml is a one-line ProbeError here, as in the CLI."""
        super().__init__()
        self.settings = get_settings()  # read once, for the whole app
        self.models = posting_models(self, backend)
        self.store = store if store is not None else SessionStore()
        self.session_name = session or new_session_name(self.store)
        self.study = study
        if study is not None:
            self.title = f"probe-tui · study {printable(study.name)}"
        self.saved_state = self.store.open(self.session_name)
        first = get_instrument(instrument or self.settings.instrument)
        self.explicit = {"language": language is not None, "persona": persona is not None}
        language, persona = language or self.settings.language, persona or self.settings.persona
        first.check_language(language)
        self.personas = dict(load_personas())  # the app's own: composed personas are added to it
        # "country:china" is cn_average
        self.condition = Condition(backend.identity, first.key, language, get_persona(persona, self.personas).key)
        self.instrument_screens: dict[str, Screen] = {}
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="session-writer")
        self._exporter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="exports")  # exports and figures, in turn
        self._exports: list = []
        self._provenance: dict[str, dict] = {}
        try:
            self.remembered, self.remembered_problem = load_remembered(), None  # settings.toml: the theme last picked
        except ProbeError as exc:
            self.remembered, self.remembered_problem = None, str(exc)  # None: a broken file is not written over

    # --- the current condition and model ---------------------------------------------------------
    @property
    def instrument(self):
        return get_instrument(self.condition.instrument)

    @property
    def backend(self):
        """The primary model: every instrument screen asks it."""
        return self.models.primary

    def items_of(self, instrument) -> tuple:
        """The items an instrument's screen browses: those a study asks of it, else all of them."""
        if self.study is not None and self.study.items.get(instrument.key):
            return self.study.items[instrument.key]
        return tuple(instrument.items)

    def instrument_keys(self) -> dict[str, str] | None:
        """The instruments the picker offers, each with what it holds: a study's own, else (None) every one."""
        if self.study is None:
            return None
        return {key: f"{len(items)} of {get_instrument(key).contents} in the study" for key, items in self.study.items.items()}

    @property
    def session_label(self) -> str:
        """What the header's sub-title says the answers are: the session's name; "" for a study, whose
        name is the title."""
        return "" if self.study is not None else f"session {self.session_name}"

    def model_label(self, identity: str) -> str:
        """A track's model: the study's label of it where there is one, else its short name."""
        if self.study is not None and identity in self.study.models:
            return self.study.models[identity]
        return self.model_name(identity)

    def status_of(self, backend) -> ModelStatus | None:
        return self.model_status.get(backend.identity)

    def model_ready(self, backend=None) -> bool:
        backend = backend or self.models.primary
        status = self.status_of(backend)
        return status is not None and status.phase == READY and backend.info is not None

    def model_name(self, identity: str) -> str:
        """A model's short name, for one loaded earlier in the session too."""
        status = self.model_status.get(identity)
        return status.name if status is not None else identity.rsplit("/", 1)[-1]

    def _set_status(self, backend, phase: str, progress: float = 0.0, error: str | None = None) -> None:
        name = backend.info.name if phase == READY and backend.info is not None else backend.display_name
        self.model_status = MappingProxyType({**self.model_status, backend.identity: ModelStatus(name, phase, progress, error)})

    def load_model(self, backend=None) -> None:
        """Start a held model (the primary one by default), unless it is loading or ready."""
        backend = backend or self.models.primary
        if self.models.is_loading(backend) or self.model_ready(backend):
            return
        self._set_status(backend, LOADING)
        self.models.load(backend)

    def cancel_load(self, backend=None) -> None:
        backend = backend or self.models.primary
        if not self.models.cancel(backend):
            self.notify("This backend's start cannot be cancelled; it gives up after its timeout.", severity="warning")

    def choose_model(self, kind: str, spec: str):
        """The backend for a choice on the models screen; None, with a note, when there is none."""
        try:
            return self.models.choose(kind, spec)
        except ProbeError as exc:
            self.notify(printable(str(exc)), title="Model not loaded", severity="error", markup=False)
            return None

    def switch_model(self, kind: str, spec: str) -> None:
        """Another primary model, for every screen; the answers so far stay, each under its own model."""
        backend = self.choose_model(kind, spec)
        if backend is not None:
            self.use_model(backend)

    def use_model(self, backend) -> None:
        if backend is self.models.primary:
            self.notify("That model is already loaded.")
            return
        self.models.set_primary(backend)
        self._set_status(backend, LOADING)
        self.condition = replace(self.condition, model=backend.identity)
        self.load_model(backend)

    def load_side_model(self, kind: str, spec: str):
        """A model beside the primary one (compare's B, say), loading; None when there is no such model."""
        backend = self.choose_model(kind, spec)
        if backend is None:
            return None
        backend = self.models.add_side(backend)
        self.load_model(backend)
        return backend

    def on_model_load_progress(self, message: ModelLoadProgress) -> None:
        if self.models.is_loading(message.backend):
            self._set_status(message.backend, LOADING, message.fraction)

    def on_model_ready(self, message: ModelReady) -> None:
        self._set_status(message.backend, READY, 1.0)

    def on_model_failed(self, message: ModelFailed) -> None:
        self._set_status(message.backend, FAILED, error=message.message)
        if message.backend is not self.models.primary:  # the screens show the primary one's failure themselves
            self.notify(printable(message.message), title="Model not loaded", severity="error", markup=False)

    # --- the session file ------------------------------------------------------------------------
    def remember(self, answer) -> None:
        """Store a new answer in the session, off the UI thread, in the order answers arrive."""
        self._writer.submit(self._store_answer, answer, self.models.find(answer.condition.model))

    def _store_answer(self, answer, backend) -> None:
        try:
            identity = answer.condition.model
            if identity not in self._provenance:
                self._provenance[identity] = provenance(backend) if backend is not None else {"model": identity}
            self.store.add(self.session_name, answer, self._provenance[identity])
        except Exception:  # noqa: BLE001 - a failed write is logged, and the app goes on
            log.exception("could not store an answer in session %s", self.session_name)
            self.post_message(WorkDone("Session", f"An answer could not be saved to session {self.session_name}; see the log.", "error"))

    def export(self, suffix: str) -> None:
        """The session so far, with provenance, into the current folder (in a thread: pandas takes a moment)."""
        self._exports.append(self._exporter.submit(self._export, suffix))

    def exporting(self) -> bool:
        """An export or a figure is being made."""
        return any(not job.done() for job in self._exports)

    def _export(self, suffix: str) -> None:
        from .export import export_session

        self._writer.submit(lambda: None).result()  # every answer so far is written first
        path = Path.cwd() / f"probe-tui-{self.session_name}.{suffix}"
        try:
            count = export_session(self.store, self.session_name, path)
        except ProbeError as exc:
            self.post_message(WorkDone("Export", str(exc), "error"))
            return
        self.post_message(WorkDone("Exported", f"{count} answer(s) with provenance → {path}"))

    def figure(self, kind: str, suffix: str) -> None:
        """A figure for slides from this session's answers to the current instrument, into the
        current folder (in a worker: matplotlib takes a moment)."""
        self._exports.append(self._exporter.submit(self._figure, kind, suffix, self.condition.instrument))

    def _figure(self, kind: str, suffix: str, instrument: str) -> None:
        from .export import session_frame
        from .figures import draw

        self._writer.submit(lambda: None).result()
        path = Path.cwd() / f"probe-tui-{self.session_name}-{kind}.{suffix}"
        try:
            frame = session_frame(self.store, self.session_name, instrument)
            if frame.empty:
                raise ProbeError("no answers to draw yet")
            draw(kind, frame[~frame["options_reversed"]], instrument, path)
        except ProbeError as exc:
            self.post_message(WorkDone("Figure", str(exc), "error"))
            return
        self.post_message(WorkDone(f"{kind} figure saved", f"→ {path}"))

    def on_work_done(self, message: WorkDone) -> None:
        self.notify(printable(message.text), title=message.title, severity=message.severity,
                    timeout=10 if message.severity == "error" else 8, markup=False)

    def screenshot_here(self) -> None:
        path = self.save_screenshot(path=str(Path.cwd()))
        self.notify(f"→ {path}", title="SVG screenshot saved", timeout=8, markup=False)

    def session_answers(self) -> int:
        return self.store.count(self.session_name)

    def restore(self, screen) -> None:
        """Give a screen the session's stored answers to its instrument, and where it stood."""
        screen.session.on_record = self.remember
        for answer in self.store.answers(self.session_name, screen.instrument):
            screen.session.record(answer, remember=False)
        return self.saved_state.get("screens", {}).get(screen.instrument.key, {})

    def save_position(self, instrument: str, position: dict) -> None:
        """Where a screen stands; written only when it moved (show_item runs on every answer)."""
        state, backend = self.saved_state, self.models.primary
        if (state.get("instrument"), state.get("screens", {}).get(instrument), state.get("model")) == (
                instrument, position, backend.identity):
            return
        state["instrument"] = instrument
        state.setdefault("screens", {})[instrument] = position
        state["model"] = backend.identity
        state["model_path"] = str(getattr(backend, "model_path", ""))  # this machine's file, to reopen on it
        self.store.save_state(self.session_name, state)

    def on_mount(self) -> None:
        self._apply_saved_theme()
        self.push_screen(StartScreen())
        self._import_screens()

    # --- settings --------------------------------------------------------------------------------
    def _apply_saved_theme(self) -> None:
        """config.toml's (or $PROBE_TUI_THEME's) theme, else the one last picked in the palette."""
        if self.remembered_problem:
            self.notify(f"{self.remembered_problem}; the settings are not used", title="Settings", severity="warning", timeout=10)
        theme = self.settings.theme or (self.remembered or {}).get("theme")
        if theme is not None and theme not in self.available_themes:
            source = "config.toml" if self.settings.theme else "settings.toml"
            self.notify(f"{source} names an unknown theme {theme!r}; using the default", title="Settings", severity="warning")
        elif theme is not None:
            self.theme = theme
        self.theme_changed_signal.subscribe(self, self._remember_theme)

    def _remember_theme(self, theme) -> None:
        if self.remembered is None or self.remembered.get("theme") == theme.name:
            return
        self.remembered["theme"] = theme.name
        try:
            save_remembered(self.remembered)
        except OSError as exc:
            log.exception("could not save the settings")
            self.notify(f"The theme could not be saved: {exc}", title="Settings", severity="error")

    @work(thread=True)
    def _import_screens(self) -> None:
        from .screens import kinds  # noqa: F401 - the screens, and with them pandas and scipy

        keymap, problems = checked_keymap(self.settings.keymap, binding_ids(type(self)))  # knows every screen now
        self.post_message(ScreensImported(keymap, problems))

    def on_screens_imported(self, message: ScreensImported) -> None:
        """config.toml's [keymap]: its usable entries rebind the keys, each other one is a warning; then
        the first screen opens."""
        self.set_keymap(message.keymap)
        for problem in message.problems:
            self.notify(f"config.toml {problem}; that key is not changed", title="Keymap", severity="warning", timeout=10)
        self.open_instrument(self.condition.instrument)

    def action_help(self) -> None:
        """The help card of the screen on top: its keys, from its bindings."""
        from .screens.dialogs import HelpScreen

        self.push_screen(HelpScreen(self.screen))

    def action_pick_instrument(self) -> None:
        from .screens.dialogs import InstrumentPicker

        self.push_screen(InstrumentPicker(self.condition.instrument, self.instrument_keys()), self.open_instrument)

    def open_instrument(self, key: str | None) -> Screen | None:
        """An instrument's screen, on the same model; each instrument's screen (and answers) is kept
        and comes back where it stood. The first call opens the instrument the app started with."""
        if not key or (key == self.condition.instrument and key in self.instrument_screens):
            return None
        from .screens.kinds import screen_class

        screen, instrument = self.instrument_screens.get(key), get_instrument(key)
        if screen is not None:  # it comes back as it was, on the current model
            language, persona = screen.language, screen.persona
        else:
            language, persona = self.condition.language, self.condition.persona
            language = language if language in instrument.languages else "en"
        self.condition = Condition(self.models.primary.identity, key, language, persona)
        if screen is None:
            screen = self.instrument_screens[key] = screen_class(instrument)(
                self.models.primary, instrument, self.personas, language, persona)
            self.install_screen(screen, key)
        self.switch_screen(key)
        return screen

    def pop_screen(self):
        """Back to the screen below, never below the instrument screen: a burst's second Escape, or
        a close handled after its screen had gone, would otherwise pop the probe screen itself and
        leave Textual's blank default screen (or raise ScreenStackError)."""
        if len(self.screen_stack) <= 2:  # Textual's default screen, then the instrument (or start) screen
            log.debug("pop_screen ignored: nothing to go back to from %s", type(self.screen).__name__)
            return AwaitComplete(asyncio.sleep(0))
        return super().pop_screen()

    def on_unmount(self) -> None:
        self._exporter.shutdown(wait=True)  # every export asked for is written (each waits on the writer)
        self._writer.shutdown(wait=True)  # every answer is in the session file before the app ends
        self.models.close_all()


class DemoApp(App):
    """probe-tui demo: the scripted tour, on its own. Its model loads through a ModelManager, as the
    main app's do, and the demo screen follows the load's Messages."""

    TITLE = "probe-tui demo"
    CSS_PATH = STYLESHEETS

    def __init__(self, backend, script, recorded=()):
        super().__init__()
        self.models = posting_models(self, backend)
        self.script, self.recorded = script, recorded
        self.demo = None

    @property
    def backend(self):
        return self.models.primary

    def on_mount(self) -> None:
        from .screens.demo import DemoScreen

        self.demo = DemoScreen(self.backend, self.script, self.recorded)
        self.push_screen(self.demo)

    def on_model_load_progress(self, message: ModelLoadProgress) -> None:
        if self.models.is_loading(message.backend):
            self.demo.model_loading(message.fraction)

    def on_model_ready(self, message: ModelReady) -> None:
        self.demo.model_started()

    def on_model_failed(self, message: ModelFailed) -> None:
        self.demo.model_failed(message.message)

    def on_unmount(self) -> None:
        self.models.close_all()
