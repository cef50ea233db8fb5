"""Exact option probabilities from completion endpoints (#18): llama.cpp's own server through its
native API, and prompt echo (logprobs-echo) where the top-k list floors options."""

import math
import threading
import time

import httpx
import pytest

from probe_tui.backends.cached import CachedBackend
from probe_tui.backends.remote import EndpointConfig, make_remote_backend
from probe_tui.core.cache import ResponseCache
from probe_tui.core.errors import ProbeError
from probe_tui.core.prompts import CHAT, ChatTemplate
from probe_tui.core.scoring import distribution_from_logprobs
from probe_tui.core.session import Condition, ask


def completions(url, **settings):
    settings = {"timeout": 180.0, "backoff": 0.05, **settings}  # these 2 cores are shared: slow, not stuck
    backend = make_remote_backend(EndpointConfig(kind="openai-completions", base_url=url, model="smollm2", **settings))
    backend.start()
    return backend


def local_template(scorer):
    info = scorer.describe()
    return ChatTemplate(info["chat_template"], info["bos_token"], info["eos_token"])


# --- prompt echo -------------------------------------------------------------------------------
def test_echo_scores_floored_options_exactly(echo_server, scorer, mfq2, personas):
    """Items 2 and 9 of MFQ-2 floor options in the top-20 list; echo scores every option as the local
    backend does (measured: within 1.2e-5 on the 36 items, well inside 1e-3)."""
    backend = completions(echo_server.url)
    template = local_template(scorer)
    for index in (1, 8):
        prompt = mfq2.build_prompt(mfq2.items[index], "en", personas["none"], template)
        floored = completions(echo_server.url, exact=False).score(prompt)
        assert floored.floored and floored.method == f"logprobs-topk-floored({len(floored.floored)})"
        raw = backend.score(prompt)
        assert raw.method == "logprobs-echo" and not raw.floored
        local = scorer.score(prompt.text, prompt.labels)
        for label in prompt.labels:
            assert math.exp(raw.logprobs[label]) == pytest.approx(math.exp(local.logprobs[label]), abs=1e-3)
    assert backend.echo is True


def first_prompt(mfq2, personas, template, url, floored: bool):
    """The first MFQ-2 item whose top-20 list floors an option (or lists them all): which ones do sits
    at the edge of the list and moves with the CPU's kernels, so it is found here, not assumed."""
    plain = completions(url, exact=False)
    for item in mfq2.items:
        prompt = mfq2.build_prompt(item, "en", personas["none"], template)
        if bool(plain.score(prompt).floored) == floored:
            return prompt
    pytest.fail(f"no MFQ-2 item {'floors an option' if floored else 'lists every option'} in its top-20 list")


def test_items_without_floors_keep_the_top_k_reading(echo_server, scorer, mfq2, personas):
    backend = completions(echo_server.url)
    prompt = first_prompt(mfq2, personas, local_template(scorer), echo_server.url, floored=False)
    assert backend.score(prompt).method == "logprobs"
    assert backend.echo is None  # nothing needed it: not asked


def test_llama_cpp_python_echo_is_used_only_where_aligned(llama_server, scorer, mfq2, personas):
    """llama-cpp-python's server echoes token i's logprob from the right row only when the prompt
    starts with a BOS (it drops the BOS, shifting the rest into place); without one they come one
    token late. Checked on every prompt: an echo that is used agrees with the local backend."""
    backend = completions(llama_server.url)
    prompt = mfq2.build_prompt(mfq2.items[1], "en", personas["none"], local_template(scorer))
    raw = backend.score(prompt)
    assert backend.echo is True  # it echoes; whether this prompt's echo is usable is checked on it
    local = scorer.score(prompt.text, prompt.labels)
    if raw.method == "logprobs-echo":
        for label in prompt.labels:
            assert math.exp(raw.logprobs[label]) == pytest.approx(math.exp(local.logprobs[label]), abs=1e-3)
    else:  # never a wrong echo: the floors stay, and the label says so
        assert raw.method == f"logprobs-topk-floored({len(raw.floored)})" and raw.floored
    plain = "Question: pick a number from 1 to 5.\nAnswer:"  # no BOS: SmolLM2 adds none
    top = backend._top_k("/completions", backend._logprobs_body(plain, 20), __import__("probe_tui.backends.remote", fromlist=["x"])._read_first_top_k)
    assert not backend._echo_aligned(backend._echoed(plain, 20), top)


