"""The probe screen's look and its status lines, driven by the scripted backend (tests/scripted.py)."""

import math

import pytest

from probe_tui.app import ProbeApp as _ProbeApp
from probe_tui.core.errors import ProbeError
from probe_tui.core.scoring import OptionLogprobs
from probe_tui.core.store import SessionStore
from scripted import ScriptedBackend
from test_app import answered, probe_screen, wait_for


def ProbeApp(backend, **kwargs):  # noqa: N802 - a store of its own for each test
    return _ProbeApp(backend, session="test", store=SessionStore(":memory:"), **kwargs)


def screen_text(app) -> str:
    """What the terminal shows, line by line."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


class AnswersFive(ScriptedBackend):
    """Another scripted "model": nearly all of its mass on the last option."""

    identity = "scripted://answers-five"
    display_name = "answers-five"

    def score(self, prompt) -> OptionLogprobs:
        self.calls += 1
        weights = [1.0] * (len(prompt.labels) - 1) + [96.0]
        return OptionLogprobs({label: math.log(w / 100) for label, w in zip(prompt.labels, weights)}, "scripted")


async def test_a_model_change_shows_the_change_line_and_the_jump_flag(monkeypatch):
    monkeypatch.setattr("probe_tui.backends.choice.backend_for", lambda kind, spec, like=None: AnswersFive())
    app = ProbeApp(ScriptedBackend())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await probe_screen(app, pilot)
        await wait_for(pilot, answered(screen), 10)
        before = screen.session.answer_for(screen.item, screen.condition()).distribution.expected
        app.switch_model("file", "answers-five")  # as the models screen does
        await wait_for(pilot, lambda: screen.model_ready, 10)
        await wait_for(pilot, answered(screen), 10)
        assert screen.condition().model == "scripted://answers-five"
        change = screen.query_one("#change").logical
        assert change.startswith("Change from scripted") and f"E[x] {before:.2f} →" in change
        flags = str(screen.query_one("#flags").render())
        assert "jump" in flags and "against model scripted" in flags


async def test_at_80_by_24_the_labels_the_help_key_and_the_change_line_stay_visible():
    app = ProbeApp(ScriptedBackend())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await probe_screen(app, pilot)
        await wait_for(pilot, answered(screen), 10)
        await pilot.press("l")
        await wait_for(pilot, answered(screen), 10)
        await pilot.pause(0.2)
        shown = screen_text(app)
        anchors = screen.item.scale.anchors_in(screen.language)
        left = [line.split("│")[0] for line in shown.splitlines()]
        bar_lines = [line for line in left if "%" in line and "█" in line]
        assert len(bar_lines) == len(anchors)
        for line, anchor in zip(bar_lines, anchors):
            label = line.split("%", 1)[1].strip(" ≥│▎▊▏")
            assert label.strip("…") and label.strip("…") in anchor  # the anchor, abbreviated if need be
        assert "Change from EN" in shown
        assert "? Help" in shown.splitlines()[-1]


async def test_status_lines_say_what_the_shown_item_is_doing():
    backend = ScriptedBackend()
    app = ProbeApp(backend)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await probe_screen(app, pilot)
        await wait_for(pilot, answered(screen), 10)
        status = lambda: str(screen.query_one("#status").render())  # noqa: E731
        await pilot.press("n")
        await wait_for(pilot, answered(screen), 10)
        await pilot.press("f")
        await wait_for(pilot, lambda: not screen.query_one("#free-text-box").running, 10)
        assert "Free text" in status()
        await pilot.press("b")  # an item answered already: the free-text message has gone
        assert status().startswith("Answered")
        # the next item but one is asked slowly; going back shows the answered item's status
        quick = backend.score

        def slow_score(prompt):
            import time

            time.sleep(2)
            return quick(prompt)

        backend.score = slow_score
        await pilot.press("n", "n")
        assert "Asking the model" in status()
        await pilot.press("b")
        assert status().startswith("Answered")
        await wait_for(pilot, lambda: screen.in_flight is None, 10)
        assert status().startswith("Answered")


async def test_c_outside_vsm_offers_to_switch_and_opens_the_countries_view():
    app = ProbeApp(ScriptedBackend())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await probe_screen(app, pilot)
        await wait_for(pilot, answered(screen), 10)
        await pilot.press("c")
        await pilot.pause(0.2)
        assert "VSM 2013" in screen_text(app) and app.instrument.key == "mfq2"
        await pilot.press("escape")  # no: nothing changes
        await pilot.pause(0.2)
        assert app.screen is screen and app.instrument.key == "mfq2"
        await pilot.press("c")
        await pilot.pause(0.2)
        await pilot.press("y")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "CountriesScreen", 10)
        assert app.instrument.key == "vsm2013" and app.screen.probe.backend is screen.backend
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert type(app.screen).__name__ == "ProbeScreen" and app.screen.instrument.key == "vsm2013"


class FailsToStart(ScriptedBackend):
    def start(self, on_progress=None):
        raise ProbeError("Gemma-3-270M is not installed: pip install 'probe-tui[gemma]' [Bold]")


async def test_messages_from_outside_show_as_written():
    app = ProbeApp(FailsToStart())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await probe_screen(app, pilot)
        await wait_for(pilot, lambda: screen.query_one("#status").has_class("error"), 10)
        await pilot.pause(0.2)
        assert "pip install 'probe-tui[gemma]' [Bold]" in str(screen.query_one("#status").render())
        assert "'probe-tui[gemma]' [Bold]" in screen_text(app).replace("\n", "")  # the notification too


class WritesMarkup(ScriptedBackend):
    def generate(self, prompt, on_text, cancel, max_tokens=256, pause=0.0):
        from probe_tui.backends.base import Generation

        text = "E[x] is [bold]not bold[/bold]\x1b[2J\x1b]0;title\x07 and 你好。"
        on_text(text)
        return Generation(text, "stop")


async def test_free_text_and_tables_show_brackets_and_no_escape_sequences():
    app = ProbeApp(WritesMarkup())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await probe_screen(app, pilot)
        await wait_for(pilot, answered(screen), 10)
        await pilot.press("f")
        await wait_for(pilot, lambda: not screen.query_one("#free-text-box").running, 10)
        await pilot.pause(0.2)
        shown = screen_text(app)
        assert "E[x] is [bold]not bold[/bold] and 你好。" in shown and "\x1b" not in shown
        await pilot.press("a")
        await pilot.pause(0.2)
        await pilot.press("s")
        await pilot.pause(0.2)
        assert "sorted by E[x]" in screen_text(app)


@pytest.mark.parametrize("width", [34, 35, 20, 21])
async def test_a_chinese_full_stop_never_wraps_onto_a_line_of_its_own(width):
    from textual.app import App

    from probe_tui.widgets.script import ScriptText

    text = "工作更努力的人理应最终得到更多的钱。"  # 18 characters, 36 cells

    class OneText(App):
        CSS = f"ScriptText {{ width: {width}; }}"

        def compose(self):
            yield ScriptText(text)

    app = OneText()
    async with app.run_test(size=(60, 10)) as pilot:
        await pilot.pause()
        lines = [line.rstrip() for line in screen_text(app).splitlines() if line.strip()]
        assert "".join(lines) == text
        assert not any(line.startswith("。") for line in lines)
