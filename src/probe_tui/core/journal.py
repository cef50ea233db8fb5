"""A sweep's journal: every answer is committed to SQLite (WAL) as it arrives, so a sweep that is
killed, crashes or is interrupted loses nothing and `--resume` picks up where it stopped."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sqlite3
import stat
from pathlib import Path

from . import paths
from .errors import ProbeError


def journal_path(output: Path) -> Path:
    """One journal per output file, kept in the data directory."""
    digest = hashlib.sha1(str(Path(output).resolve()).encode()).hexdigest()[:16]
    folder = paths.user_data_dir() / "runs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{Path(output).stem}-{digest}.sqlite"


def check_output(output: Path) -> None:
    """Only a regular file, or a new path, may be an output: never a device, FIFO, folder or link
    (the CSV is swapped in, so a link such as /dev/stdout would itself be replaced)."""
    if os.path.lexists(output) and not stat.S_ISREG(os.lstat(output).st_mode):
        raise ProbeError(f"--output {output} is not a regular file; choose a file name")


class RunJournal:
    def __init__(self, path: Path, signature: dict, resume: bool, output: Path | None = None, force: bool = False):
        """Opened under a lock per journal, held until close(): a second run on the same output is
        refused before it touches anything. The OS drops the lock when its process dies.

        The results of another run (the output file, or answers journaled for it) are replaced only
        with force, and only when this run's first answer is committed: a run that fails before it
        (a model that does not load, a dead endpoint) leaves them, and their journal, as they were."""
        if output is not None:
            check_output(output)
        self.path = path
        self.lock = _lock(path.with_suffix(".lock"), output or path, "choose another --output" if output is not None else "")
        try:
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            self.db.execute("CREATE TABLE IF NOT EXISTS answers (position INTEGER PRIMARY KEY, item_id TEXT UNIQUE, row TEXT NOT NULL)")
            found = self.db.execute("SELECT value FROM meta WHERE key = 'signature'").fetchone()
            kept = (output is not None and Path(output).exists()) or self.db.execute("SELECT 1 FROM answers").fetchone()
        except sqlite3.DatabaseError as exc:
            self.lock.close()
            raise ProbeError(f"the run journal {path} is unreadable ({exc}); to start this run over, delete it "
                             f"(what {output or 'the run'} already holds stays as it is)") from None
        self.signature = json.dumps(signature, sort_keys=True)
        if kept and (found is None or found[0] != self.signature) and (resume or not force):
            self.close()
            raise ProbeError(_refusal(output or path, json.loads(found[0]) if found else None, signature, resume))
        self.replacing = not (resume and found and found[0] == self.signature)  # what is journaled is not this run's

    def done(self) -> set[str]:
        return set() if self.replacing else {item_id for (item_id,) in self.db.execute("SELECT item_id FROM answers")}

    def add(self, position: int, item_id: str, row: dict) -> None:
        entry = (position, item_id, json.dumps(row, ensure_ascii=False))
        if not self.replacing:
            self.db.execute("INSERT INTO answers VALUES (?, ?, ?)", entry)
            return
        with self.db:  # the first answer replaces the old run's in one transaction (rolled back on an error)
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("DELETE FROM answers")
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('signature', ?)", (self.signature,))
            self.db.execute("INSERT INTO answers VALUES (?, ?, ?)", entry)
        self.replacing = False

    def rows(self) -> list[dict]:
        return [] if self.replacing else [json.loads(row) for (row,) in self.db.execute("SELECT row FROM answers ORDER BY position")]

    def close(self) -> None:
        self.db.close()
        self.lock.close()


def _refusal(output: Path, stored: dict | None, signature: dict, resume: bool) -> str:
    """Why this run may not take an output that holds another run's results, and what to do."""
    if stored is None:
        what = f"{output} exists and was not written by probe-tui run"
    else:
        differs = ", ".join(f"{key} was {stored.get(key)!r}" for key in signature if stored.get(key) != signature[key])
        what = f"{output} holds the results of a different run ({differs})"
    if resume:
        return f"cannot resume: {what}; to start over, use --force instead of --resume, or choose another --output"
    return f"{what}; add --force to replace it, or choose another --output"


def _lock(path: Path, output: Path, other_choice: str):
    """An exclusive lock on `path`, which holds the owner's pid; ProbeError naming the owner if it is taken."""
    handle = open(path, "a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip()
        handle.close()
        raise ProbeError(f"another run{f' (pid {owner})' if owner else ''} is writing {output}; "
                         f"wait for it to finish{', or ' + other_choice if other_choice else ''}") from None
    handle.truncate(0)
    handle.write(str(os.getpid()))
    handle.flush()
    return handle
