"""#21.18: bursts of 200 random keys (the app's own bindings, plus Escape, Enter, arrows and the
palette) while a slow model loads and while it evaluates: the app never crashes, and ends on a
usable screen from which the probe screen is reachable and still answers."""

import random
import time

import pytest
from textual.binding import Binding

from probe_tui.app import ProbeApp as _ProbeApp
from probe_tui.core.store import SessionStore
from probe_tui.keymap import binding_owners
from scripted import ScriptedBackend
from test_app import answered, wait_for

EXTRA = ["escape", "enter", "up", "down", "left", "right", "pageup", "pagedown", "home", "end", "tab", "ctrl+p"]
QUITTING = {"quit", "app.quit"}


def burst_keys() -> list[str]:
    """Every key of the app's bindings but the ones that quit (the burst is meant to end in the app)."""
    keys = set(EXTRA)
    for owner in binding_owners(_ProbeApp):
        for binding in Binding.make_bindings(owner.BINDINGS):
            if binding.action not in QUITTING and binding.key not in ("ctrl+c", "ctrl+q"):
                keys.update(key.strip() for key in binding.key.split(","))
    return sorted(keys)


class Slow(ScriptedBackend):
    """A model that takes its time to load and to answer."""

    def __init__(self, load: float, answer: float):
        super().__init__()
        self.load, self.answer = load, answer

    def start(self, on_progress=None):
        for step in range(10):
            time.sleep(self.load / 10)
            if on_progress:
                on_progress(step / 10)
        return super().start(on_progress)

    def score(self, prompt):
        time.sleep(self.answer)
        return super().score(prompt)


def send_at_once(app, keys) -> None:
    """Keys as a terminal delivers a burst: all queued before the app has handled the first (Pilot's
    press waits for the app to be idle after each key, which hides the races a burst meets)."""
    import unicodedata

    from textual import events
    from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key

    for key in keys:
        if len(key) == 1 and not key.isalnum():
            key = _character_to_key(key)
        try:
            char = unicodedata.lookup(_get_unicode_name_from_key(REPLACED_KEYS.get(key, key)))
        except KeyError:
            char = key if len(key) == 1 else None
        event = events.Key(key, char)
        event.set_sender(app)
        app._driver.send_message(event)


async def back_to_the_probe_screen(app, pilot):
    for _ in range(12):
        if type(app.screen).__name__ == "ProbeScreen":
            return app.screen
        await pilot.press("escape")
        await pilot.pause(0.1)
    raise AssertionError(f"stuck on {type(app.screen).__name__}")


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("phase", ["load", "evaluation"])
async def test_200_random_keys_during_a_load_or_an_evaluation_do_not_crash_the_app(seed, phase, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # whatever the keys export lands here
    for variable in ("XDG_CONFIG_HOME", "XDG_DATA_HOME"):  # a theme or persona the keys pick stays in this test
        monkeypatch.setenv(variable, str(tmp_path / variable.lower()))
    rng = random.Random(seed)
    keys = burst_keys()
    backend = Slow(load=3.0, answer=0.01) if phase == "load" else Slow(load=0.0, answer=0.4)
    app = _ProbeApp(backend, session="test", store=SessionStore(":memory:"))
    quits = []  # the palette's Quit (Ctrl+P, a few letters, Enter: a burst can pick it) is only counted:
    monkeypatch.setattr(app, "action_quit", lambda: quits.append(1))  # the burst is meant to end in the app
    async with app.run_test(size=(120, 40)) as pilot:
        if phase == "evaluation":
            await wait_for(pilot, lambda: type(app.screen).__name__ == "ProbeScreen", 30)
            await wait_for(pilot, lambda: app.screen.model_ready, 30)
        sent = 0
        while sent < 200:
            group = [rng.choice(keys) for _ in range(min(rng.randint(1, 25), 200 - sent))]
            send_at_once(app, group)
            sent += len(group)
            await pilot.pause(rng.choice([0, 0, 0.02, 0.1]))
            assert app.is_running and app._exception is None, app._exception
        await pilot.pause(0.5)
        assert app._exception is None
        await wait_for(pilot, lambda: type(app.screen).__name__ != "StartScreen" or backend.info is not None, 30)
        screen = await back_to_the_probe_screen(app, pilot)
        await wait_for(pilot, lambda: screen.model_ready, 30)
        await pilot.press("n")
        await wait_for(pilot, answered(screen), 30)
        assert app._exception is None
    assert app.return_code in (None, 0)
