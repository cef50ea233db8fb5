"""The response cache: a replay gives the very numbers first obtained, without the model or network."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pandas as pd
import pytest

from probe_tui.backends.cached import CachedBackend
from probe_tui.backends.llama_cpp import LlamaCppBackend
from probe_tui.backends.remote import EndpointConfig, make_remote_backend
from probe_tui.cli import main
from probe_tui.core.cache import ResponseCache, cache_file
from probe_tui.core.errors import ProbeError
from probe_tui.core.prompts import COMPLETION, MESSAGES
from probe_tui.core.session import Condition, ask

from loopback import FaultProxy


def test_a_replay_is_identical_and_never_loads_the_model(tmp_path, smollm2_path, mfq2, personas):
    cache = ResponseCache(tmp_path / "cache.sqlite")
    first = CachedBackend(LlamaCppBackend(smollm2_path, n_ctx=2048), cache)
    info = first.start()
    prompts = [mfq2.build_prompt(item, lang, personas["none"], info.chat_template, info.prompt_style)
               for item, lang in [(mfq2.items[0], "en"), (mfq2.items[1], "zh"), (mfq2.items[2], "fr")]]
    live = [first.score(p) for p in prompts]
    first.close()
    assert first.misses == 3 and not any(r.cached for r in live)

    again = CachedBackend(LlamaCppBackend(smollm2_path, n_ctx=2048), cache)
    replay_info = again.start()
    assert replay_info == info  # the chat template and prompt style come back too
    replayed = [again.score(p) for p in prompts]
    assert again.inner._process is None  # no worker, no model load
    assert again.hits == 3 and all(r.cached for r in replayed)
    for a, b in zip(live, replayed):
        assert a.logprobs == b.logprobs and a.top_tokens == b.top_tokens and a.method == b.method

    other = mfq2.build_prompt(mfq2.items[3], "en", personas["none"], info.chat_template, info.prompt_style)
    fresh = again.score(other)  # a miss starts the model on demand
    assert not fresh.cached and again.inner._process is not None
    again.close()


def test_the_file_hash_is_remembered_by_path_size_and_mtime(tmp_path, smollm2_path):
    cache = ResponseCache(tmp_path / "cache.sqlite")
    expected = hashlib.sha256(smollm2_path.read_bytes()).hexdigest()
    assert cache.file_hash(smollm2_path) == expected
    rows = cache.db.execute("SELECT path, size, sha256 FROM file_hashes").fetchall()
    assert rows == [(str(smollm2_path.resolve()), smollm2_path.stat().st_size, expected)]
    copy = tmp_path / "copy.gguf"
    copy.write_bytes(smollm2_path.read_bytes()[:4096])
    assert cache.file_hash(copy) == hashlib.sha256(copy.read_bytes()).hexdigest()


def test_a_missing_model_is_still_a_one_line_error(tmp_path):
    backend = CachedBackend(LlamaCppBackend(tmp_path / "gone.gguf"), ResponseCache(tmp_path / "c.sqlite"))
    with pytest.raises(ProbeError, match="gone.gguf"):
        backend.start()


def test_remote_replay_works_offline_and_stores_no_key(tmp_path, llama_server, mfq2, personas, monkeypatch):
    secret = "sk-planted-7f3a9c1e5b"
    monkeypatch.setenv("PLANTED_KEY", secret)
    proxy = FaultProxy(llama_server.url.removesuffix("/v1"))
    config = EndpointConfig(kind="openai", base_url=proxy.url, model="smollm2", api_key_env="PLANTED_KEY", timeout=60.0,
                            max_retries=1, backoff=0.01)
    cache = ResponseCache(tmp_path / "cache.sqlite")
    prompt = mfq2.build_prompt(mfq2.items[0], "en", personas["none"], None, style=MESSAGES)
    try:
        online = CachedBackend(make_remote_backend(config), cache)
        online.start()
        live = online.score(prompt)
    finally:
        proxy.stop()
    offline = CachedBackend(make_remote_backend(config), cache)
    offline.start()  # the endpoint is gone: the stored description is used
    replayed = offline.score(prompt)
    assert replayed.cached and replayed.logprobs == live.logprobs
    with pytest.raises(ProbeError, match="cannot connect|no answer"):
        offline.score(mfq2.build_prompt(mfq2.items[1], "en", personas["none"], None, style=MESSAGES))
    cache.close()
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("cache.sqlite*"))
    assert secret.encode() not in stored and b"planted" not in stored


def test_run_replays_from_the_cache_and_no_cache_turns_it_off(tmp_path, smollm2_path):
    args = ["run", "--model", str(smollm2_path), "--limit", "2"]
    assert main(args + ["--output", str(tmp_path / "a.csv")]) == 0
    assert main(args + ["--output", str(tmp_path / "b.csv")]) == 0
    assert main(args + ["--no-cache", "--output", str(tmp_path / "c.csv")]) == 0
    a, b, c = (pd.read_csv(tmp_path / f"{name}.csv") for name in "abc")
    assert b["cached"].all() and not c["cached"].any()
    assert a["probs"].tolist() == b["probs"].tolist() == c["probs"].tolist()
    db = sqlite3.connect(cache_file())
    assert db.execute("SELECT COUNT(*) FROM responses").fetchone()[0] >= 2


def test_model_info_is_remembered_per_backend_kind(tmp_path, llama_server, mfq2, personas):
    """#19.2: the chat API first, then the completions endpoint at the same URL and model: the
    completions request carries the raw completion prompt, not the chat messages as JSON."""
    cache = ResponseCache(tmp_path / "cache.sqlite")
    proxy = FaultProxy(llama_server.url.removesuffix("/v1"))
    answers = {}
    try:
        for kind in ("openai", "openai-completions"):
            backend = CachedBackend(make_remote_backend(EndpointConfig(kind=kind, base_url=proxy.url, model="smollm2")), cache)
            backend.start()
            condition = Condition(backend.identity, "mfq2", "en", "none")
            answers[kind] = ask(backend, mfq2, mfq2.items[0], condition, personas["none"])
            backend.close()
    finally:
        proxy.stop()
    chat, completion = answers["openai"], answers["openai-completions"]
    sent = [json.loads(body) for _, path, _, body in proxy.requests if path == "/v1/completions"]
    assert chat.prompt.style == MESSAGES and completion.prompt.style == COMPLETION
    assert sent and sent[0]["prompt"] == completion.prompt.text and not completion.prompt.text.startswith("[{")
    assert chat.condition.model != completion.condition.model  # two prompts, two conditions


def test_a_resume_never_mixes_scoring_settings(tmp_path, llama_server):
    """#19.2: the run journal remembers the backend's settings too: a resume with another mode is refused."""
    out = tmp_path / "run.csv"
    command = ["run", "--backend", "openai", "--base-url", llama_server.url, "--model", "smollm2", "--limit", "1", "--output", str(out)]
    assert main(command) == 0
    assert main([*command, "--mode", "sampled", "--samples", "2", "--resume"]) == 2
    assert pd.read_csv(out)["method"].str.startswith("logprobs").all()


