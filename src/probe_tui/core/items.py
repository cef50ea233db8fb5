"""The item-file format: items, answer scales and their wording per language, checked with
file:line:field errors.

Shipped item banks live in assets/items/*.yaml, with further languages in
assets/items/languages/<instrument>.<language>.yaml. The user's own files in
<user_data_dir>/items/*.yaml are merged over them: they can add items, languages (with their prompt
frame), or whole instruments, or replace the shipped wording. The instruments themselves are built
from these files by core/instruments (the registry), by the scoring kind a file names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from string import Formatter

from . import paths
from .errors import ItemFileError, ProbeError
from .yamlfile import LINES_KEY, META_KEYS, line_of, load_yaml, require


@dataclass(frozen=True)
class Scale:
    labels: tuple[str, ...]  # what the model answers with, in scale order: "1".."5"
    anchors: dict[str, tuple[str, ...]]  # language -> one description per label ("" for none)

    def anchors_in(self, language: str) -> tuple[str, ...]:
        return self.anchors.get(language) or self.anchors["en"]


@dataclass(frozen=True)
class Item:
    id: str  # e.g. "mfq2_01", "wvs_Q182", "vsm2013_VSM07"
    instrument: str
    code: str  # the official item code: "1" for MFQ-2 item 1, "Q182", "VSM07"
    dimension: str
    text: dict[str, str]  # language -> statement
    scale: Scale
    question: dict[str, str]  # language -> the question this item answers
    reverse: bool = False
    construct: str = ""
    source: str = ""

    def keyed(self, score: float) -> float:
        """A score on the item's scale, reverse-keyed where the item says so (1 <-> the last label)."""
        return len(self.scale.labels) + 1 - score if self.reverse else score

    def text_in(self, language: str) -> str:
        if language not in self.text:
            raise ProbeError(f"item {self.id} has no {language} text; it has: {', '.join(sorted(self.text))}")
        return self.text[language]


# --- validation of one file (complete or partial) ---------------------------------------------

FRAME_FIELDS = ("name", "options_intro", "instruction", "statement", "answer_prefix")
FRAME_WORDINGS = ("instruction_2", "instruction_3")  # optional: the other wordings of the instruction (the frame variant)


def _entries(mapping: dict, path, line, field_name):
    """The (key, value) pairs of a YAML mapping, without line metadata; keys must be text."""
    for key, value in mapping.items():
        if key in META_KEYS:
            continue
        if not isinstance(key, str):
            raise ItemFileError(path, line_of(mapping) or line, f"{field_name}.{key}", "expected a text key (quote it)")
        yield key, value


def _section(data: dict, key: str, path) -> dict:
    """An optional top-level mapping (scales, questions, frames)."""
    return require(data, key, dict, path) if key in data else {}


def _frame(value, path, line, field_name) -> dict[str, str]:
    """A prompt frame: texts for some of FRAME_FIELDS; the instruction may use {first} and {last}."""
    if not isinstance(value, dict):
        raise ItemFileError(path, line, field_name, f"expected a mapping with {', '.join(FRAME_FIELDS)}")
    frame = {}
    for key, text in _entries(value, path, line, field_name):
        if key not in FRAME_FIELDS + FRAME_WORDINGS:
            raise ItemFileError(path, line_of(value, key), f"{field_name}.{key}",
                                f"unknown field; expected {', '.join(FRAME_FIELDS + FRAME_WORDINGS)}")
        if not isinstance(text, str):
            raise ItemFileError(path, line_of(value, key), f"{field_name}.{key}", f"expected text, got {type(text).__name__}")
        frame[key] = text
    for key in ("instruction",) + FRAME_WORDINGS:
        if key not in frame:
            continue
        try:
            fields = [(name, spec, conversion) for _, name, spec, conversion in Formatter().parse(frame[key]) if name is not None]
        except ValueError:
            fields = [("", "", None)]
        if any(name not in ("first", "last") or spec or conversion for name, spec, conversion in fields):
            raise ItemFileError(path, line_of(value, key), f"{field_name}.{key}",
                                "may contain only {first} and {last} in braces (write {{ and }} for a brace)")
    return frame


