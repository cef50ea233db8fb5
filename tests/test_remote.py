"""Remote backends against the real llama.cpp server on loopback (plus faults a real server can't make)."""

import math
import os
import subprocess
import sys
import time

import pandas as pd
import pytest
import respx
import httpx

from loopback import AnthropicStandIn, FaultProxy, free_port
from probe_tui.backends.remote import EndpointConfig, make_remote_backend
from probe_tui.core.errors import ProbeError
from probe_tui.core.parsing import parse_answer
from probe_tui.core.prompts import MESSAGES, ChatTemplate, Prompt
from probe_tui.core.scoring import distribution_from_logprobs, logprobs_from_top_k
from probe_tui.core.session import Condition, ask


def remote(url, kind="openai", **settings):
    settings = {"timeout": 30.0, "backoff": 0.05, **settings}
    backend = make_remote_backend(EndpointConfig(kind=kind, base_url=url, model="smollm2", **settings))
    backend.start()
    return backend


@pytest.mark.parametrize("item_index,language,persona", [(0, "en", "none"), (5, "en", "us_average"), (2, "zh", "cn_average")])
def test_openai_chat_logprobs_agree_with_the_local_backend(llama_server, scorer, mfq2, personas, item_index, language, persona):
    backend = remote(llama_server.url)
    prompt = mfq2.build_prompt(mfq2.items[item_index], language, personas[persona], None, style=MESSAGES)
    raw = backend.score(prompt)
    assert raw.method in ("logprobs", f"logprobs-topk-floored({len(raw.floored)})")
    ours = distribution_from_logprobs(raw, prompt.labels)
    info = scorer.describe()
    rendered = mfq2.build_prompt(mfq2.items[item_index], language, personas[persona], ChatTemplate(info["chat_template"], info["bos_token"], info["eos_token"]))
    local_raw = scorer.score(rendered.text, prompt.labels)
    local = distribution_from_logprobs(local_raw, prompt.labels)
    for label in prompt.labels:
        if label not in raw.floored:  # each option's own next-token probability
            assert math.exp(raw.logprobs[label]) == pytest.approx(math.exp(local_raw.logprobs[label]), abs=0.02)
    if not raw.floored:  # floors shift the renormalised shares, so compare those only without floors
        for label in prompt.labels:
            assert ours.probs[label] == pytest.approx(local.probs[label], abs=0.02)
    assert sum(ours.probs.values()) == pytest.approx(1.0)


def test_completions_endpoint_scores_the_raw_prompt(llama_server, scorer, mfq2, personas):
    info = scorer.describe()
    template = ChatTemplate(info["chat_template"], info["bos_token"], info["eos_token"])
    rendered = mfq2.build_prompt(mfq2.items[7], "fr", personas["none"], template)
    # the top-k reading (exact=False); echo on this server is tested in test_exact_remote.py: it is slow
    # here (each echo evaluates every prompt token's full distribution in Python, minutes on 2 cores)
    backend = remote(llama_server.url, kind="openai-completions", exact=False)
    raw = backend.score(rendered)  # the completions endpoint gets the exact text, template included
    local_raw = scorer.score(rendered.text, rendered.labels)
    for label in rendered.labels:
        if label not in raw.floored:
            assert math.exp(raw.logprobs[label]) == pytest.approx(math.exp(local_raw.logprobs[label]), abs=0.02)


def test_sampled_mode_draws_and_parses_n_answers(llama_server, mfq2, personas):
    backend = remote(llama_server.url, mode="sampled", samples=6, temperature=0.7, seed=3)  # seeded: the same draws each run
    condition = Condition(backend.info.identity, "mfq2", "en", "none")
    answer = ask(backend, mfq2, mfq2.items[0], condition, personas["none"])
    d = answer.distribution
    assert d.method == "sampled(n=6,T=0.7)"
    assert d.samples == 6 and 0 <= d.unparsed < 6
    assert d.valid_mass == pytest.approx((6 - d.unparsed) / 6)
    assert all(abs(p * (6 - d.unparsed) - round(p * (6 - d.unparsed))) < 1e-9 for p in d.probs.values())


def test_refused_logprobs_fall_back_to_sampling(llama_server, mfq2, personas):
    proxy = FaultProxy(llama_server.url.removesuffix("/v1"))
    try:
        proxy.faults.append(("status", 400, {}, {"error": {"message": "logprobs are not supported for this model"}}))
        backend = remote(proxy.url, samples=4, seed=3)
        prompt = mfq2.build_prompt(mfq2.items[0], "en", personas["none"], None, style=MESSAGES)
        assert backend.score(prompt).method == "sampled(n=4,T=0.7)"
        assert backend.score(prompt).method == "sampled(n=4,T=0.7)"  # and it remembers
    finally:
        proxy.stop()


