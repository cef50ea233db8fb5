"""The country-pairs view: its favourability chart and heat map are computed in a worker thread, never
on the UI thread, and coalesced when answers come faster than they are computed."""

from __future__ import annotations

import threading
import time

import pandas as pd

from probe_tui.app import ProbeApp
from probe_tui.core.metrics import favourability
from probe_tui.core.instruments.pairs import pairs_from_run
from probe_tui.core.rows import answer_row
from probe_tui.screens import pairs as pairs_module

from scripted import ScriptedBackend
from test_app import wait_for
from test_countries_view import plain


async def test_the_pair_charts_are_computed_off_the_ui_thread_and_coalesced(monkeypatch):
    threads, answers_seen = [], []

    def slow_pairs_from_run(frame):
        threads.append(threading.current_thread())
        answers_seen.append(len(frame))
        time.sleep(0.4)  # slower than the scripted backend answers a pair
        return pairs_from_run(frame)

    monkeypatch.setattr(pairs_module, "pairs_from_run", slow_pairs_from_run)
    app = ProbeApp(ScriptedBackend(), instrument="country-pairs")
    async with app.run_test(size=(120, 60)) as pilot:
        await wait_for(pilot, lambda: type(app.screen).__name__ == "CountryPairsScreen", 30)
        screen = app.screen
        await wait_for(pilot, lambda: screen.model_ready and not screen.asking, 10)
        await pilot.press("s")
        started = time.monotonic()
        await wait_for(pilot, lambda: screen.pair_index >= 6, 30)
        shows_while_sweeping = time.monotonic() - started
        await pilot.press("s")
        await wait_for(pilot, lambda: not screen.asking and not screen.charts_busy, 10)
        assert threading.main_thread() not in threads  # pandas and the t-tests never ran on the UI thread
        answers = [a for a in screen.session.all_answers() if a.condition == screen.condition()]
        assert len(answers) >= 7 * 8
        # fewer computations than pairs answered: the ones asked for while one computed became one
        assert len(threads) < len(answers) // 8
        assert shows_while_sweeping < 0.4 * 6  # six pairs answered sooner than six computations take: the sweep never waited
        assert answers_seen[-1] == len(answers)  # the last computed saw every answer
        combined = favourability(pairs_from_run(pd.DataFrame([answer_row(a) for a in answers]))).query("question == 'combined'")
        usa = combined.set_index("country").loc["USA", "value"]
        assert f"{usa:+.2f}" in plain(screen.query_one("#favourability").content)
