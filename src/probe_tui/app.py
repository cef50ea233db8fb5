"""The Textual application."""

from __future__ import annotations

from textual.app import App

from .backends.llama_cpp import LlamaCppBackend
from .core.errors import ProbeError
from .core.items import get_instrument
from .core.personas import get_persona, load_personas
from .screens.probe import ProbeScreen


class ProbeApp(App):
    TITLE = "probe-tui"

    def __init__(self, backend: LlamaCppBackend, instrument: str = "mfq2", language: str = "en", persona: str = "none"):
        super().__init__()
        self.backend = backend
        if instrument == "country-pairs":
            raise ProbeError("the app has no country-pair view yet; use: probe-tui run --instrument country-pairs --output pairs.csv")
        self.instrument = get_instrument(instrument)
        self.instrument.check_language(language)
        self.personas = load_personas()
        get_persona(persona, self.personas)
        self.language, self.persona = language, persona

    def on_mount(self) -> None:
        self.push_screen(ProbeScreen(self.backend, self.instrument, self.personas, self.language, self.persona))

    def on_unmount(self) -> None:
        self.backend.close()
