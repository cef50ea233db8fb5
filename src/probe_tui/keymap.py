"""The key bindings, by id: which exist, which keys they answer to after config.toml's [keymap], and
a check of that keymap (an unknown id or a key Textual does not know is a warning, not a crash).
Binding ids are `area.action`, e.g. "probe.next_item"; Textual applies the keymap (App.set_keymap)."""

from __future__ import annotations

import difflib
import importlib
import pkgutil

from textual.binding import Binding
from textual.dom import DOMNode
from textual.keys import REPLACED_KEYS, Keys, key_to_character

MODIFIERS = {"ctrl", "shift", "alt", "meta", "super", "hyper"}
KEY_NAMES = {key.value for key in Keys} | set(REPLACED_KEYS)
BINDING_PACKAGES = ("probe_tui.screens", "probe_tui.widgets")


def binding_owners(app_class: type) -> list[type[DOMNode]]:
    """The app and every screen and widget class of probe_tui with key bindings of its own (this
    imports every screen: call it off the UI thread)."""
    owners: list[type[DOMNode]] = [app_class]
    for package_name in BINDING_PACKAGES:
        package = importlib.import_module(package_name)
        for module_info in pkgutil.iter_modules(package.__path__, f"{package_name}."):
            module = importlib.import_module(module_info.name)
            owners += [value for value in vars(module).values()
                       if isinstance(value, type) and issubclass(value, DOMNode)
                       and value.__module__ == module.__name__ and "BINDINGS" in vars(value)]
    return owners


def binding_ids(app_class: type) -> set[str]:
    return {binding.id for owner in binding_owners(app_class) for binding in Binding.make_bindings(owner.BINDINGS) if binding.id}


def is_key(key: str) -> bool:
    """A key as Textual names it: "j", "J", "?", "question_mark", "ctrl+j", "f5", "escape", ..."""
    *modifiers, name = key.strip().split("+")
    return bool(name) and all(modifier in MODIFIERS for modifier in modifiers) and (
        name in KEY_NAMES or key_to_character(name) is not None)


def checked_keymap(keymap: dict[str, str], known_ids: set[str]) -> tuple[dict[str, str], list[str]]:
    """The entries of the keymap that can be used, and one warning for each that cannot."""
    usable, problems = {}, []
    for binding_id, keys in keymap.items():
        bad = [key for key in keys.split(",") if not is_key(key)]
        if binding_id not in known_ids:
            close = difflib.get_close_matches(binding_id, sorted(known_ids), n=1)
            problems.append(f"[keymap] {binding_id!r}: no key binding has this id" + (f" (did you mean {close[0]!r}?)" if close else ""))
        elif bad:
            problems.append(f"[keymap] {binding_id!r}: {bad[0].strip()!r} is not a key (keys look like j, J, ?, ctrl+j, f5, escape)")
        else:
            usable[binding_id] = ",".join(key.strip() for key in keys.split(","))
    return usable, problems


def remapped(bindings: list[Binding], keymap: dict[str, str]) -> list[Binding]:
    """The bindings (one per key, as Binding.make_bindings gives them) with the keymap's keys, in order."""
    result, done = [], set()
    for binding in bindings:
        keys = keymap.get(binding.id) if binding.id else None
        if keys is None:
            result.append(binding)
        elif binding.id not in done:
            done.add(binding.id)
            result += [binding.with_key(key, key_display=None) for key in keys.split(",")]
    return result
