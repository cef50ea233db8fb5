"""llama.cpp's own server (`llama-server`), through its native API: exact option probabilities.

Its OpenAI-compatible /v1/completions neither echoes prompt log-probabilities nor gives more than
the top 20, but its native API has what an exact read-out needs:
- /props names the server (and its chat template, BOS and EOS);
- /tokenize gives the prompt's and each option spelling's tokens, as the local backend tokenises;
- /completion takes a prompt of token ids and `n_probs` without a cap: asked for more candidates
  until every wanted next token is among them, each probability is the model's own (a softmax over
  the whole vocabulary, before sampling).
So an option is scored as the local backend scores it: each spelling ("1", " 1") token by token,
the spellings summed. The method is `logprobs`, exact as the local one.
"""

from __future__ import annotations

import logging

from ..core.prompts import ChatTemplate
from ..core.scoring import OptionLogprobs, distinct_spellings, option_logprobs_from_spellings
from .replies import MalformedReply, checked_top_k

log = logging.getLogger(__name__)

TOP_TOKENS_SHOWN = 8
FIRST_N_PROBS = 1024  # candidates asked for first (about as fast as 20); then 16 times more, up to the whole vocabulary


class NotLlamaServer(Exception):
    pass


def server_root(base_url: str) -> str:
    """The server's root, where the native API lives: the OpenAI base URL less its /v1."""
    root = base_url.rstrip("/")
    return root.removesuffix("/v1")


def is_llama_server(props) -> bool:
    return isinstance(props, dict) and "default_generation_settings" in props and "total_slots" in props


class LlamaServerScorer:
    """Exact option log-probabilities through a llama-server's native API; `backend` does the HTTP
    (retries, timeouts, redaction) and `root` is the server's root URL."""

    def __init__(self, backend, root: str, props: dict, n_vocab: int):
        self.backend, self.root, self.props = backend, root, props
        self.n_vocab = max(n_vocab, FIRST_N_PROBS)
        self.slots = int(props.get("total_slots") or 1)
        self._spellings: dict[str, list[tuple[int, ...]]] = {}

    def chat_template(self) -> ChatTemplate | None:
        source = self.props.get("chat_template")
        if not isinstance(source, str) or not source.strip():
            return None
        return ChatTemplate(source, str(self.props.get("bos_token") or ""), str(self.props.get("eos_token") or ""))

    def rendered_by_server(self, messages) -> str:
        """The chat as the server itself renders it (/apply-template)."""
        def read(data):
            if not isinstance(data, dict) or not isinstance(data.get("prompt"), str):
                raise self._malformed("an /apply-template reply without a prompt")
            return data["prompt"]

        return self.backend._read_reply(f"{self.root}/apply-template", {"messages": list(messages)}, read)

    def tokenize(self, text: str, special: bool) -> list[int]:
        def read(data):
            tokens = data.get("tokens") if isinstance(data, dict) else None
            if not isinstance(tokens, list) or not all(isinstance(t, int) and not isinstance(t, bool) for t in tokens):
                raise self._malformed("a /tokenize reply without a list of token ids")
            return tokens

        return self.backend._read_reply(f"{self.root}/tokenize", {"content": text, "add_special": special, "parse_special": special}, read)

    def prompt_tokens(self, text: str) -> list[int]:
        """As the local backend tokenises a rendered prompt: special tokens parsed, the BOS added if
        the model wants one, once (a template that writes it gets no second)."""
        tokens = self.tokenize(text, special=True)
        if len(tokens) > 1 and tokens[0] == tokens[1] and self._bos_added():
            tokens = tokens[1:]
        return tokens

    def _bos_added(self) -> bool:
        if not hasattr(self, "_bos"):
            self._bos = bool(self.tokenize("", special=True))
        return self._bos

    def spellings(self, label: str) -> list[tuple[int, ...]]:
        if label not in self._spellings:
            self._spellings[label] = distinct_spellings([tuple(self.tokenize(s, special=False)) for s in (label, " " + label)])
        return self._spellings[label]

    def next_logprobs(self, tokens: list[int], wanted: set[int]) -> tuple[dict[int, float], list[tuple[str, float]]]:
        """log P(token | tokens) for every wanted token (and the top ones, as text): more candidates
        are asked for until all the wanted ones are among them."""
        n_probs = FIRST_N_PROBS
        while True:
            found, top = self._candidates(tokens, n_probs)
            if wanted <= set(found) or n_probs >= self.n_vocab:
                missing = wanted - set(found)
                if missing:
                    raise self._malformed(f"tokens {sorted(missing)} are not among the whole vocabulary's probabilities")
                return found, top
            n_probs = min(n_probs * 16, self.n_vocab)

    def _candidates(self, tokens: list[int], n_probs: int):
        def read(data):
            probs = data.get("completion_probabilities") if isinstance(data, dict) else None
            if not isinstance(probs, list) or not probs or not isinstance(probs[0], dict):
                raise self._malformed("a /completion reply without completion_probabilities")
            entries = probs[0].get("top_logprobs")
            if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
                raise self._malformed("completion_probabilities without top_logprobs")
            pairs = [(e.get("token"), e.get("logprob")) for e in entries]
            checked = checked_top_k(pairs)  # the same checks as every top-k list
            ids = [e.get("id") for e in entries]
            if not all(isinstance(i, int) for i in ids):
                raise self._malformed("a candidate without a token id")
            return {i: lp for i, (_, lp) in zip(ids, checked)}, checked[:TOP_TOKENS_SHOWN]

        body = {"prompt": tokens, "n_predict": 1, "n_probs": n_probs, "post_sampling_probs": False, "temperature": 0.0,
                "cache_prompt": False, "samplers": []}  # cold, as the local pass: a cached prefix changed figures by up to 0.017
        return self.backend._read_reply(f"{self.root}/completion", body, read)

    def score(self, text: str, labels) -> OptionLogprobs:
        """As the local backend: each spelling of each option token by token, one request per
        continuation prefix (the prompt, and e.g. the prompt + " " for SmolLM2's " 1")."""
        tokens = self.prompt_tokens(text)
        spellings = {label: self.spellings(label) for label in labels}
        wanted: dict[tuple[int, ...], set[int]] = {}
        for variants in spellings.values():
            for variant in variants:
                for i in range(len(variant)):
                    wanted.setdefault(variant[:i], set()).add(variant[i])
        wanted.setdefault((), set())
        after = {prefix: self.next_logprobs(tokens + list(prefix), ids) for prefix, ids in sorted(wanted.items())}
        spelled = {(label, variant): sum(after[variant[:i]][0][variant[i]] for i in range(len(variant)))
                   for label, variants in spellings.items() for variant in variants}
        return OptionLogprobs(logprobs=option_logprobs_from_spellings(labels, spelled), method="logprobs",
                              top_tokens=tuple(after[()][1]), prompt_tokens=len(tokens))

    def _malformed(self, reason: str):
        return MalformedReply(reason)