def _texts(value, path, line, field_name) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ItemFileError(path, line, field_name, "expected a mapping of language -> text")
    texts = {}
    for lang, text in _entries(value, path, line, field_name):
        if not isinstance(text, str) or not text.strip():
            raise ItemFileError(path, line_of(value) or line, f"{field_name}.{lang}", "expected non-empty text")
        texts[lang] = text
    return texts


def _scale(value, path, line, field_name) -> dict:
    """A scale as {"labels": [...], "anchors": {lang: [...]}} checked for shape."""
    if not isinstance(value, dict):
        raise ItemFileError(path, line, field_name, "expected a mapping with labels and anchors")
    labels = require(value, "labels", list, path, field_name)
    if not all(isinstance(label, (str, int)) and not isinstance(label, bool) for label in labels):
        raise ItemFileError(path, line_of(value, "labels"), f"{field_name}.labels", "expected a list of texts or numbers")
    labels = [str(label) for label in labels]
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise ItemFileError(path, line_of(value), f"{field_name}.labels", "expected two or more distinct labels")
    anchors = {}
    for lang, texts in _entries(require(value, "anchors", dict, path, field_name), path, line, f"{field_name}.anchors"):
        if not isinstance(texts, list) or len(texts) != len(labels) or not all(isinstance(t, str) for t in texts):
            raise ItemFileError(path, line_of(value), f"{field_name}.anchors.{lang}", f"expected {len(labels)} texts, one per label")
        anchors[lang] = [t for t in texts]
    return {"labels": labels, "anchors": anchors}


def _named_or_inline(value, named: dict, path, line, field_name, parse):
    if isinstance(value, str):
        if value not in named:
            raise ItemFileError(path, line, field_name, f"unknown name {value!r}; defined: {', '.join(sorted(named)) or 'none'}")
        return named[value]
    return parse(value, path, line, field_name)


def read_frames(path: Path) -> dict[str, dict]:
    """The prompt frame per language (assets/prompts.yaml)."""
    frames = load_yaml(path)
    return {lang: _frame(frame, path, line_of(frames, lang), lang) for lang, frame in _entries(frames, path, None, "")}


