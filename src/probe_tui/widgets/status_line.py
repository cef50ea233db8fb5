"""The status line of an instrument's screen: the primary model's load (a progress bar and a line;
Esc cancels it), then what the shown item is doing. It follows the app's model_status."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ProgressBar, Static

from ..backends.manager import FAILED, LOADING, READY
from ..core import paths
from ..core.prompts import CHAT, COMPLETION, MESSAGES
from .text import printable, safe_text

PROMPT_STYLES = {CHAT: "chat template", MESSAGES: "chat API", COMPLETION: "completion prompt"}


class StatusLine(Vertical):
    DEFAULT_CSS = "StatusLine { height: auto; }"

    def compose(self) -> ComposeResult:
        yield ProgressBar(id="load-progress", total=100, show_eta=False)
        yield Static("", id="status")

    def set(self, text: str, error: bool = False) -> None:
        status = self.query_one("#status", Static)
        status.update(safe_text(text))
        status.set_class(error, "error")

    def load_status(self):
        return self.app.status_of(self.app.models.primary)

    def item_status(self, text: str, error: bool = False) -> None:
        """What the shown item is doing; while the model loads, or after it failed, that is said instead."""
        status = self.load_status()
        if status is not None and status.phase == FAILED:
            self.set(f"✗ {status.error}. m picks another model, q quits; details in {paths.log_file()}", error=True)
        elif status is not None and status.phase == READY:
            self.set(text, error)

    def cancel_load(self) -> bool:
        """Cancel the primary model's load, if it is loading (a note says when it cannot be)."""
        models = self.app.models
        if not models.is_loading(models.primary):
            return False
        if models.can_cancel(models.primary):
            self.set("Cancelling the load…")
        self.app.cancel_load()
        return True

    def show_load(self) -> None:
        """The primary model's load: its progress, then ready, or why it failed (with a notification)."""
        status, backend = self.load_status(), self.app.models.primary
        self.query_one("#load-progress").set_class(status is None or status.phase != LOADING, "hidden")
        if status is None:
            return
        if status.phase == LOADING:
            self.query_one("#load-progress", ProgressBar).update(progress=100 * status.progress)
            done = f" {100 * status.progress:.0f}%" if status.progress else ""
            self.set(f"Loading {backend.display_name}…{done} (Esc cancels)")
        elif status.phase == READY:
            info = backend.info
            parts = (info.name, PROMPT_STYLES.get(info.prompt_style, info.prompt_style), self.app.session_label)
            self.app.sub_title = " · ".join(part for part in parts if part)
            self.set(f"Model ready: {info.name} ({info.details.get('summary', '')}).")
        else:
            self.item_status("")
            self.notify(printable(status.error), title="Model not loaded", severity="error", timeout=10, markup=False)
