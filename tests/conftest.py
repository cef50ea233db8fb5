# llama.cpp's libraries load before numpy's: a CUDA build loaded after numpy crashed in
# init_tokenizer (H100, CUDA 13, numpy 2.5); tests that score in-process need this order there.
import llama_cpp  # noqa: F401  isort: skip

import os
import tempfile
from pathlib import Path

import pytest

# Keep logs, data and caches of the tests away from the user's own (the worker processes inherit this).
_sandbox = Path(tempfile.mkdtemp(prefix="probe-tui-tests-"))
for variable in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
    os.environ[variable] = str(_sandbox / variable.lower())



@pytest.fixture(scope="session")
def smollm2_path() -> Path:
    from probe_tui.backends.models import resolve_model

    return resolve_model(None)


@pytest.fixture(scope="session")
def gemma_path() -> Path:
    from probe_tui.backends.models import resolve_model

    return resolve_model("gemma3-270m")


@pytest.fixture(scope="session")
def scorer(smollm2_path):
    from probe_tui.backends.llama_scorer import LlamaScorer

    return LlamaScorer(smollm2_path, n_ctx=2048)


@pytest.fixture(scope="session")
def backend(smollm2_path):
    from probe_tui.backends.llama_cpp import LlamaCppBackend

    started = LlamaCppBackend(smollm2_path, n_ctx=2048)
    started.start()
    yield started
    started.close()


@pytest.fixture(scope="session")
def mfq2():
    from probe_tui.core.instruments import get_instrument

    return get_instrument("mfq2")


@pytest.fixture(scope="session")
def personas():
    from probe_tui.core.personas import load_personas

    return load_personas()


@pytest.fixture(scope="session")
def llama_server(smollm2_path, tmp_path_factory):
    """The real OpenAI-compatible llama.cpp server, serving SmolLM2 on loopback."""
    from loopback import LlamaServer

    server = LlamaServer(smollm2_path, "smollm2", tmp_path_factory.mktemp("server") / "server.log")
    yield server
    server.stop()
