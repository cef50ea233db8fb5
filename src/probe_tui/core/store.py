"""Sessions: every answer stored as it arrives, in SQLite (WAL) under the platformdirs data
directory, with its full condition and provenance. A session can be reopened where it stopped
(`probe-tui --session NAME`) and exported (`probe-tui export`)."""

from __future__ import annotations

import json
import math
import sqlite3
import threading
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from . import paths
from .cache import model_identity
from .errors import ProbeError
from .personas import canonical_key
from .prompts import Prompt
from .scoring import Distribution, no_figures, no_information

# session (and with it pandas) is imported when an answer is rebuilt: the app paints first

ANSWER_FIELDS = ("instrument", "item_id", "model", "language", "persona", "options_reversed", "prompt_style", "prompt",
                 "labels", "anchors", "messages", "probs", "valid_mass", "expected", "answer", "entropy", "method",
                 "top_tokens", "floored", "samples", "unparsed", "cached", "provenance", "created", "unanswered",
                 "variant")


def store_file() -> Path:
    directory = paths.user_data_dir()
    directory.mkdir(parents=True, exist_ok=True)
    return directory / "sessions.sqlite"


def new_session_name(store: "SessionStore | None" = None) -> str:
    """Date and time, e.g. 2026-11-26-024513; -2, -3... when that name is taken."""
    base = datetime.now().strftime("%Y-%m-%d-%H%M%S")
    name, number = base, 1
    while store is not None and store.exists(name):
        number += 1
        name = f"{base}-{number}"
    return name


class SessionStore:
    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path else store_file()
        self._lock = threading.Lock()
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("CREATE TABLE IF NOT EXISTS sessions (name TEXT PRIMARY KEY, created TEXT, updated TEXT, state TEXT)")
            self.db.execute(f"CREATE TABLE IF NOT EXISTS answers (id INTEGER PRIMARY KEY AUTOINCREMENT, session TEXT NOT NULL, "
                            f"{', '.join(ANSWER_FIELDS)})")
            self.db.execute("CREATE INDEX IF NOT EXISTS answers_by_session ON answers (session)")
            have = {row[1] for row in self.db.execute("PRAGMA table_info(answers)")}
            for missing in [f for f in ANSWER_FIELDS if f not in have]:  # a store written by an earlier version
                self.db.execute(f"ALTER TABLE answers ADD COLUMN {missing} DEFAULT ''")
        except sqlite3.DatabaseError as exc:
            raise ProbeError(f"the session store {self.path} cannot be opened: {exc}; to start a new store, move that file "
                             "away (its sessions stay in the moved file)") from None

    # --- sessions ------------------------------------------------------------------------------
    def open(self, name: str) -> dict:
        """Create the session if it is new; return its saved state ({} for a new one)."""
        now = _now()
        with self._lock:
            self.db.execute("INSERT OR IGNORE INTO sessions VALUES (?, ?, ?, ?)", (name, now, now, "{}"))
            (state,) = self.db.execute("SELECT state FROM sessions WHERE name = ?", (name,)).fetchone()
        return json.loads(state)

    def save_state(self, name: str, state: dict) -> None:
        with self._lock:
            self.db.execute("UPDATE sessions SET state = ?, updated = ? WHERE name = ?", (json.dumps(state), _now(), name))

    def sessions(self) -> list[dict]:
        """Every session, newest first, with its answer count."""
        with self._lock:
            rows = self.db.execute(
                "SELECT s.name, s.created, s.updated, COUNT(a.id) FROM sessions s LEFT JOIN answers a ON a.session = s.name "
                "GROUP BY s.name ORDER BY s.updated DESC").fetchall()
        return [{"name": n, "created": c, "updated": u, "answers": k} for n, c, u, k in rows]

    def exists(self, name: str) -> bool:
        with self._lock:
            return self.db.execute("SELECT 1 FROM sessions WHERE name = ?", (name,)).fetchone() is not None

    # --- answers ---------------------------------------------------------------------------------
    def add(self, name: str, answer, provenance: dict) -> None:
        self.add_record(name, answer_record(answer, provenance))

    def add_record(self, name: str, record: dict) -> None:
        """An answer as answer_record() encodes it (a study's journal keeps them so)."""
        with self._lock:
            self.db.execute(f"INSERT INTO answers (session, {', '.join(ANSWER_FIELDS)}) VALUES (?{', ?' * len(ANSWER_FIELDS)})",
                            (name, *(record.get(field, "") for field in ANSWER_FIELDS)))  # a field newer than the record: ''

    def count(self, name: str) -> int:
        with self._lock:
            return self.db.execute("SELECT COUNT(*) FROM answers WHERE session = ?", (name,)).fetchone()[0]

    def rows(self, name: str) -> list[dict]:
        """The session's answers as stored, oldest first."""
        with self._lock:
            cursor = self.db.execute(f"SELECT {', '.join(ANSWER_FIELDS)} FROM answers WHERE session = ? ORDER BY id", (name,))
            return [dict(zip(ANSWER_FIELDS, row)) for row in cursor.fetchall()]

    def model_path(self, name: str, model: str) -> str | None:
        """Where this machine keeps the model file that the session's answers name `model` (from
        their provenance), to reopen on it; None when none says."""
        paths_seen = [path for identity, path in map(_model_of, self.rows(name)) if identity == model and path]
        return paths_seen[-1] if paths_seen else None

    def answers(self, name: str, instrument) -> list:
        """The session's answers to one instrument, rebuilt (an item no longer in the bank is skipped)."""
        rebuilt = []
        for row in self.rows(name):
            if row["instrument"] != instrument.key:
                continue
            item = instrument.find_item(row["item_id"])
            if item is not None:
                rebuilt.append(answer_from_row(row, item))
        return rebuilt