def test_the_exact_setting_is_in_the_cache_key(echo_server, scorer, mfq2, personas, tmp_path):
    prompt = mfq2.build_prompt(mfq2.items[1], "en", personas["none"], local_template(scorer))
    cache = ResponseCache(tmp_path / "cache.sqlite")
    exact = CachedBackend(make_remote_backend(EndpointConfig(kind="openai-completions", base_url=echo_server.url, model="smollm2")), cache)
    floored = CachedBackend(make_remote_backend(EndpointConfig(kind="openai-completions", base_url=echo_server.url, model="smollm2",
                                                               exact=False)), cache)
    assert exact.score(prompt).method == "logprobs-echo"
    assert floored.score(prompt).method.startswith("logprobs-topk-floored")
    assert (exact.hits, floored.hits) == (0, 0)


# --- llama-server ------------------------------------------------------------------------------
def test_llama_server_is_found_and_renders_the_chat_as_the_server_does(llama_cpp_server):
    backend = completions(llama_cpp_server.url)
    assert backend.native is not None and backend.native.slots == 4
    assert backend.info.prompt_style == CHAT
    assert backend.info.details["template_check"] == "same as the server's own rendering"
    messages = [{"role": "user", "content": "Hello"}]
    assert backend.info.chat_template.render(messages) == backend.native.rendered_by_server(messages)


def test_llama_server_agrees_with_the_local_backend(llama_cpp_server, scorer, mfq2, personas):
    """Every option, floored by a top-20 list or not, multi-token spellings (" 1") included."""
    backend = completions(llama_cpp_server.url)
    for index, language, persona in ((1, "en", "none"), (8, "en", "none"), (5, "zh", "cn_average")):
        prompt = mfq2.build_prompt(mfq2.items[index], language, personas[persona], backend.info.chat_template)
        raw = backend.score(prompt)
        assert raw.method == "logprobs" and not raw.floored
        local = scorer.score(prompt.text, prompt.labels)
        for label in prompt.labels:
            assert math.exp(raw.logprobs[label]) == pytest.approx(math.exp(local.logprobs[label]), abs=1e-3)
        assert raw.prompt_tokens == local.prompt_tokens


def test_llama_server_sweep_through_ask_records_the_exact_prompt(llama_cpp_server, mfq2, personas):
    backend = completions(llama_cpp_server.url)
    condition = Condition(backend.info.identity, "mfq2", "en", "none")
    answer = ask(backend, mfq2, mfq2.items[3], condition, personas["none"])
    assert answer.distribution.method == "logprobs"
    assert answer.prompt.text.startswith("<|im_start|>system") and answer.prompt.text.endswith("<|im_start|>assistant\n")
    assert sum(answer.distribution.probs.values()) == pytest.approx(1.0)


def test_llama_server_streams_free_text(llama_cpp_server, mfq2, personas):
    backend = completions(llama_cpp_server.url)
    prompt = mfq2.build_prompt(mfq2.items[0], "en", personas["none"], backend.info.chat_template)
    pieces = []
    generation = backend.generate(prompt, pieces.append, threading.Event(), max_tokens=12)
    assert len(pieces) > 1 and generation.text == "".join(pieces)
    assert generation.finish in ("stop", "length")


def test_llama_server_sampled_mode(llama_cpp_server, mfq2, personas):
    backend = completions(llama_cpp_server.url, mode="sampled", samples=4, temperature=0.7, seed=3)
    assert backend.native is None  # a sampled endpoint is not read for probabilities
    prompt = mfq2.build_prompt(mfq2.items[0], "en", personas["none"], None)
    raw = backend.score(prompt)
    assert raw.method == "sampled(n=4,T=0.7)" and raw.samples == 4
    assert len(raw.top_tokens) == 4  # every raw answer kept


