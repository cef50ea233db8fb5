"""The app's state and messages, driven with Pilot on the scripted backend: the condition is one frozen
value on the app, replaced whole, that screens follow; the gauge's bootstrap, exports and figures run
off the UI thread, and keys act meanwhile."""

import dataclasses
import threading
from dataclasses import replace

import pytest

from probe_tui.app import ProbeApp as _ProbeApp
from probe_tui.core.store import SessionStore
from scripted import ScriptedBackend
from test_app import answered, probe_screen, wait_for
from test_countries_view import plain
from test_probe_screen import AnswersFive


def ProbeApp(backend, **kwargs):  # noqa: N802 - a store of its own for each test
    return _ProbeApp(backend, session="test", store=SessionStore(":memory:"), **kwargs)


async def test_the_condition_is_one_frozen_value_replaced_whole_and_screens_follow_it():
    app = ProbeApp(ScriptedBackend())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await probe_screen(app, pilot)
        await wait_for(pilot, answered(screen), 10)
        first = app.condition
        assert dataclasses.fields(first) and type(first).__dataclass_params__.frozen
        with pytest.raises(dataclasses.FrozenInstanceError):
            first.language = "zh"
        assert (first.model, first.instrument, first.language, first.persona) == ("scripted://test", "mfq2", "en", "none")
        seen = []
        screen.watch(app, "condition", lambda condition: seen.append(condition), init=False)

        await pilot.press("l")  # a key replaces the app's condition; the screen follows it
        assert seen == [replace(first, language="zh")] and screen.condition() is app.condition
        await wait_for(pilot, answered(screen), 10)

        app.condition = replace(app.condition, persona="cn_average")  # from outside the screen
        await wait_for(pilot, answered(screen), 10)
        assert screen.persona == "cn_average" and "一位来自中国的普通人" in str(screen.query_one("#item-header").render())
        assert screen.query_one("#change").logical.startswith("Change from ZH")
        assert screen.session.answer_for(screen.item, app.condition).prompt.text != screen.session.answer_for(
            screen.item, seen[0]).prompt.text

        app.use_model(AnswersFive())  # a model change is a new condition too
        assert app.condition == replace(seen[-1], model="scripted://answers-five") and seen[-1] is app.condition
        await wait_for(pilot, lambda: screen.model_ready, 10)
        await wait_for(pilot, answered(screen), 10)
        assert screen.session.answer_for(screen.item, app.condition).distribution.method == "scripted"

        mfq = app.condition
        app.open_instrument("wvs")  # another instrument: its own condition, on the same model
        await wait_for(pilot, lambda: getattr(app.screen, "instrument", None) is not None and app.screen.instrument.key == "wvs", 10)
        await wait_for(pilot, answered(app.screen), 10)
        assert app.condition.instrument == "wvs" and app.condition.model == mfq.model
        assert screen.condition() == mfq  # the MFQ-2 screen keeps where it stood
        app.open_instrument("mfq2")
        await wait_for(pilot, lambda: app.screen is screen, 10)
        assert app.condition == mfq


async def test_the_gauge_ranks_in_a_worker_and_keys_act_while_it_computes(monkeypatch):
    from probe_tui.core.gauge import GaugeEngine

    rank = GaugeEngine.ranking_with_intervals
    threads, release = [], threading.Event()

    def held_back(self, track, *args, **kwargs):
        threads.append(threading.current_thread())
        release.wait(20)
        return rank(self, track, *args, **kwargs)

    monkeypatch.setattr(GaugeEngine, "ranking_with_intervals", held_back)
    app = ProbeApp(ScriptedBackend())
    async with app.run_test(size=(120, 60)) as pilot:
        screen = await probe_screen(app, pilot)
        for _ in range(5):
            await wait_for(pilot, answered(screen), 10)
            await pilot.press("n")
        await wait_for(pilot, answered(screen), 10)
        await pilot.press("l")
        await wait_for(pilot, answered(screen), 10)
        await pilot.press("g")
        gauge = app.screen
        await wait_for(pilot, lambda: threads, 10)  # the bootstrap is under way, and held there
        assert threads[0] is not threading.current_thread()  # not the UI thread
        assert "resamples…" in plain(gauge.query_one("#ranking").content)
        selected = gauge.selected
        await pilot.press("t")  # handled at once, while the bootstrap computes
        assert gauge.selected != selected and len(gauge.tracks()) == 2
        release.set()
        await wait_for(pilot, lambda: "resamples…" not in plain(gauge.query_one("#ranking").content), 10)
        assert gauge.selected.language == "en"
        assert gauge.query_one("#ranking").content is not None and "95% interval" in plain(gauge.query_one("#ranking").content)


