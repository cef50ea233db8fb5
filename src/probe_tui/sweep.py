"""Headless sweep: every item of an instrument under one condition, one CSV row per item."""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .core.items import get_instrument
from .core.metrics import CN, US
from .core.personas import get_persona
from .core.report import gauge_summary
from .core.session import Answer, Condition, ProbeSession, ask

COLUMNS = ["instrument", "item_id", "language", "persona", "model", "method", "prompt", "probs", "valid_mass", "expected", "answer", "entropy"]


def answer_row(answer: Answer) -> dict:
    d = answer.distribution
    return {
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


def run_sweep(args, backend) -> int:
    instrument = get_instrument(args.instrument)
    instrument.check_language(args.lang)
    persona = get_persona(args.persona)
    items = instrument.items[: args.limit] if args.limit else instrument.items
    session = ProbeSession(instrument, vsm_constant=getattr(args, "vsm_constant", 0.0))
    console = Console(stderr=True)
    rows = []
    interrupted = False
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console) as progress:
            loading = progress.add_task(f"loading {backend.display_name}", total=100)
            info = backend.start(on_progress=lambda p: progress.update(loading, completed=100 * p))
            progress.update(loading, completed=100)
            condition = Condition(model=info.identity, instrument=instrument.key, language=args.lang, persona=persona.key)
            asking = progress.add_task(f"{instrument.key} {args.lang} persona={persona.key}", total=len(items))
            workers = max(1, min(getattr(args, "concurrency", 1), backend.max_concurrency))
            with ThreadPoolExecutor(max_workers=workers) as pool:
                answers = pool.map(lambda item: ask(backend, instrument, item, condition, persona), items)
                for answer in answers:  # in item order, whatever order they finish in
                    session.record(answer)
                    rows.append(answer_row(answer))
                    progress.advance(asking)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        backend.close()
    pd.DataFrame(rows, columns=COLUMNS).to_csv(args.output, index=False)
    human = {c: session.human(c) for c in (US, CN)}
    if rows and session.baseline is not None:
        print(gauge_summary(session.gauge(condition), human))
    print(f"wrote {len(rows)} row(s) to {args.output}", file=sys.stderr)
    if interrupted:
        print(f"probe-tui: interrupted after {len(rows)} of {len(items)} items; those rows were kept", file=sys.stderr)
        return 130
    return 0
