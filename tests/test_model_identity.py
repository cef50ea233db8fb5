"""#19.8: results name a model file by its name and SHA-256, never by a path on one machine; the
path stays in the session's provenance, so a session (and its demo) reopens on its own file."""

from __future__ import annotations

import hashlib
import json
import os
import shutil

import pandas as pd

from probe_tui.backends.cached import CachedBackend
from probe_tui.backends.llama_cpp import LlamaCppBackend
from probe_tui.backends.provenance import provenance
from probe_tui.cli import main
from probe_tui.core.session import Condition, ask
from probe_tui.core.store import SessionStore
from probe_tui.export import session_frame


def _portable(path) -> str:
    return f"{path.name}@sha256:{hashlib.sha256(path.read_bytes()).hexdigest()[:16]}"


def test_a_run_names_the_model_by_file_name_and_sha256(tmp_path, smollm2_path):
    out = tmp_path / "run.csv"
    assert main(["run", "--model", str(smollm2_path), "--limit", "1", "--output", str(out)]) == 0
    model = pd.read_csv(out)["model"].iloc[0]
    assert model == _portable(smollm2_path) and "/" not in model


def test_a_session_names_the_model_portably_and_reopens_on_its_own_file(tmp_path, smollm2_path, mfq2, personas):
    elsewhere = tmp_path / "models" / smollm2_path.name  # the same model, kept somewhere else on this machine
    elsewhere.parent.mkdir()
    try:
        os.link(smollm2_path, elsewhere)
    except OSError:
        shutil.copyfile(smollm2_path, elsewhere)
    backend = CachedBackend(LlamaCppBackend(elsewhere, n_ctx=2048))
    try:
        info = backend.start()
        condition = Condition(backend.identity, "mfq2", "en", "none")
        answer = ask(backend, mfq2, mfq2.items[0], condition, personas["none"])
        source = provenance(backend)
    finally:
        backend.close()
    assert condition.model == info.identity == _portable(elsewhere)
    from probe_tui.cli import session_model  # how the app and demo find the session's model file

    store = SessionStore(tmp_path / "sessions.sqlite")
    store.open("talk")
    store.save_state("talk", {"instrument": "mfq2", "model": backend.identity})  # as the app leaves it
    store.add("talk", answer, source)

    exported = session_frame(store, "talk")
    assert exported["model"].tolist() == [_portable(elsewhere)]
    assert str(tmp_path) not in exported.to_csv()  # nothing in the export ties it to this machine
    assert store.answers("talk", mfq2)[0].condition == condition
    assert session_model(store, "talk", store.open("talk")["model"]) == str(elsewhere.resolve())  # the app and demo reopen on it


def test_a_session_stored_with_paths_reads_back_portable(tmp_path, smollm2_path, mfq2, backend, personas):
    """Sessions written before: the model column held the path; it reads back as name and SHA-256."""
    from probe_tui.cli import session_model

    store = SessionStore(tmp_path / "sessions.sqlite")
    answer = ask(backend, mfq2, mfq2.items[0], Condition(str(smollm2_path), "mfq2", "en", "none"), personas["none"])
    digest = hashlib.sha256(smollm2_path.read_bytes()).hexdigest()
    store.add("old", answer, {"model": f"sha256:{digest}"})
    store.save_state("old", {"model": str(smollm2_path)})
    assert store.answers("old", mfq2)[0].condition.model == _portable(smollm2_path)
    assert session_model(store, "old", str(smollm2_path)) == str(smollm2_path)
    assert json.loads(store.rows("old")[0]["provenance"])["model"] == f"sha256:{digest}"


async def test_a_session_without_answers_reopens_on_its_model_file(tmp_path, smollm2_path):
    from probe_tui.app import ProbeApp
    from probe_tui.cli import session_model
    from test_app import probe_screen

    elsewhere = tmp_path / "mine.gguf"
    try:
        os.link(smollm2_path, elsewhere)
    except OSError:
        shutil.copyfile(smollm2_path, elsewhere)
    store = SessionStore(tmp_path / "sessions.sqlite")
    app = ProbeApp(LlamaCppBackend(elsewhere, n_ctx=2048), session="fresh", store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await probe_screen(app, pilot)
        await pilot.pause(0.2)
    state = store.open("fresh")
    assert state["model"] == _portable(elsewhere) and not store.count("fresh")
    assert session_model(store, "fresh", state["model"], state["model_path"]) == str(elsewhere)
