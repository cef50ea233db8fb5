"""The instruments: the protocol (base.py), one module per scoring kind (likert.py, vsm.py,
pairs.py) and the registry, which builds every instrument from its files.

Shipped instruments are assets/items/*.yaml (with further languages in assets/items/languages/);
the user's own files in <user_data_dir>/items/*.yaml are merged over them: they can add items,
languages (with their prompt frame), or whole instruments with their own baseline, or replace the
shipped wording. Each file's `scoring:` names its kind (default: means). A bad user file is
reported and skipped; the others still load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from .. import paths
from ..errors import ItemFileError, ProbeError, unknown_choice
from ..items import FRAME_FIELDS, check_user_file, merge_item_files, read_frames, user_items_dir
from ..yamlfile import line_of, load_yaml
from . import likert, pairs, vsm  # noqa: F401 - each kind registers itself
from .base import KINDS, SCREENS, Instrument, kind_of, register_kind

__all__ = ["KINDS", "SCREENS", "Instrument", "ItemBank", "available_instruments", "get_instrument", "item_bank",
           "kind_of", "load_bank", "load_instrument", "register_kind", "reload", "user_items_dir"]

DEFAULT_SCORING = "means"


@dataclass
class ItemBank:
    instruments: dict[str, Instrument] = field(default_factory=dict)
    frames: dict[str, dict] = field(default_factory=dict)  # language -> prompt frame
    problems: list[str] = field(default_factory=list)  # one line each: file:line:field: problem


def _read(path: Path, known: dict[str, dict]) -> dict:
    """One file, read by the reader of its kind: its own `scoring`, else that of the instrument it
    extends, else the default."""
    head = load_yaml(path)
    extends = known.get(str(head.get("instrument")))
    scoring = head.get("scoring", extends["scoring"] if extends else DEFAULT_SCORING)
    if not isinstance(scoring, str):
        raise ItemFileError(path, line_of(head, "scoring"), "scoring", "expected the name of a scoring kind")
    kind = kind_of(scoring, path, line_of(head, "scoring"))
    if extends and extends["scoring"] != scoring:
        raise ItemFileError(path, line_of(head, "scoring"), "scoring", f"{head['instrument']} is scored by {extends['scoring']}, not {scoring}")
    if extends and not kind.mergeable:
        raise ItemFileError(path, line_of(head), "instrument", f"{head['instrument']} ({scoring}) cannot be extended by another file")
    return {**kind.read_file(path), "scoring": scoring}


def load_bank(user_dir: Path | None = None) -> ItemBank:
    bank = ItemBank()
    bank.frames = read_frames(paths.assets_dir() / "prompts.yaml")
    raw: dict[str, dict] = {}
    for path in sorted(paths.assets_dir().joinpath("items").glob("*.yaml")):
        data = _read(path, raw)  # shipped files must be valid: an error here is a bug
        raw[data["instrument"]] = data
    for path in sorted(paths.assets_dir().joinpath("items", "languages").glob("*.yaml")):
        data = _read(path, raw)  # a shipped translation, merged like a user file
        raw[data["instrument"]] = merge_item_files(raw[data["instrument"]], data)
    user_dir = user_dir if user_dir is not None else user_items_dir()
    for path in sorted(user_dir.glob("*.yaml")) if user_dir.is_dir() else []:
        try:
            data = _read(path, raw)
            if data["instrument"] in raw:
                check_user_file(raw[data["instrument"]], data)
                merged = merge_item_files(raw[data["instrument"]], data)
            else:
                merged = data
            KINDS[merged["scoring"]].from_data(merged, bank.frames).baseline()  # a user file must leave a working instrument
            for lang, frame in data.get("frames", {}).items():
                missing = [name for name in FRAME_FIELDS if name not in {**bank.frames.get(lang, {}), **frame}]
                if missing:
                    raise ItemFileError(path, line_of(load_yaml(path), "frames"), f"frames.{lang}", f"a new language needs {', '.join(missing)}")
        except ProbeError as exc:
            bank.problems.append(str(exc))
            continue
        raw[data["instrument"]] = merged
        bank.frames.update({lang: {**bank.frames.get(lang, {}), **frame} for lang, frame in data.get("frames", {}).items()})
    built = [KINDS[data["scoring"]].from_data(data, bank.frames) for data in raw.values()]
    for instrument in sorted(built, key=lambda i: SCREENS.index(i.screen)):  # survey instruments first, as listed in `i`
        bank.instruments[instrument.key] = instrument
    for instrument in bank.instruments.values():
        for language in instrument.languages:
            if language not in bank.frames:
                bank.problems.append(f"{instrument.key}: language {language} has no prompt frame (add frames.{language})")
    return bank


def load_instrument(path: Path) -> Instrument:
    """One complete instrument file on its own (with the shipped prompt frames)."""
    data = _read(path, {})
    return KINDS[data["scoring"]].from_data(data, read_frames(paths.assets_dir() / "prompts.yaml"))


@cache
def _cached_bank(user_dir: Path) -> ItemBank:
    return load_bank(user_dir)


def item_bank() -> ItemBank:
    """The bank of the current data directory, read once (reload() reads it again)."""
    return _cached_bank(user_items_dir())


def reload() -> None:
    """Forget the bank read so far: the next item_bank() reads the files again (after a user file
    changed, or in a test with another data directory)."""
    _cached_bank.cache_clear()


def available_instruments() -> dict[str, Instrument]:
    return item_bank().instruments


def get_instrument(key: str) -> Instrument:
    instruments = available_instruments()
    if key not in instruments:
        raise unknown_choice("instrument", key, instruments)
    return instruments[key]
