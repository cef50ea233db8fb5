"""A yes/no question in a small modal: y or Enter says yes, n or Esc says no."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from .text import safe_text


class Confirm(ModalScreen[bool]):
    BINDINGS = [Binding("y,enter", "answer(True)", "Yes", id="confirm.yes"), Binding("n,escape", "answer(False)", "No", id="confirm.no")]

    def __init__(self, *lines: str):
        super().__init__()
        self.lines = lines

    def compose(self) -> ComposeResult:
        with Vertical():
            for line in self.lines:
                yield Static(safe_text(line))
            yield Static("y or Enter: yes · n or Esc: no", id="confirm-keys")

    def action_answer(self, yes: bool) -> None:
        if not self.is_active:
            return  # a later key of a burst, handled after this screen closed
        self.dismiss(yes)
