"""Headless sweep: every item of an instrument under one condition, one CSV row per item; or, with
--countries, every item for each target country under its own condition (seed 001). A thin CLI layer
over the job runner: the progress bar, the messages and the exit codes."""

from __future__ import annotations

import hashlib
import json
import sys

import pandas as pd
from rich.console import Console

from .core import calibration, runner
from .core.calibration import parse_methods
from .core.conditions import country_jobs, single_condition_jobs, target_countries
from .core.errors import ProbeError
from .core.instruments import get_instrument
from .core.instruments.vsm import parse_constants
from .core.journal import RunJournal, journal_path
from .core.metrics import CN, US
from .core.personas import get_persona
from .core.report import gauge_summary, lean_line, nearest_line
from .core.rows import answer_row, run_columns, write_csv
from .core.runner import Job
from .core.session import Condition, ProbeSession
from .core.text import printable
from .core.variants import parse_factors, parse_variant, variants_for
from .progress import progress_bars


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
    variants = run_variants(instrument, args)
    if getattr(args, "subgroups", None):
        if len(variants) > 1:
            raise ProbeError("--variants applies to a run under one condition, not to --subgroups")
        return _subgroup_jobs(instrument, args, backend)
    if not getattr(args, "countries", None):
        instrument.check_language(args.lang)
        persona = get_persona(args.persona)
        return single_condition_jobs(instrument, select_items(instrument, args), backend.identity, args.lang, persona, variants)
    if len(variants) > 1:
        raise ProbeError("--variants applies to a run under one condition, not to --countries")
    if instrument.screen != "items":
        raise ProbeError(f"--countries applies to survey instruments, not to {instrument.key}")
    if args.lang != "en" or args.persona != "none":
        raise ProbeError("--countries sets each country's language (--condition) and its national persona; drop --lang and --persona")
    items = select_items(instrument, args)
    return country_jobs(instrument, items, backend.identity, target_countries(instrument, args.countries), args.condition)


def _frame_key(job: Job, method: str) -> tuple:
    """Items that share a question and a scale share their reference prompts (they hold no item text)."""
    item, language = job.item, job.condition.language
    return (method, job.condition, item.question.get(language, ""), item.scale.labels, item.scale.anchors_in(language))


def reference_jobs(jobs: list[Job], methods) -> dict[tuple, Job]:
    """One job per calibration reference prompt the run's items need."""
    wanted = {}
    for job in jobs:
        for method in methods:
            key = _frame_key(job, method)
            if key not in wanted:
                wanted[key] = Job(f"{method}|{job.key}", job.item, job.condition, job.persona, statement=calibration.STATEMENTS[method])
    return wanted


def calibrated_cells(row: dict, jobs: list[Job], references: dict, methods) -> dict:
    """A row's calibrated views, beside its raw cells (which stay as they are)."""
    job = next(j for j in jobs if j.item.id == row["item_id"] and j.condition.variant == (row.get("variant") or ""))
    cells = {}
    for method in methods:
        cells |= calibration.row_columns(row["probs"], references[_frame_key(job, method)], job.item.scale.labels, method)
    return cells


def calibration_summary(frame: pd.DataFrame, methods) -> str:
    """The calibrated views beside the raw answers: mean E[x] and how often the argmax stays the same."""
    answered = frame[frame["unanswered"].astype(object).fillna("").astype(str) == ""]
    lines = [f"Calibrated views (beside the raw answers, which are written unchanged): raw mean E[x] {answered['expected'].mean():.2f}"]
    for method in methods:
        probs, expected, answer, _ = calibration.columns(method)
        values = pd.to_numeric(answered[expected], errors="coerce")
        same = (answered[answer].astype(str) == answered["answer"].astype(str)).mean()
        lines.append(f"  {method}: mean E[x] {values.mean():.2f}; argmax as raw in {same:.0%} of {len(answered)} answer(s)")
    return "\n".join(lines)


