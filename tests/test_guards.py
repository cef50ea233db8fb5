"""Races with Textual's teardown (widgets/guards.py): a command palette closed while its search still
runs, and a screen opened as the app quits."""

import pytest
from textual.app import App
from textual.command import CommandList, CommandPalette
from textual.widgets import LoadingIndicator

from probe_tui.app import ProbeApp
from probe_tui.core.store import SessionStore
from probe_tui.widgets import guards
from scripted import ScriptedBackend
from test_app import wait_for

guards.install()


class Bare(App):
    pass


@pytest.mark.parametrize(
    ("removed", "flag", "value"),
    [(CommandList, "_list_visible", True), (LoadingIndicator, "_show_busy", True), (CommandList, "_show_busy", True)],
)
async def test_a_closing_palettes_watchers_do_not_end_the_app(removed, flag, value):
    """A widget taken away as the palette's closing does, then the flag its search worker sets."""
    app = Bare()
    async with app.run_test() as pilot:
        app.action_command_palette()
        await pilot.pause(0.2)
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        await palette.query_one(removed).remove()
        setattr(palette, flag, value)
        await pilot.pause(0.2)
        assert app._exception is None, app._exception
        assert app.is_running


@pytest.mark.parametrize("instrument", ["wvs", "country-pairs"])
async def test_a_screen_opened_as_the_app_quits_does_not_end_it_with_an_error(instrument):
    """ctrl+q at the moment a screen opens (the first one, after the start screen): Textual still
    mounts and resumes the screen, without its widgets. That raised NoMatches at every quit there."""
    app = ProbeApp(ScriptedBackend(), store=SessionStore(":memory:"))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ProbeScreen" and app.screen.model_ready, 30)
        app.exit()
        app.open_instrument(instrument)
        await pilot.pause(0.2)
    assert app._exception is None, app._exception
    assert app.return_code in (None, 0)
