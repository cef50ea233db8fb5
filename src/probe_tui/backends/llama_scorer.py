"""In-process llama.cpp scoring: one forward pass per prompt, exact next-token probabilities.

This module imports llama_cpp. The app runs it inside a worker process (see llama_worker.py) so that
llama.cpp's writes to fds 1 and 2 never reach the terminal; tests and benchmarks may use it directly.
"""

from __future__ import annotations

import ctypes
import logging
import os
from pathlib import Path

# llama.cpp's libraries load before numpy's: a CUDA build loaded after numpy 2.5 crashed in
# init_tokenizer (seen on an H100 with CUDA 13, 2026-11-26).
import llama_cpp  # noqa: F401  isort: skip
import numpy as np
from scipy.special import log_softmax, logsumexp

from ..core.scoring import OptionLogprobs, distinct_spellings, option_logprobs_from_spellings

TOP_TOKENS_SHOWN = 8



def gpu_offload_supported() -> bool:
    import llama_cpp

    return bool(llama_cpp.llama_supports_gpu_offload())


def default_gpu_layers() -> int:
    """Offload every layer when this llama.cpp build has a GPU backend, none otherwise."""
    return -1 if gpu_offload_supported() else 0


def _placement(n_gpu_layers: int, n_layers: int) -> str:
    """Where the layers run, in words: "CPU", "GPU (all 30 layers)" or "GPU 12/30 layers"."""
    if not gpu_offload_supported() or n_gpu_layers == 0:
        return "CPU"
    if n_gpu_layers < 0 or (n_layers and n_gpu_layers >= n_layers):
        return f"GPU (all {n_layers} layers)" if n_layers else "GPU (all layers)"
    return f"GPU {n_gpu_layers}/{n_layers} layers" if n_layers else f"GPU {n_gpu_layers} layers"


