"""Headless sweep: every item of an instrument under one condition, one CSV row per item."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import sys
from pathlib import Path
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .core.country_pairs import CountryPairs, PairItem, short
from .core.errors import ProbeError
from .core.items import get_instrument
from .core.journal import RunJournal, journal_path
from .core.metrics import CN, US
from .core.personas import get_persona
from .core.report import gauge_summary
from .core.session import Answer, Condition, ProbeSession, ask

COLUMNS = ["instrument", "item_id", "language", "persona", "model", "method", "prompt", "probs", "valid_mass", "expected", "answer", "entropy"]


PAIR_COLUMNS = ["pair", "scenario", "domain", "initiator", "polarity", "order", "option_a", "option_b", "log_odds_ab"]


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
        "probs": json.dumps(d.probs, ensure_ascii=False),
        "valid_mass": d.valid_mass,
        "expected": d.expected,
        "answer": d.answer,
        "entropy": d.entropy_bits,
    }
    item = answer.item
    if isinstance(item, PairItem):
        p_a, p_b = d.probs["A"], d.probs["B"]
        row.update({
            "pair": f"{short(item.pair[0])}-{short(item.pair[1])}", "scenario": item.scenario.id, "domain": item.scenario.domain,
            "initiator": short(item.initiator), "polarity": item.polarity, "order": item.order,
            "option_a": short(item.options[0]), "option_b": short(item.options[1]),
            "log_odds_ab": math.log(p_a / p_b) if p_a > 0 and p_b > 0 else (math.inf if p_a > 0 else -math.inf),
        })
    return row


def select_items(instrument, args) -> list:
    if isinstance(instrument, CountryPairs):
        items = instrument.prompts(instrument.parse_pairs(getattr(args, "pairs", None)), getattr(args, "scenarios", None))
        return list(itertools.islice(items, args.limit)) if args.limit else list(items)
    if getattr(args, "pairs", None) or getattr(args, "scenarios", None):
        raise ProbeError("--pairs and --scenarios apply to --instrument country-pairs only")
    return list(instrument.items[: args.limit] if args.limit else instrument.items)


def run_sweep(args, backend) -> int:
    instrument = get_instrument(args.instrument)
    instrument.check_language(args.lang)
    persona = get_persona(args.persona)
    items = select_items(instrument, args)
    is_pairs = isinstance(instrument, CountryPairs)
    score_by = getattr(args, "score_by", "expected")
    session = ProbeSession(instrument, vsm_constant=getattr(args, "vsm_constant", 0.0), score_by=score_by)
    condition = Condition(model=backend.identity, instrument=instrument.key, language=args.lang, persona=persona.key)
    signature = {"model": backend.identity, "instrument": instrument.key, "language": args.lang, "persona": persona.key,
                 "items": hashlib.sha1("|".join(item.id for item in items).encode()).hexdigest()}
    journal = RunJournal(journal_path(args.output), signature, resume=getattr(args, "resume", False))
    done = journal.done()
    todo = [(position, item) for position, item in enumerate(items) if item.id not in done]
    console = Console(stderr=True)
    interrupted, failure = False, None
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console) as progress:
            if todo:
                loading = progress.add_task(f"loading {backend.display_name}", total=100)
                backend.start(on_progress=lambda p: progress.update(loading, completed=100 * p))
                progress.update(loading, completed=100)
            asking = progress.add_task(f"{instrument.key} {args.lang} persona={persona.key}", total=len(items), completed=len(done))
            workers = max(1, min(getattr(args, "concurrency", 1), backend.max_concurrency))
            with ThreadPoolExecutor(max_workers=workers) as pool:
                answers = pool.map(lambda job: (job[0], ask(backend, instrument, job[1], condition, persona)), todo)
                for position, answer in answers:  # in item order, whatever order they finish in
                    journal.add(position, answer.item.id, answer_row(answer))  # committed before the next
                    progress.advance(asking)
    except KeyboardInterrupt:
        interrupted = True
    except ProbeError as exc:  # e.g. the API refused us: keep what was done, then say why we stopped
        failure = exc
    finally:
        backend.close()
    rows = journal.rows()
    journal.close()
    frame = pd.DataFrame(rows, columns=COLUMNS + (PAIR_COLUMNS if is_pairs else []))
    partial = Path(f"{args.output}.partial")
    frame.to_csv(partial, index=False)
    os.replace(partial, args.output)  # the CSV is never half-written
    if session.baseline is not None:
        for row in rows:
            item = instrument.find_item(row["item_id"])
            value = float(row["expected"]) if score_by == "expected" else float(item.scale.labels.index(str(row["answer"])) + 1)
            session.record_score(condition, item, value)
    human = {c: session.human(c) for c in (US, CN)}
    if rows and session.baseline is not None:
        print(gauge_summary(session.gauge(condition), human))
        print(f"Nearest countries: {', '.join(session.nearest_countries(condition, 5))}")
    elif rows and is_pairs:
        p_a = frame["probs"].map(lambda text: json.loads(text)["A"])
        print(f"{len(frame)} country-pair prompts. No human baseline here: the reference is 0 (no preference).")
        print(f"mean P(A)+P(B) before renormalising (compliance): {frame['valid_mass'].mean():.3f}")
        print(f"mean P(A) after renormalising (0.5 = no position bias): {p_a.mean():.3f}")
    print(f"wrote {len(rows)} row(s) to {args.output}", file=sys.stderr)
    if interrupted or failure or len(rows) < len(items):
        if failure:
            print(f"probe-tui: error: {failure}", file=sys.stderr)
        print(f"probe-tui: stopped after {len(rows)} of {len(items)} items; they are kept. "
              "Run the same command with --resume to finish.", file=sys.stderr)
        return 130 if interrupted else 2
    return 0
