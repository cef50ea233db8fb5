"""Demo scripts: a scripted tour for talks, as a small YAML file.

    title: Does the model lean American?
    instrument: mfq2          # optional; mfq2 by default
    model: smollm2-135m-instruct   # optional; the embedded default
    pace: 2.5                 # seconds per item
    steps:
      - caption: In English, with no persona…
        language: en          # optional: the previous step's, or en
        persona: none         # optional: the previous step's, or none
        items: 1-12           # item codes as the items write them: "1-12", "Q177-Q179", "1,4,7", or a list
      - caption: The same items, asked in Chinese
        language: zh
        items: 1-12

Each step's items become frames: one item under one condition, shown with the step's caption.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from . import paths
from .errors import ItemFileError, ProbeError
from .instruments import available_instruments, get_instrument
from .personas import get_persona
from .yamlfile import line_of, load_yaml, require

DEFAULT_INSTRUMENT = "mfq2"


@dataclass(frozen=True)
class Step:
    caption: str
    language: str
    persona: str
    items: tuple  # Item objects, in order


@dataclass(frozen=True)
class Frame:
    step: int  # index of the step it belongs to
    caption: str
    item: object
    language: str
    persona: str


@dataclass(frozen=True)
class DemoScript:
    title: str
    instrument: str
    model: str | None
    pace: float
    steps: tuple[Step, ...]
    path: Path

    def frames(self) -> list[Frame]:
        return [Frame(number, step.caption, item, step.language, step.persona)
                for number, step in enumerate(self.steps) for item in step.items]


def shipped_demo() -> Path:
    return paths.assets_dir() / "demos" / "seed-story.yaml"


RANGE = re.compile(r"([A-Za-z]*)(\d+)\s*[-–]\s*([A-Za-z]*)(\d+)")


def _item_numbers(value, path, line, field) -> list[str]:
    """"1-12", "Q177-Q179", "VSM01-03", "1,4,7", 5 or a list of those -> item codes as text (a range
    keeps its first code's prefix and zero padding)."""
    parts = value if isinstance(value, list) else [value]
    numbers = []
    for part in parts:
        for piece in str(part).split(","):
            piece = piece.strip()
            found = RANGE.fullmatch(piece)
            if found:
                prefix, first, last_prefix, last = found.groups()
                if last_prefix and last_prefix.casefold() != prefix.casefold():
                    raise ItemFileError(path, line, field, f"the range {piece} mixes two kinds of code")
                if int(last) < int(first):
                    raise ItemFileError(path, line, field, f"the range {piece} runs backwards")
                numbers += [f"{prefix}{n:0{len(first)}d}" for n in range(int(first), int(last) + 1)]
            elif piece:
                numbers.append(piece)
    if not numbers:
        raise ItemFileError(path, line, field, "names no items")
    return numbers


def load_script(path: Path | None = None) -> DemoScript:
    path = Path(path) if path else shipped_demo()
    data = load_yaml(path)
    instrument_key = str(data.get("instrument", DEFAULT_INSTRUMENT))
    try:
        instrument = get_instrument(instrument_key)
    except ProbeError as exc:
        raise ItemFileError(path, line_of(data, "instrument"), "instrument", str(exc)) from None
    if instrument.screen != "items":
        walkable = ", ".join(key for key, other in available_instruments().items() if other.screen == "items")
        raise ItemFileError(path, line_of(data, "instrument"), "instrument", f"a demo walks a survey instrument item by item: {walkable}")
    pace = data.get("pace", 2.5)
    if not isinstance(pace, (int, float)) or not 0.2 <= pace <= 60:
        raise ItemFileError(path, line_of(data, "pace"), "pace", "expected seconds per item, from 0.2 to 60")
    steps, language, persona = [], "en", "none"
    for number, entry in enumerate(require(data, "steps", list, path)):
        context = f"steps[{number}]"
        if not isinstance(entry, dict):
            raise ItemFileError(path, line_of(data, "steps"), context, "expected a mapping with caption and items")
        caption = str(require(entry, "caption", str, path, context)).strip()
        language = str(entry.get("language", language))
        persona = str(entry.get("persona", persona))
        if language not in instrument.languages:
            raise ItemFileError(path, line_of(entry, "language"), f"{context}.language",
                                f"{instrument.key} has no language {language!r}; it has {', '.join(instrument.languages)}")
        try:
            persona = get_persona(persona).key  # one key however it is named: country:china is cn_average
        except ProbeError as exc:
            raise ItemFileError(path, line_of(entry, "persona"), f"{context}.persona", str(exc)) from None
        items = []
        for code in _item_numbers(require(entry, "items", (str, int, list), path, context), path, line_of(entry, "items"), f"{context}.items"):
            item = instrument.find_item(code)
            if item is None:
                raise ItemFileError(path, line_of(entry, "items"), f"{context}.items", f"{instrument.key} has no item {code!r}")
            items.append(item)
        steps.append(Step(caption, language, persona, tuple(items)))
    if not steps:
        raise ItemFileError(path, line_of(data, "steps"), "steps", "a demo needs at least one step")
    model = data.get("model")
    return DemoScript(title=str(data.get("title", path.stem)), instrument=instrument.key, model=str(model) if model else None,
                      pace=float(pace), steps=tuple(steps), path=path)
