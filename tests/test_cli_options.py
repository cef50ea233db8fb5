"""Issue 19.1: the model and condition options mean the same before or after the subcommand; one that
the subcommand does not use is refused in one line, never ignored."""

import pandas as pd
import pytest

from probe_tui.cli import parse_args
from probe_tui.core.instruments import get_instrument
from probe_tui.core.personas import get_persona
from probe_tui.core.session import Condition, ask
from probe_tui.core.store import SessionStore
from test_cli import probe_tui


@pytest.mark.parametrize("command", [["run", "--output", "o.csv"], ["demo"], []])
def test_options_mean_the_same_before_and_after_the_subcommand(command):
    options = ["--model", "gemma3-270m", "--n-ctx", "1024", "--no-cache"]
    options += [] if command == ["demo"] else ["--instrument", "wvs", "--lang", "zh", "--persona", "cn_average"]
    before, after = parse_args([*options, *command]), parse_args([*command, *options])
    assert vars(before) == vars(after)
    assert (before.model, before.n_ctx, before.no_cache) == ("gemma3-270m", 1024, True)
    if command != ["demo"]:
        assert (before.instrument, before.lang, before.persona) == ("wvs", "zh", "cn_average")


def test_endpoint_settings_before_the_subcommand_are_saved():
    args = parse_args(["--model", "m", "--seed", "3", "endpoints", "add", "lab", "--backend", "openai", "--base-url", "http://h/v1"])
    assert (args.endpoints_action, args.model, args.seed, args.base_url) == ("add", "m", 3, "http://h/v1")


def test_defaults_are_filled_in_per_command():
    run, app = parse_args(["run", "--output", "o.csv"]), parse_args([])
    assert (run.instrument, run.lang, run.persona, run.backend, run.no_cache) == ("mfq2", "en", "none", "llama", False)
    assert (app.instrument, app.lang, app.persona, app.model) == (None, None, None, None)  # the app: where the session stood
    assert parse_args(["--instrument", "wvs", "score", "--responses", "r.csv", "--output", "s.csv"]).instrument == "wvs"


def test_a_run_honours_condition_options_given_before_it(tmp_path):
    out = tmp_path / "g.csv"
    result = probe_tui("--lang", "zh", "--instrument", "wvs", "--persona", "cn_average", "run", "--limit", "1", "--output", str(out))
    assert result.returncode == 0, result.stderr
    row = pd.read_csv(out).iloc[0]
    assert (row["instrument"], row["language"], row["persona"]) == ("wvs", "zh", "cn_average")


def test_a_model_given_before_run_is_the_one_loaded(tmp_path):
    result = probe_tui("--model", "/etc/passwd", "run", "--limit", "1", "--output", str(tmp_path / "o.csv"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("probe-tui: error: ")
    assert "passwd is not a GGUF model file" in result.stderr
    assert not (tmp_path / "o.csv").exists()


def test_export_honours_an_instrument_given_before_it(tmp_path, backend):
    store = SessionStore()
    store.open("two-instruments")
    for key in ("mfq2", "wvs"):
        instrument = get_instrument(key)
        condition = Condition(model=backend.identity, instrument=key, language="en", persona="none")
        store.add("two-instruments", ask(backend, instrument, instrument.items[0], condition, get_persona("none")), {})
    out = tmp_path / "e.csv"
    result = probe_tui("--instrument", "wvs", "--session", "two-instruments", "export", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert set(pd.read_csv(out)["instrument"]) == {"wvs"}


@pytest.mark.parametrize("args,message", [
    (["--lang", "zh", "sessions"], "--lang does not apply to `probe-tui sessions`"),
    (["--model", "x.gguf", "figure", "gauge", "--instrument", "wvs", "--responses", "r.csv", "-o", "f.png"],
     "--model does not apply to `probe-tui figure`"),
    (["--session", "talk", "run", "--output", "o.csv"], "--session does not apply to `probe-tui run`"),
    (["--persona", "cn_average", "export", "-o", "e.csv"], "--persona does not apply to `probe-tui export`"),
    (["--n-ctx", "1024", "models"], "--n-ctx does not apply to `probe-tui models`"),
    (["--n-ctx", "1024", "endpoints", "list"], "--n-ctx does not apply to `probe-tui endpoints list`"),
])
def test_an_option_the_command_does_not_use_is_refused_in_one_line(args, message):
    result = probe_tui(*args)
    assert result.returncode == 2
    assert result.stderr.strip() == f"probe-tui: error: {message}"


@pytest.mark.parametrize("args,message", [
    (["run", "--temperature", "0.2"], "--temperature applies to remote backends only"),
    (["--backend", "openai", "--base-url", "http://127.0.0.1:9/v1", "--model", "m", "run", "--n-ctx", "1024"],
     "--n-ctx applies to --backend llama only"),
])
def test_an_option_the_backend_does_not_use_is_refused(tmp_path, args, message):
    result = probe_tui(*args, "--limit", "1", "--output", str(tmp_path / "o.csv"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(f"probe-tui: error: {message}")


@pytest.mark.parametrize("argv,message", [
    (["run", "--samples", "0"], "argument --samples: must be a whole number of at least 1, not '0'"),
    (["run", "--timeout", "-1"], "argument --timeout: must be a number of seconds above 0, not '-1'"),
    (["run", "--timeout", "inf"], "argument --timeout: must be a number of seconds above 0, not 'inf'"),
    (["run", "--temperature", "nan"], "argument --temperature: must be a number of at least 0, not 'nan'"),
    (["--temperature", "-0.5", "run"], "argument --temperature: must be a number of at least 0, not '-0.5'"),
    (["run", "--limit", "-1"], "argument --limit: must be a whole number of at least 1, not '-1'"),
    (["run", "--limit", "0"], "argument --limit: must be a whole number of at least 1, not '0'"),
    (["run", "--limit", "two"], "argument --limit: must be a whole number of at least 1, not 'two'"),
    (["score", "--instrument", "mfq2", "--responses", "r.csv", "--bootstrap", "-5"],
     "argument --bootstrap: must be a whole number from 0 to 10,000, not '-5'"),
    (["endpoints", "add", "lab", "--samples", "0"], "argument --samples: must be a whole number of at least 1, not '0'"),
])
def test_an_impossible_number_is_refused_in_one_line(argv, message, capsys):
    """Issue 21.20: these ran (--limit 0 and -1 asked 36 and 35 items) or ended in "unexpected error"."""
    with pytest.raises(SystemExit) as exited:
        parse_args([*argv, "--output", "o.csv"] if argv[0] in ("run", "score") or argv[-1] == "run" else argv)
    assert exited.value.code == 2
    assert capsys.readouterr().err == f"probe-tui: error: {message}\n"
