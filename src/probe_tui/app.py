"""The Textual application. It paints a start screen first, then imports the probe screen (and with
it pandas and scipy) in a thread, so the first paint does not wait on them."""

from __future__ import annotations

from textual import work
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from .core.items import get_instrument
from .core.personas import get_persona, load_personas


class StartScreen(Screen):
    DEFAULT_CSS = "StartScreen { align: center middle; }"

    def compose(self) -> ComposeResult:
        yield Static("probe-tui · starting…", id="starting")


class ProbeApp(App):
    TITLE = "probe-tui"

    def __init__(self, backend, instrument: str = "mfq2", language: str = "en", persona: str = "none"):
        super().__init__()
        self.backend = backend
        self.instrument = get_instrument(instrument)
        self.instrument.check_language(language)
        self.personas = dict(load_personas())  # the app's own: composed personas are added to it
        get_persona(persona, self.personas)
        self.language, self.persona = language, persona
        self.instrument_screens: dict[str, Screen] = {}

    def on_mount(self) -> None:
        self.push_screen(StartScreen())
        self._import_probe_screen()

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
        self.backend.close()
        for screen in self.instrument_screens.values():
            for backend in getattr(screen, "other_backends", {}).values():
                backend.close()