def read_item_file(path: Path) -> dict:
    """Validate one item file, complete or partial, into plain data; errors say file:line:field."""
    data = load_yaml(path)
    out: dict = {"instrument": require(data, "instrument", str, path), "path": str(path), "items": []}
    for key in ("name", "source", "scoring"):
        if key in data:
            out[key] = str(require(data, key, str, path))
    if "scoring" in data:
        out["scoring_line"] = line_of(data, "scoring")
    if "baseline" in data:
        out["baseline"] = read_baseline_block(require(data, "baseline", dict, path), path)
    for key in ("dimensions", "languages"):
        if key in data:
            values = require(data, key, list, path)
            if not all(isinstance(v, str) and v.strip() for v in values):
                raise ItemFileError(path, line_of(data, key), key, "expected a list of texts")
            out[key] = values
    sections = {key: _section(data, key, path) for key in ("scales", "questions", "frames")}
    scales = {name: _scale(value, path, line_of(data, "scales"), f"scales.{name}") for name, value in _entries(sections["scales"], path, None, "scales")}
    questions = {name: _texts(value, path, line_of(data, "questions"), f"questions.{name}")
                 for name, value in _entries(sections["questions"], path, None, "questions")}
    if "scale" in data:
        out["scale"] = _named_or_inline(data["scale"], scales, path, line_of(data), "scale", _scale)
    if "question" in data:
        out["question"] = _named_or_inline(data["question"], questions, path, line_of(data), "question", _texts)
    if "frames" in data:
        out["frames"] = {lang: _frame(frame, path, line_of(sections["frames"], lang), f"frames.{lang}")
                         for lang, frame in _entries(sections["frames"], path, None, "frames")}
    codes: set[str] = set()
    for index, entry in enumerate(require(data, "items", list, path) if data.get("items") is not None else []):
        context = f"items[{index}]"
        if not isinstance(entry, dict):
            raise ItemFileError(path, line_of(data), context, "expected a mapping")
        line = line_of(entry)
        item: dict = {"code": str(require(entry, "code", (str, int), path, context)).strip(), "line": line,
                      "lines": dict(entry.get(LINES_KEY, {}))}
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", item["code"]):
            raise ItemFileError(path, line_of(entry, "code"), f"{context}.code", f"{item['code']!r}: expected ASCII letters, digits, '_', '-' or '.'")
        if item["code"] in codes:
            raise ItemFileError(path, line_of(entry, "code"), f"{context}.code", f"{item['code']!r} is already used in this file")
        codes.add(item["code"])
        for key in ("dimension", "construct", "source", "id"):
            if key in entry:
                item[key] = str(require(entry, key, (str, int), path, context))
        if "text" in entry:
            item["text"] = _texts(entry["text"], path, line_of(entry, "text"), f"{context}.text")
        if "reverse" in entry:
            if not isinstance(entry["reverse"], bool):
                raise ItemFileError(path, line_of(entry, "reverse"), f"{context}.reverse", "expected true or false")
            item["reverse"] = entry["reverse"]
        if "scale" in entry:
            item["scale"] = _named_or_inline(entry["scale"], scales, path, line_of(entry, "scale"), f"{context}.scale", _scale)
        if "question" in entry:
            item["question"] = _named_or_inline(entry["question"], questions, path, line_of(entry, "question"), f"{context}.question", _texts)
        unknown = set(entry) - {"code", "dimension", "construct", "source", "id", "text", "reverse", "scale", "question", *META_KEYS}
        if unknown:
            first = sorted(unknown, key=str)[0]
            raise ItemFileError(path, line_of(entry, first), f"{context}.{first}", "unknown field")
        out["items"].append(item)
    return out


BASELINE_FIELDS = ("file", "citation", "columns", "comparison")
COMPARISONS = {"profile": False, "scale-free": True}  # comparison -> scale_free


def read_baseline_block(block: dict, path) -> dict:
    """An instrument's `baseline:` block: the CSV (beside the YAML file, or a path relative to it),
    its citation, the dimension columns (default: the instrument's dimensions) and how the model is
    compared (profile: r and RMSE; scale-free: r only)."""
    for key, _ in _entries(block, path, line_of(block), "baseline"):
        if key not in BASELINE_FIELDS:
            raise ItemFileError(path, line_of(block, key), f"baseline.{key}", f"unknown field; expected {', '.join(BASELINE_FIELDS)}")
    spec = {"file": (Path(path).parent / require(block, "file", str, path, "baseline")).resolve(),
            "citation": require(block, "citation", str, path, "baseline").strip(),
            "line": line_of(block, "file"), "declared_in": str(path)}
    if not spec["citation"]:
        raise ItemFileError(path, line_of(block, "citation"), "baseline.citation", "expected a citation (where the figures come from)")
    if "columns" in block:
        columns = require(block, "columns", list, path, "baseline")
        if not columns or not all(isinstance(c, str) and c.strip() for c in columns):
            raise ItemFileError(path, line_of(block, "columns"), "baseline.columns", "expected a list of column names")
        spec["columns"] = list(columns)
    comparison = str(block.get("comparison", "profile"))
    if comparison not in COMPARISONS:
        raise ItemFileError(path, line_of(block, "comparison"), "baseline.comparison", f"{comparison!r}: expected {' or '.join(COMPARISONS)}")
    spec["scale_free"] = COMPARISONS[comparison]
    return spec


