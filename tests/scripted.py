"""A deterministic scripted backend for UI tests: it speaks the Backend protocol, and its
"probabilities" are a fixed function of the prompt text, so screens can be driven fast and
reproducibly. Its method says "scripted"; nothing here stands in for a model's real numbers."""

from __future__ import annotations

import hashlib
import math

from probe_tui.backends.base import Capabilities, ModelInfo
from probe_tui.core.prompts import COMPLETION
from probe_tui.core.scoring import OptionLogprobs


class ScriptedBackend:
    capabilities = Capabilities(logprobs=True, cancel=True, stream=False)
    display_name = "scripted"
    identity = "scripted://test"
    max_concurrency = 1

    def __init__(self):
        self.info = None
        self.calls = 0

    def start(self, on_progress=None) -> ModelInfo:
        if on_progress:
            on_progress(1.0)
        self.info = ModelInfo("scripted", self.identity, None, {"summary": "scripted test backend"}, COMPLETION)
        return self.info

    def score(self, prompt) -> OptionLogprobs:
        self.calls += 1
        digest = hashlib.sha256(prompt.text.encode()).digest()
        weights = [1 + digest[i] for i in range(len(prompt.labels))]
        total = sum(weights) * 1.25  # a fifth of the mass lands off the options
        return OptionLogprobs({label: math.log(w / total) for label, w in zip(prompt.labels, weights)}, "scripted")

    def close(self) -> None:
        pass
