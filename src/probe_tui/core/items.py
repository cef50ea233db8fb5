"""Survey instruments: items, answer scales and their wording per language."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import paths
from .errors import ItemFileError, unknown_choice
from .yamlfile import line_of, load_yaml, require


@dataclass(frozen=True)
class Scale:
    labels: tuple[str, ...]  # what the model answers with, in scale order: "1".."5"
    anchors: dict[str, tuple[str, ...]]  # language -> one description per label

    def anchors_in(self, language: str) -> tuple[str, ...]:
        return self.anchors[language]


@dataclass(frozen=True)
class Item:
    id: str  # e.g. "mfq2_01"
    instrument: str
    code: str  # the official item number, e.g. "1" for MFQ-2 item 1
    dimension: str
    text: dict[str, str]  # language -> statement
    reverse: bool = False

    def text_in(self, language: str) -> str:
        return self.text[language]


@dataclass(frozen=True)
class Instrument:
    key: str
    name: str
    source: str
    dimensions: tuple[str, ...]
    languages: tuple[str, ...]
    question: dict[str, str]
    scale: Scale
    items: tuple[Item, ...]

    def check_language(self, language: str) -> str:
        if language not in self.languages:
            raise unknown_choice(f"language for {self.key}", language, self.languages)
        return language


def _per_language(value, languages, path, line, field) -> dict:
    if not isinstance(value, dict):
        raise ItemFileError(path, line, field, "expected a mapping of language -> text")
    missing = [lang for lang in languages if lang not in value]
    if missing:
        raise ItemFileError(path, line_of(value) or line, field, f"missing language(s) {', '.join(missing)}")
    return {lang: value[lang] for lang in value if lang != "__line__"}


def load_instrument(path: Path) -> Instrument:
    data = load_yaml(path)
    key = require(data, "instrument", str, path)
    languages = tuple(require(data, "languages", list, path))
    dimensions = tuple(require(data, "dimensions", list, path))
    question = _per_language(require(data, "question", dict, path), languages, path, line_of(data), "question")

    scale_data = require(data, "scale", dict, path)
    labels = tuple(str(label) for label in require(scale_data, "labels", list, path, "scale"))
    anchors = _per_language(require(scale_data, "anchors", dict, path, "scale"), languages, path, line_of(scale_data), "scale.anchors")
    for lang, texts in anchors.items():
        if not isinstance(texts, list) or len(texts) != len(labels):
            raise ItemFileError(path, line_of(scale_data), f"scale.anchors.{lang}", f"expected {len(labels)} anchors, one per label")
    scale = Scale(labels=labels, anchors={lang: tuple(texts) for lang, texts in anchors.items()})

    items = []
    for index, entry in enumerate(require(data, "items", list, path)):
        context = f"items[{index}]"
        if not isinstance(entry, dict):
            raise ItemFileError(path, None, context, "expected a mapping")
        code = str(require(entry, "code", (str, int), path, context))
        dimension = require(entry, "dimension", str, path, context)
        if dimension not in dimensions:
            raise ItemFileError(path, line_of(entry), f"{context}.dimension", f"{dimension!r} is not one of {', '.join(dimensions)}")
        text = _per_language(require(entry, "text", dict, path, context), languages, path, line_of(entry), f"{context}.text")
        reverse = entry.get("reverse", False)
        if not isinstance(reverse, bool):
            raise ItemFileError(path, line_of(entry), f"{context}.reverse", "expected true or false")
        default_id = f"{key}_{int(code):02d}" if code.isdigit() else f"{key}_{code}"
        item_id = str(entry.get("id") or default_id)
        items.append(Item(id=item_id, instrument=key, code=code, dimension=dimension, text=text, reverse=reverse))
    if not items:
        raise ItemFileError(path, line_of(data), "items", "no items")
    return Instrument(
        key=key,
        name=require(data, "name", str, path),
        source=str(data.get("source", "")),
        dimensions=dimensions,
        languages=languages,
        question=question,
        scale=scale,
        items=tuple(items),
    )


def available_instruments() -> dict[str, Path]:
    return {path.stem: path for path in sorted(paths.assets_dir().joinpath("items").glob("*.yaml"))}


def get_instrument(key: str) -> Instrument:
    files = available_instruments()
    if key not in files:
        raise unknown_choice("instrument", key, files)
    return load_instrument(files[key])
