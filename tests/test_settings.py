"""Settings in one place (core/settings.py): the defaults, $PROBE_TUI_* and config.toml, read once
into a frozen Settings; the CLI's defaults and the app's start come from them, and a bad file or
variable is one line naming it."""

from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError

from probe_tui import cli
from probe_tui.core.errors import ProbeError
from probe_tui.core.settings import DEFAULTS, config_file, get_settings, settings_file


@pytest.fixture
def config(tmp_path, monkeypatch):
    """Write config.toml in a config directory of the test's own."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))

    def write(text: str):
        config_file().parent.mkdir(parents=True, exist_ok=True)
        config_file().write_text(text, encoding="utf-8")
        get_settings.cache_clear()
        return config_file()
    return write


def test_without_a_config_file_the_settings_are_the_defaults(config):
    assert not config_file().exists()
    assert get_settings() == DEFAULTS
    assert (DEFAULTS.instrument, DEFAULTS.language, DEFAULTS.persona, DEFAULTS.n_ctx) == ("mfq2", "en", "none", 4096)
    assert config_file().parent == settings_file().parent and config_file().name == "config.toml"


def test_config_toml_overrides_a_default_and_a_variable_overrides_config_toml(config, monkeypatch):
    config('# my settings\nn_ctx = 2048\ntimeout = 15\ntheme = "nord"\n')
    monkeypatch.setenv("PROBE_TUI_N_CTX", "1024")
    get_settings.cache_clear()
    settings = get_settings()
    assert (settings.n_ctx, settings.timeout, settings.theme, settings.instrument) == (1024, 15.0, "nord", "mfq2")
    assert get_settings() is settings  # read once
    with pytest.raises(ValidationError):
        settings.n_ctx = 1  # frozen


@pytest.mark.parametrize("text, message", [
    ("instrument = \"wvs\"\nn_ctx = 0\n", "config.toml:2: n_ctx: Input should be greater than or equal to 1"),
    ("n_ctxx = 5\n", "config.toml:1: n_ctxx: unknown setting"),
    ('[keymap]\n"probe.next_item" = 3\n', 'config.toml:2: keymap."probe.next_item": Input should be a valid string'),
    ('theme = "nord\n', "config.toml: not a valid TOML file (Illegal character"),
])
def test_a_bad_config_toml_is_one_line_naming_the_file_line_and_field(config, text, message):
    path = config(text)
    with pytest.raises(ProbeError) as raised:
        get_settings()
    assert str(raised.value).startswith(str(path.parent / message)) and "\n" not in str(raised.value)


def test_a_bad_variable_is_one_line_naming_it(config, monkeypatch):
    monkeypatch.setenv("PROBE_TUI_CONCURRENCY", "many")
    with pytest.raises(ProbeError, match=r"^\$PROBE_TUI_CONCURRENCY: Input should be a valid integer.*\(it is 'many'\)$"):
        get_settings()


def test_the_cli_says_a_bad_config_in_one_line_and_no_traceback(config, capsys):
    config("concurrency = 0\n")
    with pytest.raises(SystemExit) as exited:
        cli.main(["models"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err == f"probe-tui: error: {config_file()}:1: concurrency: Input should be greater than or equal to 1\n"


def test_the_cli_defaults_come_from_the_settings_and_a_flag_wins(config):
    config('instrument = "wvs"\nlanguage = "fr"\npersona = "us_average"\nconcurrency = 4\n')
    args = cli.parse_args(["run", "--output", "out.csv"])
    assert (args.instrument, args.lang, args.persona, args.concurrency) == ("wvs", "fr", "us_average", 4)
    args = cli.parse_args(["--lang", "zh", "run", "--output", "out.csv", "--concurrency", "2"])
    assert (args.instrument, args.lang, args.concurrency) == ("wvs", "zh", 2)


def test_the_model_options_default_to_the_settings(config, smollm2_path):
    config(f'model = "{smollm2_path}"\nn_ctx = 1024\nthreads = 2\nn_gpu_layers = 0\n')
    backend = cli._backend(cli.parse_args(["run", "--output", "out.csv", "--no-cache"]))
    try:
        assert backend.model_path == smollm2_path
        assert backend.options | {"n_batch": None} == {"n_ctx": 1024, "n_threads": 2, "n_gpu_layers": 0, "n_batch": None}
    finally:
        backend.close()
    backend = cli._backend(cli.parse_args(["run", "--output", "out.csv", "--no-cache", "--n-ctx", "512"]))
    assert backend.options["n_ctx"] == 512
    backend.close()


def test_a_run_asks_the_instrument_and_language_of_config_toml(config, tmp_path, smollm2_path):
    """The real embedded model, two items: the run takes WVS in French from config.toml alone."""
    config(f'instrument = "wvs"\nlanguage = "fr"\nmodel = "{smollm2_path}"\nn_ctx = 1024\n')
    output = tmp_path / "run.csv"
    assert cli.main(["run", "--limit", "2", "--output", str(output), "--no-cache"]) == 0
    rows = pd.read_csv(output)
    assert len(rows) == 2 and set(rows["instrument"]) == {"wvs"} and set(rows["language"]) == {"fr"}


async def test_the_app_starts_from_the_settings_and_config_toml_theme_beats_the_remembered_one(config):
    """config.toml's theme is used over the one remembered in settings.toml; the instrument and
    language of a new session are config.toml's too."""
    from probe_tui.app import ProbeApp
    from probe_tui.core.store import SessionStore
    from scripted import ScriptedBackend
    from test_app import answered, probe_screen, wait_for

    config('theme = "nord"\ninstrument = "wvs"\nlanguage = "zh"\n')
    settings_file().write_text('theme = "gruvbox"\n', encoding="utf-8")
    app = ProbeApp(ScriptedBackend(), store=SessionStore(":memory:"))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await probe_screen(app, pilot)
        await wait_for(pilot, lambda: screen.model_ready, 10)
        await wait_for(pilot, answered(screen), 10)  # settled before the app closes
        assert app.theme == "nord"
        assert (app.screen.instrument.key, app.screen.language) == ("wvs", "zh")


def test_a_bad_config_toml_stops_the_app_in_one_line_before_it_starts(config):
    from probe_tui.app import ProbeApp
    from scripted import ScriptedBackend

    config("theme = 5\n")
    with pytest.raises(ProbeError, match=r"config.toml:1: theme: Input should be a valid string$"):
        ProbeApp(ScriptedBackend())


def test_the_readme_example_config_is_valid(config):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    example = readme.split("### Settings", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    config(example)
    settings = get_settings()
    assert (settings.instrument, settings.n_ctx, settings.concurrency) == ("wvs", 2048, 4)
    assert settings.keymap == {"probe.next_item": "j", "probe.previous_item": "k,up"}
