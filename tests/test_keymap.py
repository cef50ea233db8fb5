"""Key bindings have ids: every binding of the app, its screens and its widgets has one, stable and unique
on its screen, so config.toml's [keymap] can remap it; the help card shows the remapped keys, and the
README's key table is the one scripts/keys_table.py prints from the bindings."""

import importlib
import pkgutil
import re
import runpy
from pathlib import Path

from textual.binding import Binding
from textual.dom import DOMNode

import probe_tui

ROOT = Path(__file__).resolve().parents[1]


def binding_owners() -> dict[str, type]:
    """Every class in probe_tui with BINDINGS of its own, by qualified name."""
    owners = {}
    for module_info in pkgutil.walk_packages(probe_tui.__path__, "probe_tui."):
        if module_info.name.endswith(".__main__"):
            continue  # running it would start the CLI
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, DOMNode) and value.__module__ == module.__name__ \
                    and "BINDINGS" in vars(value):
                owners[f"{value.__module__}.{value.__qualname__}"] = value
    return owners


def test_every_binding_has_a_stable_id_unique_on_its_screen():
    owners = binding_owners()
    assert {"probe_tui.app.ProbeApp", "probe_tui.screens.probe.ProbeScreen", "probe_tui.widgets.confirm.Confirm"} <= set(owners)
    action_of = {}
    for name, owner in owners.items():
        bindings = [b for b in owner.BINDINGS if isinstance(b, Binding)]
        assert len(bindings) == len(owner.BINDINGS), f"{name}: a binding written as a tuple has no id"
        ids = [b.id for b in bindings]
        assert all(ids), f"{name}: a binding without an id: {[b.key for b in bindings if not b.id]}"
        assert len(set(ids)) == len(ids), f"{name}: an id used twice: {ids}"
        for binding in bindings:
            assert re.fullmatch(r"[a-z_]+\.[a-z_]+", binding.id), binding.id
            assert action_of.setdefault(binding.id, binding.action) == binding.action, f"{binding.id} names two actions"


def test_the_keymap_module_knows_every_binding():
    """keymap.binding_ids (which config.toml's [keymap] is checked against) finds every binding there is."""
    from probe_tui.app import DemoApp, ProbeApp
    from probe_tui.keymap import binding_ids

    everywhere = {binding.id for owner in binding_owners().values() for binding in owner.BINDINGS}
    assert binding_ids(ProbeApp) | binding_ids(DemoApp) == everywhere


def test_keys_are_checked_as_textual_names_them():
    from probe_tui.keymap import is_key

    for key in ("j", "J", "?", "question_mark", "right_square_bracket", "minus", "ctrl+j", "shift+tab", "f5", "escape", "enter", "space"):
        assert is_key(key), key
    for key in ("", "jj", "ctrl+", "bogus", "ctl+j", "f99"):
        assert not is_key(key), key


def test_a_keymap_entry_is_used_or_refused_with_a_reason():
    from probe_tui.keymap import checked_keymap

    known = {"probe.next_item", "probe.gauge"}
    usable, problems = checked_keymap({"probe.next_item": "j, down", "probe.nxt_item": "k", "probe.gauge": "ctrl+bogus"}, known)
    assert usable == {"probe.next_item": "j,down"}
    assert problems == ["[keymap] 'probe.nxt_item': no key binding has this id (did you mean 'probe.next_item'?)",
                        "[keymap] 'probe.gauge': 'ctrl+bogus' is not a key (keys look like j, J, ?, ctrl+j, f5, escape)"]


async def test_config_toml_remaps_a_key_and_warns_of_the_rest(tmp_path, monkeypatch):
    """[keymap] in config.toml: j steps to the next item instead of n, the help card shows j, and an
    unknown id and a bad key are each one warning; the app runs on."""
    from probe_tui.app import ProbeApp
    from probe_tui.core.store import SessionStore
    from scripted import ScriptedBackend
    from test_app import answered, probe_screen, wait_for

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "probe-tui").mkdir()
    (tmp_path / "probe-tui" / "config.toml").write_text(
        '[keymap]\n"probe.next_item" = "j"\n"probe.no_such_thing" = "x"\n"probe.gauge" = "ctrl+bogus"\n', encoding="utf-8")
    app = ProbeApp(ScriptedBackend(), store=SessionStore(":memory:"))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await probe_screen(app, pilot)
        first = screen.item
        await pilot.press("n")
        await pilot.pause(0.1)
        assert screen.item is first  # n is not bound any more
        await pilot.press("j")
        await wait_for(pilot, lambda: screen.item is not first, 5)
        assert screen.item is screen.instrument.items[1]
        await wait_for(pilot, answered(screen), 10)
        notes = [str(note.message) for note in app._notifications]
        assert any("'probe.no_such_thing': no key binding has this id" in note for note in notes), notes
        assert any("'ctrl+bogus' is not a key" in note for note in notes), notes
        await pilot.press("g")  # the gauge keeps its own key, g
        await wait_for(pilot, lambda: type(app.screen).__name__ == "GaugeScreen", 5)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, 5)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HelpScreen", 5)
        help_card = app.screen.query_one("Markdown").source
        assert "- `j` **Next**" in help_card and "`n` **Next**" not in help_card


def readme_key_table() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("| key | action |")
    return readme[start:readme.index("\n\n", start)] + "\n"


def keys_table_script():
    return runpy.run_path(str(ROOT / "scripts" / "keys_table.py"))


def test_the_readme_key_table_is_the_one_the_bindings_give():
    """One source for the keys: scripts/keys_table.py prints the table from the bindings."""
    script = keys_table_script()
    assert readme_key_table() == script["key_table"](), "run: python scripts/keys_table.py, and paste its table into README.md"


def test_the_readme_key_table_names_every_key_of_the_probe_screen():
    from probe_tui.app import ProbeApp
    from probe_tui.screens.probe import ProbeScreen

    script = keys_table_script()
    named = {binding_id for ids, text in script["ROWS"] for binding_id in ids} | \
        {match for _, text in script["ROWS"] for match in re.findall(r"\{([a-z_.]+)\}", text)}
    assert {binding.id for binding in [*ProbeScreen.BINDINGS, *ProbeApp.BINDINGS]} <= named