def test_llama_server_context_overflow_is_one_line(llama_cpp_server, mfq2, personas):
    backend = completions(llama_cpp_server.url)
    prompt = mfq2.build_prompt(mfq2.items[0], "en", personas["none"], backend.info.chat_template)
    long = type(prompt)(text=prompt.text.replace("<|im_start|>assistant", "word " * 3000 + "<|im_start|>assistant"),
                        labels=prompt.labels, style=prompt.style)
    with pytest.raises(ProbeError) as error:
        backend.score(long)
    message = str(error.value)
    assert "HTTP 400" in message and "context" in message.lower() and "\n" not in message


def test_a_llama_server_still_loading_is_waited_for(llama_cpp_server, smollm2_path, mfq2, personas, tmp_path):
    """While it loads the model, llama-server answers 503 on /health (and every route); the backend
    started then waits it out (retries with backoff), finds the server, and scores exactly."""
    from loopback import LlamaCppServer, llama_server_binary

    server = LlamaCppServer(llama_server_binary(), smollm2_path, "smollm2", tmp_path / "server.log", parallel=1, wait=False)
    try:
        first = None
        deadline = time.monotonic() + 60
        while first is None and time.monotonic() < deadline:
            try:
                first = httpx.get(f"{server.root}/health", timeout=1)
            except httpx.HTTPError:
                time.sleep(0.005)
        assert first is not None and first.status_code == 503 and "Loading model" in first.text
        backend = completions(server.url, max_retries=10, backoff=0.2)
        assert backend.native is not None
        prompt = mfq2.build_prompt(mfq2.items[0], "en", personas["none"], backend.info.chat_template)
        assert backend.score(prompt).method == "logprobs"
    finally:
        server.stop()


def test_llama_server_scores_at_concurrency(llama_cpp_server, mfq2, personas):
    """Four slots, eight requests in flight: continuous batching puts several prompts in one batch,
    which moves the figures a little (measured: up to 0.005 on these 8 items), within the 0.02 a
    sweep through llama-server is held to; one at a time they are exact (see above)."""
    from concurrent.futures import ThreadPoolExecutor

    backend = completions(llama_cpp_server.url)
    prompts = [mfq2.build_prompt(item, "en", personas["none"], backend.info.chat_template) for item in mfq2.items[:8]]
    alone = [backend.score(p) for p in prompts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(backend.score, prompts))
    for a, b, p in zip(alone, together, prompts):
        da, db = distribution_from_logprobs(a, p.labels), distribution_from_logprobs(b, p.labels)
        for label in p.labels:
            assert da.probs[label] == pytest.approx(db.probs[label], abs=0.02)


def test_a_whole_mfq2_sweep_through_llama_server_agrees_with_local(llama_cpp_server, scorer, mfq2, personas):
    """#18's check: the 36 items through the job runner against the local backend on the same prompts,
    every row labelled `logprobs`. One request at a time the server evaluates each prompt alone, so
    the figures are exact (within 1e-3; measured 6e-8). With 8 in flight on its 4 slots, continuous
    batching moved them by up to 0.018 on this sweep (2026-12-02): within #18's 0.02, but too close to
    it to hold a test to, so the batched reading is tested on 8 items above."""
    from probe_tui.core.conditions import single_condition_jobs
    from probe_tui.core.rows import answer_row
    from probe_tui.core.runner import run_jobs

    backend = completions(llama_cpp_server.url)
    jobs = single_condition_jobs(mfq2, mfq2.items, backend.info.identity, "en", personas["none"])
    answers = run_jobs(jobs, backend, mfq2, concurrency=1)
    assert len(answers) == len(mfq2.items) == 36
    worst = 0.0
    for answer in answers:
        assert answer_row(answer)["method"] == "logprobs" and not answer.distribution.floored
        local = distribution_from_logprobs(scorer.score(answer.prompt.text, answer.prompt.labels), answer.prompt.labels)
        worst = max(worst, *(abs(answer.distribution.probs[k] - local.probs[k]) for k in answer.prompt.labels))
    print(f"36 items through llama-server: largest difference from local {worst:.2e}")
    assert worst <= 1e-3, f"largest difference from local {worst:.4f}"
