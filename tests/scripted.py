"""A deterministic scripted backend for UI tests: it speaks the Backend protocol, and its
"probabilities" are a fixed function of the prompt text, so screens can be driven fast and
reproducibly. Its method says "scripted"; nothing here stands in for a model's real numbers."""

from __future__ import annotations

import hashlib
import math

import time

from probe_tui.backends.base import Capabilities, Generation, ModelInfo
from probe_tui.core.prompts import COMPLETION
from probe_tui.core.scoring import OptionLogprobs


class ScriptedBackend:
    capabilities = Capabilities(logprobs=True, cancel=True, stream=True)
    display_name = "scripted"
    identity = "scripted://test"
    max_concurrency = 1

    def __init__(self):
        self.info = None
        self.calls = 0
        self.starts = 0

    def start(self, on_progress=None) -> ModelInfo:
        self.starts += 1
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

    def generate(self, prompt, on_text, cancel, max_tokens: int = 256, pause: float = 0.0) -> Generation:
        """Writes the words of a fixed sentence, one by one (pause seconds apart), until cancelled."""
        words = f"Scripted free text for a prompt of {len(prompt.text)} characters, written word by word.".split()
        written = []
        for word in words[:max_tokens]:
            if cancel.is_set():
                return Generation(" ".join(written), "cancelled")
            time.sleep(self.pause if pause == 0.0 else pause)
            piece = (" " if written else "") + word
            written.append(word)
            on_text(piece)
        return Generation(" ".join(written), "stop")

    pause = 0.0

    def close(self) -> None:
        pass


class PositionBiasedBackend(ScriptedBackend):
    """A scripted backend with a planted position bias: it reads which anchor each label stands for
    in the prompt ("1 = Describes me extremely well"), holds a fixed opinion on the meanings (mass
    on the scale values 3 and 4, split by the prompt's statement), and then shifts its answer
    `shift` positions towards the option listed first, whatever it means. Asked in both orders, the
    shift lands on opposite ends of the real scale, so their mean is the opinion itself."""

    display_name = "position-biased"
    identity = "scripted://position-biased"

    def __init__(self, anchors: tuple[str, ...], shift: int = 1):
        super().__init__()
        self.anchors, self.shift = anchors, shift

    def opinion(self, prompt) -> dict[int, float]:
        """Scale value -> probability: the planted opinion on the meanings, from the statement alone."""
        statement = prompt.text.rsplit("Statement:", 1)[-1]
        share = 0.2 + 0.6 * (hashlib.sha256(statement.encode()).digest()[0] / 255)
        return {3: share, 4: 1 - share}

    def score(self, prompt) -> OptionLogprobs:
        self.calls += 1
        value_of = {}  # label -> the scale value its anchor means
        for line in prompt.text.splitlines():
            label, _, anchor = line.partition(" = ")
            if label in prompt.labels and anchor in self.anchors:
                value_of[label] = self.anchors.index(anchor) + 1
        label_of = {value: label for label, value in value_of.items()}
        mass = dict.fromkeys(prompt.labels, 1e-9)
        for value, p in self.opinion(prompt).items():
            position = prompt.labels.index(label_of[value])
            mass[prompt.labels[max(0, position - self.shift)]] += p
        return OptionLogprobs({label: math.log(m) for label, m in mass.items()}, "scripted")
