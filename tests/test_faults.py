"""Hostile and broken servers (#21.9, #21.12, #21.13, #21.14), on a real loopback socket
(tests/faultserver.py): every one ends in seconds with a one-line error, and no key leaks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from faultserver import FaultServer, drip, gzip_bomb, send_bytes, send_events, send_json
from probe_tui.backends.remote import EndpointConfig, make_remote_backend
from probe_tui.core.errors import ProbeError
from probe_tui.core.prompts import MESSAGES

KEY = "sk-planted-secret-0123456789abcdef"
SRC = str(Path(__file__).resolve().parents[1] / "src")


def remote(url, kind="openai", **settings):
    settings = {"model": "m", "backoff": 0.01, "api_key_env": "PROBE_FAULT_KEY", **settings}
    return make_remote_backend(EndpointConfig(kind=kind, base_url=url, **settings))


def assert_no_key(text: str):
    assert KEY[:8] not in text  # not even a prefix cut off at a length limit


def _echo(handler, request):
    """Echoes the key it was sent into every kind of answer."""
    key = (handler.headers.get("Authorization") or "").removeprefix("Bearer ") or handler.headers.get("x-api-key", "")
    text = json.dumps(request.get("messages") or request.get("prompt"))
    if handler.path.endswith("/messages"):  # Anthropic: a stream error event
        return send_events(handler, [json.dumps({"type": "error", "error": {"type": "overloaded_error", "message": f"bad key {key}"}})])
    if "straddle" in text:  # the key straddles the 160-character cut of error details
        return send_json(handler, {"error": {"message": "x" * 155 + key}}, status=400)
    if request.get("stream"):
        if "malformed" in text:
            return send_events(handler, ['{"choices": [{"delta": {"content": "ok"}}]}', f'{{"oops {key}'])
        return send_events(handler, [json.dumps({"choices": [{"delta": {"content": f"I am {key}"}, "finish_reason": "stop"}]}), "[DONE]"])
    send_json(handler, {"choices": [{"index": 0, "message": {"role": "assistant", "content": f"3 {key}"}}]})


def test_a_key_echoed_back_leaves_no_trace(tmp_path, monkeypatch, mfq2, personas):
    monkeypatch.setenv("PROBE_FAULT_KEY", KEY)
    prompt = mfq2.build_prompt(mfq2.items[0], "en", personas["none"], None, style=MESSAGES)
    with FaultServer(_echo) as server:
        backend = remote(server.url, mode="sampled", samples=2, max_retries=0)
        result = backend.score(prompt)
        assert result.top_tokens and all(KEY not in text for text, _ in result.top_tokens)
        shown = []
        generated = backend.generate(prompt, shown.append, threading.Event())
        assert_no_key(generated.text + "".join(shown))
        for marker in ("straddle", "malformed"):
            marked = replace(prompt, messages=({"role": "user", "content": marker},))
            with pytest.raises(ProbeError) as info:
                backend.generate(marked, shown.append, threading.Event()) if marker == "malformed" else backend.score(marked)
            assert_no_key(str(info.value))
        with pytest.raises(ProbeError) as info:
            remote(server.root, kind="anthropic").generate(prompt, shown.append, threading.Event())
        assert "the Messages API stream failed" in str(info.value)
        assert_no_key(str(info.value))
        assert server.requests[0][2]["Authorization"] == f"Bearer {KEY}"  # the key was sent, and echoed

        # the CLI: the log, the cache, the journal, the export and the screen hold no trace of it
        home = tmp_path / "home"
        env = {**os.environ, "PYTHONPATH": SRC, "PROBE_FAULT_KEY": KEY,
               **{f"XDG_{d}_HOME": str(home / d.lower()) for d in ("DATA", "CACHE", "CONFIG", "STATE")}}
        out = tmp_path / "out" / "run.csv"
        out.parent.mkdir()
        run = subprocess.run([sys.executable, "-m", "probe_tui", "run", "--backend", "openai", "--base-url", server.url, "--model", "m",
                              "--api-key-env", "PROBE_FAULT_KEY", "--mode", "sampled", "--samples", "2", "--limit", "2", "--output", str(out)],
                             capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 0, run.stderr
    assert_no_key(run.stdout + run.stderr)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "responses.sqlite" for p in files) and out.exists()
    for path in files:
        assert KEY[:8].encode() not in path.read_bytes(), path


def test_a_dripping_server_is_cut_off_at_the_timeout():
    started = time.monotonic()
    with FaultServer(lambda handler, request: drip(handler, every=0.3)) as server:
        backend = remote(server.url, timeout=1.0, max_retries=1)
        with pytest.raises(ProbeError, match=r"no answer from .* within 1s"):
            backend.post("/chat/completions", {})
        assert time.monotonic() - started < 4  # two attempts of 1 s each, not 1000 bytes x 0.3 s
        streamed = time.monotonic()
        with pytest.raises(ProbeError, match=r"no answer from .* within 1s"):
            backend.stream("/chat/completions", {}, lambda event: ("", None), lambda text: None, threading.Event())
        assert time.monotonic() - streamed < 2.5


def _retry_after(seconds):
    return lambda handler, request: send_json(handler, {"error": {"message": "slow down"}}, status=429, headers={"Retry-After": str(seconds)})


def test_a_long_retry_after_fails_the_endpoint_at_once():
    with FaultServer(_retry_after(999999)) as server:
        started = time.monotonic()
        with pytest.raises(ProbeError, match=r"rate limited at .* \(HTTP 429\): the server asks to wait 999999s, over 60s"):
            remote(server.url).post("/chat/completions", {})
        assert time.monotonic() - started < 2 and len(server.requests) == 1


def test_ctrl_c_stops_a_run_waiting_on_retry_after(tmp_path):
    with FaultServer(_retry_after(50)) as server:
        env = {**os.environ, "PYTHONPATH": SRC, **{f"XDG_{d}_HOME": str(tmp_path / d.lower()) for d in ("DATA", "CACHE", "CONFIG", "STATE")}}
        process = subprocess.Popen([sys.executable, "-m", "probe_tui", "run", "--backend", "openai", "--base-url", server.url,
                                    "--model", "m", "--mode", "logprobs", "--limit", "2", "--output", str(tmp_path / "run.csv")],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        deadline = time.monotonic() + 30
        while not server.requests and time.monotonic() < deadline:
            time.sleep(0.1)
        assert server.requests, "the run never asked"
        time.sleep(0.5)  # now waiting the 50 s the server asked for
        process.send_signal(signal.SIGINT)
        interrupted = time.monotonic()
        try:
            _, stderr = process.communicate(timeout=10)
        finally:
            process.kill()
        assert time.monotonic() - interrupted < 3, stderr
    assert process.returncode == 130 and "Traceback" not in stderr


@pytest.mark.parametrize("reply", [
    lambda handler, request: gzip_bomb(handler, 16 * 2**20),  # 16 kB on the wire
    lambda handler, request: send_bytes(handler, b" " * (20 * 2**20)),
])
def test_oversized_bodies_are_refused_with_one_line(reply):
    with FaultServer(reply) as server:
        backend = remote(server.url, max_retries=0)
        with pytest.raises(ProbeError, match=r"response from .* is over 8 MiB \(decompressed\); refused"):
            backend.post("/chat/completions", {})
        with pytest.raises(ProbeError, match=r"is over 8 MiB"):
            backend.stream("/chat/completions", {}, lambda event: ("", None), lambda text: None, threading.Event())
