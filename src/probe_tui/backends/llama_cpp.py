"""The llama.cpp backend: a GGUF model in a worker process of our own, scored over a pipe."""

from __future__ import annotations

import functools
import os
import socket
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path

from ..core import paths
from ..core.cache import file_sha256, model_identity
from ..core.errors import ProbeError
from ..core.prompts import CHAT, COMPLETION, ChatTemplate, Prompt
from ..core.scoring import OptionLogprobs
from ..core.settings import DEFAULTS
from .base import MAX_FREE_TEXT_TOKENS, Capabilities, Generation, ModelInfo
from .gguf_meta import check_complete
from .models import check_fits_in_memory, check_gguf


SCORING_VERSION = 1  # bump when a change to the scoring in llama_scorer.py changes any number: it keys the response cache
N_BATCH = 512  # llama.cpp's logical batch; llama-cpp-python cuts it to n_ctx, and its size changes the figures


class LlamaCppBackend:
    capabilities = Capabilities(logprobs=True, cancel=True, stream=True)
    max_concurrency = 1
    repeatable = True  # exact probabilities, the same on every asking (prefix reuse keeps them equal to a cold pass)

    def __init__(self, model_path: str | Path, n_gpu_layers: int | None = None, n_ctx: int = DEFAULTS.n_ctx, n_threads: int | None = None,
                 n_batch: int = N_BATCH):
        self.model_path = Path(model_path)
        self.options = {"n_gpu_layers": n_gpu_layers, "n_ctx": n_ctx, "n_threads": n_threads, "n_batch": n_batch}
        self.info: ModelInfo | None = None
        self._process = None
        self._conn = None
        self._lock = threading.Lock()
        self._cancelled = False
        self._identity: str | None = None

    def start(self, on_progress=None) -> ModelInfo:
        """Spawn the worker and load the model. on_progress(fraction) is called as loading proceeds."""
        self.preflight()
        ours, theirs = socket.socketpair()
        with paths.log_file().open("ab") as log:
            # A session of its own: the terminal's Ctrl+C goes to the app, which decides when to stop it.
            self._process = subprocess.Popen(
                [sys.executable, "-m", "probe_tui.backends.llama_worker", str(theirs.fileno()), str(os.getpid())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        theirs.close()
        self._conn = Connection(ours.detach())
        self._conn.send(("load", str(self.model_path), self.options))
        while True:
            kind, payload = self._receive("loading the model")
            if kind == "progress":
                if on_progress:
                    on_progress(payload)
            elif kind == "ready":
                self.info = _model_info(payload, self.identity)
                return self.info
            else:
                self.close()
                check_complete(self.model_path)  # the reason, where the file itself is broken
                raise ProbeError(f"could not load {self.model_path.name}: {payload}")

    def preflight(self) -> None:
        """Refuse, in one line and before anything slow, a missing or foreign file or one too big to load."""
        check_gguf(self.model_path)
        gpu_layers = self.options["n_gpu_layers"]
        check_fits_in_memory(self.model_path, offloads_to_gpu=lambda: gpu_layers != 0 and gpu_build_available())

    @property
    def display_name(self) -> str:
        return self.model_path.name

    @property
    def cache_params(self) -> dict:
        """What besides the file and the prompt decides the numbers, for the response cache and the
        journal. The batch size changes the figures (n_ctx 1 means batches of one token: E[x] 2.08
        instead of 1.95), and so do the layers offloaded. The thread count does not (measured on 1, 2
        and 3 threads: the same figures), so a resume may use other --threads."""
        from importlib.metadata import version

        n_ctx, n_batch, gpu_layers = self.options["n_ctx"], self.options["n_batch"], self.options["n_gpu_layers"]
        gpu = gpu_layers != 0 and gpu_build_available()
        return {"backend": "llama.cpp", "llama-cpp-python": version("llama-cpp-python"), "scoring": SCORING_VERSION,
                "device": "gpu" if gpu else "cpu", "n_ctx": n_ctx, "n_batch": min(n_batch, n_ctx) if n_ctx else n_batch,
                **({"n_gpu_layers": -1 if gpu_layers is None else gpu_layers} if gpu else {})}

    @property
    def identity(self) -> str:
        """The file's name and SHA-256, portable across machines (the path goes in provenance only);
        the name alone for a file that cannot be read (loading it then says why)."""
        if self._identity is None:
            try:
                self.preflight()  # not a model, or too big to load: never hashed
                self._identity = model_identity(self.model_path.name, file_sha256(self.model_path))
            except (ProbeError, OSError):
                return self.model_path.name
        return self._identity

    def score(self, prompt: Prompt) -> OptionLogprobs:
        if self._conn is None:
            raise ProbeError("the model is not loaded")
        with self._lock:
            self._conn.send(("score", prompt.text, tuple(prompt.labels)))
            kind, payload = self._receive("scoring")
        if kind == "error":
            raise ProbeError(f"the model could not score this prompt: {payload}")
        return payload

    def generate(self, prompt: Prompt, on_text, cancel, max_tokens: int = MAX_FREE_TEXT_TOKENS) -> Generation:
        """Greedy free text from the worker, piece by piece. A cancel is honoured between tokens:
        llama.cpp cannot stop while it reads the prompt, so a cancel waits for that to finish."""
        if self._conn is None:
            raise ProbeError("the model is not loaded")
        pieces: list[str] = []
        with self._lock:
            self._conn.send(("generate", prompt.text, max_tokens))
            stop_sent = False
            while True:
                if cancel.is_set() and not stop_sent:
                    self._conn.send(("stop",))
                    stop_sent = True
                if not self._conn.poll(0.05):
                    continue
                kind, payload = self._receive("writing")
                if kind == "text":
                    pieces.append(payload)
                    on_text(payload)
                elif kind == "done":
                    return Generation("".join(pieces), payload)
                else:
                    raise ProbeError(f"the model could not write an answer: {payload}")

    def cancel_load(self) -> None:
        """Stop a load in progress (or the worker, whatever it is doing)."""
        self._cancelled = True
        if self._process is not None and self._process.poll() is None:
            self._process.kill()

    def _receive(self, doing: str):
        try:
            return self._conn.recv()
        except (EOFError, OSError):
            if self._cancelled:
                raise ProbeError(f"cancelled while {doing}") from None
            code = self._process.wait(timeout=5) if self._process else None
            raise ProbeError(
                f"the model process stopped while {doing} (exit code {code}); see {paths.log_file()}"
            ) from None

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.send(("close",))
            except (OSError, BrokenPipeError):
                pass
        if self._process is not None:
            try:
                self._process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=2)
        if self._conn is not None:
            self._conn.close()
        self._conn = None
        self._process = None


@functools.cache
def gpu_build_available() -> bool:
    """Whether this llama.cpp can offload to a GPU here. Asked in a child process: a GPU build prints
    its device lines on fds 1 and 2 as it loads, which in the app would land on the screen."""
    code = "import llama_cpp; print('gpu-offload', int(llama_cpp.llama_supports_gpu_offload()))"
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.SubprocessError):
        return False
    return "gpu-offload 1" in done.stdout


def _model_info(details: dict, identity: str) -> ModelInfo:
    source = details.get("chat_template")
    template = ChatTemplate(source, details.get("bos_token", ""), details.get("eos_token", "")) if source else None
    style = CHAT if template else COMPLETION
    return ModelInfo(name=details["name"], identity=identity, chat_template=template, details=details, prompt_style=style)
