"""The worker process that owns a llama.cpp model.

It sends its fds 1 and 2 to the log file first, so nothing llama.cpp prints can blank or garble
the terminal, then loads the model and answers scoring requests over a pipe.
"""

from __future__ import annotations

import logging
import os
import traceback


def _redirect_output(log_path: str) -> None:
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    logging.basicConfig(filename=log_path, level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def worker_main(conn, model_path: str, options: dict, log_path: str) -> None:
    _redirect_output(log_path)
    log = logging.getLogger("probe_tui.worker")
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