class LlamaScorer:
    def __init__(
        self,
        model_path: str | Path,
        n_gpu_layers: int | None = None,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        n_batch: int = 512,
        verbose: bool = False,
        on_progress=None,
    ):
        import llama_cpp
        from llama_cpp import Llama

        self.model_path = str(model_path)
        self.n_gpu_layers = default_gpu_layers() if n_gpu_layers is None else n_gpu_layers
        with _load_progress_reported(on_progress):
            self.llm = Llama(
                model_path=self.model_path,
                n_gpu_layers=self.n_gpu_layers,
                n_ctx=n_ctx,
                n_threads=n_threads,
                n_batch=n_batch,
                n_ubatch=n_batch,  # one physical batch per logical one (cut to n_ctx alike): the cache keys n_batch only
                logits_all=False,
                verbose=verbose,
            )
        self._lib = llama_cpp
        self.n_vocab = self.llm.n_vocab()
        self._kv_tokens: list[int] = []  # what the KV cache holds, from position 0
        self.reused_tokens = 0  # prompt tokens not evaluated again thanks to prefix reuse
        # None: not yet checked on this load; False: evaluate cold (a GPU, or the check failed)
        self.prefix_reuse: bool | None = False if (self.n_gpu_layers != 0 and gpu_offload_supported()) else None
        self._variant_cache: dict[str, list[tuple[int, ...]]] = {}

    # --- metadata -------------------------------------------------------------------------------
    def describe(self) -> dict:
        meta = self.llm.metadata
        arch = meta.get("general.architecture", "")
        bos = self.llm.token_bos()
        eos = self.llm.token_eos()
        where = _placement(self.n_gpu_layers, int(meta.get(f"{arch}.block_count", 0) or 0))
        size = os.path.getsize(self.model_path)
        quantisation = _file_type_name(meta.get("general.file_type"))
        return {
            "summary": f"{size / 1e6:.0f} MB, {quantisation}, n_ctx {self.llm.n_ctx()}, {where}",
            "name": Path(self.model_path).stem,
            "general_name": meta.get("general.name", ""),
            "path": self.model_path,
            "size_bytes": size,
            "architecture": arch,
            "quantisation": quantisation,
            "context_length": int(meta.get(f"{arch}.context_length", 0) or 0),
            "n_ctx": self.llm.n_ctx(),
            "n_gpu_layers": self.n_gpu_layers,
            "gpu_offload_supported": gpu_offload_supported(),
            "chat_template": meta.get("tokenizer.chat_template"),
            "bos_token": self._token_text(bos) if bos >= 0 else "",
            "eos_token": self._token_text(eos) if eos >= 0 else "",
        }

    def _token_text(self, token: int) -> str:
        """A token as text; a token that is only part of a UTF-8 character shows as its hex bytes."""
        raw = self.llm.detokenize([token], special=True)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return "<" + raw.hex(" ") + ">"

    # --- tokens ---------------------------------------------------------------------------------
    def prompt_tokens(self, text: str) -> list[int]:
        """Tokenise a rendered prompt: special tokens parsed, BOS added if the model wants one."""
        tokens = self.llm.tokenize(text.encode("utf-8"), add_bos=True, special=True)
        bos = self.llm.token_bos()
        if len(tokens) > 1 and tokens[0] == bos and tokens[1] == bos:
            tokens = tokens[1:]  # the template already wrote the BOS
        return tokens

    def label_variants(self, label: str) -> list[tuple[int, ...]]:
        """Token sequences that spell the label: with and without a leading space.

        A variant that extends another is dropped: its mass is already inside the shorter one.
        """
        if label not in self._variant_cache:
            self._variant_cache[label] = distinct_spellings(
                [tuple(self.llm.tokenize(spelling.encode("utf-8"), add_bos=False, special=False)) for spelling in (label, " " + label)])
        return self._variant_cache[label]

    # --- evaluation -----------------------------------------------------------------------------
    # Prefix reuse. Consecutive prompts share a long head (system, persona, question, options), so
    # the KV cache of their common prefix is kept and only the rest is evaluated. llama.cpp's CPU
    # kernels compute a row differently in a batch of one, and the repacked kernels take rows in
    # groups of 4: a row's logits match a cold pass only when its batch has 2 or more rows and
    # starts where a cold pass's groups start. So the reused prefix is cut to a multiple of
    # REUSE_ALIGN (16: a group of 4, 8 or 16 rows, as AVX2, AVX-512 and AMX kernels take them) and
    # the rest is at least 2 tokens. Measured here: 0.0 difference from cold on 330 SmolLM2 and
    # 144 Gemma-3 prompts (a prompt's second continuation chain is evaluated cold: see below). Each load checks this once, on its first reuse, against a cold pass, and
    # keeps evaluating cold if any figure differs. GPU kernels pick their algorithm by batch size,
    # so with layers on a GPU every prompt is evaluated cold.
    REUSE_ALIGN = 16

    def forget_kv(self) -> None:
        """The KV cache no longer holds what the last evaluation left (e.g. after generating)."""
        self._kv_tokens = []

    def _reusable_prefix(self, tokens: list[int], first_row: int) -> int:
        if self.prefix_reuse is False or not self._kv_tokens:
            return 0
        held = self._kv_tokens
        common = 0
        limit = min(len(held), len(tokens) - 2, first_row)
        while common < limit and held[common] == tokens[common]:
            common += 1
        start = min(common, len(held) // self.REUSE_ALIGN * self.REUSE_ALIGN)
        return start // self.REUSE_ALIGN * self.REUSE_ALIGN

    def _evaluate(self, tokens: list[int]) -> np.ndarray:
        """Evaluate tokens cold, as create_completion does, and return the next-token logprobs
        (for a sequence longer than one batch, which llama.cpp splits itself)."""
        if len(tokens) > self.llm.n_ctx():
            raise ValueError(f"prompt has {len(tokens)} tokens but the context holds {self.llm.n_ctx()}")
        self.llm.reset()
        self.llm.eval(tokens)
        self._kv_tokens = list(tokens)
        return self._last_logprobs()

    def _last_logprobs(self) -> np.ndarray:
        return self._logprobs_at(-1)

    def _logprobs_at(self, row: int) -> np.ndarray:
        """The next-token logprobs at a row of the last batch."""
        pointer = self._lib.llama_get_logits_ith(self.llm._ctx.ctx, row)
        logits = np.ctypeslib.as_array(ctypes.cast(pointer, ctypes.POINTER(ctypes.c_float)), shape=(self.n_vocab,))
        return log_softmax(logits.astype(np.float64))

    def next_logprobs_after(self, tokens: list[int], prefixes) -> dict[tuple[int, ...], np.ndarray]:
        """Next-token logprobs after the prompt followed by each continuation prefix. Prefixes along
        one chain (() and (" ",) for SmolLM2's " 1") share one cold pass of the longest, which reads
        the logits at each of their positions: the same numbers as a pass per prefix (a test checks
        this), in one pass instead of several."""
        prefixes = set(prefixes) | {()}
        longest = [p for p in prefixes if not any(len(o) > len(p) and o[: len(p)] == p for o in prefixes)]
        after = {}
        for number, chain in enumerate(sorted(longest)):
            sequence = tokens + list(chain)
            wanted = [p for p in prefixes if chain[: len(p)] == p and p not in after]
            if len(sequence) > self.llm.n_batch:  # llama.cpp would split it: keep one pass per prefix
                after.update({p: self._evaluate(tokens + list(p)) for p in wanted})
            else:
                # a second chain of the same prompt is evaluated cold: reusing the prompt it shares with
                # the first changed Gemma-3's figures by up to 5e-3
                rows = self._evaluate_rows(sequence, [len(tokens) + len(p) - 1 for p in wanted], reuse=number == 0)
                after.update(zip(wanted, rows))
        return after

    def _evaluate_rows(self, tokens: list[int], rows: list[int], reuse: bool = True) -> list[np.ndarray]:
        """Evaluate tokens in one batch, with logits kept at the given rows: after the reusable
        prefix held in the KV cache, or cold (the same numbers either way; see REUSE_ALIGN)."""
        if len(tokens) > self.llm.n_ctx():
            raise ValueError(f"prompt has {len(tokens)} tokens but the context holds {self.llm.n_ctx()}")
        start = self._reusable_prefix(tokens, min(rows)) if reuse else 0
        if start and self.prefix_reuse is None:  # the first reuse since loading: check it against cold
            reused = self._decode_from(tokens, rows, start)
            cold = self._decode_from(tokens, rows, 0)
            gap = max(float(np.max(np.abs(a - b))) for a, b in zip(reused, cold))
            self.prefix_reuse = gap == 0.0
            logging.getLogger("probe_tui.worker").info(
                "prefix reuse %s: largest logprob difference from a cold pass %.3g", "on" if self.prefix_reuse else "off", gap)
            return cold
        self.reused_tokens += start
        return self._decode_from(tokens, rows, start)

    def _decode_from(self, tokens: list[int], rows: list[int], start: int) -> list[np.ndarray]:
        llm = self.llm
        if start == 0:
            llm.reset()
        llm._ctx.kv_cache_seq_rm(-1, start, -1)
        llm._batch.set_batch(batch=tokens[start:], n_past=start, logits_all=False)
        for row in rows:
            llm._batch.batch.logits[row - start] = True
        llm._ctx.decode(llm._batch)
        llm.n_tokens = len(tokens)
        self._kv_tokens = list(tokens)
        return [self._logprobs_at(row - start) for row in rows]

    def score(self, text: str, labels) -> OptionLogprobs:
        """log P(label) for each label: summed over its spellings, and over the tokens of each
        spelling (lm-eval's semantics), less the mass of longer labels that begin with it ("10"
        begins with "1"). One forward pass per chain of continuation prefixes: usually one."""
        tokens = self.prompt_tokens(text)
        variants = [variant for label in labels for variant in self.label_variants(label)]
        after = self.next_logprobs_after(tokens, {variant[:i] for variant in variants for i in range(len(variant))})

        def next_logprobs(prefix: tuple[int, ...]) -> np.ndarray:
            return after[prefix]

        spelled = {
            (label, variant): sum(float(next_logprobs(variant[:i])[variant[i]]) for i in range(len(variant)))
            for label in labels
            for variant in self.label_variants(label)
        }
        result = option_logprobs_from_spellings(labels, spelled)
        first = after[()]
        top = np.argsort(first)[::-1][:TOP_TOKENS_SHOWN]
        top_tokens = tuple((self._token_text(int(t)), float(first[t])) for t in top)
        return OptionLogprobs(logprobs=result, method="logprobs", top_tokens=top_tokens, prompt_tokens=len(tokens))


def _file_type_name(value) -> str:
    """llama.cpp's LLAMA_FTYPE_* name for a general.file_type number, e.g. 3 -> Q4_1."""
    import llama_cpp

    if value is None:
        return "unknown"
    for name in dir(llama_cpp):
        if name.startswith("LLAMA_FTYPE_") and getattr(llama_cpp, name) == int(value):
            return name.removeprefix("LLAMA_FTYPE_").removeprefix("MOSTLY_")
    return f"type {value}"


class _load_progress_reported:
    """Report llama.cpp's model-loading progress (0..1) through on_progress while Llama() loads.

    llama-cpp-python builds its model params with llama_model_default_params(); the callback is set
    on the params that function returns, only for the duration of the load.
    """

    def __init__(self, on_progress):
        self.on_progress = on_progress

    def __enter__(self):
        if self.on_progress is None:
            return self
        import llama_cpp.llama_cpp as lib

        self._lib = lib
        self._original = lib.llama_model_default_params
        on_progress = self.on_progress

        def report(progress, _user_data):
            on_progress(float(progress))
            return True

        self._callback = lib.llama_progress_callback(report)  # kept alive until __exit__

        def params_with_progress():
            params = self._original()
            params.progress_callback = self._callback
            return params

        lib.llama_model_default_params = params_with_progress
        return self

    def __exit__(self, *exc):
        if self.on_progress is not None:
            self._lib.llama_model_default_params = self._original
        return False
