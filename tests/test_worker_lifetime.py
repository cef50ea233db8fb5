"""#21.11: the llama.cpp worker dies with its parent, even while it is busy inside llama.cpp."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

PARENT = """
import sys
from probe_tui.backends.llama_cpp import LlamaCppBackend
from probe_tui.core.prompts import Prompt

backend = LlamaCppBackend(sys.argv[1], n_ctx=512)
backend.start()
print(backend._process.pid, flush=True)
backend.score(Prompt(text="A" * 5_000_000, labels=("1", "2"), style="completion"))  # tokenising alone takes ~30 s
"""


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][0] not in "ZX"
    except FileNotFoundError:
        return False


def test_a_killed_parent_takes_its_busy_worker_with_it(smollm2_path):
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(smollm2_path)], stdout=subprocess.PIPE, text=True)
    worker = None
    try:
        worker = int(parent.stdout.readline())
        time.sleep(1.5)  # the worker is now tokenising, deep in llama.cpp
        assert _alive(worker)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 5
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(worker)
    finally:
        parent.kill()
        if worker and _alive(worker):
            os.kill(worker, signal.SIGKILL)
