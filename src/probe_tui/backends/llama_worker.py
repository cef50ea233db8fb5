"""The worker process that owns a llama.cpp model: `python -m probe_tui.backends.llama_worker FD`.

Its fds 1 and 2 point at the log file, so nothing llama.cpp prints can blank or garble the terminal.
It loads the model and answers scoring requests over the connection on FD.
"""

from __future__ import annotations

import logging
import sys
import traceback
from multiprocessing.connection import Connection


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def worker_main(conn: Connection) -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    log = logging.getLogger("probe_tui.worker")
    _, model_path, options = conn.recv()
    try:
        from .llama_scorer import LlamaScorer

        scorer = LlamaScorer(model_path, verbose=True, on_progress=lambda p: conn.send(("progress", p)), **options)
        conn.send(("ready", scorer.describe()))
    except BaseException as exc:  # noqa: BLE001 - everything is reported, the traceback logged
        log.error("loading %s failed:\n%s", model_path, traceback.format_exc())
        conn.send(("load_error", _one_line(exc)))
        return
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        kind = message[0]
        if kind == "close":
            return
        if kind == "score":
            _, text, labels = message
            try:
                conn.send(("result", scorer.score(text, labels)))
            except Exception as exc:  # noqa: BLE001
                log.error("scoring failed:\n%s", traceback.format_exc())
                conn.send(("error", _one_line(exc)))


if __name__ == "__main__":
    worker_main(Connection(int(sys.argv[1])))
