"""The row schema of a run's CSV (and of exports): one row per answer, and how the CSV is written."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import pandas as pd

from .errors import ProbeError
from .instruments import get_instrument
from .session import Answer
from .variants import variant_columns

VARIANT_COLUMNS = ["variant", "order", "anchors", "frame"]  # core/variants.py: how the item was asked ("" = standard)
COLUMNS = ["instrument", "item_id", "language", "persona", "model", "method", "prompt", "probs", "valid_mass", "expected", "answer",
           "entropy", "cached", "answered_by", "unanswered", "top_tokens"] + VARIANT_COLUMNS  # unanswered: why the row carries no answer (its figures are empty)
# answered_by: which of the endpoints serving the model answered (a sharded run); "" for a local model or a single endpoint
COUNTRY_COLUMNS = ["country", "condition"]  # a country sweep: the target country, and how its language was chosen


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
        "answered_by": d.endpoint,
        "unanswered": d.unanswered,
        "top_tokens": json.dumps([list(t) for t in d.top_tokens], ensure_ascii=False),  # sampled methods: the raw answers
        **variant_columns(answer.condition.variant),
    }
    return row | get_instrument(answer.condition.instrument).row_fields(answer)  # e.g. a pair's countries and log-odds


def run_columns(instrument, by_country: bool) -> list[str]:
    """The columns of a run's CSV, in order."""
    columns = COLUMNS + (COUNTRY_COLUMNS if by_country else []) + instrument.row_columns
    return list(dict.fromkeys(columns))  # a pair's own "order" (its option order) is the order column


def write_csv(frame: pd.DataFrame, output: Path) -> None:
    """The whole CSV or none of it: written beside the output, then swapped in. If it cannot be
    written (say the disk is full), the answers stay in the journal for --resume."""
    write_whole(output, lambda partial: frame.to_csv(partial, index=False),
                f"the {len(frame)} answer(s) are kept: run the same command with --resume once it can be written")


def write_whole(output: Path, write, kept: str) -> None:
    """write(partial) writes the file beside `output`, which it then replaces; on failure nothing is
    left half-written and the one-line error ends with `kept` (where the answers still are)."""
    partial = Path(f"{output}.partial")
    try:
        partial.unlink(missing_ok=True)  # never write through a link or FIFO left there
        write(partial)
        os.replace(partial, output)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise ProbeError(f"could not write {output}: {exc.strerror or exc}; {kept}") from exc
