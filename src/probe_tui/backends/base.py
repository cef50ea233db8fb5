"""The one small protocol every backend implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..core.prompts import COMPLETION, ChatTemplate, Prompt
from ..core.scoring import OptionLogprobs


@dataclass(frozen=True)
class Capabilities:
    logprobs: bool  # exact next-token probabilities (else: sampled or parsed)
    cancel: bool  # a request in flight can be abandoned (its result is dropped)
    stream: bool  # free-text answers can be streamed


@dataclass(frozen=True)
class ModelInfo:
    name: str  # short display name
    identity: str  # file path, or endpoint + model id
    chat_template: ChatTemplate | None  # for local chat models
    details: dict  # size, quantisation, context length, GPU layers...
    prompt_style: str = COMPLETION  # CHAT (local template), MESSAGES (chat API) or COMPLETION


@dataclass(frozen=True)
class Generation:
    """A free-text answer: greedy (temperature 0) continuation of the exact prompt."""

    text: str
    finish: str  # "stop" (the model ended it), "length" (max_tokens reached) or "cancelled"


MAX_FREE_TEXT_TOKENS = 256


class Backend(Protocol):
    capabilities: Capabilities
    info: ModelInfo | None  # set by start()
    display_name: str
    identity: str  # what results are obtained from: the model file, or endpoint#model; known before start()
    max_concurrency: int  # requests a sweep may have in flight at once
    # optional: repeatable = True when the same prompt gets the same numbers on every asking (a local
    # model's exact probabilities), so a study's repeats read one answer; absent means asked again

    def start(self, on_progress=None) -> ModelInfo:
        """Load the model or check the endpoint; on_progress(fraction) may be called meanwhile."""
        ...

    def score(self, prompt: Prompt) -> OptionLogprobs:
        """Log-probability of each of prompt.labels as the model's answer, and how it was obtained."""
        ...

    def generate(self, prompt: Prompt, on_text, cancel, max_tokens: int = MAX_FREE_TEXT_TOKENS) -> Generation:
        """Stream the model's own answer to the prompt: on_text(piece) per piece, until it ends,
        max_tokens, or cancel (a threading.Event) is set. Only where capabilities.stream."""
        ...

    def close(self) -> None: ...