async def test_an_export_and_a_figure_run_in_workers_and_say_when_they_are_done(tmp_path, monkeypatch):
    import probe_tui.figures

    monkeypatch.chdir(tmp_path)
    draw, threads = probe_tui.figures.draw, []

    def drawn(*args, **kwargs):
        threads.append(threading.current_thread())
        return draw(*args, **kwargs)

    monkeypatch.setattr(probe_tui.figures, "draw", drawn)
    app = ProbeApp(ScriptedBackend())
    titles, notify = [], app.notify
    app.notify = lambda message, **kwargs: (titles.append(kwargs.get("title")), notify(message, **kwargs))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await probe_screen(app, pilot)
        await wait_for(pilot, answered(screen), 10)
        app.export("csv")
        app.figure("dimensions", "png")
        await pilot.press("n")  # a key acts while they run
        assert screen.index == 1
        await wait_for(pilot, lambda: (tmp_path / "probe-tui-test.csv").exists() and (tmp_path / "probe-tui-test-dimensions.png").exists(), 60)
        await wait_for(pilot, lambda: {"Exported", "dimensions figure saved"} <= set(titles), 10)
        assert threads and threads[0] is not threading.current_thread()


async def test_t_on_a_gauge_with_hundreds_of_answers_reads_no_gauge_on_the_ui_thread(monkeypatch):
    """The tracks' readings (pandas) come from a worker once per change of the answers; `t` redraws."""
    import probe_tui.core.gauge
    import probe_tui.screens.gauge
    from probe_tui.core.gauge import GaugeEngine

    calls = []

    def recording(function):
        def recorded(*args, **kwargs):
            calls.append(threading.current_thread())
            return function(*args, **kwargs)
        return recorded

    monkeypatch.setattr(probe_tui.core.gauge, "read_gauge", recording(probe_tui.core.gauge.read_gauge))
    monkeypatch.setattr(probe_tui.screens.gauge, "profiles_to_compare", recording(probe_tui.screens.gauge.profiles_to_compare))
    monkeypatch.setattr(GaugeEngine, "ranking_with_intervals", recording(GaugeEngine.ranking_with_intervals))
    app = ProbeApp(ScriptedBackend())
    async with app.run_test(size=(120, 60)) as pilot:
        screen = await probe_screen(app, pilot)
        await wait_for(pilot, answered(screen), 10)
        items = screen.session.instrument.items
        conditions = [replace(screen.condition(), model=f"model-{n}.gguf") for n in range(9)]
        for n, condition in enumerate(conditions):
            for i, item in enumerate(items):
                screen.session.engine.add(condition, item.code, item.dimension, 1 + (n + i) % 5)
        assert sum(len(t.scores) for t in screen.session.engine.tracks.values()) >= 300
        calls.clear()  # the probe screen's own gauge pane reads its one condition as it answers
        await pilot.press("g")
        gauge = app.screen
        await wait_for(pilot, lambda: len(gauge.tracks()) == 10, 10)
        await wait_for(pilot, lambda: "resamples…" not in plain(gauge.query_one("#ranking").content), 10)
        for _ in range(12):  # round the tracks and on: each redraws, a new one ranks in its worker
            selected = gauge.selected
            await pilot.press("t")
            assert gauge.selected != selected
            assert f"▶ {gauge.label(gauge.selected)}" in plain(gauge.query_one("#tracks").content)
        await wait_for(pilot, lambda: not [w for w in app.workers if w.is_running], 20)
        assert calls and threading.current_thread() not in calls
        before = len(calls)
        for _ in range(10):  # all ranked: nothing is computed again
            await pilot.press("t")
        assert len(calls) == before
        assert "95% interval" in plain(gauge.query_one("#ranking").content)
