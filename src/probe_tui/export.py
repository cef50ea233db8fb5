"""Exports of a session: one row per stored answer, with its provenance, as CSV, Parquet or JSON.

The columns are those of `probe-tui run` (so `probe-tui score` reads an export as it reads a run)
plus where each number came from: the model file's SHA-256 or the endpoint and model id, the chat
template's SHA-256, the exact prompt, the method, the scoring parameters and the package versions."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .core.errors import ProbeError
from .core.instruments import get_instrument
from .core.store import SessionStore, answer_from_row
from .core.rows import answer_row

FORMATS = {".csv", ".parquet", ".json"}


def session_frame(store: SessionStore, name: str, instrument: str | None = None) -> pd.DataFrame:
    rows, banks = [], {}
    for stored in store.rows(name):
        if instrument and stored["instrument"] != instrument:
            continue
        bank = banks.setdefault(stored["instrument"], get_instrument(stored["instrument"]))
        item = bank.find_item(stored["item_id"])
        if item is None:
            continue  # an item no longer in the bank
        answer = answer_from_row(stored, item)
        rows.append({"session": name, **export_row(stored, answer_row(answer), item)})
    return pd.DataFrame(rows)


def export_row(stored: dict, row: dict, item) -> dict:
    """An export's row: when it was answered, the run row, and where its numbers came from
    (stored: the answer as the session store keeps it, with its provenance)."""
    source = json.loads(stored["provenance"])
    model = source.get("model", "")
    return {
        "answered_at": stored["created"], **row, "item_code": item.code,
        "options_reversed": bool(stored["options_reversed"]), "prompt_style": stored["prompt_style"],
        "model_name": source.get("model_name", ""),
        "model_sha256": model.removeprefix("sha256:") if model.startswith("sha256:") else "",
        "endpoint": "" if model.startswith("sha256:") else model,
        "chat_template_sha256": source.get("chat_template_sha256") or "",
        "params": json.dumps(source.get("params", {}), sort_keys=True),
        "versions": json.dumps(source.get("versions", {}), sort_keys=True),
    }


def export_session(store: SessionStore, name: str, path: Path, instrument: str | None = None) -> int:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ProbeError(f"cannot export to {path.name}: the file name must end in .csv, .parquet or .json")
    frame = session_frame(store, name, instrument)
    if frame.empty:
        raise ProbeError(f"session {name} has no answers{' to ' + instrument if instrument else ''} to export")
    try:
        if suffix == ".csv":
            frame.to_csv(path, index=False)
        elif suffix == ".parquet":
            frame.to_parquet(path, index=False)
        else:
            frame.to_json(path, orient="records", force_ascii=False, indent=1)
    except (OSError, ImportError) as exc:
        raise ProbeError(f"cannot write {path}: {' '.join(str(exc).split())}") from None
    return len(frame)
