"""The Textual application. It paints a start screen first, then imports the probe screen (and with
it pandas and scipy) in a thread, so the first paint does not wait on them."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

from .backends.provenance import provenance
from .core.errors import ProbeError
from .core.instruments import get_instrument
from .core.personas import get_persona, load_personas
from .core.settings import load_settings, save_settings
from .core.store import SessionStore, new_session_name

log = logging.getLogger(__name__)

# Every screen's and dialog's styles, relative to this file (and shipped in the wheel with the package).
STYLESHEETS = ["styles/screens.tcss", "styles/dialogs.tcss"]


class StartScreen(Screen):
    def compose(self) -> ComposeResult:
        yield Static("probe-tui · starting…", id="starting")


class ProbeApp(App):
    TITLE = "probe-tui"
    CSS_PATH = STYLESHEETS
    BINDINGS = [  # on every screen; a modal one has its own
        Binding("question_mark", "help", "Help", tooltip="this screen's keys", id="app.help"),
        Binding("q", "quit", "Quit", show=False, tooltip="quit; every answer is already in the session file", id="app.quit"),
    ]

    def __init__(self, backend, instrument: str = "mfq2", language: str | None = None, persona: str | None = None,
                 session: str | None = None, store: SessionStore | None = None):
        """session: the name to record under (and resume, if it exists); a new dated one by default.
        language, persona: None means where the session stood (en and none for a new one)."""
        super().__init__()
        self.backend = backend
        self.store = store if store is not None else SessionStore()
        self.session_name = session or new_session_name(self.store)
        self.saved_state = self.store.open(self.session_name)
        self.instrument = get_instrument(instrument)
        self.explicit = {"language": language is not None, "persona": persona is not None}
        language, persona = language or "en", persona or "none"
        self.instrument.check_language(language)
        self.personas = dict(load_personas())  # the app's own: composed personas are added to it
        self.language, self.persona = language, get_persona(persona, self.personas).key  # "country:china" is cn_average
        self.instrument_screens: dict[str, Screen] = {}
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="session-writer")
        self._provenance: dict[str, dict] = {}
        try:
            self.settings, self.settings_problem = load_settings(), None  # read once, at start
        except ProbeError as exc:
            self.settings, self.settings_problem = None, str(exc)  # None: a broken file is not written over

    # --- the session file ------------------------------------------------------------------------
    def remember(self, answer) -> None:
        """Store a new answer in the session, off the UI thread, in the order answers arrive."""
        backend = self.backend_for(answer.condition.model)
        self._writer.submit(self._store_answer, answer, backend)

    def _store_answer(self, answer, backend) -> None:
        try:
            identity = answer.condition.model
            if identity not in self._provenance:
                self._provenance[identity] = provenance(backend) if backend is not None else {"model": identity}
            self.store.add(self.session_name, answer, self._provenance[identity])
        except Exception:  # noqa: BLE001 - a failed write is logged, and the app goes on
            log.exception("could not store an answer in session %s", self.session_name)
            self.call_from_thread(self.notify, f"An answer could not be saved to session {self.session_name}; see the log.",
                                  severity="error")

    def export(self, suffix: str) -> None:
        """The session so far, with provenance, into the current folder."""
        from pathlib import Path

        from .core.errors import ProbeError
        from .export import export_session

        self._writer.submit(lambda: None).result()  # every answer so far is written first
        path = Path.cwd() / f"probe-tui-{self.session_name}.{suffix}"
        try:
            count = export_session(self.store, self.session_name, path)
        except ProbeError as exc:
            self.notify(str(exc), title="Export", severity="error", markup=False)
            return
        self.notify(f"{count} answer(s) with provenance → {path}", title="Exported", timeout=8, markup=False)

    def figure(self, kind: str, suffix: str) -> None:
        """A figure for slides from this session's answers to the current instrument, into the current folder."""
        from pathlib import Path

        from .core.errors import ProbeError
        from .export import session_frame
        from .figures import draw

        self._writer.submit(lambda: None).result()
        instrument = self.instrument.key
        path = Path.cwd() / f"probe-tui-{self.session_name}-{kind}.{suffix}"
        try:
            frame = session_frame(self.store, self.session_name, instrument)
            if frame.empty:
                raise ProbeError("no answers to draw yet")
            draw(kind, frame[~frame["options_reversed"]], instrument, path)
        except ProbeError as exc:
            self.notify(str(exc), title="Figure", severity="error", markup=False)
            return
        self.notify(f"→ {path}", title=f"{kind} figure saved", timeout=8, markup=False)

    def screenshot_here(self) -> None:
        from pathlib import Path

        path = self.save_screenshot(path=str(Path.cwd()))
        self.notify(f"→ {path}", title="SVG screenshot saved", timeout=8, markup=False)

    def session_answers(self) -> int:
        return self.store.count(self.session_name)

    def backend_for(self, identity: str):
        if self.backend.identity == identity:
            return self.backend
        for screen in self.instrument_screens.values():
            for backend in getattr(screen, "other_backends", {}).values():
                if backend.identity == identity:
                    return backend
        return None

    def restore(self, screen) -> None:
        """Give a screen the session's stored answers to its instrument, and where it stood."""
        screen.session.on_record = self.remember
        for answer in self.store.answers(self.session_name, screen.instrument):
            screen.session.record(answer, remember=False)
        return self.saved_state.get("screens", {}).get(screen.instrument.key, {})

    def save_position(self, instrument: str, position: dict) -> None:
        """Where a screen stands; written only when it moved (show_item runs on every answer)."""
        state = self.saved_state
        if (state.get("instrument"), state.get("screens", {}).get(instrument), state.get("model")) == (
                instrument, position, self.backend.identity):
            return
        state["instrument"] = instrument
        state.setdefault("screens", {})[instrument] = position
        state["model"] = self.backend.identity
        state["model_path"] = str(getattr(self.backend, "model_path", ""))  # this machine's file, to reopen on it
        self.store.save_state(self.session_name, state)

    def on_mount(self) -> None:
        self._apply_saved_theme()
        self.push_screen(StartScreen())
        self._import_probe_screen()

    # --- settings --------------------------------------------------------------------------------
    def _apply_saved_theme(self) -> None:
        if self.settings_problem:
            self.notify(f"{self.settings_problem}; the settings are not used", title="Settings", severity="warning", timeout=10)
        theme = (self.settings or {}).get("theme")
        if theme is not None and theme not in self.available_themes:
            self.notify(f"settings.toml names an unknown theme {theme!r}; using the default", title="Settings", severity="warning")
        elif theme is not None:
            self.theme = theme
        self.theme_changed_signal.subscribe(self, self._remember_theme)

    def _remember_theme(self, theme) -> None:
        if self.settings is None or self.settings.get("theme") == theme.name:
            return
        self.settings["theme"] = theme.name
        try:
            save_settings(self.settings)
        except OSError as exc:
            log.exception("could not save the settings")
            self.notify(f"The theme could not be saved: {exc}", title="Settings", severity="error")

    @work(thread=True)
    def _import_probe_screen(self) -> None:
        if self.instrument.key == "country-pairs":
            from .screens.pairs import CountryPairsScreen as screen
        else:
            from .screens.probe import ProbeScreen as screen
        self.call_from_thread(self._open_probe_screen, screen)

    def _open_probe_screen(self, screen) -> None:
        self._install(self.instrument.key, screen(self.backend, self.instrument, self.personas, self.language, self.persona))
        self.switch_screen(self.instrument.key)

    def _install(self, key: str, screen) -> None:
        self.instrument_screens[key] = screen
        self.install_screen(screen, key)

    def action_help(self) -> None:
        """The help card of the screen on top: its keys, from its bindings."""
        from .screens.dialogs import HelpScreen

        self.push_screen(HelpScreen(self.screen))

    def action_pick_instrument(self) -> None:
        from .screens.dialogs import InstrumentPicker

        self.push_screen(InstrumentPicker(self.instrument.key), self.open_instrument)

    def open_instrument(self, key: str | None) -> None:
        """Another instrument, on the same model; each instrument's screen (and answers) is kept."""
        if not key or key == self.instrument.key:
            return
        current = self.screen
        language = getattr(current, "language", self.language)
        self.instrument = get_instrument(key)
        if not self.is_screen_installed(key):
            if key == "country-pairs":
                from .screens.pairs import CountryPairsScreen as screen
            else:
                from .screens.probe import ProbeScreen as screen
            language = language if language in self.instrument.languages else "en"
            self._install(key, screen(self.backend, self.instrument, self.personas, language, getattr(current, "persona", "none")))
        self.switch_screen(key)

    def on_unmount(self) -> None:
        self._writer.shutdown(wait=True)  # every answer is in the session file before the app ends
        self.backend.close()
        for screen in self.instrument_screens.values():
            for backend in getattr(screen, "other_backends", {}).values():
                backend.close()


class DemoApp(App):
    """probe-tui demo: the scripted tour, on its own."""

    TITLE = "probe-tui demo"
    CSS_PATH = STYLESHEETS

    def __init__(self, backend, script, recorded=()):
        super().__init__()
        self.backend, self.script, self.recorded = backend, script, recorded

    def on_mount(self) -> None:
        from .screens.demo import DemoScreen

        self.push_screen(DemoScreen(self.backend, self.script, self.recorded))

    def on_unmount(self) -> None:
        self.backend.close()
