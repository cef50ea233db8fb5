"""The one job runner: every run mode (the CLI sweep, the countries and pair sweeps, the demo) asks
its jobs through it. It imports no UI and no backend: the backend is anything with start(), score(),
close(), info and max_concurrency.

Answers are handed back in job order, each to `record` before the next, whatever order they finish
in. A cancel token stops the run at the next job: the jobs in flight finish and are recorded, the
others are never asked. Ctrl-C closes the backend, which ends its requests in flight and their retry
waits at once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from .personas import Persona
from .session import Answer, Condition, ask

POLL_SECONDS = 0.1  # how often a wait for an answer looks at the cancel token


@dataclass(frozen=True)
class Job:
    key: str  # unique within the run: the journal's key
    item: object
    condition: Condition
    persona: Persona
    country: str = ""  # the target country of a country sweep
    reverse_options: bool = False  # the order check: asked with the options' meanings reversed
    statement: str | None = None  # a calibration's reference prompt: this text in place of the item's (core/calibration.py)
    draw: int = 0  # a study's repeat of this job (0 = the first asking; Prompt.draw)


@dataclass(frozen=True)
class RunProgress:
    """Where a run stands: `job` was just handed to the backend (answered False, from a worker
    thread) or just recorded (answered True, from the thread that called run_jobs)."""

    job: Job
    answered: bool
    done: int  # jobs recorded so far in this run
    total: int  # jobs in this run


def workers_for(backend, concurrency: int = 1) -> int:
    """How many requests may be in flight: what was asked for, within what the backend allows."""
    return max(1, min(concurrency, getattr(backend, "max_concurrency", 1)))


def start(backend, on_load: Callable[[float], None] | None = None):
    """Start the backend unless it is started: load its model or reach its endpoint."""
    if getattr(backend, "info", None) is None:
        backend.start(on_progress=on_load)
    return backend.info


def run_jobs(jobs: Sequence[Job], backend, instrument, *, record: Callable[[int, Job, Answer], None] | None = None,
             cancel: threading.Event | None = None, on_progress: Callable[[RunProgress], None] | None = None,
             on_load: Callable[[float], None] | None = None, concurrency: int = 1) -> list[Answer]:
    """Ask every job; return the answers recorded, in job order.

    record(index, job, answer): called in job order, in this thread, before the next answer is
    handed on (a journal commits it there). on_load(fraction): the backend's start progress, when
    it is not started yet. A ProbeError from a job ends the run: the answers before it are recorded,
    the jobs not begun are dropped, and the error is raised."""
    cancel = cancel or threading.Event()
    answers: list[Answer] = []
    if not jobs or cancel.is_set():
        return answers
    start(backend, on_load)

    def asked(job: Job) -> Answer:
        if cancel.is_set():
            raise CancelledError  # cancelled while it waited for a worker
        if on_progress:
            on_progress(RunProgress(job, False, len(answers), len(jobs)))
        return ask(backend, instrument, job.item, job.condition, job.persona, job.reverse_options, statement=job.statement, draw=job.draw)

    with ThreadPoolExecutor(max_workers=workers_for(backend, concurrency), thread_name_prefix="probe-job") as pool:
        futures = [pool.submit(asked, job) for job in jobs]  # the pool's queue bounds what is in flight
        try:
            for index, (job, future) in enumerate(zip(jobs, futures)):
                answer = _result(future, cancel, futures)
                if answer is None:
                    break  # cancelled before it began
                if record:
                    record(index, job, answer)
                answers.append(answer)
                if on_progress:
                    on_progress(RunProgress(job, True, len(answers), len(jobs)))
        except KeyboardInterrupt:
            _drop(futures)
            backend.close()  # ends the requests in flight and their retry waits now, before the pool waits for them
            raise
        except BaseException:
            _drop(futures)
            raise
    return answers


def _result(future: Future, cancel: threading.Event, futures: list[Future]) -> Answer | None:
    """The future's answer, waiting in short steps so that a cancel is seen at once; on cancel the
    jobs not begun are dropped, and this one is awaited if it is in flight."""
    while not future.done():
        if cancel.is_set():
            _drop(futures)
        wait([future], timeout=POLL_SECONDS)
    if cancel.is_set():
        _drop(futures)
    try:
        return future.result()
    except CancelledError:
        return None


def _drop(futures: list[Future]) -> None:
    for future in futures:
        future.cancel()  # a no-op for one in flight or done
