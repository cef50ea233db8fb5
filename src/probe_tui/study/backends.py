"""Each model entry's backend, behind the shared response cache (unless the entry says cache: false):
a local GGUF file in its worker process, a remote API, a named endpoint, or several named endpoints
serving one model, sharded (backends/sharded.py)."""

from __future__ import annotations

from dataclasses import replace

from ..backends.cached import CachedBackend
from ..core.errors import ProbeError
from ..core.settings import get_settings
from .spec import ModelSpec


def build_backend(spec: ModelSpec):
    settings = get_settings()
    if spec.local:
        from ..backends.llama_cpp import LlamaCppBackend

        given = spec.settings
        inner = LlamaCppBackend(spec.model, n_gpu_layers=given.get("n_gpu_layers", settings.n_gpu_layers),
                                n_ctx=given.get("n_ctx", settings.n_ctx), n_threads=given.get("threads", settings.threads))
    else:
        from ..backends.remote import EndpointConfig, load_endpoints, make_remote_backend

        overrides = dict(spec.settings)
        if spec.kind == "remote":
            configs = [EndpointConfig(kind=spec.backend, model=spec.model, **({"timeout": settings.timeout} | overrides))]
        else:
            known = load_endpoints()
            missing = [name for name in spec.endpoints if name not in known]
            if missing:
                raise ProbeError(f"model {spec.label}: unknown endpoint {missing[0]!r}")
            model = {"model": spec.model} if spec.model else {}
            configs = [replace(known[name], **overrides, **model) for name in spec.endpoints]
        remotes = [make_remote_backend(config) for config in configs]
        if spec.kind == "sharded":
            from ..backends.sharded import ShardedBackend

            inner = ShardedBackend(remotes, per_endpoint=spec.per_endpoint)
        else:
            inner = remotes[0]
    return CachedBackend(inner) if spec.cache else inner


def concurrency_of(spec: ModelSpec, backend) -> int:
    """Requests in flight at once: one for a local model; a remote one's setting, within what it allows;
    for sharded endpoints, what they allow together."""
    if spec.local:
        return 1
    if spec.kind == "sharded":
        return max(1, getattr(backend, "max_concurrency", 1))
    return max(1, min(spec.concurrency, getattr(backend, "max_concurrency", 1)))
