"""SVG snapshots of the main screens (pytest-textual-snapshot), driven by the scripted backend through
the Backend protocol so every figure on them is the same on every run. Update after a deliberate
change of layout with: python -m pytest tests/test_snapshots.py --snapshot-update"""

import pytest

from probe_tui.app import ProbeApp as _ProbeApp
from probe_tui.core.store import SessionStore
from scripted import ScriptedBackend


def ProbeApp(backend):  # noqa: N802 - a fixed session name and a store of its own: the same picture every run
    return _ProbeApp(backend, session="snapshot", store=SessionStore(":memory:"))
from test_app import answered, probe_screen, wait_for


@pytest.fixture(autouse=True)
def own_config(tmp_path, monkeypatch):
    """No theme or keymap that an earlier test left in the config directory changes the picture."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def after(*steps):
    """run_before: wait for the probe screen's first answer, then press each key, letting every answer
    and view settle before the next."""

    async def run_before(pilot):
        screen = await probe_screen(pilot.app, pilot)
        await wait_for(pilot, answered(screen), 10)
        for key in steps:
            await pilot.press(key)
            await pilot.pause(0.2)
            await wait_for(pilot, lambda: screen.in_flight is None and not screen.query_one("#free-text-box").running, 10)
            if pilot.app.screen is screen:
                await wait_for(pilot, answered(screen), 10)
        await pilot.pause(0.3)

    return run_before


def test_probe_screen_at_80_by_24(snap_compare):
    assert snap_compare(ProbeApp(ScriptedBackend()), run_before=after(), terminal_size=(80, 24))


def test_probe_screen_after_a_language_switch_order_check_and_free_text(snap_compare):
    assert snap_compare(ProbeApp(ScriptedBackend()), run_before=after("n", "l", "o", "f"), terminal_size=(120, 40))


def test_answers_screen(snap_compare):
    assert snap_compare(ProbeApp(ScriptedBackend()), run_before=after("n", "n", "l", "a"), terminal_size=(100, 30))


def test_compare_screen(snap_compare):
    async def settle(pilot):
        await after("v")(pilot)
        compare = pilot.app.screen
        probe = compare.probe
        await wait_for(pilot, lambda: all(probe.session.answer_for(probe.item, c) for c in (compare.condition_a, compare.condition_b)), 10)
        await pilot.pause(0.3)

    assert snap_compare(ProbeApp(ScriptedBackend()), run_before=settle, terminal_size=(100, 30))


def test_help_screen(snap_compare, monkeypatch):
    from pathlib import Path

    monkeypatch.setattr("probe_tui.core.paths.log_file", lambda: Path("~/.local/state/probe-tui/log/probe-tui.log"))
    assert snap_compare(ProbeApp(ScriptedBackend()), run_before=after("question_mark"), terminal_size=(100, 40))


def test_gauge_screen(snap_compare):
    assert snap_compare(ProbeApp(ScriptedBackend()), run_before=after("n", "n", "n", "l", "g"), terminal_size=(100, 50))
