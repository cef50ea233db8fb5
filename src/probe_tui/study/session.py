"""A study's answers as an app session, for `probe-tui --study FILE`: the answers table browses them
and the gauge draws a track per condition, through the app's own session machinery.

The session lives in the study folder (app-session.sqlite, session "study"). Each opening imports
the journal's answers that it lacks (the journal is read, never written: a run may be going on), so
answers given in the app itself stay in that session and the study's results are never changed."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

from ..core.errors import ProbeError
from ..core.store import SessionStore
from .run import JOURNAL
from .spec import Study

SESSION = "study"
APP_SESSION = "app-session.sqlite"


@dataclass(frozen=True)
class StudyScope:
    """What the app shows of a study: its name (the header's), its instruments with the items its
    matrix asks (what the screens browse), and its models' labels by the identity their answers name."""

    name: str
    items: dict[str, tuple]  # instrument key -> the items asked, in the study's order
    models: dict[str, str] = field(default_factory=dict)  # an answer's model identity -> the study's label(s)


def study_scope(study: Study, models: dict[str, str]) -> StudyScope:
    items: dict[str, tuple] = {spec.key: tuple(spec.items) for spec in study.instruments}
    if study.countries is not None:  # a country sweep's items, beside those of the same instrument asked directly
        key = study.countries.key
        items[key] = tuple({item.id: item for item in items.get(key, ()) + tuple(study.countries.items)}.values())
    return StudyScope(study.name, items, models)


def study_session(study: Study) -> tuple[SessionStore, str]:
    journal = study.folder / JOURNAL
    if not journal.exists():
        raise ProbeError(f"{study.path.name} has no answers yet in {study.folder}; run it first: probe-tui study run {study.path}")
    store = SessionStore(study.folder / APP_SESSION)
    state = store.open(SESSION)
    imported = state.get("study_imported", -1)
    relabel = "study_models" not in state  # a session imported before the labels were kept: read them all once
    db = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
    try:
        entries = db.execute("SELECT position, row FROM answers WHERE position > ? ORDER BY position",
                             (-1 if relabel else imported,)).fetchall()
    except sqlite3.DatabaseError as exc:
        raise ProbeError(f"the study journal {journal} is unreadable ({exc})") from None
    finally:
        db.close()
    labels = state.setdefault("study_models", {})  # an answer's model identity -> the study's labels of it
    for position, row in entries:
        entry = json.loads(row)
        identity, label = entry["record"].get("model", ""), entry.get("row", {}).get("study_model", "")
        if identity and label and label not in labels.setdefault(identity, []):
            labels[identity].append(label)
        if position > imported:
            store.add_record(SESSION, entry["record"])  # a field added since it was journaled: add_record fills it
            imported = position
    if entries:
        state["study_imported"] = imported
        store.save_state(SESSION, state)
    return store, SESSION


def study_app(path, instrument: str | None = None):
    """What `probe-tui --study FILE` opens: the study's first model (its backend, not started), the
    session store holding the study's answers, its name, the instrument (the study's first unless
    one is given) and the study's scope (its name, items and model labels) for the app."""
    from .backends import build_backend
    from .spec import load_study

    study = load_study(path)
    store, name = study_session(study)
    keys = [spec.key for spec in study.instruments] + ([study.countries.key] if study.countries else [])
    if instrument and instrument not in keys:
        raise ProbeError(f"the study {study.name} does not ask {instrument}; it asks {', '.join(keys)}")
    labels = store.open(name).get("study_models", {})
    scope = study_scope(study, {identity: " / ".join(names) for identity, names in labels.items()})
    return build_backend(study.models[0]), store, name, instrument or keys[0], scope
