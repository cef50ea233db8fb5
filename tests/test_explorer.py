"""The explorer's screens and switches, driven by the scripted backend through the Backend protocol;
the free text also on the real embedded model and a real OpenAI-compatible server."""

import threading

from probe_tui.app import ProbeApp
from probe_tui.backends.llama_cpp import LlamaCppBackend
from probe_tui.core.personas import get_persona
from probe_tui.core.session import Condition, prompt_for
from scripted import ScriptedBackend
from test_app import answered, probe_screen, wait_for
from test_countries_view import plain


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
        await wait_for(pilot, lambda: screen.query_one("#free-text-box").text.count(" ") >= 1, 10)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not screen.query_one("#free-text-box").running, 10)
        text = screen.query_one("#free-text").logical
        assert "cancelled" in text and screen.query_one("#free-text-box").text.startswith("Scripted free text")
        assert not screen.query_one("#free-text-box").text.endswith("word by word.")  # it stopped before the end

        backend.pause = 0.0
        await pilot.press("f")
        await wait_for(pilot, lambda: not screen.query_one("#free-text-box").running, 10)
        assert screen.query_one("#free-text-box").text.endswith("word by word.") and "the model ended its answer" in screen.query_one("#free-text").logical
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


async def test_command_palette_switches_language_and_opens_views():
    app = ProbeApp(ScriptedBackend())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await probe_screen(app, pilot)
        await wait_for(pilot, answered(screen), 10)
        await pilot.press("ctrl+p")
        await pilot.press(*"language: zh")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.language == "zh", 10)
        await pilot.press("ctrl+p")
        await pilot.press(*"view: answers")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "AnswersScreen", 10)


async def test_compare_keeps_both_sides_in_step_and_shows_the_difference():
    from probe_tui.core.compare import difference

    app = ProbeApp(ScriptedBackend())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await probe_screen(app, pilot)
        await wait_for(pilot, answered(screen), 10)
        await pilot.press("v")
        compare = app.screen
        assert compare.condition_a.language == "en" and compare.condition_b.language == "zh"

        def both_answered():
            return all(screen.session.answer_for(screen.item, c) for c in (compare.condition_a, compare.condition_b))

        await wait_for(pilot, both_answered, 10)
        a, b = (screen.session.answer_for(screen.item, c) for c in (compare.condition_a, compare.condition_b))
        assert str(compare.query_one("#difference").render()) == difference(a, b).describe(a, b)
        await pilot.press("n")
        assert screen.index == 1
        await wait_for(pilot, both_answered, 10)
        await pilot.press("l")  # B: EN → ZH → FR
        assert compare.condition_b.language == "fr"
        await wait_for(pilot, both_answered, 10)
        await pilot.press("x")
        assert compare.condition_a.language == "fr" and compare.condition_b.language == "en"
        await pilot.press("escape")
        assert app.screen is screen and screen.index == 1


async def test_models_view_lists_the_embedded_models_and_loads_one(smollm2_path):
    app = ProbeApp(ScriptedBackend())
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await probe_screen(app, pilot)
        await wait_for(pilot, answered(screen), 10)
        scripted_answer = screen.session.answer_for(screen.item, screen.condition())
        await pilot.press("m")
        models = app.screen
        table = models.query_one("DataTable")
        assert {"embedded:smollm2-135m-instruct", "embedded:gemma3-270m"} <= set(models.choices)
        row = lambda key: [str(cell) for cell in table.get_row(key)]  # noqa: E731
        await wait_for(pilot, lambda: row("embedded:gemma3-270m")[3] != "…", 30)
        assert row("embedded:smollm2-135m-instruct")[3:8] == ["98 MB", "Q4_1", "8,192", "30", "yes"]
        assert row("embedded:gemma3-270m")[4] == "Q4_K_M" and row("embedded:gemma3-270m")[7] == "no (base model)"

        table.move_cursor(row=table.get_row_index("embedded:smollm2-135m-instruct"))
        await pilot.press("enter")
        assert app.screen is screen
        await wait_for(pilot, lambda: screen.model_ready and getattr(screen.backend, "model_path", None) == smollm2_path, 60)
        await wait_for(pilot, answered(screen), 60)
        real_answer = screen.session.answer_for(screen.item, screen.condition())
        assert real_answer.distribution.method == "logprobs" and scripted_answer.distribution.method == "scripted"
        assert screen.session.answer_for(screen.item, scripted_answer.condition) is scripted_answer  # nothing lost
        assert app.backend is screen.backend