@pytest.mark.parametrize("fault", [
    ("status", 500, {}, {"error": {"message": "boom"}}),
    ("status", 503, {}, {"error": "overloaded"}),
    ("malformed",),
    ("truncated",),
    ("sleep", 6.0),
])
def test_transient_faults_are_retried_and_change_nothing(llama_server, mfq2, personas, fault):
    prompt = mfq2.build_prompt(mfq2.items[1], "en", personas["none"], None, style=MESSAGES)
    expected = remote(llama_server.url).score(prompt).logprobs
    proxy = FaultProxy(llama_server.url.removesuffix("/v1"))
    try:
        backend = remote(proxy.url, timeout=3.0)
        proxy.faults.append(fault)
        got = backend.score(prompt).logprobs
        assert got == pytest.approx(expected, abs=1e-6)
        assert len([r for r in proxy.requests if r[1].endswith("/chat/completions")]) == 2
    finally:
        proxy.stop()


def test_429_honours_retry_after(llama_server, mfq2, personas):
    prompt = mfq2.build_prompt(mfq2.items[1], "en", personas["none"], None, style=MESSAGES)
    proxy = FaultProxy(llama_server.url.removesuffix("/v1"))
    try:
        backend = remote(proxy.url)
        proxy.faults.append(("status", 429, {"Retry-After": "1"}, {"error": {"message": "slow down"}}))
        backend.score(prompt)
        calls = [r[0] for r in proxy.requests if r[1].endswith("/chat/completions")]
        assert len(calls) == 2
        assert calls[1] - calls[0] >= 0.95  # waited as the server asked, not the 0.05 s backoff
    finally:
        proxy.stop()


def test_persistent_errors_are_one_clear_line_without_the_key(llama_server, mfq2, personas, monkeypatch, tmp_path):
    monkeypatch.setenv("PROBE_TEST_KEY", "sk-very-secret-value")
    prompt = mfq2.build_prompt(mfq2.items[0], "en", personas["none"], None, style=MESSAGES)
    proxy = FaultProxy(llama_server.url.removesuffix("/v1"))
    try:
        backend = remote(proxy.url, api_key_env="PROBE_TEST_KEY", max_retries=2)
        assert proxy.requests[-1][2] == "Bearer sk-very-secret-value"  # the key is sent...
        cases = [
            (("status", 500, {}, {"error": {"message": "sk-very-secret-value broke"}}), "server error at"),
            (("status", 401, {}, {"error": {"message": "bad key sk-very-secret-value"}}), "authentication failed at"),
            (("status", 404, {}, {"error": {"message": "model not found"}}), "not found at"),
            (("status", 429, {"Retry-After": "0"}, {}), "rate limited at"),
        ]
        for fault, start in cases:
            proxy.faults[:] = [fault] * 3
            with pytest.raises(ProbeError) as info:
                backend.score(prompt)
            message = str(info.value)
            assert start in message and "\n" not in message
            assert "sk-very-secret-value" not in message  # ...but never shown
        assert "PROBE_TEST_KEY" in str(ProbeError(backend._http_error(httpx.Response(401), proxy.url)))
    finally:
        proxy.stop()


def test_timeout_and_connection_refused(llama_server, mfq2, personas):
    prompt = mfq2.build_prompt(mfq2.items[0], "en", personas["none"], None, style=MESSAGES)
    proxy = FaultProxy(llama_server.url.removesuffix("/v1"))
    try:
        backend = remote(proxy.url, timeout=0.5, max_retries=1)
        proxy.faults[:] = [("sleep", 2.0), ("sleep", 2.0)]
        with pytest.raises(ProbeError, match=r"no answer from .* within 0.5s"):
            backend.score(prompt)
    finally:
        proxy.stop()
    nobody = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(ProbeError, match="connection refused"):
        remote(nobody, max_retries=1)


def test_unknown_model_is_named_with_what_is_served(llama_server):
    backend = make_remote_backend(EndpointConfig(kind="openai", base_url=llama_server.url, model="gpt-9"))
    with pytest.raises(ProbeError, match="model 'gpt-9' is not served at .*; it serves: smollm2"):
        backend.start()


@respx.mock
def test_malformed_json_on_every_try_is_a_clear_error():
    # A real server cannot be made to keep sending bad JSON with a 200; respx can.
    respx.get("http://api.invalid/v1/models").respond(404)
    respx.post("http://api.invalid/v1/chat/completions").respond(200, content=b"<html>oops</html>")
    backend = make_remote_backend(EndpointConfig(kind="openai", base_url="http://api.invalid/v1", model="m", max_retries=2, backoff=0.01))
    backend.start()
    prompt_messages = Prompt(text="[]", labels=("1", "2"), style=MESSAGES, messages=({"role": "user", "content": "hi"},))
    with pytest.raises(ProbeError, match="malformed response from http://api.invalid/v1/chat/completions after 2 retries"):
        backend.score(prompt_messages)


