"""A sweep's journal: every answer is committed to SQLite (WAL) as it arrives, so a sweep that is
killed, crashes or is interrupted loses nothing and `--resume` picks up where it stopped."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

from . import paths
from .errors import ProbeError


def journal_path(output: Path) -> Path:
    """One journal per output file, kept in the data directory."""
    digest = hashlib.sha1(str(Path(output).resolve()).encode()).hexdigest()[:16]
    folder = paths.user_data_dir() / "runs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{Path(output).stem}-{digest}.sqlite"


class RunJournal:
    def __init__(self, path: Path, signature: dict, resume: bool):
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        self.db.execute("CREATE TABLE IF NOT EXISTS answers (position INTEGER PRIMARY KEY, item_id TEXT UNIQUE, row TEXT NOT NULL)")
        wanted = json.dumps(signature, sort_keys=True)
        found = self.db.execute("SELECT value FROM meta WHERE key = 'signature'").fetchone()
        if resume and found and found[0] != wanted:
            stored = json.loads(found[0])
            differs = ", ".join(f"{k} was {stored.get(k)!r}" for k in signature if stored.get(k) != signature[k])
            raise ProbeError(f"cannot resume: the unfinished run for this output differs ({differs}); run without --resume to start over")
        if not resume:
            self.db.execute("DELETE FROM answers")
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('signature', ?)", (wanted,))

    def done(self) -> set[str]:
        return {item_id for (item_id,) in self.db.execute("SELECT item_id FROM answers")}

    def add(self, position: int, item_id: str, row: dict) -> None:
        self.db.execute("INSERT INTO answers VALUES (?, ?, ?)", (position, item_id, json.dumps(row, ensure_ascii=False)))

    def rows(self) -> list[dict]:
        return [json.loads(row) for (row,) in self.db.execute("SELECT row FROM answers ORDER BY position")]

    def close(self) -> None:
        self.db.close()
