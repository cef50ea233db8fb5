"""Where a backend's numbers come from, for every stored and exported answer: the model file's
SHA-256 (or endpoint and model id), the chat template's SHA-256, the scoring parameters and the
package versions."""

from __future__ import annotations

import hashlib
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from .cached import CachedBackend

PACKAGES = ("probe-tui", "llama-cpp-python", "httpx", "textual")


def package_versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            pass
    return found


def provenance(backend) -> dict:
    """For a started backend (its info is read)."""
    inner = backend.inner if isinstance(backend, CachedBackend) else backend
    cached = backend if isinstance(backend, CachedBackend) else CachedBackend(inner)
    model = cached.model_key  # sha256:<file hash>, or endpoint#model
    info = backend.info
    template = info.chat_template.source if info is not None and info.chat_template is not None else None
    path = getattr(inner, "model_path", None)
    return {
        "model": model,
        **({"model_path": str(Path(path).resolve())} if path is not None else {}),  # this machine only: never exported
        "model_name": info.name if info is not None else backend.display_name,
        "chat_template_sha256": hashlib.sha256(template.encode()).hexdigest() if template else None,
        "prompt_style": info.prompt_style if info is not None else None,
        "params": cached.params(),
        "versions": package_versions(),
    }
