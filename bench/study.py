"""Benchmark: a study's wall time against the sum of its single-condition sweeps, in one run.

    python bench/study.py              # SmolLM2 x MFQ-2 items 1-12 x en,zh x none,us_average (48 prompts)
    python bench/study.py --items 36   # every item

a. `probe-tui study run` on the matrix, with the response cache off for its model (cache: false);
b. the same matrix as a researcher's shell loop: one `probe-tui run --no-cache` per condition,
   each its own process (so each loads the model, as a loop does), summed;
c. for the matrix overhead alone: the same conditions asked in one process through the job runner,
   one run_jobs per condition on one started model (no journal, no results), summed.
Target: a/b <= 1.1 (the issue's "no matrix overhead"). a/c is reported beside it: what the study
costs over the bare asking (starting Python and the model once, the journal, the results). Each run
has fresh data and cache folders of its own.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES, PERSONAS = ("en", "zh"), ("none", "us_average")


def sandbox() -> dict:
    env = os.environ.copy()
    base = Path(tempfile.mkdtemp(prefix="probe-tui-bench-study-"))
    for variable in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        env[variable] = str(base / variable.lower())
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env["BENCH_BASE"] = str(base)
    return env


def timed(command: list[str], env: dict) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{done.stderr[-2000:]}")
    return time.perf_counter() - started


def in_process(items: int) -> float:
    """c: one started model, one run_jobs per condition, summed (the asking alone)."""
    from probe_tui.backends.llama_cpp import LlamaCppBackend
    from probe_tui.backends.models import resolve_model
    from probe_tui.core import runner
    from probe_tui.core.conditions import single_condition_jobs
    from probe_tui.core.instruments import get_instrument
    from probe_tui.core.personas import get_persona

    instrument = get_instrument("mfq2")
    backend = LlamaCppBackend(resolve_model(None), n_ctx=2048)
    backend.start()
    total = 0.0
    try:
        for language in LANGUAGES:
            for persona in PERSONAS:
                jobs = single_condition_jobs(instrument, instrument.items[:items], backend.identity, language, get_persona(persona))
                started = time.perf_counter()
                runner.run_jobs(jobs, backend, instrument)
                total += time.perf_counter() - started
    finally:
        backend.close()
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=12, help="MFQ-2 items per condition (default 12)")
    args = parser.parse_args()
    python = [sys.executable, "-m", "probe_tui"]

    env = sandbox()
    study = Path(env["BENCH_BASE"]) / "bench.yaml"
    study.write_text(f"""name: bench
models:
  - name: smollm2
    model: smollm2-135m-instruct
    n_ctx: 2048
    cache: false
instruments:
  - key: mfq2
    items: 1-{args.items}
languages: [{', '.join(LANGUAGES)}]
personas: [{', '.join(PERSONAS)}]
""", encoding="utf-8")
    a = timed([*python, "study", "run", str(study)], env)

    env = sandbox()
    b = 0.0
    for language in LANGUAGES:
        for persona in PERSONAS:
            output = Path(env["BENCH_BASE"]) / f"{language}-{persona}.csv"
            b += timed([*python, "run", "--instrument", "mfq2", "--lang", language, "--persona", persona, "--limit", str(args.items),
                        "--n-ctx", "2048", "--no-cache", "--output", str(output)], env)

    sandboxed = sandbox()
    os.environ.update({k: v for k, v in sandboxed.items() if k.startswith("XDG_")})
    sys.path.insert(0, str(ROOT / "src"))
    c = in_process(args.items)

    prompts = args.items * len(LANGUAGES) * len(PERSONAS)
    print(f"{prompts} prompts (MFQ-2 items 1-{args.items} x {len(LANGUAGES)} languages x {len(PERSONAS)} personas, SmolLM2, no cache)")
    print(f"a. study run:                         {a:7.1f} s")
    print(f"b. sum of 4 `probe-tui run` sweeps:   {b:7.1f} s   a/b = {a / b:.2f}  (target <= 1.1)")
    print(f"c. sum of 4 run_jobs in one process:  {c:7.1f} s   a/c = {a / c:.2f}  (a includes starting Python and the model, "
          "and writing the Parquet, scores and figures)")
    return 0 if a / b <= 1.1 else 1


if __name__ == "__main__":
    sys.exit(main())
