"""Every screen's keys, driven with Pilot on the scripted backend: q quits and Esc goes back
everywhere, each help card lists its own screen's keys, and the country-pair view has the exact
prompt, the answers table and the models view too."""

import re

import pytest
from textual.binding import Binding
from textual.widgets import DataTable, Markdown

from probe_tui.app import ProbeApp
from probe_tui.core.store import SessionStore
from scripted import ScriptedBackend
from test_app import answered, wait_for

# screen: (instrument, keys that open it from the instrument's first screen, the screen's class)
SCREENS = {
    "probe": ("mfq2", (), "ProbeScreen"),
    "gauge": ("mfq2", ("g",), "GaugeScreen"),
    "answers": ("mfq2", ("a",), "AnswersScreen"),
    "compare": ("mfq2", ("v",), "CompareScreen"),
    "models": ("mfq2", ("m",), "ModelsScreen"),
    "help": ("mfq2", ("question_mark",), "HelpScreen"),
    "persona picker": ("mfq2", ("p",), "PersonaPicker"),
    "persona composer": ("mfq2", ("p", "end", "enter"), "PersonaComposer"),
    "instrument picker": ("mfq2", ("i",), "InstrumentPicker"),
    "countries": ("vsm2013", ("c",), "CountriesScreen"),
    "pairs": ("country-pairs", (), "CountryPairsScreen"),
    "pairs answers": ("country-pairs", ("a",), "AnswersScreen"),
    "pairs models": ("country-pairs", ("m",), "ModelsScreen"),
    "pairs help": ("country-pairs", ("question_mark",), "HelpScreen"),
}
FIRST = {"mfq2": "ProbeScreen", "vsm2013": "ProbeScreen", "country-pairs": "CountryPairsScreen"}


def new_app(instrument="mfq2", backend=None):
    return ProbeApp(backend or ScriptedBackend(), instrument=instrument, store=SessionStore(":memory:"))


async def first_screen(app, pilot):
    """The instrument's own screen, once its model is loaded and its first answers are in."""
    await wait_for(pilot, lambda: type(app.screen).__name__ == FIRST[app.instrument.key], 30)
    screen = app.screen
    await wait_for(pilot, lambda: screen.model_ready, 10)
    if hasattr(screen, "in_flight"):
        await wait_for(pilot, answered(screen), 10)
    else:
        await wait_for(pilot, lambda: not screen.asking and not screen._missing(screen.current_items()), 10)
    return screen


async def open_screen(name, app, pilot):
    instrument, keys, class_name = SCREENS[name]
    first = await first_screen(app, pilot)
    for key in keys:
        await pilot.press(key)
        await pilot.pause(0.05)
    await wait_for(pilot, lambda: type(app.screen).__name__ == class_name, 5)
    return first


@pytest.mark.parametrize("name", SCREENS)
async def test_q_quits_from_every_screen(name):
    app = new_app(SCREENS[name][0])
    async with app.run_test(size=(120, 40)) as pilot:
        await open_screen(name, app, pilot)
        await pilot.press("q")
        await wait_for(pilot, lambda: app.return_code is not None, 5)
    assert app.return_code == 0


@pytest.mark.parametrize("name", [name for name, (_, keys, _) in SCREENS.items() if keys])
async def test_escape_goes_back_from_every_screen(name):
    app = new_app(SCREENS[name][0])
    async with app.run_test(size=(120, 40)) as pilot:
        first = await open_screen(name, app, pilot)
        below = app.screen_stack[-2]
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is below, 5)
        assert app.return_code is None
        if below is not first:  # the composer: back to the picker, then to where it started
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is first, 5)


async def test_q_typed_into_a_text_field_is_text():
    app = new_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_screen("persona composer", app, pilot)
        field = app.screen.query_one("#custom-name")
        field.focus()
        await pilot.press("q")
        await pilot.pause(0.1)
        assert field.value == "q" and app.return_code is None


def help_keys(app) -> set[str]:
    """The keys the help card lists, one per line: "- `n` **Next pair**: ..."."""
    source = app.screen.query_one(Markdown).source
    return {key for line in source.splitlines() if line.startswith("- ") for key in re.findall(r"`([^`]+)`", line.split("**")[0])}