def answer_record(answer, provenance: dict) -> dict:
    """An answer as the store keeps it: one value per ANSWER_FIELDS, JSON where it is structured."""
    d, p, c = answer.distribution, answer.prompt, answer.condition
    values = (c.instrument, answer.item.id, c.model, c.language, c.persona, int(answer.options_reversed), p.style, p.text,
              json.dumps(list(p.labels)), json.dumps(list(p.anchors), ensure_ascii=False),
              json.dumps(list(p.messages), ensure_ascii=False), json.dumps(d.probs), d.valid_mass, d.expected, d.answer,
              d.entropy_bits, d.method, json.dumps([list(t) for t in d.top_tokens], ensure_ascii=False),
              json.dumps(list(d.floored)), d.samples, d.unparsed, int(d.cached), json.dumps(provenance, sort_keys=True), _now(),
              d.unanswered, c.variant)
    return dict(zip(ANSWER_FIELDS, values))


def answer_from_row(row: dict, item):
    from .session import Answer, Condition

    labels = tuple(json.loads(row["labels"]))
    prompt = Prompt(text=row["prompt"], labels=labels, style=row["prompt_style"],
                    messages=tuple(json.loads(row["messages"])), language=row["language"], anchors=tuple(json.loads(row["anchors"])))
    distribution = Distribution(
        labels=labels, probs=json.loads(row["probs"]), valid_mass=row["valid_mass"], expected=row["expected"], answer=row["answer"],
        entropy_bits=row["entropy"], method=row["method"], top_tokens=tuple(tuple(t) for t in json.loads(row["top_tokens"])),
        floored=tuple(json.loads(row["floored"])), samples=row["samples"], unparsed=row["unparsed"], cached=bool(row["cached"]),
        unanswered=row["unanswered"] or "")
    reason = no_information(distribution, labels)  # also an all-floored answer stored by an earlier version
    if reason:  # SQLite keeps NaN as NULL: the figures are NaN again
        mass = 0.0 if distribution.valid_mass == 0 else math.nan  # 0: no mass on the options at all
        distribution = replace(distribution, **no_figures(labels, valid_mass=mass), unanswered=reason)
    condition = Condition(_model_of(row)[0], row["instrument"], row["language"], canonical_key(row["persona"]),  # older rows: country:china
                          row.get("variant") or "")
    return Answer(condition, item, prompt, distribution, bool(row["options_reversed"]))


def _model_of(row: dict) -> tuple[str, str]:
    """The row's portable model identity, and the model file's path where its provenance has one.
    An earlier version stored the path itself as the model: it becomes file name and SHA-256."""
    source = json.loads(row["provenance"] or "{}")
    model, path = row["model"], source.get("model_path", "")
    digest = source.get("model", "")
    if digest.startswith("sha256:") and "@sha256:" not in model:
        model, path = model_identity(Path(model).name, digest.removeprefix("sha256:")), path or model
    return model, path


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
