"""Demo mode: script parsing, playing at a pace with pause, step and back, and the shipped demo run
to the end offline from the response cache with no model loaded."""

import socket
import time

import pytest

from probe_tui.app import DemoApp
from probe_tui.backends.cached import CachedBackend
from probe_tui.backends.llama_cpp import LlamaCppBackend
from probe_tui.core.demo import load_script, shipped_demo
from probe_tui.core.errors import ItemFileError
from probe_tui.core.personas import get_persona
from probe_tui.core.session import Condition, ask
from scripted import ScriptedBackend
from test_app import wait_for


def test_the_shipped_demo_tells_the_seed_story():
    script = load_script()
    assert script.path == shipped_demo() and script.instrument == "mfq2"
    assert [(s.language, s.persona) for s in script.steps] == [("en", "none"), ("zh", "none"), ("zh", "cn_average"), ("en", "cn_average")]
    assert [item.code for item in script.steps[0].items] == [str(n) for n in range(1, 13)]
    assert len(script.frames()) == 48 and script.frames()[12].caption == script.steps[1].caption


@pytest.mark.parametrize("body, message", [
    ("steps:\n  - caption: a\n    language: xx\n    items: 1\n", "script.yaml:3: steps[0].language: mfq2 has no language 'xx'"),
    ("steps:\n  - caption: a\n    items: 12-3\n", "script.yaml:3: steps[0].items: the range 12-3 runs backwards"),
    ("steps:\n  - caption: a\n    items: 99\n", "script.yaml:3: steps[0].items: mfq2 has no item '99'"),
    ("steps:\n  - items: 1\n", "script.yaml:2: steps[0].caption: missing"),
    ("pace: 0\nsteps:\n  - caption: a\n    items: 1\n", "script.yaml:1: pace: expected seconds per item"),
    ("steps:\n  - caption: a\n    persona: martian\n    items: 1\n", "script.yaml:3: steps[0].persona: unknown persona 'martian'"),
    ("steps: [\n", "script.yaml"),
])
def test_a_malformed_script_is_a_one_line_error(tmp_path, body, message):
    path = tmp_path / "script.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ItemFileError) as error:
        load_script(path)
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("instrument, items, codes", [
    ("wvs", "Q177-Q179", ["Q177", "Q178", "Q179"]),  # the codes as the items write them
    ("wvs", "Q177-179, Q182", ["Q177", "Q178", "Q179", "Q182"]),
    ("vsm2013", "VSM01-VSM03", ["VSM01", "VSM02", "VSM03"]),
    ("vsm2013", ["VSM09", "10-11"], ["VSM09", "VSM10", "VSM11"]),
    ("mfq2", "1-3", ["1", "2", "3"]),
])
def test_a_range_names_items_by_their_codes(tmp_path, instrument, items, codes):
    path = tmp_path / "script.yaml"
    path.write_text(f"instrument: {instrument}\nsteps:\n  - caption: a\n    items: {items}\n", encoding="utf-8")
    assert [item.code for item in load_script(path).steps[0].items] == codes


@pytest.mark.parametrize("items, message", [
    ("Q179-Q177", "the range Q179-Q177 runs backwards"),
    ("Q177-VSM179", "the range Q177-VSM179 mixes two kinds of code"),
    ("Q177-Q999", "wvs has no item 'Q196'"),
])
def test_a_bad_range_is_a_one_line_error(tmp_path, items, message):
    path = tmp_path / "script.yaml"
    path.write_text(f"instrument: wvs\nsteps:\n  - caption: a\n    items: {items}\n", encoding="utf-8")
    with pytest.raises(ItemFileError, match=message):
        load_script(path)


def _short_script(tmp_path, pace=0.2):
    path = tmp_path / "short.yaml"
    path.write_text(f"title: short\npace: {pace}\nsteps:\n  - caption: English\n    items: 1-3\n"
                    "  - caption: Chinese\n    language: zh\n    items: 1,2\n", encoding="utf-8")
    return load_script(path)


