"""The worker process that owns a llama.cpp model: `python -m probe_tui.backends.llama_worker FD PARENT_PID`.

Its fds 1 and 2 point at the log file, so nothing llama.cpp prints can blank or garble the terminal.
It loads the model and answers scoring requests over the connection on FD, and exits as soon as
its parent is gone, even in the middle of a long call into llama.cpp.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import traceback
from multiprocessing.connection import Connection


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _generate(scorer, conn: Connection, text: str, max_tokens: int) -> str:
    """Stream a greedy continuation as ("text", piece) messages; stop early on ("stop",)."""
    finish = "stop"
    scorer.llm.reset()  # generate from scratch: its own prefix matching would trust a stale token list
    scorer.forget_kv()
    chunks = scorer.llm.create_completion(scorer.prompt_tokens(text), max_tokens=max_tokens, temperature=0.0, stream=True)
    for chunk in chunks:
        choice = chunk["choices"][0]
        if choice["text"]:
            conn.send(("text", choice["text"]))
        finish = choice.get("finish_reason") or finish
        if conn.poll() and conn.recv()[0] == "stop":
            chunks.close()
            return "cancelled"
    return finish


def exit_with_parent(parent_pid: int) -> None:
    """Exit when the parent dies, however it died: a SIGKILLed app leaves no one to close the pipe, and
    the worker may be deep in llama.cpp, not reading it. (PR_SET_PDEATHSIG would follow the parent's
    thread that started us, not the process.)"""

    def watch():
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


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
        if kind == "generate":
            _, text, max_tokens = message
            try:
                conn.send(("done", _generate(scorer, conn, text, max_tokens)))
            except Exception as exc:  # noqa: BLE001
                log.error("generation failed:\n%s", traceback.format_exc())
                conn.send(("error", _one_line(exc)))
        if kind == "score":
            _, text, labels = message
            try:
                conn.send(("result", scorer.score(text, labels)))
            except Exception as exc:  # noqa: BLE001
                log.error("scoring failed:\n%s", traceback.format_exc())
                conn.send(("error", _one_line(exc)))


if __name__ == "__main__":
    exit_with_parent(int(sys.argv[2]))
    worker_main(Connection(int(sys.argv[1])))
