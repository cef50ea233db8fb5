"""The model's own words for a prompt, streamed in a thread beside the distribution; Esc stops it.
The thread posts what it has written so far (coalesced) and how it ended; it sets nothing itself."""

from __future__ import annotations

import logging
import threading

from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll

from ..core.errors import ProbeError
from ..messages import FreeTextDone, FreeTextProgress
from .script import ScriptText

log = logging.getLogger(__name__)
ENDINGS = {"stop": "the model ended its answer", "length": "stopped at the length limit", "cancelled": "cancelled"}


class FreeText(VerticalScroll):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.text = ""
        self.cancel: threading.Event | None = None  # set while writing
        self.written_for: tuple | None = None  # what it was written for (item, condition)

    def compose(self) -> ComposeResult:
        yield ScriptText(id="free-text")

    @property
    def running(self) -> bool:
        return self.cancel is not None

    def start(self, backend, make_prompt, written_for: tuple) -> None:
        """make_prompt(): the exact prompt, built in the thread. Nothing while it is writing already."""
        if self.running:
            return
        if not backend.capabilities.stream:
            self.notify("This backend cannot write free text.", severity="warning")
            return
        self.add_class("shown")
        self.cancel, self.text, self.written_for = threading.Event(), "", written_for
        self._show("waiting for the model…")
        self._write(backend, make_prompt, self.cancel)

    @work(thread=True, group="free-text")
    def _write(self, backend, make_prompt, cancel: threading.Event) -> None:
        pieces: list[str] = []

        def on_text(piece: str) -> None:
            pieces.append(piece)
            self.post_message(FreeTextProgress("".join(pieces)))

        try:
            result = backend.generate(make_prompt(), on_text, cancel)
        except ProbeError as exc:
            log.exception("free text failed")
            self.post_message(FreeTextDone("".join(pieces), f"✗ {exc}"))
            return
        self.post_message(FreeTextDone("".join(pieces), ENDINGS.get(result.finish, result.finish)))

    def on_free_text_progress(self, message: FreeTextProgress) -> None:
        message.stop()
        self.text = message.text
        self._show("writing… (Esc stops)")

    def on_free_text_done(self, message: FreeTextDone) -> None:  # it goes on to the screen, for its status line
        self.cancel, self.text = None, message.text
        self._show(message.ending)

    def stop(self) -> None:
        """Esc: stop the writing, or hide what was written."""
        if self.cancel is None:
            self.remove_class("shown")
            return
        self.cancel.set()
        waiting = " (llama.cpp finishes reading the prompt first)" if not self.text else ""
        self._show(f"stopping…{waiting}")

    def _show(self, state: str) -> None:
        self.query_one("#free-text", ScriptText).set_text(
            f"Free text (greedy continuation of the exact prompt) · {state}\n\n{self.text}")