def _key(backend) -> str:
    cached = CachedBackend(backend, ResponseCache(":memory:"))
    return ResponseCache.key(cached.model_key, "prompt", ("1", "2"), cached.params())


def test_every_llama_cpp_setting_that_changes_a_number_changes_the_key(smollm2_path):
    """#21.6: n_ctx (which cuts the batch), n_batch and the offloaded layers key the cache; the thread
    count, which gives the same figures, does not. A new option must be placed in one of the two."""
    from probe_tui.backends.llama_cpp import gpu_build_available

    base = LlamaCppBackend(smollm2_path, n_gpu_layers=0, n_ctx=2048, n_threads=2)
    varied = {"n_ctx": 1, "n_batch": 8, "n_threads": 1, "n_gpu_layers": 5}
    assert set(varied) == set(base.options)
    changes = {"n_ctx", "n_batch"} | ({"n_gpu_layers"} if gpu_build_available() else set())
    for name, value in varied.items():
        other = LlamaCppBackend(smollm2_path, **{**base.options, name: value})
        assert (_key(other) != _key(base)) == (name in changes), name


def test_every_endpoint_setting_that_changes_a_number_changes_the_key():
    """#21.6: the same for a remote endpoint's settings (the URL and model are in its identity)."""
    from dataclasses import fields, replace

    base = EndpointConfig(kind="openai", base_url="http://127.0.0.1:9/v1", model="m")
    varied = {"kind": "openai-completions", "base_url": "http://127.0.0.1:8/v1", "model": "n", "mode": "sampled",
              "top_logprobs": 5, "samples": 3, "temperature": 0.2, "max_tokens": 4, "seed": 7,
              "exact": False,  # completion endpoints: echo (or llama-server's n_probs) for floored options, or the floors
              # these change no number
              "name": "other", "api_key_env": "OTHER_KEY", "timeout": 5.0, "max_retries": 1, "backoff": 0.1, "api_key": "sk-x"}
    assert set(varied) == {f.name for f in fields(EndpointConfig)}
    unchanged = {"name", "api_key_env", "timeout", "max_retries", "backoff", "api_key"}
    for name, value in varied.items():
        start = replace(base, kind="openai-completions") if name == "exact" else base  # a chat endpoint has no echo
        other = replace(start, **{name: value})
        assert (_key(make_remote_backend(other)) != _key(make_remote_backend(start))) == (name not in unchanged), name


def test_a_run_with_a_tiny_n_ctx_is_never_replayed_for_a_plain_run(tmp_path, smollm2_path):
    """#21.6: n_ctx 1 means batches of one token and other figures; a later plain run must not get them."""
    args = ["run", "--model", str(smollm2_path), "--limit", "1"]
    assert main(args + ["--n-ctx", "1", "--output", str(tmp_path / "tiny.csv")]) == 0
    assert main(args + ["--output", str(tmp_path / "plain.csv")]) == 0
    assert main(args + ["--no-cache", "--output", str(tmp_path / "fresh.csv")]) == 0
    tiny, plain, fresh = (pd.read_csv(tmp_path / f"{name}.csv") for name in ("tiny", "plain", "fresh"))
    assert tiny["expected"].tolist() != fresh["expected"].tolist()  # the two settings do give other numbers
    assert plain["probs"].tolist() == fresh["probs"].tolist()  # live, or replayed from a plain run: never the tiny one
