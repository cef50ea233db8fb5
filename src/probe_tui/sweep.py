"""Headless sweep: every item of an instrument under one condition, one CSV row per item; or, with
--countries, every item for each target country under its own condition (seed 001)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .core.countries import canonical, primary_languages
from .core.errors import ProbeError
from .core.instruments import get_instrument
from .core.instruments.vsm import parse_constants
from .core.journal import RunJournal, journal_path
from .core.metrics import CN, US
from .core.personas import Persona, get_persona, national_persona
from .core.report import gauge_summary
from .core.session import Answer, Condition, ProbeSession, ask

COLUMNS = ["instrument", "item_id", "language", "persona", "model", "method", "prompt", "probs", "valid_mass", "expected", "answer",
           "entropy", "cached", "unanswered", "top_tokens"]  # unanswered: why the row carries no answer (its figures are empty)


def answer_row(answer: Answer) -> dict:
    d = answer.distribution
    row = {
        "instrument": answer.condition.instrument,
        "item_id": answer.item.id,
        "language": answer.condition.language,
        "persona": answer.condition.persona,
        "model": answer.condition.model,
        "method": d.method,
        "prompt": answer.prompt.text,
        "probs": "" if d.unanswered else json.dumps(d.probs, ensure_ascii=False),
        "valid_mass": d.valid_mass,
        "expected": d.expected,
        "answer": d.answer,
        "entropy": d.entropy_bits,
        "cached": d.cached,
        "unanswered": d.unanswered,
        "top_tokens": json.dumps([list(t) for t in d.top_tokens], ensure_ascii=False),  # sampled methods: the raw answers
    }
    return row | get_instrument(answer.condition.instrument).row_fields(answer)


def country_summary(instrument, frame: pd.DataFrame, constants: dict[str, float] | None) -> str:
    """The deviation-ratio table of a country sweep (its own rows, scored by expected value)."""
    from .core.instruments.vsm import alignment_summary

    scores = instrument.alignment_rows(frame, "the run", constants)
    return alignment_summary(scores) if len(scores) else "No country has all 24 VSM items answered, so there is no deviation ratio."


def select_items(instrument, args) -> list:
    return instrument.select_items(args.limit, getattr(args, "pairs", None), getattr(args, "scenarios", None))


@dataclass(frozen=True)
class Job:
    key: str  # unique within the run: the journal's key
    item: object
    condition: Condition
    persona: Persona
    country: str = ""  # the target country of a country sweep


def single_condition_jobs(instrument, args, backend) -> list[Job]:
    instrument.check_language(args.lang)
    persona = get_persona(args.persona)
    condition = Condition(model=backend.identity, instrument=instrument.key, language=args.lang, persona=persona.key)
    return [Job(item.id, item, condition, persona) for item in select_items(instrument, args)]


def country_jobs(instrument, args, backend) -> list[Job]:
    """Every item for each target country, in its own language (aligned) or in en/zh, always with
    its national persona."""
    if instrument.screen != "items":
        raise ProbeError(f"--countries applies to survey instruments, not to {instrument.key}")
    if args.lang != "en" or args.persona != "none":
        raise ProbeError("--countries sets each country's language (--condition) and its national persona; drop --lang and --persona")
    items = select_items(instrument, args)
    jobs = []
    for country in target_countries(instrument, args.countries):
        language = primary_languages()[country] if args.condition == "aligned" else args.condition
        instrument.check_language(language)
        persona = national_persona(country)
        condition = Condition(model=backend.identity, instrument=instrument.key, language=language, persona=persona.key)
        jobs += [Job(f"{country}|{item.id}", item, condition, persona, country) for item in items]
    return jobs


def target_countries(instrument, spec: str) -> list[str]:
    """"all": every country with a primary language the instrument speaks and a full baseline row;
    else a comma-separated list of names, aliases or slugs."""
    languages = primary_languages()
    if spec.strip().lower() != "all":
        chosen = [canonical(name) for name in spec.split(",") if name.strip()]
        lacking = [c for c in chosen if c not in languages]
        if lacking:
            raise ProbeError(f"no primary language is known for {', '.join(lacking)}; countries with one: {', '.join(languages)}")
        return chosen
    table = instrument.baseline().table if instrument.baseline() is not None else None
    return [c for c, lang in languages.items() if lang in instrument.languages
            and (table is None or (c in table.index and table.loc[c].notna().all()))]


def start_label(backend) -> str:
    """What starting the backend does: reach an endpoint, or load a model file."""
    from .backends.remote import RemoteBackend

    inner = getattr(backend, "inner", backend)  # under the response cache
    if isinstance(inner, RemoteBackend):
        return f"connecting to {inner.config.base_url} (model {inner.config.model})"
    return f"loading {backend.display_name}"


def write_csv(frame: pd.DataFrame, output: Path) -> None:
    """The whole CSV or none of it: written beside the output, then swapped in. If it cannot be
    written (say the disk is full), the answers stay in the journal for --resume."""
    partial = Path(f"{output}.partial")
    try:
        partial.unlink(missing_ok=True)  # never write through a link or FIFO left there
        frame.to_csv(partial, index=False)
        os.replace(partial, output)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise ProbeError(f"could not write {output}: {exc.strerror or exc}; the {len(frame)} answer(s) are kept: "
                         "run the same command with --resume once it can be written") from exc


def run_sweep(args, backend) -> int:
    instrument = get_instrument(args.instrument)
    by_country = bool(getattr(args, "countries", None))
    jobs = country_jobs(instrument, args, backend) if by_country else single_condition_jobs(instrument, args, backend)
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
                backend.start(on_progress=lambda p: progress.update(loading, completed=100 * p))
                progress.update(loading, completed=100)
            asking = progress.add_task(label, total=len(jobs), completed=len(done))
            workers = max(1, min(getattr(args, "concurrency", 1), backend.max_concurrency))
            with ThreadPoolExecutor(max_workers=workers) as pool:
                try:
                    answers = pool.map(lambda job: (job[0], job[1], ask(backend, instrument, job[1].item, job[1].condition, job[1].persona)), todo)
                    for position, job, answer in answers:  # in job order, whatever order they finish in
                        row = answer_row(answer) | ({"country": job.country, "condition": args.condition} if by_country else {})
                        journal.add(position, job.key, row)  # committed before the next
                        if by_country:
                            progress.update(asking, description=f"{label}: {job.country} ({job.condition.language})")
                        progress.advance(asking)
                except KeyboardInterrupt:
                    backend.close()  # ends the requests in flight and their retry waits now, before the pool waits for them
                    raise
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
    columns = COLUMNS + (["country", "condition"] if by_country else []) + instrument.row_columns
    frame = pd.DataFrame(rows, columns=columns)
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
