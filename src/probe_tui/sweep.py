"""Headless sweep: every item of an instrument under one condition, one CSV row per item; or, with
--countries, every item for each target country under its own condition (seed 001). A thin CLI layer
over the job runner: the progress bar, the messages and the exit codes."""

from __future__ import annotations

import hashlib
import json
import sys

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .core import runner
from .core.conditions import country_jobs, single_condition_jobs, target_countries
from .core.errors import ProbeError
from .core.instruments import get_instrument
from .core.instruments.vsm import parse_constants
from .core.journal import RunJournal, journal_path
from .core.metrics import CN, US
from .core.personas import get_persona
from .core.report import gauge_summary
from .core.rows import answer_row, run_columns, write_csv
from .core.runner import Job
from .core.session import Condition, ProbeSession


def country_summary(instrument, frame: pd.DataFrame, constants: dict[str, float] | None) -> str:
    """The deviation-ratio table of a country sweep (its own rows, scored by expected value)."""
    from .core.instruments.vsm import alignment_summary

    scores = instrument.alignment_rows(frame, "the run", constants)
    return alignment_summary(scores) if len(scores) else "No country has all 24 VSM items answered, so there is no deviation ratio."


def select_items(instrument, args) -> list:
    return instrument.select_items(args.limit, getattr(args, "pairs", None), getattr(args, "scenarios", None))


def sweep_jobs(instrument, args, backend) -> list[Job]:
    """The run's jobs: every item under one condition, or, with --countries, every item for each
    target country in its own language (aligned) or in en/zh, always with its national persona."""
    if not getattr(args, "countries", None):
        instrument.check_language(args.lang)
        persona = get_persona(args.persona)
        return single_condition_jobs(instrument, select_items(instrument, args), backend.identity, args.lang, persona)
    if instrument.screen != "items":
        raise ProbeError(f"--countries applies to survey instruments, not to {instrument.key}")
    if args.lang != "en" or args.persona != "none":
        raise ProbeError("--countries sets each country's language (--condition) and its national persona; drop --lang and --persona")
    items = select_items(instrument, args)
    return country_jobs(instrument, items, backend.identity, target_countries(instrument, args.countries), args.condition)


def start_label(backend) -> str:
    """What starting the backend does: reach an endpoint, or load a model file."""
    from .backends.remote import RemoteBackend

    inner = getattr(backend, "inner", backend)  # under the response cache
    if isinstance(inner, RemoteBackend):
        return f"connecting to {inner.config.base_url} (model {inner.config.model})"
    if getattr(inner, "endpoints", None):  # backends/sharded.py
        return f"connecting to {len(inner.endpoints)} endpoints (model {inner.model})"
    return f"loading {backend.display_name}"