async def test_gauge_screen_keeps_a_track_per_condition_and_ranks_with_intervals():
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
        await wait_for(pilot, lambda: len(gauge.tracks()) == 2, 10)  # read in a worker
        assert gauge.selected == screen.condition()
        await pilot.press("t")
        english = gauge.selected
        assert english.language == "en"
        ranking = screen.session.engine.ranking_with_intervals(english)
        assert list(ranking["country"]) == list(screen.session.engine.ranking(english)["country"])
        top = ranking.iloc[0]
        assert top.low <= top.rmse <= top.high and top.high > top.low  # six items: a real interval
        await wait_for(pilot, lambda: "resamples…" not in plain(gauge.query_one("#ranking").content), 10)  # ranked in a worker
        shown = plain(gauge.query_one("#ranking").content)
        assert f"{top.low:.2f}–{top.high:.2f}" in shown and top.country in shown
        assert "▶ EN" in plain(gauge.query_one("#tracks").content)


async def test_country_pairs_view_answers_all_eight_variants_and_charts_them():
    import pandas as pd

    from probe_tui.core.metrics import favourability, pair_matrix
    from probe_tui.core.instruments.pairs import pairs_from_run
    from probe_tui.core.rows import answer_row

    app = ProbeApp(ScriptedBackend(), instrument="country-pairs")
    async with app.run_test(size=(120, 60)) as pilot:
        await wait_for(pilot, lambda: type(app.screen).__name__ == "CountryPairsScreen", 30)
        screen = app.screen

        def answered_here():
            return not screen._missing(screen.current_items()) and not screen.asking

        await wait_for(pilot, answered_here, 10)
        assert len(screen.current_items()) == 8  # 2 initiators × 2 polarities × 2 option orders
        table = plain(screen.query_one("#pair-table").content)
        first = screen.session.answer_for(screen.current_items()[0], screen.condition()).distribution
        assert f"{first.probs['A']:.2f} / {first.probs['B']:.2f}" in table

        await pilot.press("s")  # sweep on through the pairs
        await wait_for(pilot, lambda: screen.pair_index >= 3, 20)
        await pilot.press("s")
        await wait_for(pilot, lambda: not screen.asking and not screen.charts_busy, 10)  # the charts are computed in a worker
        assert not screen.sweeping.is_set()
        answers = [a for a in screen.session.all_answers() if a.condition == screen.condition()]
        assert len(answers) % 8 == 0 and len(answers) >= 32
        balanced = pairs_from_run(pd.DataFrame([answer_row(a) for a in answers]))
        combined = favourability(balanced).query("question == 'combined'")
        chart = plain(screen.query_one("#favourability").content)
        usa = combined.set_index("country").loc["USA", "value"]
        assert f"{usa:+.2f}" in chart
        matrix = pair_matrix(balanced, ["USA", "China", "France", "Japan", "Venezuela", "Canada", "Australia", "Indonesia"])
        assert matrix.loc["USA", "China"] == -matrix.loc["China", "USA"]
        assert f"{matrix.loc['USA', 'China']:+.1f}" in plain(screen.query_one("#heat-map").content)


async def test_persona_composer_builds_a_subgroup_and_saves_a_custom_persona(tmp_path, monkeypatch):
    from textual.widgets import Input, Select

    from probe_tui.core.personas import load_persona_bank

    monkeypatch.setattr("probe_tui.core.personas.user_personas_dir", lambda: tmp_path)

    app = ProbeApp(ScriptedBackend())
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await probe_screen(app, pilot)
        await wait_for(pilot, answered(screen), 10)
        await pilot.press("p", "end", "enter")  # the picker's last option: compose
        composer = app.screen
        composer.query_one("#attribute-country", Select).value = "singapore"
        composer.query_one("#attribute-ethnicity", Select).value = "malay"
        await pilot.pause(0.1)
        assert "Singapore" in str(composer.query_one("#preview").render())
        await pilot.click("#use-subgroup")
        await wait_for(pilot, lambda: screen.persona == "subgroup:country=singapore,ethnicity=malay", 10)
        await wait_for(pilot, answered(screen), 10)
        prompt = screen.session.answer_for(screen.item, screen.condition()).prompt.text
        assert "Ethnicity: Malay" in prompt and "Country: Singapore" in prompt

        await pilot.press("p", "end", "enter")
        composer = app.screen
        composer.query_one("#custom-name", Input).value = "Retired farmer"
        composer.query_one("#custom-text", Input).value = "Answer as a retired farmer from Normandy would answer."
        await pilot.click("#save-custom")
        await wait_for(pilot, lambda: screen.persona == "retired_farmer", 10)
        await wait_for(pilot, answered(screen), 10)
        assert "retired farmer from Normandy" in screen.session.answer_for(screen.item, screen.condition()).prompt.text
        saved = load_persona_bank(tmp_path).personas["retired_farmer"]  # there for the next session
        assert saved.text_in("zh") == "Answer as a retired farmer from Normandy would answer."


