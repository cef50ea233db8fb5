"""The probe screen's queue of items to ask: one request in flight (llama.cpp cannot stop mid-prompt),
the latest one asked for meanwhile pending, and the last failure, not asked again until another item
is shown. A key is (item, condition, reverse_options)."""

from __future__ import annotations

from ..widgets.status_line import PROMPT_STYLES


class AskQueue:
    def __init__(self):
        self.in_flight: tuple | None = None
        self.pending: tuple | None = None
        self.failure: tuple | None = None  # (key, message): the last answer that could not be obtained

    def take(self, key: tuple) -> bool:
        """Whether to ask for key now; if not, it waits its turn (or it failed just now)."""
        if self.in_flight is not None:
            if self.in_flight != key:
                self.pending = key
            return False
        if self.failure is not None and self.failure[0] == key:
            return False  # asked again when the user comes back to it
        self.in_flight = key
        return True

    def finish(self, failure: str | None = None) -> tuple | None:
        """The request in flight is over (failure: why it failed); the pending one, taken off."""
        if failure is not None:
            self.failure = (self.in_flight, failure)
        self.in_flight, pending, self.pending = None, self.pending, None
        return pending

    def showing(self, item, condition) -> None:
        if self.failure is not None and self.failure[0][:2] != (item, condition):
            self.failure = None  # another item is shown: coming back asks again

    def status(self, item, condition, answer) -> tuple[str, bool]:
        """The status line for the item shown, and whether it is an error."""
        if self.in_flight is not None and self.in_flight[:2] == (item, condition):
            return ("Asking again with the options' meanings reversed…" if self.in_flight[2] else "Asking the model…"), False
        if self.failure is not None and self.failure[0][:2] == (item, condition):
            return f"✗ {self.failure[1]}", True
        if answer is not None:
            return f"Answered: {PROMPT_STYLES.get(answer.prompt.style, answer.prompt.style)}, {answer.distribution.method}.", False
        return ("Waiting for the model to finish the previous item (llama.cpp cannot stop mid-prompt)…" if self.in_flight else ""), False
