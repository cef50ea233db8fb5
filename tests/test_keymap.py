"""Key bindings have ids: every binding of the app, its screens and its widgets has one, stable and unique
on its screen, so config.toml's [keymap] can remap it."""

import importlib
import pkgutil
import re

from textual.binding import Binding
from textual.dom import DOMNode

import probe_tui


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
