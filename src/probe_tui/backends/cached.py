"""A backend that answers from the response cache first, and asks the real backend only on a miss.

The real backend is started lazily: a sweep or a demo whose prompts are all cached never loads the
model or touches the network, so it replays instantly and offline.
"""

from __future__ import annotations

import threading
from dataclasses import asdict

from ..core.cache import ResponseCache
from ..core.prompts import ChatTemplate, Prompt
from ..core.scoring import OptionLogprobs
from .base import ModelInfo
from .models import check_gguf


def drawn_params(params: dict, backend, prompt: Prompt) -> dict:
    """The scoring parameters of this prompt's answer: a repeated draw (a study's repeats) is a
    parameter of its own, unless the backend's answers are the same on every asking (a local
    model's exact probabilities)."""
    if prompt.draw and not getattr(backend, "repeatable", False):
        return params | {"draw": prompt.draw}
    return params


class CachedBackend:
    def __init__(self, inner, cache: ResponseCache | None = None):
        self.inner = inner
        self.cache = cache or ResponseCache()
        self.info: ModelInfo | None = None
        self.hits = self.misses = 0
        self._started = False
        self._on_progress = None
        self._start_lock = threading.Lock()
        self._model_key: str | None = None
        self._params: dict | None = None

    # the protocol, delegated
    capabilities = property(lambda self: self.inner.capabilities)
    display_name = property(lambda self: self.inner.display_name)
    identity = property(lambda self: self.inner.identity)
    max_concurrency = property(lambda self: self.inner.max_concurrency)

    @property
    def model_key(self) -> str:
        """What the results come from: the GGUF file's SHA-256, or endpoint#model."""
        if self._model_key is None:
            path = getattr(self.inner, "model_path", None)
            if path is not None:
                # a missing, foreign or too-big file is a one-line error, cached or not, before it is hashed
                getattr(self.inner, "preflight", lambda: check_gguf(path))()
                self._model_key = f"sha256:{self.cache.file_hash(path)}"
            else:
                self._model_key = self.inner.identity
        return self._model_key

    def params(self) -> dict:
        """The inner backend's scoring parameters, read once (the llama.cpp ones ask the build)."""
        if self._params is None:
            self._params = getattr(self.inner, "cache_params", {})
        return self._params

    def _info_key(self) -> str:
        """Model info (chat template, prompt style) is remembered per model and scoring parameters,
        backend kind included: a chat API and a completions endpoint on one model differ."""
        return ResponseCache.key(self.model_key, "", (), self.params())

    def start(self, on_progress=None) -> ModelInfo:
        self._on_progress = on_progress
        stored = self.cache.model_info(self._info_key())
        if stored is None:
            return self._start_inner()
        template = stored.pop("chat_template")
        self.info = ModelInfo(**stored, chat_template=ChatTemplate(**template) if template else None)
        if on_progress:
            on_progress(1.0)
        return self.info

    def _start_inner(self) -> ModelInfo:
        with self._start_lock:
            if not self._started:
                self.info = self.inner.start(on_progress=self._on_progress)
                self._started = True
                self.cache.remember_model(self._info_key(), asdict(self.info))
        return self.info

    @property
    def repeatable(self) -> bool:
        return getattr(self.inner, "repeatable", False)

    def key_for(self, prompt: Prompt) -> str:
        """The prompt's cache key, from the parameters its numbers were obtained with."""
        return ResponseCache.key(self.model_key, prompt.text, prompt.labels, drawn_params(self.params(), self, prompt))

    def score(self, prompt: Prompt) -> OptionLogprobs:
        key = self.key_for(prompt)
        found = self.cache.get(key)
        if found is not None:
            self.hits += 1
            return found
        self._start_inner()
        result = self.inner.score(prompt)
        self.cache.put(key, self.model_key, result)
        self.misses += 1
        return result

    def generate(self, prompt: Prompt, on_text, cancel, **options):
        """Free text is never cached: it is written live by the model."""
        self._start_inner()
        return self.inner.generate(prompt, on_text, cancel, **options)

    def __getattr__(self, name):  # cancel_load and the like
        return getattr(self.inner, name)

    def close(self) -> None:
        self.inner.close()
