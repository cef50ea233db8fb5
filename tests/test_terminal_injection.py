"""#21.10: text from outside (streamed model output, persona files, model file names, server errors)
reaches the screen inertly: no escape sequence or control character is drawn, markup in it is shown
as written, and a right-to-left override is shown as a visible code instead of reordering the line."""

import re

from probe_tui.app import ProbeApp as _ProbeApp
from probe_tui.backends.base import Generation
from probe_tui.core.errors import ProbeError
from probe_tui.core.store import SessionStore
from scripted import ScriptedBackend
from test_app import answered, probe_screen, wait_for

HOSTILE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
RLO = "\u202e"


def ProbeApp(backend, **kwargs):  # noqa: N802 - a store of its own for each test
    return _ProbeApp(backend, session="test", store=SessionStore(":memory:"), **kwargs)


def screen_text(app) -> str:
    """What the terminal is sent for the screen, as text, plus the segments' own text (styles aside)."""
    return "\n".join("".join(segment.text for segment in strip) for strip in app.screen._compositor.render_strips())


def assert_inert(shown: str) -> None:
    assert not HOSTILE.search(shown), repr(HOSTILE.search(shown).group())


class StreamsEscapes(ScriptedBackend):
    def generate(self, prompt, on_text, cancel, max_tokens=256, pause=0.0):
        pieces = ["before ", "\x1b[2J\x1b]0;PWNED\x07", " after ", f"{RLO}txet desrever"]
        for piece in pieces:
            on_text(piece)
        return Generation("".join(pieces), "stop")


async def test_a_streamed_piece_with_escape_sequences_is_drawn_inertly():
    app = ProbeApp(StreamsEscapes())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await probe_screen(app, pilot)
        await wait_for(pilot, answered(screen), 10)
        await pilot.press("f")
        await wait_for(pilot, lambda: not screen.query_one("#free-text-box").running, 10)
        await pilot.pause(0.2)
        shown = screen_text(app)
        assert_inert(shown)
        assert "before  after" in shown and "PWNED" not in shown
        assert "\\u202etxet desrever" in shown  # the override, as a visible code


async def test_a_persona_with_an_osc_sequence_in_its_name_and_text_is_drawn_inertly(tmp_path, monkeypatch):
    monkeypatch.setattr("probe_tui.core.personas.user_personas_dir", lambda: tmp_path)
    (tmp_path / "evil.yaml").write_text(
        'personas:\n  evil:\n    name: {en: "Evil\\e]0;PWNED\\a persona \\u202eeman"}\n'
        '    text: "Answer\\e]0;PWNED\\a as \\e]8;;http://x\\e\\\\link\\e]8;;\\e\\\\ evil."\n', encoding="utf-8")
    app = ProbeApp(ScriptedBackend())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await probe_screen(app, pilot)
        await wait_for(pilot, answered(screen), 10)
        await pilot.press("p")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "PersonaPicker", 10)
        await pilot.pause(0.2)
        shown = screen_text(app)
        assert_inert(shown)
        assert "Evil persona \\u202eeman" in shown and "PWNED" not in shown
        picker = app.screen
        options = picker.query_one("#persona-options")
        options.highlighted = list(picker.personas).index("evil")
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.persona == "evil", 10)
        await wait_for(pilot, answered(screen), 10)
        await pilot.press("a")  # the answer details show the prompt, with the persona's text
        await pilot.pause(0.3)
        shown = screen_text(app)
        assert_inert(shown)
        assert "PWNED" not in shown


async def test_a_model_file_with_an_osc_sequence_in_its_name_is_drawn_inertly(tmp_path, monkeypatch):
    monkeypatch.setenv("PROBE_TUI_MODELS", str(tmp_path))
    (tmp_path / "a\x1b]0;X\x07b.gguf").write_bytes(b"GGUF" + b"\0" * 60)
    (tmp_path / f"c{RLO}fuggg.gguf").write_bytes(b"GGUF" + b"\0" * 60)
    app = ProbeApp(ScriptedBackend())
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await probe_screen(app, pilot)
        await wait_for(pilot, answered(screen), 10)
        await pilot.press("m")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ModelsScreen", 10)
        await pilot.pause(1.0)
        shown = screen_text(app)
        assert_inert(shown)
        assert "ab.gguf" in shown and "c\\u202efuggg.gguf" in shown


class FailsWithMarkup(ScriptedBackend):
    def score(self, prompt):
        raise ProbeError("server said: [/] closing tag, [bold]not bold[/bold] \x1b]0;PWNED\x07 [@click=app.quit]x[/]")


async def test_a_server_error_with_markup_is_shown_as_written_without_a_markup_error():
    app = ProbeApp(FailsWithMarkup())
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await probe_screen(app, pilot)
        await wait_for(pilot, lambda: screen.query_one("#status").has_class("error"), 10)
        await pilot.pause(0.3)
        assert "[/] closing tag, [bold]not bold[/bold]" in str(screen.query_one("#status").render())
        shown = screen_text(app)
        assert_inert(shown)
        assert "[/] closing tag, [bold]not bold[/bold]" in shown.replace("\n", "")  # the notification too
        assert "PWNED" not in shown
    assert app.return_code in (None, 0)


def test_a_server_error_with_escape_sequences_reaches_the_terminal_inertly_from_the_cli(llama_server, tmp_path):
    """The command line printed a server's error message as it came: an OSC sequence in it (which
    retitles the terminal) or a right-to-left override reached the terminal. Each error line now goes
    through the same cleaning as the app's."""
    import subprocess
    import sys

    from loopback import FaultProxy

    proxy = FaultProxy(llama_server.url.removesuffix("/v1"))
    proxy.faults[:] = [("status", 400, {}, {"error": {"message": f"bad \x1b]0;PWNED\x07 request {RLO}txet"}})] * 20
    try:
        done = subprocess.run([sys.executable, "-m", "probe_tui", "run", "--backend", "openai", "--base-url", proxy.url,
                               "--model", "smollm2", "--limit", "1", "--output", str(tmp_path / "out.csv")],
                              capture_output=True, text=True, timeout=300)
    finally:
        proxy.stop()
    assert done.returncode == 2, done.stderr
    assert "request refused at" in done.stderr and "bad  request \\u202etxet" in done.stderr, done.stderr
    assert_inert(done.stderr.replace("\n", " "))
    assert "PWNED" not in done.stderr


def test_probe_tui_models_lists_a_model_file_with_an_osc_sequence_in_its_name_inertly(tmp_path):
    import os
    import subprocess
    import sys

    (tmp_path / "a\x1b]0;X\x07b.gguf").write_bytes(b"GGUF" + b"\0" * 60)
    (tmp_path / f"c{RLO}fuggg.gguf").write_bytes(b"GGUF" + b"\0" * 60)
    done = subprocess.run([sys.executable, "-m", "probe_tui", "models"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PROBE_TUI_MODELS": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert "ab.gguf" in done.stdout and "c\\u202efuggg.gguf" in done.stdout, done.stdout
    assert_inert(done.stdout.replace("\n", " "))