async def test_instrument_picker_switches_and_keeps_each_instruments_answers():
    backend = ScriptedBackend()
    app = ProbeApp(backend)
    async with app.run_test(size=(120, 40)) as pilot:
        mfq = await probe_screen(app, pilot)
        await wait_for(pilot, answered(mfq), 10)
        first = mfq.session.all_answers()
        await pilot.press("i")
        picker = app.screen
        picker.query_one("OptionList").highlighted = picker.keys.index("wvs")
        await pilot.press("enter")
        await wait_for(pilot, lambda: getattr(app.screen, "instrument", None) is not None and app.screen.instrument.key == "wvs", 10)
        wvs = app.screen
        await wait_for(pilot, answered(wvs), 10)
        assert wvs.session.all_answers()[0].item.scale.labels[-1] == "10"
        await pilot.press("i")
        app.screen.query_one("OptionList").highlighted = app.screen.keys.index("country-pairs")
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "CountryPairsScreen", 10)
        await pilot.press("i")
        app.screen.query_one("OptionList").highlighted = app.screen.keys.index("mfq2")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is mfq, 10)
        assert mfq.session.all_answers() == first  # nothing lost
        assert backend.starts == 1  # one model, started once, shared by every instrument


async def test_compare_base_and_chat_models_side_by_side(smollm2_path, gemma_path):
    """The real SmolLM2 (chat) as A and the real Gemma-3-270M (base) as B on the same item."""
    app = ProbeApp(LlamaCppBackend(smollm2_path, n_ctx=2048))
    async with app.run_test(size=(140, 50)) as pilot:
        screen = await probe_screen(app, pilot)
        await wait_for(pilot, answered(screen), 60)
        await pilot.press("v")
        compare = app.screen
        compare.condition_b = compare.condition_a  # same language and persona: only the model differs
        await pilot.press("m")
        models = app.screen
        table = models.query_one("DataTable")
        table.move_cursor(row=table.get_row_index("embedded:gemma3-270m"))
        await pilot.press("enter")
        assert app.screen is compare and compare.condition_b.model.startswith(f"{gemma_path.name}@sha256:")
        b = lambda: screen.session.answer_for(screen.item, compare.condition_b)  # noqa: E731
        await wait_for(pilot, lambda: b() is not None, 120)
        a = screen.session.answer_for(screen.item, compare.condition_a)
        assert a.prompt.style == "chat" and b().prompt.style == "completion"
        assert b().distribution.method == "logprobs" and b().distribution.probs != a.distribution.probs
        assert "gemma" in compare.query_one("#title-b").logical.lower()
        assert "B − A: E[x]" in str(compare.query_one("#difference").render())
    # the second model's worker is closed with the app
    assert all(backend._process is None for backend in app.models.held())


async def test_every_palette_command_of_both_screens_can_be_listed():
    from probe_tui.screens.commands import pairs_commands, probe_commands

    app = ProbeApp(ScriptedBackend())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await probe_screen(app, pilot)
        names = [name for name, _, callback in probe_commands(screen) if callable(callback)]
        assert {"picture: gauge (PNG)", "export: parquet", "instrument: choose", "view: compare"} <= set(names)
        app.open_instrument("country-pairs")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "CountryPairsScreen", 10)
        names = [name for name, _, callback in pairs_commands(app.screen) if callable(callback)]
        assert {"picture: heatmap (SVG)", "sweep: start or pause", "export: csv"} <= set(names)
        await wait_for(pilot, lambda: app.screen.model_ready, 10)
        await pilot.pause(0.3)