async def test_the_pairs_help_lists_the_pairs_keys_and_not_the_probe_screens():
    app = new_app("country-pairs")
    async with app.run_test(size=(120, 40)) as pilot:
        pairs = await open_screen("pairs help", app, pilot)
        keys = help_keys(app)
        assert {"]", "[", "s", "n", "b", "l", "p", "t", "a", "m", "i", "?", "q"} <= keys
        assert not keys & {"g", "o", "v", "f", "c"}  # the probe screen's, which do nothing here
        # every key the screen binds is there: the card is read from its bindings
        assert {app.get_key_display(binding) for binding in Binding.make_bindings(type(pairs).BINDINGS) if binding.description} <= keys
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is pairs, 5)


async def test_the_probe_help_lists_the_probe_keys():
    app = new_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_screen("help", app, pilot)
        keys = help_keys(app)
        assert {"n", "b", "l", "p", "t", "o", "f", "a", "v", "m", "g", "i", "c", "?", "q", "^p"} <= keys
        assert not keys & {"]", "[", "x"}


@pytest.mark.parametrize("name", ["gauge", "answers", "compare", "models", "countries"])
async def test_question_mark_shows_the_help_of_the_screen_it_is_pressed_on(name):
    app = new_app(SCREENS[name][0])
    async with app.run_test(size=(120, 40)) as pilot:
        await open_screen(name, app, pilot)
        screen = app.screen
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HelpScreen", 5)
        assert app.screen.for_screen is screen
        keys = help_keys(app)
        assert {app.get_key_display(binding) for binding in Binding.make_bindings(type(screen).BINDINGS) if binding.description} <= keys
        assert "n" not in keys or name == "compare"  # the probe screen's keys stay out


async def test_the_pairs_view_shows_the_exact_prompts():
    app = new_app("country-pairs")
    async with app.run_test(size=(120, 40)) as pilot:
        pairs = await first_screen(app, pilot)
        box = pairs.query_one("#prompt-box")
        assert not box.has_class("shown")
        await pilot.press("t")
        assert box.has_class("shown")
        shown = pairs.query_one("#prompt-text").logical
        for item in pairs.current_items():
            assert pairs.session.answer_for(item, pairs.condition()).prompt.text in shown
        await pilot.press("t")
        assert not box.has_class("shown")


async def test_the_pairs_answers_table_lists_every_answer_and_opens_one():
    app = new_app("country-pairs")
    async with app.run_test(size=(120, 40)) as pilot:
        pairs = await first_screen(app, pilot)
        first_pair = pairs.pair
        await pilot.press("n")
        await wait_for(pilot, lambda: not pairs.asking and not pairs._missing(pairs.current_items()), 10)
        await pilot.press("a")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "AnswersScreen", 5)
        table = app.screen.query_one(DataTable)
        assert table.row_count == 16  # two pairs × 8 variants
        labels = {str(table.get_row_at(row)[0]) for row in range(table.row_count)}
        assert len(labels) == 16  # each variant told apart
        table.move_cursor(row=0)
        opened = app.screen.rows[table.coordinate_to_cell_key((0, 0)).row_key.value]
        assert opened.item.pair == first_pair
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is pairs, 5)
        assert pairs.pair == first_pair and pairs.scenario.id == opened.item.scenario.id


async def test_the_pairs_view_switches_model_and_keeps_the_answers(smollm2_path):
    app = new_app("country-pairs")
    async with app.run_test(size=(160, 40)) as pilot:
        pairs = await first_screen(app, pilot)
        scripted = pairs.session.all_answers()
        await pilot.press("m")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ModelsScreen", 5)
        table = app.screen.query_one(DataTable)
        table.move_cursor(row=table.get_row_index("embedded:smollm2-135m-instruct"))
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is pairs, 5)
        await wait_for(pilot, lambda: pairs.model_ready and pairs.backend.identity.startswith(f"{smollm2_path.name}@sha256:"), 60)
        await wait_for(pilot, lambda: not pairs.asking and not pairs._missing(pairs.current_items()), 120)
        real = [pairs.session.answer_for(item, pairs.condition()) for item in pairs.current_items()]
        assert all(answer.distribution.method == "logprobs" for answer in real)
        assert app.backend is pairs.backend
        assert all(a in pairs.session.all_answers() for a in scripted)  # nothing lost
        assert scripted[0].distribution.method == "scripted"