def variants_summary(instrument, frame: pd.DataFrame, variants) -> str:
    """After a run with --variants: the sensitivity, then the gauge over every variant (each item's
    mean over its variants; the lean's interval resamples items and their variants)."""
    from .core.sensitivity import summary

    answered = frame[frame["unanswered"].astype(object).fillna("").astype(str) == ""]
    lines = ["", summary(answered, instrument, list(dict.fromkeys(variants)))]
    engine, _ = instrument.engine(answered, "the run")
    for track in engine.tracks:
        reading = engine.reading(track)
        if reading is not None:
            lines.append(f"Over all variants (each item's mean over them): {lean_line(reading)}")
            if not (reading.scale_free and len(reading.model_means) < 3):
                nearest = engine.ranking(track)["country"].head(5).tolist()
                lines.append(f"Over all variants: {nearest_line(nearest, engine.nearest_interval(track)[1])}")
    return "\n".join(lines)


def run_variants(instrument, args) -> list[str]:
    """The prompt variants --variants asks for (the standard asking alone without it)."""
    if not getattr(args, "variants", None):
        return [""]
    if instrument.screen != "items":
        raise ProbeError(f"--variants applies to survey instruments; {instrument.key} balances its option orders itself")
    variants = variants_for(parse_factors(args.variants))
    missing = [language for language in [args.lang] if any(f"instruction_{v.frame}" not in instrument.frames.get(language, {})
                                                          for v in map(parse_variant, variants) if v.frame != 1)]
    if missing:
        raise ProbeError(f"--variants frames: the {missing[0]} prompt frame has no instruction_2 and instruction_3 wordings")
    return variants


def _subgroup_jobs(instrument, args, backend) -> list[Job]:
    """seed 003: every item the baseline has, under the persona of each of its groups."""
    from .core.conditions import subgroup_items, subgroup_jobs, subgroup_personas
    from .core.groups import load_group_baselines

    if getattr(args, "countries", None) or args.persona != "none":
        raise ProbeError("--subgroups sets each group's persona; drop --persona and --countries")
    if instrument.screen != "items":
        raise ProbeError(f"--subgroups applies to survey instruments, not to {instrument.key}")
    groups = load_group_baselines()
    personas = subgroup_personas(instrument, groups, args.subgroups)
    items = subgroup_items(instrument, select_items(instrument, args), groups, args.subgroups)
    if not items:
        raise ProbeError(f"group baseline {args.subgroups!r} has figures for none of the items chosen")
    return subgroup_jobs(instrument, items, backend.identity, args.lang, personas)


