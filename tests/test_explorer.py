"""The explorer's screens and switches, driven by the scripted backend through the Backend protocol;
the free text also on the real embedded model and a real OpenAI-compatible server."""

import threading

from probe_tui.app import ProbeApp
from probe_tui.backends.llama_cpp import LlamaCppBackend
from probe_tui.core.personas import get_persona
from probe_tui.core.session import Condition, prompt_for
from scripted import ScriptedBackend
from test_app import answered, probe_screen, wait_for


async def test_order_check_flags_and_the_change_from_the_previous_condition():
    app = ProbeApp(ScriptedBackend())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await probe_screen(app, pilot)
        await wait_for(pilot, answered(screen), 10)
        await pilot.press("o")
        await wait_for(pilot, lambda: screen.session.order_check_for(screen.item, screen.condition()) is not None, 10)
        check = screen.session.order_check_for(screen.item, screen.condition())
        assert check.options_reversed and check.prompt.anchors == screen.item.scale.anchors_in("en")[::-1]
        flags_text = str(screen.query_one("#flags").render())
        assert ("order-flip" in flags_text) or ("order check: E[x]" in flags_text)

        english = screen.session.answer_for(screen.item, screen.condition())
        await pilot.press("l")
        await wait_for(pilot, answered(screen), 10)
        chinese = screen.session.answer_for(screen.item, screen.condition())
        change = screen.query_one("#change").logical
        assert change.startswith("Change from EN")
        assert f"{english.distribution.expected:.2f} → {chinese.distribution.expected:.2f}" in change


async def test_answers_screen_filters_odd_sorts_and_opens_an_answer():
    app = ProbeApp(ScriptedBackend())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await probe_screen(app, pilot)
        for _ in range(4):
            await wait_for(pilot, answered(screen), 10)
            await pilot.press("n")
        await wait_for(pilot, answered(screen), 10)
        await pilot.press("l")
        await wait_for(pilot, answered(screen), 10)
        answers = screen.session.all_answers()
        assert len(answers) == 6

        await pilot.press("a")
        answers_screen = app.screen
        table = answers_screen.query_one("DataTable")
        assert table.row_count == 6
        odd = [a for a in answers if screen.session.flags_for(a)]
        await pilot.press("f")
        assert table.row_count == len(odd)
        await pilot.press("f")
        await pilot.press("s")  # sort by E[x]
        assert answers_screen.sort_column == "E[x]"
        values = [table.get_row_at(row)[4] for row in range(table.row_count)]
        assert values == sorted(values)

        # open the first row: the probe screen moves to that item and condition
        first = answers_screen.rows[table.coordinate_to_cell_key((0, 0)).row_key.value]
        await pilot.press("enter")
        assert app.screen is screen
        assert screen.item is first.item and screen.condition() == first.condition


async def test_free_text_streams_and_escape_cancels_it():
    backend = ScriptedBackend()
    backend.pause = 0.3
    app = ProbeApp(backend)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await probe_screen(app, pilot)
        await wait_for(pilot, lambda: screen.model_ready, 10)
        await pilot.press("f")
        await wait_for(pilot, lambda: screen.free_text.count(" ") >= 1, 10)
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen.free_text_cancel is None, 10)
        text = screen.query_one("#free-text").logical
        assert "cancelled" in text and screen.free_text.startswith("Scripted free text")
        assert not screen.free_text.endswith("word by word.")  # it stopped before the end

        backend.pause = 0.0
        await pilot.press("f")
        await wait_for(pilot, lambda: screen.free_text_cancel is None, 10)
        assert screen.free_text.endswith("word by word.") and "the model ended its answer" in screen.query_one("#free-text").logical
        await pilot.press("n")  # another item: the old free text goes away
        assert not screen.query_one("#free-text-box").has_class("shown")


def _prompt(backend, mfq2, personas):
    condition = Condition(backend.identity, "mfq2", "en", "none")
    return prompt_for(backend, mfq2, mfq2.items[0], condition, get_persona("none", personas))


def test_free_text_from_the_real_model_is_greedy_and_cancellable(smollm2_path, mfq2, personas):
    backend = LlamaCppBackend(smollm2_path, n_ctx=2048)
    backend.start()
    try:
        prompt = _prompt(backend, mfq2, personas)
        pieces = []
        first = backend.generate(prompt, pieces.append, threading.Event(), max_tokens=24)
        assert first.text == "".join(pieces) and first.text.strip() and first.finish in ("stop", "length")
        again = backend.generate(prompt, lambda piece: None, threading.Event(), max_tokens=24)
        assert again.text == first.text  # greedy: the same words each time

        cancel = threading.Event()
        cancelled = backend.generate(prompt, lambda piece: cancel.set(), cancel, max_tokens=200)
        assert cancelled.finish == "cancelled" and len(cancelled.text) < len(first.text) + 200
        # the worker is still in step: it scores normally afterwards
        assert set(backend.score(prompt).logprobs) == set(prompt.labels)
    finally:
        backend.close()


def test_free_text_streams_from_a_real_openai_compatible_server(llama_server, mfq2, personas):
    from probe_tui.backends.remote import EndpointConfig, make_remote_backend

    backend = make_remote_backend(EndpointConfig(kind="openai", base_url=llama_server.url, model="smollm2"))
    backend.start()
    try:
        prompt = _prompt(backend, mfq2, personas)
        pieces = []
        result = backend.generate(prompt, pieces.append, threading.Event(), max_tokens=24)
        assert len(pieces) > 1 and result.text == "".join(pieces) and result.finish in ("stop", "length")
        cancel = threading.Event()
        stopped = backend.generate(prompt, lambda piece: cancel.set(), cancel, max_tokens=200)
        assert stopped.finish == "cancelled" and stopped.text == pieces[0]  # greedy: the same first piece
    finally:
        backend.close()
