"""Issue 21.20: expected faults get a one-line error that names the file or setting, never
"unexpected error", and nothing secret is shown."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from probe_tui.core.personas import load_persona_bank


def probe_tui(*args, env=None, timeout=300):
    """The CLI in a subprocess, with the test's XDG sandbox and the given overrides."""
    return subprocess.run([sys.executable, "-m", "probe_tui", *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def one_clear_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert "unexpected" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert lines and lines[-1].startswith("probe-tui: error: "), result.stderr
    return lines[-1]


def test_a_corrupt_response_cache_is_named_with_how_to_start_over(tmp_path):
    cache = tmp_path / "cache" / "probe-tui" / "responses.sqlite"
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"not a database, " * 300)
    line = one_clear_line(probe_tui("run", "--limit", "1", "--output", str(tmp_path / "o.csv"), env={"XDG_CACHE_HOME": str(tmp_path / "cache")}))
    assert str(cache) in line and "delete it" in line and "--no-cache" in line
    assert not (tmp_path / "o.csv").exists()


def test_a_corrupt_session_store_is_named_with_how_to_start_over(tmp_path):
    store = tmp_path / "data" / "probe-tui" / "sessions.sqlite"
    store.parent.mkdir(parents=True)
    store.write_bytes(b"\x00garbage" * 500)
    line = one_clear_line(probe_tui("sessions", env={"XDG_DATA_HOME": str(tmp_path / "data")}))
    assert str(store) in line and "move that file away" in line


def test_a_key_with_a_line_break_is_refused_without_showing_it(tmp_path):
    result = probe_tui("run", "--backend", "openai", "--base-url", "http://127.0.0.1:9/v1", "--model", "m", "--api-key-env", "PROBE_KEY",
                       "--limit", "1", "--output", str(tmp_path / "o.csv"), env={"PROBE_KEY": "sk-abc\nSECRETTAIL"})
    line = one_clear_line(result)
    assert "$PROBE_KEY" in line and "line break" in line
    assert "SECRETTAIL" not in result.stderr + result.stdout and "sk-abc" not in result.stderr + result.stdout


@pytest.mark.parametrize(("body", "named"), [
    ("endpoints = 5\n", "endpoints: expected one table per endpoint"),
    ('[endpoints.x]\nbase_url = 3\nmodel = "m"\n', "endpoints.x.base_url: Input should be a valid string"),
    ('[endpoints.x]\nbase_url = "http://a/v1"\n', "endpoints.x.model: Field required"),
    ('[endpoints.x]\nbase_url = "http://a/v1"\nmodel = "m"\ntimeout = "soon"\n', "endpoints.x.timeout: Input should be a valid number"),
    ('[endpoints.x]\nbase_url = "http://a/v1"\nmodel = "m"\nmode = "guess"\n', "endpoints.x: unknown mode 'guess'"),
])
def test_a_bad_endpoints_file_names_the_file_and_the_setting(tmp_path, body, named):
    config = tmp_path / "config" / "probe-tui" / "endpoints.toml"
    config.parent.mkdir(parents=True)
    config.write_text(body, encoding="utf-8")
    line = one_clear_line(probe_tui("endpoints", "list", env={"XDG_CONFIG_HOME": str(tmp_path / "config")}))
    assert f"{config}: {named}" in line


def test_a_bootstrap_count_beyond_what_memory_allows_is_refused(tmp_path):
    responses = tmp_path / "r.csv"
    responses.write_text("model,language,persona,item_id,response\nm,en,none,1,3\n", encoding="utf-8")
    line = one_clear_line(probe_tui("score", "--instrument", "mfq2", "--responses", str(responses), "--bootstrap", "100000000"))
    assert "--bootstrap" in line and "from 0 to 10,000" in line


def test_a_user_persona_named_none_is_reported_and_no_persona_stays(tmp_path):
    (tmp_path / "mine.yaml").write_text("personas:\n  none:\n    name: {en: Sneaky}\n    text: You are a pirate.\n", encoding="utf-8")
    bank = load_persona_bank(tmp_path)
    assert bank.personas["none"].text is None
    assert any("mine.yaml" in problem and "'none' means no persona" in problem for problem in bank.problems)


def test_the_log_is_rotated_once_it_is_large(tmp_path):
    log = tmp_path / "state" / "probe-tui" / "log" / "probe-tui.log"
    log.parent.mkdir(parents=True)
    log.write_bytes(b"old line\n" * (6 * 1024 * 1024 // 9))
    result = probe_tui("endpoints", "list", env={"XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "config")})
    assert result.returncode == 0, result.stderr
    rotated = Path(f"{log}.1")
    assert rotated.is_file() and rotated.stat().st_size > 5 * 1024 * 1024
    assert log.stat().st_size < 1024 * 1024


def test_a_corrupt_run_journal_is_named_with_how_to_start_over(tmp_path):
    from probe_tui.core.journal import journal_path

    output = tmp_path / "o.csv"
    journal = journal_path(output)
    journal.parent.mkdir(parents=True, exist_ok=True)
    journal.write_bytes(b"\x01garbage" * 700)
    line = one_clear_line(probe_tui("run", "--limit", "1", "--output", str(output)))
    assert str(journal) in line and "delete it" in line
    assert not output.exists()


@pytest.mark.parametrize(("cell", "shown"), [("99", "item 1 = 99"), ("inf", "item 1 = inf"), ("-99", "item 1 = -99"), ("0", "item 1 = 0")])
def test_a_response_off_its_scale_is_refused_not_scored(tmp_path, cell, shown):
    responses = tmp_path / "r.csv"
    responses.write_text(f"model,language,persona,item_id,response\nm,en,none,1,{cell}\nm,en,none,2,3\nm,en,none,3,\n", encoding="utf-8")
    result = probe_tui("score", "--instrument", "mfq2", "--responses", str(responses), "--bootstrap", "0", "--output", str(tmp_path / "s.csv"))
    line = one_clear_line(result)
    assert f"{responses}: 1 response(s) are not a number on their item's scale" in line and shown in line
    assert "Warning" not in result.stderr and not (tmp_path / "s.csv").exists()


@pytest.mark.parametrize("content", ["model,language,persona,item_id,response\n", ""])
def test_a_figure_of_nothing_is_one_line(tmp_path, content):
    responses = tmp_path / "r.csv"
    responses.write_text(content, encoding="utf-8")
    line = one_clear_line(probe_tui("figure", "dimensions", "--instrument", "mfq2", "--responses", str(responses), "--output", str(tmp_path / "f.png")))
    assert "nothing to draw" in line or "cannot read responses" in line
    assert not (tmp_path / "f.png").exists()
