"""Command line: `probe-tui` opens the app; `probe-tui run` sweeps an instrument headless."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from .core import paths
from .core.errors import ProbeError

log = logging.getLogger("probe_tui")


def _setup_logging() -> Path:
    path = paths.log_file()
    logging.basicConfig(
        filename=path, level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s", force=True
    )
    return path


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="GGUF path, a file name in models/, or an embedded model (default: smollm2-135m-instruct)")
    parser.add_argument("--n-gpu-layers", type=int, default=None, help="layers to offload to the GPU (default: all if this build has a GPU backend, else 0)")
    parser.add_argument("--n-ctx", type=int, default=4096, help="context length (default 4096)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: llama.cpp's choice)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="probe-tui", description="Watch what a language model 'believes', live.")
    _add_model_options(parser)
    parser.add_argument("--instrument", default="mfq2")
    parser.add_argument("--lang", default="en", help="prompt language: en, zh or fr")
    parser.add_argument("--persona", default="none", help="persona key: none, us_average, cn_average")
    commands = parser.add_subparsers(dest="command")

    run = commands.add_parser("run", help="answer every item headless and write one CSV row per item")
    _add_model_options(run)
    run.add_argument("--instrument", default="mfq2")
    run.add_argument("--lang", default="en")
    run.add_argument("--persona", default="none")
    run.add_argument("--limit", type=int, default=None, help="only the first N items")
    run.add_argument("--output", required=True, type=Path, help="CSV file to write")

    commands.add_parser("models", help="list the models probe-tui can find")
    return parser


def _backend(args):
    from .backends.llama_cpp import LlamaCppBackend
    from .backends.models import resolve_model

    return LlamaCppBackend(resolve_model(args.model), n_gpu_layers=args.n_gpu_layers, n_ctx=args.n_ctx, n_threads=args.threads)


def run_app(args) -> int:
    from .app import ProbeApp

    backend = _backend(args)
    app = ProbeApp(backend, instrument=args.instrument, language=args.lang, persona=args.persona)
    try:
        app.run()
    finally:
        backend.close()
    return app.return_code or 0


def list_models_command() -> int:
    from .backends.models import list_models

    for entry in list_models():
        print(f"{entry.name:<32} {entry.kind:<9} {entry.note}")
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    log_path = _setup_logging()
    try:
        if args.command == "run":
            from .sweep import run_sweep

            return run_sweep(args, _backend(args))
        if args.command == "models":
            return list_models_command()
        return run_app(args)
    except ProbeError as exc:
        print(f"probe-tui: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("probe-tui: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the traceback goes to the log, one line to the user
        log.exception("unexpected error")
        print(f"probe-tui: unexpected error: {type(exc).__name__}: {exc} (traceback in {log_path})", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
