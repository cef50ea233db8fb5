"""Smaller display matters, driven with Pilot on the scripted backend: the theme is remembered between
launches, a second sort on a column reverses it, and Arabic is shaped in the palette and the answers
table."""

import tomllib

from textual.command import CommandList
from textual.widgets import DataTable

from probe_tui.app import ProbeApp
from probe_tui.core.personas import get_persona
from probe_tui.core.settings import settings_file
from probe_tui.core.store import SessionStore
from probe_tui.widgets.script import visual
from scripted import ScriptedBackend
from test_app import answered, probe_screen, wait_for

ARAB = "country:arab-countries"


def new_app(**options):
    return ProbeApp(ScriptedBackend(), store=SessionStore(":memory:"), **options)


async def test_the_theme_is_remembered_between_launches(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    app = new_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await probe_screen(app, pilot)
        assert app.theme != "nord"
        app.theme = "nord"  # as the palette's "theme" command does
        await pilot.pause(0.2)
    assert tomllib.loads(settings_file().read_text())["theme"] == "nord"

    again = new_app()
    async with again.run_test(size=(100, 30)) as pilot:
        await probe_screen(again, pilot)
        assert again.theme == "nord"


async def test_an_unknown_saved_theme_is_refused_with_a_note(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    settings_file().parent.mkdir(parents=True)
    settings_file().write_text('theme = "no-such-theme"\n')
    app = new_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await probe_screen(app, pilot)
        assert app.theme == "textual-dark"  # Textual's default
        assert any("no-such-theme" in str(note.message) for note in app._notifications)


def column_values(table, column):
    index = list(table.columns).index(column)
    return [table.get_row_at(row)[index] for row in range(table.row_count)]


async def header_click(pilot, table, column):
    """A click on the column's header cell."""
    x = sum(c.get_render_width(table) for key, c in table.columns.items() if list(table.columns).index(key) < list(table.columns).index(column))
    await pilot.click(table, offset=(x + 1, 0))
    await pilot.pause(0.1)


async def test_a_second_sort_on_a_column_reverses_it():
    app = new_app()
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await probe_screen(app, pilot)
        for _ in range(4):
            await wait_for(pilot, answered(screen), 10)
            await pilot.press("n")
        await wait_for(pilot, answered(screen), 10)
        await pilot.press("a")
        answers = app.screen
        table = answers.query_one(DataTable)
        await pilot.press("s")
        ascending = column_values(table, "E[x]")
        assert answers.sort_column == "E[x]" and ascending == sorted(ascending) and len(set(ascending)) > 1
        await pilot.press("s")  # the same column again, reversed
        assert answers.sort_column == "E[x]" and column_values(table, "E[x]") == sorted(ascending, reverse=True)
        assert "sorted by E[x] ↓" in str(answers.query_one("#answers-caption").render())
        await pilot.press("s")  # then the next column
        assert answers.sort_column == "valid_mass"

        await header_click(pilot, table, "entropy")
        first = column_values(table, "entropy")
        assert answers.sort_column == "entropy" and first == sorted(first, reverse=True)  # the highest first
        await header_click(pilot, table, "entropy")
        assert column_values(table, "entropy") == sorted(first)
        await header_click(pilot, table, "item")
        await header_click(pilot, table, "item")
        codes = [answer.item.code for answer in screen.session.all_answers()]
        assert [str(code) for code in column_values(table, "item")] == codes[::-1]


async def test_arabic_is_shaped_in_the_answers_table_and_the_palette():
    app = new_app(instrument="vsm2013", language="ar", persona=ARAB)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await probe_screen(app, pilot)
        await wait_for(pilot, answered(screen), 30)
        name = get_persona(ARAB, screen.personas).name_in("ar")
        assert visual(name) != name  # it needs shaping

        await pilot.press("a")
        table = app.screen.query_one(DataTable)
        shown = name if len(name) <= 24 else name[:23] + "…"  # long names are cut to 24 characters
        assert column_values(table, "persona") == [visual(shown)]
        await pilot.press("escape")

        await pilot.press("ctrl+p")
        await pilot.press(*"persona: ")
        await wait_for(pilot, lambda: app.screen.query_one(CommandList).option_count > 3, 10)
        commands = app.screen.query_one(CommandList)
        prompts = [str(commands.get_option_at_index(i).prompt) for i in range(commands.option_count)]
        assert any(visual(name) in prompt for prompt in prompts)
        assert not any(name in prompt for prompt in prompts)  # nothing shown in logical order