def run_sweep(args, backend) -> int:
    instrument = get_instrument(args.instrument)
    by_country = bool(getattr(args, "countries", None))
    jobs = sweep_jobs(instrument, args, backend)
    is_pairs = instrument.screen == "pairs"
    score_by = getattr(args, "score_by", "expected")
    constants = parse_constants(getattr(args, "vsm_constant", None))
    session = ProbeSession(instrument, vsm_constant=constants or 0.0, score_by=score_by)
    first = jobs[0].condition if jobs else Condition(backend.identity, instrument.key, args.lang, args.persona)
    signature = {"model": backend.identity, "instrument": instrument.key, "language": first.language, "persona": first.persona,
                 "items": hashlib.sha1("|".join(job.key for job in jobs).encode()).hexdigest(),
                 "params": getattr(backend, "cache_params", {}),  # backend kind, mode, samples...: a resume never mixes them
                 **({"condition": args.condition} if by_country else {})}
    journal = RunJournal(journal_path(args.output), signature, resume=getattr(args, "resume", False), output=args.output,
                         force=getattr(args, "force", False))
    done = journal.done()
    todo = [(position, job) for position, job in enumerate(jobs) if job.key not in done]
    console = Console(stderr=True)
    interrupted, failure, unexpected = False, None, None
    label = (f"{instrument.key} {len({job.country for job in jobs})} countries, {args.condition}" if by_country
             else f"{instrument.key} {first.language} persona={first.persona}")
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console) as progress:
            if todo:
                loading = progress.add_task(start_label(backend), total=100)
                runner.start(backend, on_load=lambda p: progress.update(loading, completed=100 * p))
                progress.update(loading, completed=100)
            asking = progress.add_task(label, total=len(jobs), completed=len(done))

            def record(index: int, job: Job, answer) -> None:
                row = answer_row(answer) | ({"country": job.country, "condition": args.condition} if by_country else {})
                journal.add(todo[index][0], job.key, row)  # committed before the next

            def advance(step: runner.RunProgress) -> None:
                if not step.answered:
                    return
                if by_country:
                    progress.update(asking, description=f"{label}: {step.job.country} ({step.job.condition.language})")
                progress.advance(asking)

            runner.run_jobs([job for _, job in todo], backend, instrument, record=record, on_progress=advance,
                            concurrency=getattr(args, "concurrency", 1))
    except KeyboardInterrupt:
        interrupted = True
    except ProbeError as exc:  # e.g. the API refused us: keep what was done, then say why we stopped
        failure = exc
    except Exception as exc:  # a bug: what was done is written all the same, then it is reported
        unexpected = exc
    finally:
        backend.close()
    rows = journal.rows()
    if not rows and (interrupted or failure or unexpected):  # nothing to keep: leave the output as it was, and say why
        journal.close()
        if unexpected:
            raise unexpected
        print(f"probe-tui: error: {failure}" if failure else "probe-tui: interrupted before the first answer; nothing was written",
              file=sys.stderr)
        return 130 if interrupted else 2
    answered = [row for row in rows if not row.get("unanswered")]
    frame = pd.DataFrame(rows, columns=run_columns(instrument, by_country))
    try:
        write_csv(frame, args.output)
    finally:
        journal.close()  # only now may another run take this output
    if by_country and rows:
        if instrument.countries_view:  # its country alignment (VSM 2013: the deviation ratio)
            print(country_summary(instrument, frame, constants))
        print(f"{frame['country'].nunique()} target countries; score them with: probe-tui score --instrument {instrument.key} --responses {args.output} ...")
    elif session.baseline is not None:
        condition = first
        for row in answered:
            item = instrument.find_item(row["item_id"])
            value = float(row["expected"]) if score_by == "expected" else float(item.scale.labels.index(str(row["answer"])) + 1)
            session.record_score(condition, item, value)
        human = {c: session.human(c) for c in (US, CN)}
        if rows:
            print(gauge_summary(session.gauge(condition), human, session.engine.missing_note(condition)))
            nearest = session.nearest_countries(condition, 5)
            if nearest:
                print(f"Nearest countries: {', '.join(nearest)}")
    elif answered and is_pairs:
        p_a = pd.Series([json.loads(row["probs"])["A"] for row in answered])
        print(f"{len(frame)} country-pair prompts. No human baseline here: the reference is 0 (no preference).")
        print(f"mean P(A)+P(B) before renormalising (compliance): {frame['valid_mass'].mean():.3f}")
        print(f"mean P(A) after renormalising (0.5 = no position bias): {p_a.mean():.3f}")
    print(f"wrote {len(rows)} row(s) to {args.output}", file=sys.stderr)
    if len(answered) < len(rows):
        unanswered = [row for row in rows if row.get("unanswered")]
        shown = ", ".join(row["item_id"] for row in unanswered[:5]) + (", ..." if len(unanswered) > 5 else "")
        print(f"probe-tui: {len(unanswered)} of {len(rows)} item(s) unanswered, kept in the file with their method and raw answers "
              f"but not scored ({shown}): {unanswered[0]['unanswered']}", file=sys.stderr)
    if interrupted or failure or unexpected or len(rows) < len(jobs):
        if failure:
            print(f"probe-tui: error: {failure}", file=sys.stderr)
        print(f"probe-tui: stopped after {len(rows)} of {len(jobs)} prompts; they are kept. "
              "Run the same command with --resume to finish.", file=sys.stderr)
        if unexpected:
            raise unexpected  # its traceback goes to the log, one line to the user
        return 130 if interrupted else 2
    return 0
