"""YAML loading that remembers line numbers, so errors can say file:line:field."""

from __future__ import annotations

from pathlib import Path

import yaml

from .errors import ItemFileError

LINE_KEY = "__line__"  # the line a mapping starts on
LINES_KEY = "__lines__"  # the line of each key in it
META_KEYS = (LINE_KEY, LINES_KEY)
MAX_NODES = 200_000  # a file whose aliases expand beyond this many nodes is refused ("billion laughs")


class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when built with it: 5x faster
    def construct_mapping(self, node, deep=False):
        mapping = super().construct_mapping(node, deep=deep)
        mapping[LINE_KEY] = node.start_mark.line + 1
        mapping[LINES_KEY] = {key.value: key.start_mark.line + 1 for key, _ in node.value if hasattr(key, "value")}
        return mapping


def load_yaml(path: Path) -> dict:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ItemFileError(path, None, "file", f"cannot read it ({exc})") from exc
    loader = _LineLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None and _expanded_size(node) > MAX_NODES:
            raise ItemFileError(path, None, "yaml", f"its aliases expand to more than {MAX_NODES} values; refused")
        data = loader.construct_document(node) if node is not None else None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:  # e.g. a timestamp like 2024-13-45
        raise ItemFileError(path, None, "yaml", f"not valid YAML ({exc})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
        raise ItemFileError(path, line, "yaml", f"not valid YAML ({problem})") from exc
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise ItemFileError(path, 1, "file", "expected a mapping at the top level")
    return data


def _expanded_size(root) -> int:
    """How many nodes the document has once every alias is expanded (a cycle counts as too many)."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()  # the ancestors of the node being visited
    pending = [(root, False)]
    while pending:  # iterative depth-first, so deep nesting cannot overflow the stack
        node, children_done = pending.pop()
        children = [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else \
            node.value if isinstance(node, yaml.SequenceNode) else []
        if children_done:
            open_nodes.discard(id(node))
            sizes[id(node)] = min(1 + sum(sizes[id(child)] for child in children), MAX_NODES + 1)
        elif id(node) in open_nodes:
            return MAX_NODES + 1  # an alias inside itself
        elif id(node) not in sizes:
            open_nodes.add(id(node))
            pending.append((node, True))
            pending.extend((child, False) for child in children)
    return sizes[id(root)]


def line_of(mapping, key: str | None = None) -> int | None:
    """The line of `key` in the mapping, or of the mapping itself."""
    if not isinstance(mapping, dict):
        return None
    if key is not None and key in mapping.get(LINES_KEY, {}):
        return mapping[LINES_KEY][key]
    return mapping.get(LINE_KEY)


def require(mapping: dict, key: str, kind, path: Path, context: str = ""):
    """Return mapping[key], checking its type; raise ItemFileError naming file, line and field."""
    field = f"{context}.{key}" if context else key
    if key not in mapping:
        raise ItemFileError(path, line_of(mapping), field, "missing")
    value = mapping[key]
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ItemFileError(path, line_of(mapping, key), field, f"expected {names}, got {type(value).__name__}")
    return value