def test_anthropic_messages_api_is_sampled_and_parsed(llama_server, mfq2, personas, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "ak-test-123")
    stand_in = AnthropicStandIn(llama_server.url, key="ak-test-123")
    try:
        backend = remote(stand_in.url, kind="anthropic", samples=5, temperature=0.5)
        assert not backend.capabilities.logprobs
        condition = Condition(backend.info.identity, "mfq2", "zh", "cn_average")
        answer = ask(backend, mfq2, mfq2.items[0], condition, personas["cn_average"])
        assert answer.distribution.method == "sampled(n=5,T=0.5)"
        assert answer.distribution.samples == 5
        headers, body = stand_in.requests[-1]
        assert body["system"] == "请以一位来自中国的普通人的身份来回答。"
        assert body["messages"][0]["role"] == "user" and body["temperature"] == 0.5
        monkeypatch.setenv("ANTHROPIC_API_KEY", "wrong")
        with pytest.raises(ProbeError, match="authentication failed .* check ANTHROPIC_API_KEY"):
            make_remote_backend(EndpointConfig(kind="anthropic", base_url=stand_in.url, model="smollm2", max_retries=0)).score(answer.prompt)
    finally:
        stand_in.stop()


def test_cli_run_against_the_server_with_concurrency(llama_server, tmp_path):
    out = tmp_path / "remote.csv"
    result = subprocess.run(
        [sys.executable, "-m", "probe_tui", "run", "--backend", "openai", "--base-url", llama_server.url, "--model", "smollm2",
         "--limit", "5", "--concurrency", "3", "--output", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    frame = pd.read_csv(out)
    assert frame["item_id"].tolist() == [f"mfq2_{i:02d}" for i in range(1, 6)]
    assert frame["model"].iloc[0] == f"{llama_server.url}#smollm2"
    assert frame["method"].str.startswith("logprobs").all()


def test_named_endpoint_from_the_config_file(llama_server, tmp_path):
    config_dir = tmp_path / "config" / "probe-tui"
    config_dir.mkdir(parents=True)
    (config_dir / "endpoints.toml").write_text(
        f'[endpoints.local]\nbackend = "openai"\nbase_url = "{llama_server.url}"\nmodel = "smollm2"\nmode = "logprobs"\ntop_logprobs = 10\nsamples = 3\nseed = 1\n',
        encoding="utf-8",
    )
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")}
    listing = subprocess.run([sys.executable, "-m", "probe_tui", "models"], capture_output=True, text=True, env=env, timeout=60)
    assert "local" in listing.stdout and "openai smollm2 @" in listing.stdout
    out = tmp_path / "named.csv"
    result = subprocess.run([sys.executable, "-m", "probe_tui", "run", "--endpoint", "local", "--limit", "2", "--output", str(out)],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    # logprobs: the server's sampled draws depend on what it was asked before (its prefix cache),
    # so a seeded sample need not repeat across a whole test run; the read-out does
    assert pd.read_csv(out)["method"].str.startswith("logprobs").all()
    assert f"{llama_server.url}#smollm2" == pd.read_csv(out)["model"].iloc[0]
    missing = subprocess.run([sys.executable, "-m", "probe_tui", "run", "--endpoint", "nope", "--output", str(out)],
                             capture_output=True, text=True, env=env, timeout=60)
    assert missing.returncode == 2 and "unknown endpoint 'nope'; choose one of: local" in missing.stderr


# --- pure parts -------------------------------------------------------------------------------

def test_top_k_floor_worked_example():
    top = [("1", math.log(0.5)), (" 1", math.log(0.1)), ("2", math.log(0.2)), ("The", math.log(0.1))]
    raw = logprobs_from_top_k(top, ["1", "2", "3", "4"])
    # 1: 0.5+0.1 combined; 3 and 4 missing: floor = min(0.1, (1-0.9)/2) = 0.05
    assert math.exp(raw.logprobs["1"]) == pytest.approx(0.6)
    assert math.exp(raw.logprobs["3"]) == pytest.approx(0.05)
    assert raw.floored == ("3", "4")
    assert raw.method == "logprobs-topk-floored(2)"
    assert logprobs_from_top_k([("５", -0.1), ("4", -3.0)], ["4", "5"]).method == "logprobs"


@pytest.mark.parametrize("text,language,expected", [
    ("3", "en", "3"),
    ("３", "zh", "3"),
    ("(A) because", "en", "A"),
    ("B: the second", "en", "B"),
    ("I would say 4 out of 5.", "en", "4"),
    ("Describes me extremely well", "en", "5"),
    ("非常符合我。", "zh", "5"),
    ("Me décrit un peu", "fr", "2"),
    ("five", "en", "5"),
    ("cinq", "fr", "5"),
    ("五", "zh", "5"),
    ("I cannot answer that.", "en", None),
    ("一种看法", "zh", None),
])
def test_parse_answer(mfq2, text, language, expected):
    labels = ("A", "B") if expected in ("A", "B") else mfq2.scale.labels
    anchors = () if expected in ("A", "B") else mfq2.scale.anchors_in(language)
    assert parse_answer(text, labels, anchors, language) == expected