async def test_the_demo_plays_at_its_pace_and_pauses_steps_and_goes_back(tmp_path):
    script = _short_script(tmp_path, pace=0.3)
    app = DemoApp(ScriptedBackend(), script)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: type(app.screen).__name__ == "DemoScreen", 10)
        demo = app.screen
        await wait_for(pilot, lambda: demo.position == 1, 10)
        await pilot.press("space")
        paused_at = demo.position
        await pilot.pause(1.0)
        assert demo.position == paused_at and "paused" in str(demo.query_one("#demo-source").render())
        await pilot.press("n")
        await wait_for(pilot, lambda: not demo.asking, 10)
        assert demo.position == paused_at + 1
        await pilot.press("b")
        assert demo.position == paused_at
        await pilot.press("space")
        await wait_for(pilot, lambda: demo.position == len(demo.frames) - 1 and not demo.asking, 10)
        assert "The end" in demo.query_one("#demo-caption").logical
        assert len(demo.session.engine.tracks) == 2  # English and Chinese, each its own track


async def test_the_shipped_demo_runs_to_the_end_offline_from_the_cache(smollm2_path, monkeypatch):
    script = load_script()
    # a rehearsal fills the cache (the model is asked once per item and condition)
    rehearsal = CachedBackend(LlamaCppBackend(smollm2_path, n_ctx=2048))
    rehearsal.start()
    for frame in script.frames():
        condition = Condition(rehearsal.identity, "mfq2", frame.language, frame.persona)
        ask(rehearsal, script_instrument(script), frame.item, condition, get_persona(frame.persona))
    rehearsal.close()

    def no_network(*args, **kwargs):
        raise OSError("the network is disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    backend = CachedBackend(LlamaCppBackend(smollm2_path, n_ctx=2048))
    from dataclasses import replace

    app = DemoApp(backend, replace(script, pace=0.2))
    started = time.monotonic()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: type(app.screen).__name__ == "DemoScreen", 10)
        demo = app.screen
        await wait_for(pilot, lambda: demo.position == len(demo.frames) - 1 and not demo.asking, 120)
        assert set(demo.sources.values()) == {"replayed from the response cache"}
        assert len(demo.sources) == 48
    assert not backend._started  # no model was loaded: every answer came from the cache
    assert time.monotonic() - started < 60


def script_instrument(script):
    from probe_tui.core.instruments import get_instrument

    return get_instrument(script.instrument)


async def test_the_demo_shows_each_option_with_its_label(tmp_path):
    from test_probe_screen import screen_text

    script = _short_script(tmp_path, pace=30)
    app = DemoApp(ScriptedBackend(), script)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: type(app.screen).__name__ == "DemoScreen", 10)
        demo = app.screen
        await wait_for(pilot, lambda: demo.position == 0 and not demo.asking, 10)
        await pilot.pause(0.2)
        frame = demo.frames[0]
        left = [line.split("│")[0] for line in screen_text(app).splitlines()]
        bars = [line for line in left if "%" in line and "█" in line]
        assert len(bars) == len(frame.item.scale.labels)
        for line, anchor in zip(bars, frame.item.scale.anchors_in(frame.language)):
            assert anchor.split()[0] in line.split("%", 1)[1]


class SlowToLoad(ScriptedBackend):
    """Loads until cancelled: half way, then waits (as a big model does)."""

    def __init__(self):
        super().__init__()
        import threading

        self.cancelled, self.closed = threading.Event(), False

    def start(self, on_progress=None):
        from probe_tui.core.errors import ProbeError

        on_progress(0.5)
        if self.cancelled.wait(20):
            raise ProbeError("the load was cancelled")
        return super().start(on_progress)

    def cancel_load(self):
        self.cancelled.set()

    def close(self):
        self.closed = True


async def test_the_demo_loads_through_the_model_manager_with_progress_and_cancel(tmp_path):
    backend = SlowToLoad()
    app = DemoApp(backend, _short_script(tmp_path))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: type(app.screen).__name__ == "DemoScreen", 10)
        demo = app.screen
        await wait_for(pilot, lambda: "50%" in demo.query_one("#demo-caption").logical, 10)
        assert app.models.primary is backend and app.models.is_loading(backend)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.models.is_loading(backend) and "did not load" in demo.query_one("#demo-caption").logical, 10)
        assert not demo.model_ready and demo.position == -1
    assert backend.closed  # the manager closes it
