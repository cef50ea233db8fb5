"""`probe-tui study check` and `probe-tui study run`.

The run asks each model's prompts through the one job runner. Every answer is committed to the
study's journal (core/journal.py, in the study folder) as it arrives, under a key that names the
model entry and the whole condition, so a run that is killed loses nothing and the same command
continues where it stopped, asking only what the journal lacks. Local GGUF models are asked one
after another (one model in memory at a time); remote models are asked alongside them, each in its
own thread. The response cache is the one the app and `run` use."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from rich.console import Console

from ..backends.cached import drawn_params
from ..core import runner
from ..core.errors import ProbeError
from ..core.instruments import get_instrument
from ..core.journal import RunJournal
from ..core.rows import answer_row
from ..core.session import prompt_for
from ..core.store import answer_record
from ..core.text import printable
from ..progress import progress_bars
from .backends import build_backend, concurrency_of
from .matrix import Planned, by_instrument, conditions_of, model_plan
from .results import study_frame, write_results
from .spec import ModelSpec, Study

log = logging.getLogger(__name__)
JOURNAL = "journal.sqlite"
SIGNATURE = {"journal": "probe-tui study", "version": 1}  # the keys name each answer's whole condition
TIMED_PROMPTS = 4  # `study check` asks this many prompts per model that the cache lacks, and times all but the first
CHARS_PER_TOKEN = 4  # a rough token estimate for paid APIs


def open_journal(study: Study) -> RunJournal:
    study.folder.mkdir(parents=True, exist_ok=True)
    return RunJournal(study.folder / JOURNAL, SIGNATURE, resume=True)


def _params(backend) -> dict:
    params = getattr(backend, "params", None)
    return params() if callable(params) else getattr(backend, "cache_params", {})


def plans(study: Study) -> list[tuple[ModelSpec, object, list[Planned]]]:
    """Each model entry with its backend (not started) and its prompts."""
    built = []
    for spec in study.models:
        backend = build_backend(spec)
        built.append((spec, backend, model_plan(study, spec, backend.identity, _params(backend))))
    return built


def study_keys(built) -> list[str]:
    return [planned.job.key for _, _, plan in built for planned in plan]


# --- check ----------------------------------------------------------------------------------------

def check_study(study: Study, out: Callable[[str], None] = print) -> int:
    """What the study holds and what running it takes: the matrix, the prompts, what the journal
    and the response cache already hold, the time (from timing the first prompts the cache lacks,
    one at a time, then for a remote model as many at once as the run keeps in flight) and, for
    remote models, the tokens."""
    built = plans(study)
    journal = open_journal(study)
    try:
        done = journal.done()
    finally:
        journal.close()
    factors = [f"{len(study.models)} model(s)", f"{len(study.instruments)} instrument(s)", f"{len(study.languages)} language(s)",
               f"{len(study.personas)} persona(s)", f"{len(study.orders)} order(s)"]
    repeated = f", each asked {study.repeats} times" if study.repeats > 1 else ""
    if study.countries is not None:
        factors.append(f"+ {study.countries.key} for {len(study.countries.countries)} countries × {len(study.countries.conditions)} condition(s)")
    total = sum(len(plan) for _, _, plan in built)
    out(f"{study.name}: {' × '.join(factors)} = {conditions_of(study)} conditions{repeated}, {total} prompts")
    out(f"results folder: {study.folder}")
    seconds_total, tokens_in_total = 0.0, 0
    for spec, backend, plan in built:
        todo = [p for p in plan if p.job.key not in done]
        cache = getattr(backend, "cache", None)
        try:
            runner.start(backend)
            prompts = [(p, prompt_for(backend, get_instrument(p.instrument), p.job.item, p.job.condition, p.job.persona,
                                      p.job.reverse_options, draw=p.job.draw)) for p in todo]
            if cache is not None:
                uncached = [(p, prompt) for p, prompt in prompts if cache.get(backend.key_for(prompt)) is None]
                missing = list({backend.key_for(prompt): (p, prompt) for p, prompt in uncached}.values())  # a local model's repeats: one asking
            else:
                uncached = missing = prompts
            per_prompt = _time_prompts(backend, [prompt for _, prompt in missing[:TIMED_PROMPTS]])
            workers = concurrency_of(spec, backend)
            together = [prompt for _, prompt in missing[TIMED_PROMPTS:TIMED_PROMPTS + workers]] if workers > 1 else []
            per_prompt_together = _time_together(backend, together) if len(together) > 1 else None
        finally:
            backend.close()
        left = max(0, len(missing) - TIMED_PROMPTS - (len(together) if per_prompt_together is not None else 0))
        line = (f"  {spec.label} ({spec.kind}): {len(plan)} prompts, {len(plan) - len(todo)} already answered in the study, "
                f"{len(todo) - len(uncached)} more in the response cache, {len(missing)} to ask")
        if len(uncached) > len(missing):
            line += f" ({len(uncached) - len(missing)} repeats of those read their answers)"
        if per_prompt is not None:
            timed = max(1, min(len(missing), TIMED_PROMPTS) - 1)
            if per_prompt_together is not None:  # measured as the run asks them: as many in flight as it keeps
                seconds = per_prompt_together * left
                line += (f"; about {_duration(seconds)} ({per_prompt:.2f} s per prompt alone over {timed} timed, "
                         f"{per_prompt_together:.2f} s each with {len(together)} at once)")
            else:
                seconds = per_prompt * left / workers
                line += f"; about {_duration(seconds)} ({per_prompt:.2f} s per prompt over {timed} timed"
                line += f", {workers} at once, if the server overlaps them)" if workers > 1 else ")"
            seconds_total = seconds_total + seconds if spec.local else max(seconds_total, seconds)
        out(line)
        if study.repeats > 1:
            out(f"    repeats: {_repeats_note(backend)}")
        if not spec.local:
            tokens_in, tokens_out = _token_estimate(backend, [prompt for _, prompt in missing])
            tokens_in_total += tokens_in
            out(f"    tokens (about, at {CHARS_PER_TOKEN} characters per token): {tokens_in:,} in, {tokens_out:,} out")
    out(f"estimated time: about {_duration(seconds_total)} (local models one after another, remote ones alongside)")
    return 0


def _repeats_note(backend) -> str:
    if getattr(backend, "repeatable", False):
        return "its probabilities are exact and the same on every asking, so every repeat reads the first one"
    return "asked again for each (sampled answers draw afresh; seeded ones with the next seeds)"


def _time_prompts(backend, prompts) -> float | None:
    """Seconds per prompt over the first prompts the cache lacks (their answers go into the cache,
    so the run replays them); None when there are none. The first one loads the model (or opens
    the connection) and has no prefix to reuse, so it is left out of the timing when there are more."""
    if not prompts:
        return None
    started = time.perf_counter()
    backend.score(prompts[0])
    if len(prompts) == 1:
        return time.perf_counter() - started
    started = time.perf_counter()
    for prompt in prompts[1:]:
        backend.score(prompt)
    return (time.perf_counter() - started) / (len(prompts) - 1)


def _time_together(backend, prompts) -> float:
    """Seconds per prompt with all these prompts in flight at once, as a run keeps a remote model's
    concurrency: a server that serves one request at a time shows it here (answers go into the cache)."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(prompts), thread_name_prefix="study-check") as pool:
        list(pool.map(backend.score, prompts))
    return (time.perf_counter() - started) / len(prompts)


