"""The one small protocol every backend implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..core.prompts import ChatTemplate
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
    chat_template: ChatTemplate | None  # None: a base model, probed with a completion prompt
    details: dict  # size, quantisation, context length, GPU layers...


class Backend(Protocol):
    capabilities: Capabilities
    info: ModelInfo

    def score(self, prompt_text: str, labels: tuple[str, ...]) -> OptionLogprobs:
        """Log-probability of each option label as the model's next tokens after prompt_text."""
        ...

    def close(self) -> None: ...
