"""Benchmark: does the interface stay responsive while the model works?

    python bench/ui.py

1. Cold start: from spawning `python` to the probe screen's first paint, model loading excluded
   (the model loads in the background after the screen is up).
2. Key latency: with the real embedded model evaluating an item, press `t` (show/hide the prompt)
   and time until the screen has handled it, driven with Textual's Pilot. Target: under 50 ms.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time

COLD_START = """
import asyncio, time
from probe_tui.app import ProbeApp
from probe_tui.backends.llama_cpp import LlamaCppBackend
from probe_tui.backends.models import resolve_model

async def main():
    app = ProbeApp(LlamaCppBackend(resolve_model(None), n_ctx=2048))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        print("painted", time.time(), flush=True)
        while type(app.screen).__name__ != "ProbeScreen":
            await pilot.pause(0.01)
        await pilot.pause()
        print("probe", time.time(), flush=True)
        while not app.screen.model_ready:
            await pilot.pause(0.05)
        app.exit()

asyncio.run(main())
"""


def cold_start(runs: int = 3) -> tuple[list[float], list[float]]:
    """Seconds from spawning python to the first paint, and to the probe screen (the model loads after)."""
    first, probe = [], []
    for _ in range(runs):
        start = time.time()
        out = subprocess.run([sys.executable, "-c", COLD_START], capture_output=True, text=True, check=True).stdout
        stamps = dict(line.split() for line in out.splitlines() if line.split()[:1] in (["painted"], ["probe"]))
        first.append(float(stamps["painted"]) - start)
        probe.append(float(stamps["probe"]) - start)
    return first, probe


HANDLED: list[float] = []


async def _toggle(pilot, box) -> float:
    """From the key press to the moment the screen's action has run (Pilot's own waits excluded)."""
    shown = box.has_class("shown")
    HANDLED.clear()
    start = time.perf_counter()
    await pilot.press("t")
    await pilot.pause()
    assert box.has_class("shown") != shown and HANDLED
    return HANDLED[0] - start


async def key_latency(presses_per_item: int = 10, items: int = 4) -> tuple[list[float], list[float], int]:
    from probe_tui.app import ProbeApp
    from probe_tui.backends.llama_cpp import LlamaCppBackend
    from probe_tui.backends.models import resolve_model
    from probe_tui.screens.probe import ProbeScreen

    toggle = ProbeScreen.action_toggle_prompt

    def timed_toggle(screen):
        toggle(screen)
        HANDLED.append(time.perf_counter())

    ProbeScreen.action_toggle_prompt = timed_toggle
    app = ProbeApp(LlamaCppBackend(resolve_model(None), n_ctx=2048))
    latencies, idle, during_evaluation = [], [], 0
    async with app.run_test(size=(100, 30)) as pilot:
        while type(app.screen).__name__ != "ProbeScreen":
            await pilot.pause(0.01)
        screen = app.screen
        while not screen.model_ready or screen.in_flight is not None:
            await pilot.pause(0.05)
        box = screen.query_one("#prompt-box")
        for _ in range(items):
            for _ in range(presses_per_item):  # the floor: the same key with the model idle
                idle.append(await _toggle(pilot, box))
            await pilot.press("n")  # a new item: the model starts evaluating it in a thread
            for _ in range(presses_per_item):
                busy = screen.in_flight is not None
                latencies.append(await _toggle(pilot, box))
                during_evaluation += busy and screen.in_flight is not None
            while screen.in_flight is not None:
                await pilot.pause(0.05)
        app.exit()
    return latencies, idle, during_evaluation


def main() -> int:
    starts, probe = cold_start()
    print(f"cold start to first paint: {statistics.median(starts):.2f} s median of {len(starts)} "
          f"({', '.join(f'{s:.2f}' for s in starts)}); target < 2 s: {'met' if statistics.median(starts) < 2 else 'MISSED'}")
    print(f"cold start to the probe screen (model loading after it): {statistics.median(probe):.2f} s median")
    latencies, idle, busy = asyncio.run(key_latency())
    print(f"key latency with the model idle (the floor): median {statistics.median(idle) * 1000:.1f} ms, max {max(idle) * 1000:.1f} ms")
    print(f"key latency while the model evaluates: median {statistics.median(latencies) * 1000:.1f} ms, "
          f"max {max(latencies) * 1000:.1f} ms over {len(latencies)} presses ({busy} wholly during an evaluation); "
          f"ratio to the floor {statistics.median(latencies) / statistics.median(idle):.2f}; "
          f"target < 50 ms: {'met' if max(latencies) < 0.05 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
