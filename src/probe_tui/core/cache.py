"""The response cache: every scored prompt, in SQLite under the platformdirs cache directory.

A result is keyed by the model (the GGUF file's SHA-256, or endpoint#model id), the exact rendered
prompt, its option labels and the scoring parameters, so a replay returns the very numbers first
obtained, instantly and offline. A file's hash is computed once and remembered by path, size and
mtime. Nothing secret is stored: keys never enter an identity or a parameter.
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
import threading
from pathlib import Path

from . import paths
from .errors import ProbeError
from .scoring import OptionLogprobs


def cache_file() -> Path:
    directory = paths.user_cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    return directory / "responses.sqlite"


def model_identity(file_name: str, sha256: str) -> str:
    """A model file as results name it, the same on every machine: its name and (shortened) SHA-256."""
    return f"{file_name}@sha256:{sha256[:16]}"


def file_sha256(path: Path) -> str:
    """A file's SHA-256, remembered in the cache directory by path, size and mtime."""
    cache = ResponseCache()
    try:
        return cache.file_hash(path)
    finally:
        cache.close()


class ResponseCache:
    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path else cache_file()
        self._lock = threading.Lock()
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, model TEXT, result TEXT NOT NULL)")
            self.db.execute("CREATE TABLE IF NOT EXISTS models (model TEXT PRIMARY KEY, info TEXT NOT NULL)")
            self.db.execute("CREATE TABLE IF NOT EXISTS file_hashes (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, sha256 TEXT)")
        except sqlite3.DatabaseError as exc:
            raise self._unreadable(exc) from None

    def _unreadable(self, exc: sqlite3.DatabaseError) -> ProbeError:
        return ProbeError(f"the response cache {self.path} is unreadable ({exc}); it holds only answers that can be asked again: "
                          "delete it (or move it away) to start a new one, or run with --no-cache")

    def _execute(self, sql: str, parameters=()):
        """One statement under the lock; a corrupt file becomes a ProbeError naming it."""
        with self._lock:
            try:
                return self.db.execute(sql, parameters).fetchone()
            except sqlite3.DatabaseError as exc:
                raise self._unreadable(exc) from None

    def file_hash(self, path: Path) -> str:
        path = Path(path).resolve()
        stat = path.stat()
        row = self._execute("SELECT size, mtime_ns, sha256 FROM file_hashes WHERE path = ?", (str(path),))
        if row and row[0] == stat.st_size and row[1] == stat.st_mtime_ns:
            return row[2]
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        self._execute("INSERT OR REPLACE INTO file_hashes VALUES (?, ?, ?, ?)", (str(path), stat.st_size, stat.st_mtime_ns, digest.hexdigest()))
        return digest.hexdigest()

    @staticmethod
    def key(model: str, text: str, labels, params: dict) -> str:
        material = json.dumps({"model": model, "prompt": text, "labels": list(labels), "params": params}, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(material.encode()).hexdigest()

    def get(self, key: str) -> OptionLogprobs | None:
        row = self._execute("SELECT result FROM responses WHERE key = ?", (key,))
        return _decode(row[0]) if row else None

    def put(self, key: str, model: str, result: OptionLogprobs) -> None:
        self._execute("INSERT OR REPLACE INTO responses VALUES (?, ?, ?)", (key, model, _encode(result)))

    def model_info(self, model: str) -> dict | None:
        row = self._execute("SELECT info FROM models WHERE model = ?", (model,))
        return json.loads(row[0]) if row else None

    def remember_model(self, model: str, info: dict) -> None:
        self._execute("INSERT OR REPLACE INTO models VALUES (?, ?)", (model, json.dumps(info, ensure_ascii=False)))

    def count(self) -> int:
        return self._execute("SELECT COUNT(*) FROM responses")[0]

    def close(self) -> None:
        self.db.close()


def _encode(result: OptionLogprobs) -> str:
    # -inf is not JSON: store None; floats round-trip exactly through repr
    logprobs = {label: (None if value == -math.inf else value) for label, value in result.logprobs.items()}
    return json.dumps({"logprobs": logprobs, "method": result.method, "top_tokens": result.top_tokens,
                       "prompt_tokens": result.prompt_tokens, "floored": result.floored,
                       "samples": result.samples, "unparsed": result.unparsed, "unanswered": result.unanswered,
                       "endpoint": result.endpoint}, ensure_ascii=False)  # which endpoint first answered: provenance, never in the key


def _decode(text: str) -> OptionLogprobs:
    data = json.loads(text)
    return OptionLogprobs(
        logprobs={label: (-math.inf if value is None else value) for label, value in data["logprobs"].items()},
        method=data["method"], top_tokens=tuple((token, lp) for token, lp in data["top_tokens"]),
        prompt_tokens=data["prompt_tokens"], floored=tuple(data["floored"]), samples=data["samples"],
        unparsed=data["unparsed"], unanswered=data.get("unanswered", ""), endpoint=data.get("endpoint", ""), cached=True,
    )
