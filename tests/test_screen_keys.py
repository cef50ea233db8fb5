"""Every screen's keys, driven with Pilot on the scripted backend: q quits and Esc goes back
everywhere."""

import pytest

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
