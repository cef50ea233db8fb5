"""The job runner, run from a screen: in a worker thread, with every answer and the end of the run
posted back to the screen as Messages (the thread writes no widget's or screen's attribute)."""

from __future__ import annotations

import logging
import threading

from textual.message import Message

from ..core.errors import ProbeError
from ..core.runner import Job, run_jobs
from ..core.session import Answer

log = logging.getLogger(__name__)


class JobAsking(Message):
    """A job was handed to the backend."""

    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job = job


class JobAnswered(Message):
    """A job's answer, in job order."""

    def __init__(self, job: Job, answer: Answer) -> None:
        super().__init__()
        self.job, self.answer = job, answer


class RunEnded(Message):
    """The run ended: every job answered, cancelled, or stopped by `error` (a one-line message)."""

    def __init__(self, backend, error: str | None = None) -> None:
        super().__init__()
        self.backend, self.error = backend, error


def run_for(screen, jobs: list[Job], backend, instrument, cancel: threading.Event, ready=None) -> None:
    """Run the jobs, posting JobAsking, JobAnswered and finally RunEnded to the screen. Call it in a
    worker thread. ready(): whether the backend may be asked yet (say, its model is loading
    elsewhere); the run waits for it, or for the cancel token."""
    error = None
    try:
        while ready is not None and not ready():
            if cancel.wait(0.2):
                break
        else:
            run_jobs(jobs, backend, instrument, cancel=cancel,
                     record=lambda _, job, answer: screen.post_message(JobAnswered(job, answer)),
                     on_progress=lambda step: None if step.answered else screen.post_message(JobAsking(step.job)))
    except ProbeError as exc:
        log.exception("scoring failed")
        error = str(exc)
    screen.post_message(RunEnded(backend, error))