def _token_estimate(backend, prompts) -> tuple[int, int]:
    inner = getattr(backend, "inner", backend)
    config = getattr(inner, "config", None)
    sampled = config is not None and config.mode in ("sampled", "parsed")
    requests = config.samples if sampled and config.mode == "sampled" else 1
    tokens_in = sum(len(prompt.text) for prompt in prompts) // CHARS_PER_TOKEN * requests
    tokens_out = len(prompts) * requests * (config.max_tokens if sampled else 1)
    return tokens_in, tokens_out


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


# --- run ------------------------------------------------------------------------------------------

class _Recorder:
    """Commits each answer to the journal as it arrives (from any model's thread), one at a time."""

    def __init__(self, journal: RunJournal):
        self.journal = journal
        self.lock = threading.Lock()
        (last,) = journal.db.execute("SELECT COALESCE(MAX(position), -1) FROM answers").fetchone()
        self.position = last + 1
        self.provenance: dict[str, dict] = {}

    def add(self, backend, label: str, planned: Planned, answer) -> None:
        from ..backends.provenance import provenance
        from ..export import export_row

        with self.lock:
            if label not in self.provenance:
                self.provenance[label] = provenance(backend)
            made = self.provenance[label]
            record = answer_record(answer, made | {"params": drawn_params(made["params"], backend, answer.prompt)})
            row = answer_row(answer) | planned.extras | {"key": planned.job.key}
            full = export_row(record, row, answer.item)
            self.journal.add(self.position, planned.job.key, {"key": planned.job.key, "record": record, "row": full})
            self.position += 1


