"""The probe screen's asking: its queue of items to ask, one request in flight (llama.cpp cannot stop
mid-prompt), the latest one asked for meanwhile pending, and the last failure, not asked again until
another item is shown; and the worker that asks, whose answers come back as Messages. A key is
(item, condition, reverse_options)."""

from __future__ import annotations

import logging
from dataclasses import replace

from textual import work

from ..core.calibration import STATEMENTS
from ..core.errors import ProbeError
from ..core.personas import get_persona
from ..core.session import ask
from ..messages import AnswerArrived, AnswerFailed
from ..widgets.status_line import PROMPT_STYLES, StatusLine
from ..widgets.text import printable

log = logging.getLogger(__name__)


def _same(key: tuple, item, condition) -> bool:
    """Whether a key asks this item under this condition (or one of its prompt variants)."""
    return key[0] == item and replace(key[1], variant="") == condition


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
        if self.failure is not None and not _same(self.failure[0], item, condition):
            self.failure = None  # another item is shown: coming back asks again

    def status(self, item, condition, answer) -> tuple[str, bool]:
        """The status line for the item shown, and whether it is an error."""
        if self.in_flight is not None and _same(self.in_flight, item, condition):
            return ("Asking again with the options' meanings reversed…" if self.in_flight[2] else
                    f"Asking the reference prompt of {self.in_flight[3]}…" if self.in_flight[3] else
                    f"Asking the model ({self.in_flight[1].variant.replace(';', ' · ')})…" if self.in_flight[1].variant else "Asking the model…"), False
        if self.failure is not None and _same(self.failure[0], item, condition):
            return f"✗ {self.failure[1]}", True
        if answer is not None:
            return f"Answered: {PROMPT_STYLES.get(answer.prompt.style, answer.prompt.style)}, {answer.distribution.method}.", False
        return ("Waiting for the model to finish the previous item (llama.cpp cannot stop mid-prompt)…" if self.in_flight else ""), False


class ProbeAsking:
    """The probe screen's side of the queue: it asks in a worker, one request at a time."""

    def show_status(self) -> None:
        """The status line for the item shown: what the model is doing for it, or how it was answered."""
        self.query_one(StatusLine).item_status(*self.queue.status(self.item, self.own, self.session.answer_for(self.item, self.own)))

    def request_answer(self, reverse_options: bool = False, variant: str = "", calibration: str = "") -> None:
        """Ask the item shown (under a prompt variant of its condition: core/variants.py; or its
        calibration's reference prompt: core/calibration.py)."""
        condition = replace(self.own, variant=variant)
        key = (self.item, condition, reverse_options, calibration)
        if calibration:
            done = self.session.reference_for(self.item, self.own, calibration)
        elif reverse_options:
            done = self.session.order_check_for(self.item, self.own)
        else:
            done = self.session.variant_for(self.item, self.own, variant)
        if not done and self.model_ready and self.queue.take(key):
            self.show_status()
            self.score_item(self.backend, key)

    @work(thread=True, group="score")
    def score_item(self, backend, key: tuple) -> None:
        item, condition, reverse_options, calibration = key
        statement = STATEMENTS[calibration] if calibration else None
        try:
            answer = ask(backend, self.instrument, item, condition, get_persona(condition.persona, self.personas), reverse_options,
                         statement=statement)
        except ProbeError as exc:
            log.exception("scoring failed")
            self.post_message(AnswerFailed(key, str(exc)))
            return
        self.post_message(AnswerArrived(answer, key))

    def on_answer_arrived(self, message: AnswerArrived) -> None:
        item, condition, _, calibration = message.key or (None, None, False, "")
        if calibration:  # a reference prompt: kept for the calibrated view, never an answer
            self.session.record_reference(item, condition, calibration, message.answer.distribution)
        else:
            self.session.record(message.answer)
        self._ask_next(self.queue.finish())

    def on_answer_failed(self, message: AnswerFailed) -> None:
        self.notify(printable(message.message), title="Scoring failed", severity="error", markup=False)  # the text is data
        self._ask_next(self.queue.finish(failure=message.message))

    def _ask_next(self, pending: tuple | None) -> None:
        self.show_item()
        if pending and pending[2] and pending[:2] == (self.item, self.own):
            self.request_answer(reverse_options=True)

    def ask_reference(self) -> None:
        """With a calibrated view picked, the reference prompt of the item shown (shared by the items of its question)."""
        method = getattr(self, "calibration", "")
        if method and self.session.reference_for(self.item, self.own, method) is None:
            if not (self.queue.failure and self.queue.failure[0][3] == method):
                self.request_answer(calibration=method)

    def ask_variants(self) -> None:
        """With variants on, the item shown is asked under each of them in turn, after its standard answer."""
        for variant in getattr(self, "variants", ())[1:]:
            if self.session.variant_for(self.item, self.own, variant) is None:
                if not (self.queue.failure and self.queue.failure[0][1].variant == variant):
                    self.request_answer(variant=variant)
                return
