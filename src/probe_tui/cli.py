"""Command line: `probe-tui` opens the app; `probe-tui run` sweeps an instrument headless."""

from __future__ import annotations

import argparse
import logging
from logging.handlers import RotatingFileHandler
import math
import os
import sys
import tempfile
from pathlib import Path

from .core import paths
from .core.errors import ProbeError
from .core.text import printable
from .core.settings import get_settings

log = logging.getLogger("probe_tui")
LOG_BYTES, LOG_BACKUPS = 5 * 1024 * 1024, 2  # probe-tui.log, then .1 and .2: at most 15 MB
MAX_BOOTSTRAP = 10_000  # resamples; each holds a figure per item and baseline country


def _setup_logging() -> Path:
    """The log file in the state directory or, where that cannot be written, a temporary one (said in
    one line; $PROBE_TUI_LOG tells the model worker and the screens too)."""
    try:
        path = paths.log_file()
        handler = RotatingFileHandler(path, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8")
        if path.stat().st_size >= LOG_BYTES:  # the model worker appends to it too: rotate at start as well
            handler.doRollover()
    except OSError as exc:
        handle, name = tempfile.mkstemp(prefix="probe-tui-", suffix=".log")
        os.close(handle)
        path = Path(name)
        handler = logging.FileHandler(path, encoding="utf-8")
        os.environ["PROBE_TUI_LOG"] = name
        print(f"probe-tui: warning: cannot write the log ({exc.strerror}: {exc.filename}); logging to {path}", file=sys.stderr)
    logging.basicConfig(handlers=[handler], level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s", force=True)
    return path


class Parser(argparse.ArgumentParser):
    """Bad input is one line: `probe-tui: error: ...` (no usage; --help has it)."""

    def error(self, message):
        self.exit(2, f"probe-tui: error: {printable(message)}\n")


def _whole(minimum: int, maximum: int | None = None):
    """An argparse type: a whole number of at least `minimum` (and at most `maximum`)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum or (maximum is not None and value > maximum):
            bounds = f"from {minimum} to {maximum:,}" if maximum is not None else f"of at least {minimum}"
            raise argparse.ArgumentTypeError(f"must be a whole number {bounds}, not {text!r}")
        return value
    return parse


def _number(minimum: float, above: bool = False, unit: str = ""):
    """An argparse type: a finite number of at least `minimum` (or above it)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < minimum or (above and value == minimum):
            raise argparse.ArgumentTypeError(f"must be a number{unit} {'above' if above else 'of at least'} {minimum:g}, not {text!r}")
        return value
    return parse


# Options for the model and the condition may stand before or after the subcommand and mean the same
# in both places. So every one of them defaults to SUPPRESS (a subcommand's default would overwrite a
# value given before it), an option the chosen command does not use is refused, and the defaults
# are filled in after parsing (parse_args), from the settings (core/settings.py: config.toml, $PROBE_TUI_*).
SHARED = argparse.SUPPRESS
SHARED_DEFAULTS = {"backend": "llama", "no_cache": False}  # every other shared option: None
COMMAND_DEFAULTS = {"run": {"instrument": "instrument", "lang": "language", "persona": "persona", "concurrency": "concurrency"}}  # option: its setting
REQUIRED = {"score": ("instrument",), "figure": ("instrument",), "endpoints add": ("backend", "base_url", "model")}
LOCAL_ONLY = ("n_gpu_layers", "n_ctx", "threads")
REMOTE_OVERRIDES = ("base_url", "api_key_env", "mode", "samples", "temperature", "seed", "top_logprobs", "timeout")


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    local = parser.add_argument_group("model")
    local.add_argument("--backend", default=SHARED, choices=("llama", "openai", "openai-completions", "anthropic"),
                       help="llama: a GGUF file in-process (default); the others: a remote API")
    local.add_argument("--model", default=SHARED, help="llama: a GGUF path, a file name in models/, or an embedded model "
                       "(default smollm2-135m-instruct); remote: the model id")
    local.add_argument("--n-gpu-layers", type=int, default=SHARED, help="layers to offload to the GPU (default: all if this build has a GPU backend, else 0)")
    local.add_argument("--n-ctx", type=int, default=SHARED, help="context length (default 4096)")
    local.add_argument("--threads", type=int, default=SHARED, help="CPU threads (default: llama.cpp's choice)")
    local.add_argument("--no-cache", action="store_true", default=SHARED, help="always ask the model; neither read nor write the response cache")
    remote = parser.add_argument_group("remote API")
    remote.add_argument("--endpoint", default=SHARED, help="a named endpoint from endpoints.toml in the config directory; several, "
                        "comma-separated (a,b), serving one model: prompts are sharded over them, --concurrency per endpoint")
    _add_remote_settings(remote)


def _add_remote_settings(group) -> None:
    """The settings of a remote API: for one run, or saved with `endpoints add`."""
    group.add_argument("--base-url", default=SHARED, help="e.g. http://127.0.0.1:8080/v1 (OpenAI-compatible) or https://api.anthropic.com")
    group.add_argument("--api-key-env", default=SHARED, help="environment variable holding the API key (default OPENAI_API_KEY / ANTHROPIC_API_KEY; .env is read too)")
    group.add_argument("--mode", default=SHARED, choices=("auto", "logprobs", "sampled", "parsed"), help="auto (default): logprobs when offered, else sampled")
    group.add_argument("--samples", type=_whole(1), default=SHARED, help="answers drawn per item when sampling (default 10)")
    group.add_argument("--temperature", type=_number(0), default=SHARED, help="sampling temperature (default 0.7)")
    group.add_argument("--seed", type=int, default=SHARED, help="sampled answers: sample i asks with seed + i, so the draws repeat (OpenAI-compatible APIs; default: none)")
    group.add_argument("--top-logprobs", type=int, default=SHARED, help="top-k logprobs requested, at most 20 (default 20)")
    group.add_argument("--timeout", type=_number(0, above=True, unit=" of seconds"), default=SHARED, help="seconds per request (default 60)")


INSTRUMENT_HELP = "an instrument's key; `probe-tui items check` lists them, your own included"


def _add_instrument_option(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument("--instrument", default=SHARED, help=help)


def _add_condition_options(parser: argparse.ArgumentParser) -> None:
    condition = parser.add_argument_group("condition")
    _add_instrument_option(condition, INSTRUMENT_HELP + " (default mfq2)")
    condition.add_argument("--lang", default=SHARED, help="prompt language: en (default), zh, fr, ...")
    condition.add_argument("--persona", default=SHARED, help="none (default), us_average, cn_average, country:<name>, "
                           "subgroup:<attr>=<value>,..., or custom:<text>")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="probe-tui", description="Watch what a language model 'believes', live. "
                    "The model and condition options may also follow the subcommand.")
    _add_model_options(parser)
    _add_condition_options(parser)
    parser.add_argument("--session", default=SHARED, help="record under this name, or reopen the session of that name where it stopped "
                        "(default: a new session named by date and time)")
    parser.add_argument("--study", type=Path, default=SHARED, help="open a study's results in the app (its first model and instrument)")
    parser.commands = commands = parser.add_subparsers(dest="command")

    run = commands.add_parser("run", help="answer every item headless and write one CSV row per item")
    _add_model_options(run)
    _add_condition_options(run)
    run.add_argument("--limit", type=_whole(1), default=None, help="only the first N items (pair instruments: the first N prompts)")
    run.add_argument("--pairs", help="pair instruments only: e.g. USA-China,France-China (default: all 28)")
    run.add_argument("--scenarios", type=int, help="pair instruments only: the first N scenarios (default: all)")
    run.add_argument("--vsm-constant", default=None, help="VSM 2013: fixed constants C, one number or pdi=N,idv=N,... "
                     "(default: 0 for the gauge; centred on Hofstede's mean for the deviation ratio)")
    run.add_argument("--countries", help="a country sweep (seed 001): 'all' (the 20 countries with a primary language) or a list, e.g. Japan,Brazil")
    run.add_argument("--condition", choices=("aligned", "en", "zh"), default="aligned",
                     help="with --countries: each country in its own language (aligned, default), in English or in Chinese; always with its national persona")
    run.add_argument("--variants", default=None, help="ask every item under every combination of these prompt variants: "
                     "order (meanings reversed), anchors (numbered, verbal, both), frames (3 instruction wordings), e.g. order,anchors,frames; "
                     "one row per item and variant, and the sensitivity summary")
    run.add_argument("--calibrate", default=None, help="also write calibrated views beside the raw answer: contextual (Zhao et al. 2021: "
                     "divided by the answer to a content-free 'N/A' item) and/or pmi (Holtzman et al. 2021: divided by the answer to the "
                     "frame alone), e.g. contextual,pmi; columns probs_/expected_/answer_/method_contextual and _pmi")
    run.add_argument("--subgroups", metavar="BASELINE", help="a subgroup sweep (seed 003): every item the group baseline has, "
                     "under the persona of each of its groups (see `probe-tui baselines`)")
    run.add_argument("--output", required=True, type=Path, help="CSV file to write")
    run.add_argument("--concurrency", type=int, default=SHARED, help="items in flight at once, for remote backends (default 1); "
                     "with several --endpoint: in flight on each endpoint")
    run.add_argument("--score-by", choices=("expected", "argmax"), default="expected",
                     help="an item's score for the gauge: the expected value of its distribution (default) or the most likely option")
    resume = run.add_mutually_exclusive_group()
    resume.add_argument("--resume", action="store_true", help="continue an interrupted run of the same command: answers already journaled are kept")
    resume.add_argument("--force", action="store_true", help="replace the results of a different run in --output (they are kept until this run's first answer)")

    score = commands.add_parser("score", help="metrics for recorded responses (yours or another study's), in long format")
    _add_instrument_option(score, INSTRUMENT_HELP + " (required)")
    score.add_argument("--responses", required=True, type=Path, help="recorded responses: CSV, Parquet or JSON (a probe-tui run or export, or another study's)")
    score.add_argument("--output", required=True, type=Path, help="CSV to write (long format)")
    score.add_argument("--map", default="", help="rename columns: OLD=NEW,OLD=NEW; an existing column is never overwritten (e.g. LLM=model,item=item_id,response=response_raw,llm_response=response)")
    score.add_argument("--set", default="", help="add constant columns: COLUMN=VALUE,... (e.g. model=qwen2.5-7b,language=en,persona=none)")
    score.add_argument("--bootstrap", type=_whole(0, MAX_BOOTSTRAP), default=1000, help="bootstrap resamples over items for Likert CIs (0: none)")
    score.add_argument("--vsm-constant", default=None, help="VSM 2013: fixed constants C, one number or pdi=N,idv=N,... "
                       "(default: 0 for profile r; centred on Hofstede's mean for the deviation ratio of a `country` column)")
    score.add_argument("--groups", type=Path, help="a group baseline CSV (see README), besides those in the data directory")
    commands.add_parser("models", help="list the models probe-tui can find")
    commands.add_parser("sessions", help="list the recorded sessions")
    demo = commands.add_parser("demo", help="a scripted tour for talks (YAML), played from the cache or a recorded session")
    _add_model_options(demo)
    demo.add_argument("script", nargs="?", type=Path, help="the demo script (default: the shipped seed-studies story)")
    demo.add_argument("--session", default=SHARED, help="play the answers recorded in this session first")
    demo.add_argument("--pace", type=float, help="seconds per item (default: the script's)")
    demo.add_argument("--check", action="store_true", help="only read the script and say what it would show")
    figure = commands.add_parser("figure", help="a picture for slides (PNG or SVG) from recorded responses")
    figure.add_argument("kind", help="dimensions, gauge, sensitivity, subgroups (survey instruments); favourability, heatmap, base-vs-chat (pair instruments)")
    _add_instrument_option(figure, INSTRUMENT_HELP + " (required)")
    figure.add_argument("--responses", nargs="+", required=True, type=Path, help="runs, session exports or study files (CSV, Parquet, JSON)")
    figure.add_argument("--labels", help="a model name per responses file, comma-separated (e.g. 'Qwen2.5-7B base,Qwen2.5-7B chat')")
    figure.add_argument("--map", default="", help="as for score: rename columns OLD=NEW,...")
    figure.add_argument("--set", default="", help="as for score: constant columns COLUMN=VALUE,...")
    figure.add_argument("--countries", help="comma-separated: the countries to show beside the model, or the heat map's order")
    figure.add_argument("--title", help="a title over the whole figure")
    figure.add_argument("--output", "-o", required=True, type=Path, help="FILE.png or FILE.svg")
    export = commands.add_parser("export", help="a session's answers, with provenance, as CSV, Parquet or JSON")
    export.add_argument("--session", default=SHARED, help="the session (default: the latest)")
    export.add_argument("--output", "-o", required=True, help="FILE.csv, FILE.parquet or FILE.json (the format follows the suffix)")
    _add_instrument_option(export, "only this instrument's answers (default: all)")
    endpoints = commands.add_parser("endpoints", help="list, add or remove the remote endpoints in endpoints.toml")
    _add_endpoint_commands(endpoints)
    study = commands.add_parser("study", help="a whole experiment in one YAML file: check it, run it (resumably), report on it")
    study.add_argument("action", choices=["check", "run", "report"], help="check: the matrix, what is cached, the time; "
                       "run: ask it all (again: continue); report: one self-contained HTML file")
    study.add_argument("file", type=Path, help="the study file (YAML; see assets/studies/)")
    study.add_argument("--output", "-o", type=Path, help="report: the HTML file (default: report.html in the study folder)")
    items = commands.add_parser("items", help="item banks and personas")
    items.add_argument("action", choices=["check"], help="check: report schema errors and missing translations")
    from .baselines_cli import add_parser as add_baselines_parser

    add_baselines_parser(commands)
    return parser


def _add_endpoint_commands(endpoints: argparse.ArgumentParser) -> None:
    endpoints.commands = actions = endpoints.add_subparsers(dest="endpoints_action", metavar="{list,add,remove}")
    actions.add_parser("list", help="the saved endpoints (the default)")
    add = actions.add_parser("add", help="add or replace an endpoint (endpoints.toml is written with mode 0600)")
    add.add_argument("name")
    add.add_argument("--backend", default=SHARED, choices=("openai", "openai-completions", "anthropic"), help="(required)")
    add.add_argument("--model", default=SHARED, help="the model id (required)")
    _add_remote_settings(add)
    add.add_argument("--api-key-stdin", action="store_true", help="read a key from standard input and store it in the file")
    remove = actions.add_parser("remove", help="remove an endpoint")
    remove.add_argument("name")


def parse_args(argv=None) -> argparse.Namespace:
    """Parse, refuse a shared option the chosen command does not use, then fill in the defaults."""
    parser = build_parser()
    args = parser.parse_args(argv)
    chosen, words = parser, []
    while getattr(chosen, "commands", None) and getattr(args, chosen.commands.dest, None):
        words.append(getattr(args, chosen.commands.dest))
        chosen = chosen.commands.choices[words[-1]]
    command = " ".join(words)
    used = {action.dest for action in chosen._actions}  # argparse keeps no public list of a parser's options
    shared = [action for action in parser._actions if action.default is SHARED and action.dest != "help"]
    for action in shared:
        if hasattr(args, action.dest) and action.dest not in used:
            parser.exit(2, f"probe-tui: error: {action.option_strings[0]} does not apply to `probe-tui {command}`\n")
    missing = [dest for dest in REQUIRED.get(command, ()) if not hasattr(args, dest)]
    if missing:
        chosen.error(f"the following arguments are required: {', '.join('--' + dest.replace('_', '-') for dest in missing)}")
    try:
        settings = get_settings()
    except ProbeError as exc:
        parser.exit(2, f"probe-tui: error: {printable(exc)}\n")
    from_settings = {dest: getattr(settings, field) for dest, field in COMMAND_DEFAULTS.get(command, {}).items()}
    defaults = {action.dest: None for action in shared} | SHARED_DEFAULTS | from_settings
    for dest, value in defaults.items():
        if not hasattr(args, dest):
            setattr(args, dest, value)
    return args


def _backend(args):
    """The backend the flags describe: a named endpoint, a remote API, or a local GGUF model."""
    from dataclasses import replace

    overrides = {field: getattr(args, field) for field in REMOTE_OVERRIDES if getattr(args, field) is not None}
    if args.endpoint or args.backend != "llama":
        _refuse_options(args, LOCAL_ONLY, "applies to --backend llama only")
        from .backends.remote import EndpointConfig, load_endpoints, make_remote_backend

        if args.endpoint:
            endpoints = load_endpoints()
            names = [name.strip() for name in args.endpoint.split(",")]
            for name in names:
                if name not in endpoints:
                    from .backends.remote import config_file

                    known = ", ".join(sorted(endpoints)) or f"none (define them in {config_file()})"
                    raise ProbeError(f"unknown endpoint {name!r}; choose one of: {known}")
            configs = [replace(endpoints[name], **overrides, **({"model": args.model} if args.model else {})) for name in names]
            if len(configs) > 1:  # several endpoints of one model: --concurrency is per endpoint
                from .backends.sharded import ShardedBackend

                sharded = ShardedBackend([make_remote_backend(c) for c in configs], per_endpoint=getattr(args, "concurrency", None) or 1,
                                         on_notice=lambda line: print(f"probe-tui: warning: {printable(line)}", file=sys.stderr))
                args.concurrency = sharded.max_concurrency  # the runner's total: per endpoint × endpoints
                return _cached(sharded, args)
            config = configs[0]
        else:
            if not args.base_url or not args.model:
                raise ProbeError(f"--backend {args.backend} needs --base-url and --model")
            config = EndpointConfig(kind=args.backend, model=args.model, **({"timeout": get_settings().timeout} | overrides))
        return _cached(make_remote_backend(config), args)
    _refuse_options(args, REMOTE_OVERRIDES, "applies to remote backends only (--backend openai, openai-completions or anthropic, or --endpoint)")
    from .backends.llama_cpp import LlamaCppBackend
    from .backends.models import resolve_model

    settings = get_settings()
    n_ctx = settings.n_ctx if args.n_ctx is None else args.n_ctx
    n_gpu_layers = settings.n_gpu_layers if args.n_gpu_layers is None else args.n_gpu_layers
    threads = settings.threads if args.threads is None else args.threads
    return _cached(LlamaCppBackend(resolve_model(args.model or settings.model), n_gpu_layers=n_gpu_layers, n_ctx=n_ctx, n_threads=threads), args)


def _refuse_options(args, dests, reason: str) -> None:
    given = [dest for dest in dests if getattr(args, dest) is not None]
    if given:
        raise ProbeError(f"--{given[0].replace('_', '-')} {reason}")


def _cached(backend, args):
    """Results come from the response cache when the same model was asked the same prompt before."""
    if args.no_cache:
        return backend
    from .backends.cached import CachedBackend

    return CachedBackend(backend)


def session_model(store, name: str, model: str, known_path: str = "") -> str | None:
    """The file of the model a session recorded as `model` (name@sha256:...), to reopen on it: the
    path the session's state or its answers' provenance holds (before, `model` was the path itself);
    None if it is not a file here."""
    path = known_path or store.model_path(name, model) or model
    return path if path and Path(path).is_file() else None


def run_app(args) -> int:
    from .app import ProbeApp
    from .core.store import SessionStore

    if args.study:
        if args.session or args.model or args.endpoint or args.backend != "llama":
            raise ProbeError("--study opens the study's own session with its first model; drop --session, --model, --endpoint and --backend")
        from .study.session import study_app

        backend, store, args.session, args.instrument, study = study_app(args.study, args.instrument)
    else:
        store, study = SessionStore(), None
    state = store.open(args.session) if args.session and store.exists(args.session) else {}
    if state and not args.study and not (args.model or args.endpoint or args.backend != "llama"):
        args.model = session_model(store, args.session, state.get("model", ""), state.get("model_path", ""))  # its own model file
    backend = backend if args.study else _backend(args)
    app = ProbeApp(backend, instrument=args.instrument or state.get("instrument"), language=args.lang,
                   persona=args.persona, session=args.session, store=store, study=study)
    try:
        app.run()
    finally:
        backend.close()
    answers = app.session_answers()
    if answers and study is not None:
        print(f"probe-tui: {answers} answer(s) in the app's session of study {study.name}; reopen with: probe-tui --study {args.study}",
              file=sys.stderr)
    elif answers:
        print(f"probe-tui: {answers} answer(s) in session {app.session_name}; "
              f"reopen with: probe-tui --session {app.session_name}", file=sys.stderr)
    return app.return_code or 0


def figure_command(args) -> int:
    import pandas as pd

    from .core import rescore
    from .figures import draw

    labels = [label.strip() for label in args.labels.split(",")] if args.labels else []
    if labels and len(labels) != len(args.responses):
        raise ProbeError(f"--labels names {len(labels)} model(s) for {len(args.responses)} responses file(s)")
    frames = []
    for number, path in enumerate(args.responses):
        frame = rescore.read_responses(path, _pairs(args.map, "--map"), _pairs(args.set, "--set"))
        if labels:
            frame["model"] = labels[number]
        frames.append(frame)
    frame = rescore.responses_of(pd.concat(frames, ignore_index=True), args.instrument)
    countries = [c.strip() for c in args.countries.split(",")] if args.countries else []
    print(f"wrote {draw(args.kind, frame, args.instrument, args.output, countries, args.title)}", file=sys.stderr)
    return 0


def demo_command(args) -> int:
    from dataclasses import replace

    from .core.demo import load_script
    from .core.instruments import get_instrument

    script = load_script(args.script)
    if args.pace:
        script = replace(script, pace=args.pace)
    if args.check:
        for number, step in enumerate(script.steps, start=1):
            print(f"step {number}: {len(step.items)} item(s), {step.language}, persona {step.persona}: {step.caption[:70]}")
        print(f"{script.title}: {len(script.frames())} items at {script.pace:g} s each, about {len(script.frames()) * script.pace / 60:.1f} min")
        return 0
    recorded = []
    if args.session:
        from .core.store import SessionStore

        store = SessionStore()
        if not store.exists(args.session):
            raise ProbeError(f"no session {args.session!r}; list them with: probe-tui sessions")
        recorded = store.answers(args.session, get_instrument(script.instrument))
        if not args.model and recorded:  # the recorded answers' own model (its file's path is in their provenance)
            model = recorded[0].condition.model
            args.model = session_model(store, args.session, model) or model
    if not args.model and script.model:
        args.model = script.model
    from .app import DemoApp

    backend = _backend(args)
    app = DemoApp(backend, script, recorded)
    try:
        app.run()
    finally:
        backend.close()
    return app.return_code or 0


def sessions_command() -> int:
    from .core.store import SessionStore, store_file

    sessions = SessionStore().sessions()
    for entry in sessions:
        print(printable(f"{entry['name']:<28} {entry['answers']:>6} answers  last used {entry['updated']}"))
    print(f"{len(sessions)} session(s) in {store_file()}", file=sys.stderr)
    return 0


def export_command(args) -> int:
    from .export import export_session
    from .core.store import SessionStore

    store = SessionStore()
    name = args.session or next((s["name"] for s in store.sessions() if s["answers"]), None)
    if name is None or not store.exists(name):
        raise ProbeError(f"no session {name!r}; list them with: probe-tui sessions" if name else "no session has answers yet")
    count = export_session(store, name, Path(args.output), args.instrument)
    print(f"wrote {count} answer(s) of session {name} to {args.output}", file=sys.stderr)
    return 0


def list_models_command() -> int:
    from .backends.models import list_models
    from .backends.remote import endpoint_summary, load_endpoints

    for entry in list_models():  # file names are outside text
        print(printable(f"{entry.name:<32} {entry.kind:<9} {entry.note}"))
    for name, config in load_endpoints().items():
        print(printable(f"{name:<32} {'endpoint':<9} {endpoint_summary(config)}"))
    return 0


def endpoints_command(args) -> int:
    from .backends import remote

    if args.endpoints_action == "add":
        key = sys.stdin.readline().strip() if args.api_key_stdin else ""
        settings = {field: getattr(args, field) for field in REMOTE_OVERRIDES if getattr(args, field) is not None}
        config = remote.EndpointConfig(kind=args.backend, model=args.model, name=args.name, api_key=key, **settings)
        print(f"saved endpoint {args.name!r} in {remote.save_endpoint(config)}")
    elif args.endpoints_action == "remove":
        print(f"removed endpoint {args.name!r} from {remote.remove_endpoint(args.name)}")
    else:
        endpoints = remote.load_endpoints()
        for name, config in endpoints.items():
            print(printable(f"{name:<20} {remote.endpoint_summary(config)}"))
        hint = "" if endpoints else "; add one with: probe-tui endpoints add NAME --backend openai --base-url URL --model ID"
        print(f"{len(endpoints)} endpoint(s) in {remote.config_file()}{hint}", file=sys.stderr)
    return 0


def _pairs(text: str, flag: str) -> dict[str, str]:
    pairs = {}
    for part in [p for p in text.split(",") if p.strip()]:
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ProbeError(f"{flag} expects NAME=VALUE pairs separated by commas; got {part!r}")
        pairs[key.strip()] = value.strip()
    return pairs


def score_command(args) -> int:
    from .core import rescore
    from .core.groups import load_group_baselines
    from .core.instruments import get_instrument
    from .core.instruments.vsm import parse_constants

    instrument = get_instrument(args.instrument)
    frame = rescore.read_responses(args.responses, _pairs(args.map, "--map"), _pairs(args.set, "--set"))
    groups = load_group_baselines(args.groups)
    for problem in groups.attrs["problems"]:
        print(f"probe-tui: warning: {printable(problem)} (file skipped)", file=sys.stderr)
    scores, summary = rescore.score(instrument, frame, args.responses, n_resamples=args.bootstrap,
                                    vsm_constant=parse_constants(args.vsm_constant), groups=groups)
    scores.to_csv(args.output, index=False)
    print(summary)
    print(f"wrote {len(scores)} row(s) to {args.output}", file=sys.stderr)
    return 0


def items_check() -> int:
    """Validate shipped and user item banks with their baselines, personas and group baselines;
    report every problem, one line each."""
    from .core.groups import load_group_baselines
    from .core.instruments import load_bank, user_items_dir
    from .core.personas import load_persona_bank, user_personas_dir

    bank = load_bank()
    personas = load_persona_bank()
    problems = list(bank.problems) + list(personas.problems) + load_group_baselines().attrs["problems"]
    national = personas.national.get("text", {})
    for instrument in bank.instruments.values():
        gaps = instrument.missing_translations()
        gaps += [f"{instrument.key}: no {lang} national persona (personas.yaml national.text.{lang})" for lang in instrument.languages if lang not in national]
        problems += gaps
        complete = [lang for lang in instrument.languages if not any(f" no {lang} " in gap for gap in gaps)]
        origin = instrument.origin[0] + (f" (+{len(instrument.origin) - 1} more)" if len(instrument.origin) > 1 else "")
        print(printable(f"{instrument.key:<14} {instrument.contents}  {len(complete)}/{len(instrument.languages)} languages complete: "
                        f"{', '.join(complete)}  from {origin}"))  # a user file's keys and name
        try:
            baseline = instrument.baseline()
        except ProbeError as exc:
            problems.append(str(exc))
            continue
        if baseline is not None:
            print(printable(f"{'':<14} baseline: {len(baseline.table)} rows × {len(baseline.table.columns)} dimensions from {baseline.path}"))
    print(f"personas       {len(personas.personas)} named, plus country:<name>, subgroup:..., custom:<text>")
    print(f"user files: {user_items_dir()} and {user_personas_dir()}")
    for problem in problems:
        print(f"problem: {printable(problem)}")
    print("ok: no problems" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


def main(argv=None) -> int:
    args = parse_args(argv)
    log_path = _setup_logging()
    try:
        if args.command == "run":
            from .sweep import run_sweep

            return run_sweep(args, _backend(args))
        if args.command == "models":
            return list_models_command()
        if args.command == "sessions":
            return sessions_command()
        if args.command == "demo":
            return demo_command(args)
        if args.command == "figure":
            return figure_command(args)
        if args.command == "export":
            return export_command(args)
        if args.command == "items":
            return items_check()
        if args.command == "score":
            return score_command(args)
        if args.command == "endpoints":
            return endpoints_command(args)
        if args.command == "baselines":
            from .baselines_cli import baselines_command

            return baselines_command(args)
        if args.command == "study":
            from .study.command import study_command

            return study_command(args)
        return run_app(args)
    except ProbeError as exc:
        print(f"probe-tui: error: {printable(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("probe-tui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. piped into head: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 - the traceback goes to the log, one line to the user
        log.exception("unexpected error")
        print(f"probe-tui: unexpected error: {type(exc).__name__}: {printable(exc)} (traceback in {log_path})", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