def subgroup_summary(instrument, frame: pd.DataFrame) -> str:
    """seed 003's comparison of a subgroup sweep: its conditions against their groups, and the fairness."""
    from .core.groups import load_group_baselines

    scored = frame[frame["unanswered"].astype(object).fillna("") == ""] if "unanswered" in frame else frame
    if scored.empty:
        return "no answers to compare"
    scores = instrument.score_responses(scored.assign(response=scored["expected"]), n_resamples=0, groups=load_group_baselines())
    return "\n".join(line for line in instrument.summary(scores).splitlines() if "vs group" in line or "subgroups:" in line)


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
    by_subgroup = bool(getattr(args, "subgroups", None))
    jobs = sweep_jobs(instrument, args, backend)
    methods = parse_methods(getattr(args, "calibrate", None))
    if methods and (by_country or by_subgroup or instrument.screen != "items"):
        raise ProbeError("--calibrate applies to a survey instrument's run under one condition")
    references: dict = {}
    is_pairs = instrument.screen == "pairs"
    score_by = getattr(args, "score_by", "expected")
    constants = parse_constants(getattr(args, "vsm_constant", None))
    session = ProbeSession(instrument, vsm_constant=constants or 0.0, score_by=score_by)
    first = jobs[0].condition if jobs else Condition(backend.identity, instrument.key, args.lang, args.persona)
    signature = {"model": backend.identity, "instrument": instrument.key, "language": first.language, "persona": first.persona,
                 "items": hashlib.sha1("|".join(job.key for job in jobs).encode()).hexdigest(),
                 "params": getattr(backend, "cache_params", {}),  # backend kind, mode, samples...: a resume never mixes them
                 **({"condition": args.condition} if by_country else {}), **({"subgroups": args.subgroups} if by_subgroup else {})}
    journal = RunJournal(journal_path(args.output), signature, resume=getattr(args, "resume", False), output=args.output,
                         force=getattr(args, "force", False))
    done = journal.done()
    todo = [(position, job) for position, job in enumerate(jobs) if job.key not in done]
    console = Console(stderr=True)
    interrupted, failure, unexpected = False, None, None
    label = (f"{instrument.key} {len({job.country for job in jobs})} countries, {args.condition}" if by_country
             else f"{instrument.key} {first.language} {len({job.persona.key for job in jobs})} subgroups of {args.subgroups}" if by_subgroup
             else f"{instrument.key} {first.language} persona={first.persona}")
    try:
        with progress_bars(console) as progress:
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
            if methods:
                wanted = reference_jobs(jobs, methods)
                calibrating = progress.add_task(f"calibration references ({', '.join(methods)})", total=len(wanted))
                answers = runner.run_jobs(list(wanted.values()), backend, instrument, on_progress=lambda step: step.answered and progress.advance(calibrating),
                                          concurrency=getattr(args, "concurrency", 1))
                references = {key: answer.distribution for key, answer in zip(wanted, answers)}
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
        print(f"probe-tui: error: {printable(failure)}" if failure else "probe-tui: interrupted before the first answer; nothing was written",
              file=sys.stderr)
        return 130 if interrupted else 2
    answered = [row for row in rows if not row.get("unanswered")]
    if methods and references:
        rows = [row | calibrated_cells(row, jobs, references, methods) for row in rows]
    frame = pd.DataFrame(rows, columns=run_columns(instrument, by_country) + [c for m in methods if references for c in calibration.columns(m)])
    try:
        write_csv(frame, args.output)
    finally:
        journal.close()  # only now may another run take this output
    if by_country and rows:
        if instrument.countries_view:  # its country alignment (VSM 2013: the deviation ratio)
            print(country_summary(instrument, frame, constants))
        print(f"{frame['country'].nunique()} target countries; score them with: probe-tui score --instrument {instrument.key} --responses {args.output} ...")
    elif by_subgroup and rows:
        print(subgroup_summary(instrument, frame))
        print(f"{len({job.persona.key for job in jobs})} subgroups; seed 003's comparison in full: "
              f"probe-tui score --instrument {instrument.key} --responses {args.output} --output scores.csv")
    elif session.baseline is not None:
        condition = first
        for row in answered:
            if row.get("variant"):
                continue  # the gauge is the standard asking's; the variants are summarised below
            item = instrument.find_item(row["item_id"])
            value = float(row["expected"]) if score_by == "expected" else float(item.scale.labels.index(str(row["answer"])) + 1)
            session.record_score(condition, item, value)
        human = {c: session.human(c) for c in (US, CN)}
        if rows:
            if len({job.condition.variant for job in jobs}) > 1:
                print("The standard asking (the same over all variants follows the sensitivity, below):")
            print(gauge_summary(session.gauge(condition), human, session.engine.missing_note(condition)))
            nearest = session.nearest_countries(condition, 5)
            if nearest:
                print(nearest_line(nearest, session.engine.nearest_interval(condition)[1]))
        if methods and references:
            print(calibration_summary(frame, methods))
        if answered and len({job.condition.variant for job in jobs}) > 1:
            print(variants_summary(instrument, frame, [job.condition.variant for job in jobs]))
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
            print(f"probe-tui: error: {printable(failure)}", file=sys.stderr)
        print(f"probe-tui: stopped after {len(rows)} of {len(jobs)} prompts; they are kept. "
              "Run the same command with --resume to finish.", file=sys.stderr)
        if unexpected:
            raise unexpected  # its traceback goes to the log, one line to the user
        return 130 if interrupted else 2
    return 0
