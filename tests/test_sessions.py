"""Sessions in SQLite: resumed where they stopped; exports carry provenance and re-score to the
same numbers as the app's own gauge."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from probe_tui.app import ProbeApp
from probe_tui.backends.cached import CachedBackend
from probe_tui.backends.llama_cpp import LlamaCppBackend
from probe_tui.core import rescore
from probe_tui.core.instruments import get_instrument
from probe_tui.core.store import SessionStore
from probe_tui.export import export_session
from scripted import ScriptedBackend
from test_app import answered, probe_screen, wait_for


async def _answer(pilot, screen, keys):
    await wait_for(pilot, answered(screen), 60)
    for key in keys:
        await pilot.press(key)
        await wait_for(pilot, answered(screen), 60)


async def test_a_session_survives_closing_and_reopening_the_app(tmp_path):
    store_path = tmp_path / "sessions.sqlite"
    app = ProbeApp(ScriptedBackend(), session="talk", store=SessionStore(store_path))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await probe_screen(app, pilot)
        await _answer(pilot, screen, ["n", "n", "l", "o"])
        await wait_for(pilot, lambda: screen.session.order_check_for(screen.item, screen.condition()) is not None, 10)
        before = {(a.item.id, a.condition): a.distribution.probs for a in screen.session.all_answers()}
        position = (screen.index, screen.language)
    assert position == (2, "zh") and len(before) == 4

    backend = ScriptedBackend()
    again = ProbeApp(backend, session="talk", store=SessionStore(store_path))
    async with again.run_test(size=(120, 40)) as pilot:
        screen = await probe_screen(again, pilot)
        await wait_for(pilot, lambda: screen.model_ready, 10)
        await pilot.pause(0.2)
        assert (screen.index, screen.language) == position  # where it stopped
        after = {(a.item.id, a.condition): a.distribution.probs for a in screen.session.all_answers()}
        assert after == before
        assert screen.session.order_check_for(screen.item, screen.condition()) is not None
        assert backend.calls == 0  # nothing asked again: the current item was answered
        assert screen.session.gauge(screen.condition()).items_answered == 1
    assert SessionStore(store_path).sessions()[0] == {**SessionStore(store_path).sessions()[0], "name": "talk", "answers": 5}


async def test_exports_carry_provenance_and_rescore_to_the_gauges_numbers(tmp_path, smollm2_path):
    store = SessionStore(tmp_path / "sessions.sqlite")
    backend = CachedBackend(LlamaCppBackend(smollm2_path, n_ctx=2048))
    app = ProbeApp(backend, session="export-me", store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await probe_screen(app, pilot)
        await _answer(pilot, screen, ["n"] * 6 + ["o"])
        condition = screen.session.answers_under(screen.condition())[0].condition
        ranking = screen.session.engine.ranking(condition)
        template = backend.info.chat_template.source
    backend.close()

    frames = {}
    for suffix in ("csv", "parquet", "json"):
        path = tmp_path / f"session.{suffix}"
        assert export_session(store, "export-me", path) == 8  # 7 answers and one order check
        frames[suffix] = rescore.read_responses(path)
    exported = pd.read_csv(tmp_path / "session.csv")
    row = exported.iloc[0]
    import hashlib

    assert row["model_sha256"] == backend.model_key.removeprefix("sha256:")
    assert row["chat_template_sha256"] == hashlib.sha256(template.encode()).hexdigest()
    assert "<|im_start|>" in row["prompt"] and row["method"] == "logprobs"
    assert json.loads(row["params"])["llama-cpp-python"] and json.loads(row["versions"])["probe-tui"]
    assert exported["options_reversed"].sum() == 1

    for suffix, frame in frames.items():
        assert len(frame) == 7, suffix  # the order check is not scored
        scores = get_instrument("mfq2").score_responses(frame, suffix, n_resamples=0)
        rmse = scores[scores["metric"] == "rmse"].set_index("target")["value"]
        for fit in ranking.itertuples():
            assert rmse[fit.country] == pytest.approx(fit.rmse, abs=1e-9), (suffix, fit.country)

    # and from the command line, as a user would
    out = tmp_path / "scores.csv"
    result = subprocess.run([sys.executable, "-m", "probe_tui", "score", "--responses", str(tmp_path / "session.parquet"), "--instrument", "mfq2",
                             "--output", str(out)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    cli = pd.read_csv(out)
    assert cli[cli["metric"] == "rmse"].set_index("target")["value"][ranking.iloc[0].country] == pytest.approx(ranking.iloc[0].rmse)


def test_export_refuses_an_unknown_format_and_an_empty_session(tmp_path):
    from probe_tui.core.errors import ProbeError

    store = SessionStore(tmp_path / "s.sqlite")
    store.open("empty")
    with pytest.raises(ProbeError, match="must end in .csv, .parquet or .json"):
        export_session(store, "empty", tmp_path / "x.xlsx")
    with pytest.raises(ProbeError, match="has no answers"):
        export_session(store, "empty", tmp_path / "x.csv")


def test_a_corrupt_session_file_is_a_one_line_error(tmp_path):
    from probe_tui.core.errors import ProbeError

    bad = tmp_path / "sessions.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ProbeError, match="cannot be opened"):
        SessionStore(bad)


async def test_sessions_and_export_from_the_command_line(tmp_path):
    app = ProbeApp(ScriptedBackend(), session="cli-export")  # the default store, as the CLI finds it
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await probe_screen(app, pilot)
        await _answer(pilot, screen, ["n"])
    listed = subprocess.run([sys.executable, "-m", "probe_tui", "sessions"], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0 and any(line.split()[:2] == ["cli-export", "2"] for line in listed.stdout.splitlines())
    out = tmp_path / "cli.csv"
    exported = subprocess.run([sys.executable, "-m", "probe_tui", "export", "--session", "cli-export", "-o", str(out)],
                              capture_output=True, text=True, timeout=60)
    assert exported.returncode == 0, exported.stderr
    assert len(pd.read_csv(out)) == 2 and "wrote 2 answer(s) of session cli-export" in exported.stderr
    missing = subprocess.run([sys.executable, "-m", "probe_tui", "export", "--session", "nope", "-o", str(out)],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and missing.stderr.strip() == "probe-tui: error: no session 'nope'; list them with: probe-tui sessions"


async def test_palette_exports_and_figures_land_in_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = ProbeApp(ScriptedBackend(), session="palette", store=SessionStore(tmp_path / "s.sqlite"))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await probe_screen(app, pilot)
        await _answer(pilot, screen, ["n", "n"])
        app.export("parquet")
        app.figure("dimensions", "svg")
        app.screenshot_here()
    assert len(pd.read_parquet(tmp_path / "probe-tui-palette.parquet")) == 3
    assert "care" in (tmp_path / "probe-tui-palette-dimensions.svg").read_text()
    assert list(tmp_path.glob("*.svg"))[0].stat().st_size > 1000 and len(list(tmp_path.glob("*.svg"))) == 2
