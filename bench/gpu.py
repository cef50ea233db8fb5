"""GPU offload check: the same prompts scored on the CPU and with every layer on the GPU, in one run.

    python bench/gpu.py [MODEL.gguf] [--json OUT.json]

Needs a llama-cpp-python built with CUDA (CMAKE_ARGS="-DGGML_CUDA=on"). It runs the app's own path
(LlamaCppBackend: the worker process, no response cache) twice: n_gpu_layers=0, then -1. It reports
what llama.cpp said it offloaded, how far apart the two sets of option log-probabilities are, whether
the answers agree, and the wall time of each pass as a ratio of the CPU pass.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from probe_tui.backends.llama_cpp import LlamaCppBackend, gpu_build_available  # noqa: E402
from probe_tui.core import paths  # noqa: E402
from probe_tui.core.instruments import get_instrument  # noqa: E402
from probe_tui.core.personas import get_persona, load_personas  # noqa: E402
from probe_tui.core.session import Condition, ask  # noqa: E402


def default_model() -> Path:
    from probe_tui.backends.models import resolve_model

    return resolve_model(None)


def sweep(model: Path, gpu_layers: int, jobs) -> dict:
    """Score every (instrument, item, language) job; return per-job log-probs, answers and timings."""
    log = paths.log_file()
    log_start = log.stat().st_size if log.exists() else 0
    backend = LlamaCppBackend(model, n_gpu_layers=gpu_layers, n_ctx=2048)
    started = time.perf_counter()
    info = backend.start()
    load_seconds = time.perf_counter() - started
    results, seconds, repeat_gap = {}, [], 0.0
    persona = get_persona("none", load_personas())
    try:
        for passes in range(2):  # the first pass warms up (CUDA kernels load lazily); the second is timed
            pass_start = time.perf_counter()
            for instrument, item, language in jobs:
                condition = Condition(backend.identity, instrument.key, language, "none")
                answer = ask(backend, instrument, item, condition, persona)
                d = answer.distribution
                key = f"{instrument.key}|{item.id}|{language}"
                logprobs = [math.log(max(d.probs[label] * d.valid_mass, 1e-300)) for label in d.labels]
                if key in results:  # the same prompt again: is this device deterministic?
                    repeat_gap = max(repeat_gap, *(abs(x - y) for x, y in zip(logprobs, results[key]["logprobs"])))
                results[key] = {"logprobs": logprobs, "answer": d.answer, "valid_mass": d.valid_mass, "expected": d.expected}
            seconds.append(time.perf_counter() - pass_start)
    finally:
        backend.close()
    with log.open("rb") as handle:
        handle.seek(log_start)
        worker_log = handle.read().decode("utf-8", "replace")
    offloaded = re.findall(r"offloaded (\d+)/(\d+) layers to GPU", worker_log)
    return {"gpu_layers": gpu_layers, "summary": info.details.get("summary", ""), "load_seconds": load_seconds,
            "pass_seconds": seconds, "repeat_gap": repeat_gap, "offloaded": offloaded[-1] if offloaded else None, "results": results}


def compare(cpu: dict, gpu: dict) -> dict:
    keys = sorted(cpu["results"])
    logprob_gaps, mass_gaps, expected_gaps, agree = [], [], [], 0
    for key in keys:
        a, b = cpu["results"][key], gpu["results"][key]
        logprob_gaps.append(max(abs(x - y) for x, y in zip(a["logprobs"], b["logprobs"])))
        mass_gaps.append(abs(a["valid_mass"] - b["valid_mass"]))
        expected_gaps.append(abs(a["expected"] - b["expected"]))
        agree += a["answer"] == b["answer"]
    return {"prompts": len(keys), "max_logprob_gap": max(logprob_gaps), "median_logprob_gap": sorted(logprob_gaps)[len(keys) // 2],
            "max_valid_mass_gap": max(mass_gaps), "max_expected_gap": max(expected_gaps), "same_answer": agree,
            "gpu_over_cpu_time": gpu["pass_seconds"][-1] / cpu["pass_seconds"][-1]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", nargs="?", type=Path)
    parser.add_argument("--json", type=Path, help="also write the full result here")
    args = parser.parse_args()
    if not gpu_build_available():
        print("This llama-cpp-python has no GPU backend: build it with CMAKE_ARGS=\"-DGGML_CUDA=on\".")
        return 2
    model = args.model or default_model()
    jobs = [(instrument, item, language)
            for instrument in (get_instrument("mfq2"), get_instrument("wvs"))
            for language in ("en", "zh")
            for item in instrument.items]
    cpu = sweep(model, 0, jobs)
    gpu = sweep(model, -1, jobs)
    summary = compare(cpu, gpu)
    for run in (cpu, gpu):
        print(f"n_gpu_layers={run['gpu_layers']:>2}: {run['summary']}; offloaded {run['offloaded']}; "
              f"load {run['load_seconds']:.2f} s; passes {', '.join(f'{s:.2f} s' for s in run['pass_seconds'])}; "
              f"max |Δ logprob| between its two passes {run['repeat_gap']:.2g}")
    print(f"{summary['prompts']} prompts: max |Δ logprob| {summary['max_logprob_gap']:.4f} "
          f"(median {summary['median_logprob_gap']:.4f}), max |Δ valid_mass| {summary['max_valid_mass_gap']:.4f}, "
          f"max |Δ expected| {summary['max_expected_gap']:.4f}, same answer {summary['same_answer']}/{summary['prompts']}, "
          f"GPU/CPU time {summary['gpu_over_cpu_time']:.2f}")
    if args.json:
        args.json.write_text(json.dumps({"model": str(model), "summary": summary, "cpu": cpu, "gpu": gpu}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
