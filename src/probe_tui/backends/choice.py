"""A backend for a model chosen inside the app, set up like the one in use (cache, llama.cpp options)."""

from __future__ import annotations

from ..core.errors import ProbeError
from .cached import CachedBackend
from .llama_cpp import LlamaCppBackend
from .models import resolve_model


def backend_for(kind: str, spec: str, like=None):
    """kind "file": spec is an embedded name, a file name in models/ or a path; "endpoint": a name
    from the endpoints file."""
    inner_like = like.inner if isinstance(like, CachedBackend) else like
    if kind == "endpoint":
        from .remote import load_endpoints, make_remote_backend

        endpoints = load_endpoints()
        if spec not in endpoints:
            raise ProbeError(f"unknown endpoint {spec!r}")
        backend = make_remote_backend(endpoints[spec])
    else:
        options = inner_like.options if isinstance(inner_like, LlamaCppBackend) else {}
        backend = LlamaCppBackend(resolve_model(spec), **options)
    return CachedBackend(backend) if isinstance(like, CachedBackend) or like is None else backend