def check_user_file(base: dict, extra: dict) -> None:
    """Errors in a user file that extends a shipped instrument, named by the user file's own lines."""
    dimensions = extra.get("dimensions") or base.get("dimensions", [])
    for index, item in enumerate(extra["items"]):
        if "dimension" in item and item["dimension"] not in dimensions:
            raise ItemFileError(extra["path"], item["lines"].get("dimension", item.get("line")), f"items[{index}].dimension",
                                f"{item['dimension']!r} is not one of {', '.join(dimensions)}")


def merge_item_files(base: dict, extra: dict) -> dict:
    """extra (a user file) over base: per-language texts are updated, items matched by code."""
    merged = {**base, "items": [dict(item) for item in base["items"]]}
    for key in ("name", "source", "dimensions", "baseline"):
        if key in extra:
            merged[key] = extra[key]
    merged["languages"] = list(dict.fromkeys(base.get("languages", []) + extra.get("languages", [])))
    for key in ("question", "frames"):
        if key in extra:
            merged[key] = {**base.get(key, {}), **extra[key]}
    if "scale" in extra:
        merged["scale"] = _merge_scale(base.get("scale"), extra["scale"])
    by_code = {item["code"]: item for item in merged["items"]}
    for item in extra["items"]:
        if item["code"] in by_code:
            target = by_code[item["code"]]
            for key, value in item.items():
                if key in ("text", "question"):
                    target[key] = {**target.get(key, {}), **value}
                elif key == "scale":
                    target[key] = _merge_scale(target.get("scale"), value)
                elif key not in ("line", "lines"):
                    target[key] = value
        else:
            merged["items"].append(dict(item))
            by_code[item["code"]] = merged["items"][-1]
    merged["path"] = f"{base['path']} + {extra['path']}"
    return merged


def _merge_scale(base: dict | None, extra: dict) -> dict:
    if base is None or base["labels"] != extra["labels"]:
        return extra
    return {"labels": extra["labels"], "anchors": {**base["anchors"], **extra["anchors"]}}


def build_items(data: dict) -> tuple[Item, ...]:
    """The items of a complete (merged) item file, every field checked."""
    path = data["path"]
    key = data["instrument"]
    for required in ("name", "dimensions", "languages"):
        if required not in data:
            raise ItemFileError(path, None, required, "missing")
    dimensions = tuple(data["dimensions"])
    items = []
    for index, entry in enumerate(data["items"]):
        context, line = f"items[{index}]", entry.get("line")
        scale = entry.get("scale") or data.get("scale")
        question = entry.get("question") or data.get("question")
        if scale is None:
            raise ItemFileError(path, line, f"{context}.scale", "missing, and the file has no default scale")
        if question is None:
            raise ItemFileError(path, line, f"{context}.question", "missing, and the file has no default question")
        if "dimension" not in entry:
            raise ItemFileError(path, line, f"{context}.dimension", "missing")
        if entry["dimension"] not in dimensions:
            raise ItemFileError(path, entry.get("lines", {}).get("dimension", line), f"{context}.dimension", f"{entry['dimension']!r} is not one of {', '.join(dimensions)}")
        if not entry.get("text"):
            raise ItemFileError(path, line, f"{context}.text", "missing")
        code = entry["code"]
        default_id = f"{key}_{int(code):02d}" if code.isdecimal() else f"{key}_{code}"
        if any(other.id == (entry.get("id") or default_id) for other in items):
            raise ItemFileError(path, line, f"{context}.id", f"{entry.get('id') or default_id!r} is already another item's id")
        items.append(Item(
            id=entry.get("id") or default_id, instrument=key, code=code, dimension=entry["dimension"],
            text=dict(entry["text"]), question=dict(question), reverse=entry.get("reverse", False),
            construct=entry.get("construct", ""), source=entry.get("source", ""),
            scale=Scale(labels=tuple(scale["labels"]), anchors={k: tuple(v) for k, v in scale["anchors"].items()}),
        ))
    if not items:
        raise ItemFileError(path, None, "items", "no items")
    return tuple(items)


def user_items_dir() -> Path:
    return paths.user_data_dir() / "items"
