"""Drive the real app on the real embedded model with Textual's Pilot."""

import time

import pytest

from probe_tui.app import ProbeApp
from probe_tui.backends.llama_cpp import LlamaCppBackend
from probe_tui.widgets.distribution import DistributionView
from probe_tui.widgets.gauge import GaugeView


async def wait_for(pilot, predicate, timeout=120.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.05)


async def probe_screen(app, pilot):
    """The probe screen, once the app has swapped it in for its start screen."""
    await wait_for(pilot, lambda: type(app.screen).__name__ == "ProbeScreen", 30)
    return app.screen


def answered(screen):
    condition = screen.condition()
    return lambda: screen.session.answer_for(screen.item, condition) is not None and screen.in_flight is None



async def test_probe_three_items_switch_language_and_persona(smollm2_path):
    backend = LlamaCppBackend(smollm2_path, n_ctx=2048)
    app = ProbeApp(backend)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await probe_screen(app, pilot)
        await wait_for(pilot, answered(screen))
        distribution = screen.query_one(DistributionView).distribution
        assert distribution is not None and sum(distribution.probs.values()) == pytest.approx(1.0)
        assert "Looking after people who have been through suffering" in str(screen.query_one("#item-text").render())
        gauge = screen.query_one(GaugeView)
        readings = [gauge.reading]
        for _ in range(2):
            await pilot.press("n")
            await wait_for(pilot, answered(screen))
            readings.append(gauge.reading)
        assert screen.index == 2
        assert [r.items_answered for r in readings] == [1, 2, 3]
        assert readings[1].model_means != readings[0].model_means or readings[1].fits != readings[0].fits

        await pilot.press("l")
        assert screen.language == "zh"
        await wait_for(pilot, answered(screen))
        assert "工作更努力的人理应最终得到更多的钱" in str(screen.query_one("#item-text").render())
        zh_answer = screen.session.answer_for(screen.item, screen.condition())
        assert "请只回复一个从1到5的数字" in zh_answer.prompt.text
        assert gauge.reading.items_answered == 1  # a new condition starts its own gauge

        await pilot.press("p")
        await pilot.pause()
        await pilot.press("down", "down", "enter")  # none -> us_average -> cn_average
        await pilot.pause()
        assert screen.persona == "cn_average"
        await wait_for(pilot, answered(screen))
        persona_answer = screen.session.answer_for(screen.item, screen.condition())
        assert "请以一位来自中国的普通人的身份来回答。" in persona_answer.prompt.text
        assert "一位来自中国的普通人" in str(screen.query_one("#item-header").render())
        assert persona_answer.distribution.probs != zh_answer.distribution.probs

        await pilot.press("b")
        assert screen.index == 1
        await pilot.press("t")
        assert screen.query_one("#prompt-box").has_class("shown")
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "HelpScreen"
        await pilot.press("escape")
        await pilot.press("q")
    assert backend._process is None  # the worker was shut down


async def test_keys_answer_while_the_model_loads(smollm2_path):
    """The UI thread never waits on the model: keys act while loading is still under way."""
    backend = LlamaCppBackend(smollm2_path, n_ctx=2048)
    app = ProbeApp(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await probe_screen(app, pilot)
        await pilot.press("n", "n", "l")
        assert screen.index == 2 and screen.language == "zh"
        await wait_for(pilot, answered(screen))
        assert screen.session.answer_for(screen.item, screen.condition()).condition.language == "zh"


async def test_missing_model_shows_an_error_and_keeps_running(tmp_path):
    backend = LlamaCppBackend(tmp_path / "absent.gguf")
    app = ProbeApp(backend)
    async with app.run_test() as pilot:
        screen = await probe_screen(app, pilot)
        await wait_for(pilot, lambda: screen.query_one("#status").has_class("error"))
        assert "model file not found" in str(screen.query_one("#status").render())
        await pilot.press("n")
        assert screen.index == 1


async def test_probe_against_a_remote_server(llama_server):
    from probe_tui.backends.remote import EndpointConfig, make_remote_backend

    backend = make_remote_backend(EndpointConfig(kind="openai", base_url=llama_server.url, model="smollm2"))
    app = ProbeApp(backend)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await probe_screen(app, pilot)
        await wait_for(pilot, answered(screen))
        distribution = screen.query_one(DistributionView).distribution
        assert distribution.method.startswith("logprobs")
        assert sum(distribution.probs.values()) == pytest.approx(1.0)
        assert app.sub_title == f"smollm2 · chat API · session {app.session_name}"
        await pilot.press("l")
        await wait_for(pilot, answered(screen))
        answer = screen.session.answer_for(screen.item, screen.condition())
        assert answer.condition.model == f"{llama_server.url}#smollm2"
        assert '"content": "下面这句话' in answer.prompt.text  # the exact messages sent