def run_study(study: Study, console: Console | None = None) -> int:
    console = console or Console(stderr=True)
    journal = open_journal(study)
    try:
        return _run(study, journal, console)
    finally:
        journal.close()


def _run(study: Study, journal: RunJournal, console: Console) -> int:
    def say(line: str) -> None:  # one line, as it is: cleaned, never markup, never wrapped (a path stays whole)
        console.print(printable(line), markup=False, highlight=False, soft_wrap=True)

    built = plans(study)
    done = journal.done()
    recorder = _Recorder(journal)
    cancel = threading.Event()
    failures: dict[str, str] = {}
    total = sum(len(plan) for _, _, plan in built)
    with progress_bars(console, eta=True) as progress:
        overall = progress.add_task(f"{study.name}: all models", total=total,
                                    completed=sum(1 for _, _, plan in built for p in plan if p.job.key in done))
        tasks = {spec.label: progress.add_task(f"  {spec.label}", total=len(plan),
                                               completed=sum(1 for p in plan if p.job.key in done))
                 for spec, _, plan in built}

        def ask_model(spec: ModelSpec, backend, plan: list[Planned]) -> None:
            todo = [p for p in plan if p.job.key not in done]
            try:
                for instrument_key, part in by_instrument(todo):
                    if cancel.is_set():
                        return
                    instrument = get_instrument(instrument_key)

                    def record(index, job, answer, part=part):
                        recorder.add(backend, spec.label, part[index], answer)
                        progress.advance(tasks[spec.label])
                        progress.advance(overall)

                    progress.update(tasks[spec.label], description=f"  {spec.label}: {instrument_key}")
                    runner.run_jobs([p.job for p in part], backend, instrument, record=record, cancel=cancel,
                                    concurrency=concurrency_of(spec, backend))
                progress.update(tasks[spec.label], description=f"  {spec.label}")
            except ProbeError as exc:
                failures[spec.label] = str(exc)
            except Exception as exc:  # noqa: BLE001 - a bug in one model's run: logged, the others go on
                log.exception("study %s: model %s failed", study.name, spec.label)
                failures[spec.label] = f"unexpected error: {type(exc).__name__}: {exc} (traceback in the log)"
            finally:
                backend.close()  # a local model leaves memory before the next one loads

        def ask_in_turn(entries) -> None:
            for entry in entries:
                if not cancel.is_set():
                    ask_model(*entry)

        local = [entry for entry in built if entry[0].local]
        remote = [entry for entry in built if not entry[0].local]
        interrupted = False
        with ThreadPoolExecutor(max_workers=1 + len(remote), thread_name_prefix="study-model") as pool:
            futures = [pool.submit(ask_in_turn, local)] + [pool.submit(ask_model, *entry) for entry in remote]
            try:
                for future in futures:
                    while not future.done():
                        time.sleep(0.1)
            except KeyboardInterrupt:
                interrupted = True
                cancel.set()
                for _, backend, _ in built:
                    backend.close()  # ends requests in flight and retry waits now
    keys = study_keys(built)
    frame = study_frame(study, journal.rows(), keys)
    if not frame.empty:
        written = write_results(study, frame)
        say(f"wrote {len(frame)} of {total} answers to {written[0]}; scores in {written[1].name}, "
            f"{len(written) - 2} figure(s) in {written[0].parent / 'figures'}")
    for label, problem in failures.items():
        say(f"probe-tui: error: model {label}: {problem}")
    if len(frame) < total:
        say(f"probe-tui: {total - len(frame)} of {total} prompts are not answered yet; what was answered is kept. "
            f"Run `probe-tui study run {study.path}` again to continue.")
        return 130 if interrupted else 2
    say(f"report: probe-tui study report {study.path}")
    return 0
