"""A GGUF file's metadata (its key-value header) without loading the model.

gguf's GGUFReader parses every array in the header, the vocabulary too (seconds for a 49k-token
vocabulary); listing models needs a handful of scalars, so arrays are skipped, not read. Names of
file types come from gguf's LlamaFileType."""

from __future__ import annotations

import os
import stat
import struct
from pathlib import Path

from ..core.errors import ProbeError

SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
STRING, ARRAY = 8, 9


def _read(handle, fmt: str):
    size = struct.calcsize("<" + fmt)
    data = handle.read(size)
    if len(data) != size:
        raise ProbeError(f"{Path(handle.name).name} ends inside its GGUF header")
    return struct.unpack("<" + fmt, data)[0]


def _string(handle) -> str:
    length = _read(handle, "Q")
    if length > os.fstat(handle.fileno()).st_size - handle.tell():  # never allocate what the file cannot hold
        raise ProbeError(f"{Path(handle.name).name} ends inside its GGUF header: a text of {length:,} bytes")
    return handle.read(length).decode("utf-8", "replace")


def _value(handle, kind: int):
    if kind in SCALARS:
        return _read(handle, SCALARS[kind])
    if kind == STRING:
        return _string(handle)
    if kind == ARRAY:
        element, count = _read(handle, "I"), _read(handle, "Q")
        if element in SCALARS:
            handle.seek(count * struct.calcsize("<" + SCALARS[element]), 1)
        else:
            for _ in range(count):
                _value(handle, element)
        return f"[{count} values]"
    raise ProbeError(f"{Path(handle.name).name} has a GGUF value of unknown type {kind}")


def open_regular_file(path: Path):
    """Open a model file for reading, refusing in one line anything but a regular file: a FIFO would
    block forever, a device never end. The open itself does not block (O_NONBLOCK)."""
    path = Path(path)
    if not path.exists():
        raise ProbeError(f"model file not found: {path}")
    try:
        handle = open(path, "rb", opener=lambda name, flags: os.open(name, flags | os.O_NONBLOCK))
    except IsADirectoryError:
        raise ProbeError(f"{path} is not a regular file") from None
    except OSError as exc:
        raise ProbeError(f"cannot read {path}: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
        handle.close()
        raise ProbeError(f"{path} is not a regular file")
    return handle


def _header(handle) -> tuple[dict, int]:
    """The key-value pairs and the tensor count; the handle is left at the tensor infos."""
    if handle.read(4) != b"GGUF":
        raise ProbeError(f"{Path(handle.name).name} is not a GGUF model file (it does not start with 'GGUF')")
    version = _read(handle, "I")
    if version < 2:
        raise ProbeError(f"{Path(handle.name).name} is GGUF version {version}; only version 2 and later are read")
    tensors, pairs = _read(handle, "Q"), _read(handle, "Q")
    metadata = {}
    for _ in range(pairs):
        key = _string(handle)
        metadata[key] = _value(handle, _read(handle, "I"))
    return metadata, tensors


def read_metadata(path: Path) -> dict:
    """The header's key-value pairs; arrays are given as "[N values]"."""
    with open_regular_file(path) as handle:
        return _header(handle)[0]


def check_complete(path: Path) -> None:
    """Why llama.cpp cannot load a GGUF file, in one line: a broken header, or a file shorter than its
    tensors need (an interrupted download). Returns when it finds nothing wrong (it walks the whole
    header: asked only once a load has failed)."""
    from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

    with open_regular_file(path) as handle:
        metadata, tensors = _header(handle)
        end, names = 0, set()
        for _ in range(tensors):
            name = _string(handle)
            if name in names:
                raise ProbeError(f"{Path(path).name}: tensor {name!r} appears twice (a broken file)")
            names.add(name)
            shape = [_read(handle, "Q") for _ in range(_read(handle, "I"))]
            kind, offset = _read(handle, "I"), _read(handle, "Q")
            try:
                block, block_bytes = GGML_QUANT_SIZES[GGMLQuantizationType(kind)]
            except (ValueError, KeyError):
                raise ProbeError(f"{Path(path).name}: tensor {name!r} has a type llama.cpp does not know ({kind})") from None
            elements = 1
            for size in shape:
                elements *= size
            end = max(end, offset + elements // block * block_bytes)
        alignment = metadata.get("general.alignment", 32) or 32
        needed = -(-handle.tell() // alignment) * alignment + end
        size = os.fstat(handle.fileno()).st_size
    if size < needed:
        raise ProbeError(f"{Path(path).name} is cut short: it has {size:,} of the {needed:,} bytes its tensors need "
                         "(an interrupted download?)")


def file_type_name(value) -> str:
    """llama.cpp's name for a general.file_type number, e.g. 3 -> Q4_1."""
    from gguf import LlamaFileType

    if value is None:
        return "unknown"
    try:
        return LlamaFileType(int(value)).name.removeprefix("MOSTLY_")
    except ValueError:
        return f"type {value}"


def describe_file(path: Path) -> dict:
    """What the models view shows for a file: size, quantisation, context length, chat template."""
    meta = read_metadata(path)
    arch = meta.get("general.architecture", "")
    return {
        "name": meta.get("general.name") or Path(path).stem,
        "size_bytes": Path(path).stat().st_size,
        "architecture": arch,
        "quantisation": file_type_name(meta.get("general.file_type")),
        "context_length": int(meta.get(f"{arch}.context_length", 0) or 0),
        "layers": int(meta.get(f"{arch}.block_count", 0) or 0),
        "chat_template": bool(meta.get("tokenizer.chat_template")),
    }
