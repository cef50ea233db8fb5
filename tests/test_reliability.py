"""Issue 8: nothing is lost on kill -9 or Ctrl+C, faulty servers are survived, bad input is one line."""

import glob
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loopback import FaultProxy
from probe_tui.core.errors import ProbeError
from probe_tui.core.instruments import get_instrument
from probe_tui.core.items import read_item_file
from probe_tui.core.journal import journal_path
from probe_tui.core.parsing import parse_answer
from probe_tui.core.personas import load_persona_bank
from probe_tui.core.rescore import read_responses


def start_run(*args):
    """A sweep that really asks the model (no cache), so there is time to interrupt it."""
    return subprocess.Popen([sys.executable, "-m", "probe_tui", "run", "--no-cache", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def journaled(output: Path) -> int:
    path = journal_path(output)
    if not path.exists():
        return 0
    try:
        return sqlite3.connect(path).execute("SELECT COUNT(*) FROM answers").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def wait_for_rows(output, n, process, timeout=300):
    deadline = time.monotonic() + timeout
    while journaled(output) < n:
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "the sweep journaled nothing in time"
        time.sleep(0.2)


def test_kill_9_then_resume_gives_every_item_exactly_once(tmp_path):
    out = tmp_path / "sweep.csv"
    args = ("--limit", "12", "--output", str(out))
    process = start_run(*args)
    wait_for_rows(out, 4, process)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    kept = journaled(out)
    assert 4 <= kept < 12
    before = {r[0]: r[1] for r in sqlite3.connect(journal_path(out)).execute("SELECT item_id, row FROM answers")}
    resumed = subprocess.run([sys.executable, "-m", "probe_tui", "run", "--no-cache", *args, "--resume"], capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    frame = pd.read_csv(out)
    assert frame["item_id"].tolist() == [f"mfq2_{i:02d}" for i in range(1, 13)]  # each once, in order
    assert all(sum(json.loads(p).values()) == pytest.approx(1.0) for p in frame["probs"])
    for item_id, row in before.items():  # what was done before the kill is kept as it was
        assert frame.set_index("item_id").loc[item_id, "expected"] == pytest.approx(json.loads(row)["expected"])


def test_ctrl_c_stops_cleanly_and_keeps_what_was_done(tmp_path):
    out = tmp_path / "sweep.csv"
    process = start_run("--limit", "36", "--output", str(out))
    wait_for_rows(out, 3, process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130
    assert "Traceback" not in stderr
    assert "Run the same command with --resume to finish." in stderr
    frame = pd.read_csv(out)
    assert 3 <= len(frame) < 36 and frame["item_id"].is_unique


def test_resume_refuses_a_different_run(tmp_path):
    out = tmp_path / "sweep.csv"
    first = subprocess.run([sys.executable, "-m", "probe_tui", "run", "--limit", "1", "--output", str(out)], capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    other = subprocess.run([sys.executable, "-m", "probe_tui", "run", "--limit", "1", "--lang", "fr", "--output", str(out), "--resume"],
                           capture_output=True, text=True, timeout=600)
    assert other.returncode == 2
    assert other.stderr.strip() == (f"probe-tui: error: cannot resume: {out} holds the results of a different run (language was 'en'); "
                                    "to start over, use --force instead of --resume, or choose another --output")


def test_a_second_run_on_the_same_output_is_refused_at_once(tmp_path):
    """Issue 19.10: the second run is refused before it touches the journal, naming the first; the
    first goes on undisturbed; a killed run's lock blocks nobody."""
    out = tmp_path / "shared.csv"
    first = start_run("--limit", "36", "--output", str(out))
    try:
        wait_for_rows(out, 2, first)  # the first run holds the lock from before its first answer
        started = time.monotonic()
        second = subprocess.run([sys.executable, "-m", "probe_tui", "run", "--limit", "1", "--output", str(out)],
                                capture_output=True, text=True, timeout=120)
        assert time.monotonic() - started < 60
        assert second.returncode == 2
        assert second.stderr.strip() == (f"probe-tui: error: another run (pid {first.pid}) is writing {out}; "
                                         "wait for it to finish, or choose another --output")
        kept = journaled(out)
        assert kept >= 2  # its answers were not deleted...
        wait_for_rows(out, kept + 1, first)  # ...and it goes on
    finally:
        first.kill()
        first.wait()
    again = subprocess.run([sys.executable, "-m", "probe_tui", "run", "--limit", "1", "--force", "--output", str(out)],
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert len(pd.read_csv(out)) == 1


def test_sweep_through_a_faulty_proxy_finishes_every_item_once(llama_server, tmp_path):
    """20% of requests fail (500, 429, timeouts, cut-off bodies); the sweep still gets every item right."""
    direct = tmp_path / "direct.csv"
    through = tmp_path / "faulty.csv"
    common = ["--backend", "openai", "--model", "smollm2", "--limit", "10", "--timeout", "3"]
    subprocess.run([sys.executable, "-m", "probe_tui", "run", *common, "--base-url", llama_server.url, "--output", str(direct)], check=True, capture_output=True, timeout=600)
    proxy = FaultProxy(llama_server.url.removesuffix("/v1"), fault_rate=0.2, seed=7)
    try:
        result = subprocess.run([sys.executable, "-m", "probe_tui", "run", *common, "--base-url", proxy.url, "--concurrency", "3", "--output", str(through)],
                                capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, result.stderr
        assert proxy.injected >= 1, "the proxy injected no fault"
    finally:
        proxy.stop()
    a, b = pd.read_csv(direct), pd.read_csv(through)
    assert b["item_id"].tolist() == a["item_id"].tolist()
    for x, y in zip(a["probs"], b["probs"]):
        assert json.loads(y) == pytest.approx(json.loads(x), abs=0.02)


def test_a_model_too_large_for_memory_is_refused_in_one_line(tmp_path):
    huge = tmp_path / "huge.gguf"
    with huge.open("wb") as handle:
        handle.write(b"GGUF")
        handle.truncate(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") + 2**30)  # sparse: no disk used
    result = subprocess.run([sys.executable, "-m", "probe_tui", "run", "--model", str(huge), "--limit", "1", "--output", str(tmp_path / "o.csv")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "huge.gguf needs" in result.stderr and "GB of memory" in result.stderr and "Traceback" not in result.stderr


# --- fuzzing: no crash other than a clean validation error ----------------------------------------

yaml_like = st.one_of(
    st.text(max_size=400),
    st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20)),
                 lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4), max_leaves=20)
    .map(lambda data: json.dumps(data)),
    st.sampled_from(["instrument: x\nitems: [", "items:\n  - code: 1\n    text: {en: ", "instrument: mfq2\nitems:\n  - {code: 1, scale: nope}\n"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=yaml_like)
def test_item_and_persona_loaders_fail_only_cleanly(tmp_path, text):
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        read_item_file(path)
    except ProbeError as exc:
        assert "\n" not in str(exc).strip() and str(path) in str(exc)
    folder = tmp_path / "personas"
    folder.mkdir(exist_ok=True)
    (folder / "fuzz.yaml").write_text(text, encoding="utf-8")
    bank = load_persona_bank(folder)
    assert all("fuzz.yaml" in problem for problem in bank.problems)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.lists(st.text(max_size=12), min_size=5, max_size=5), max_size=6))
def test_response_loader_fails_only_cleanly(tmp_path, cells):
    path = tmp_path / "responses.csv"
    pd.DataFrame(cells, columns=["model", "language", "persona", "item_id", "response"]).to_csv(path, index=False)
    try:
        get_instrument("mfq2").score_responses(read_responses(path), path, n_resamples=0)
    except ProbeError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=400, deadline=None)
@given(text=st.text(max_size=3000), language=st.sampled_from(["en", "zh", "fr", "xx"]))
def test_answer_parser_never_crashes(text, language):
    labels = tuple(str(n) for n in range(1, 11))
    found = parse_answer(text, labels, ("Never justifiable",) + ("",) * 8 + ("Always justifiable",), language)
    assert found is None or found in labels
    assert parse_answer(text, ("A", "B"), ("China", "France"), language) in (None, "A", "B")


def test_a_planted_key_appears_nowhere(llama_server, tmp_path, monkeypatch):
    """A remote sweep with errors: the key is in no log, export, journal or error message."""
    key = "sk-planted-0123456789abcdef"
    env = {**os.environ, "PLANTED_KEY": key}
    proxy = FaultProxy(llama_server.url.removesuffix("/v1"))
    try:
        proxy.faults[:] = [("status", 500, {}, {"error": {"message": f"upstream said {key}"}})] * 3 + \
                          [("status", 401, {}, {"error": {"message": f"bad key {key}"}})] * 30
        out = tmp_path / "keyed.csv"
        ok = subprocess.run([sys.executable, "-m", "probe_tui", "run", "--backend", "openai", "--base-url", proxy.url, "--model", "smollm2",
                             "--api-key-env", "PLANTED_KEY", "--limit", "3", "--output", str(out), "--timeout", "5"],
                            capture_output=True, text=True, env=env, timeout=600)
        assert proxy.requests and proxy.requests[-1][2] == f"Bearer {key}"  # it was sent...
    finally:
        proxy.stop()
    assert ok.returncode == 2 and "authentication failed" in ok.stderr
    assert "stopped after" not in ok.stderr and not out.exists()  # the first item failed: nothing was written (19.24)
    seen = ok.stdout + ok.stderr
    state = Path(os.environ["XDG_STATE_HOME"]) / "probe-tui"
    data = Path(os.environ["XDG_DATA_HOME"]) / "probe-tui"
    for path in [*state.rglob("*"), *data.rglob("*"), *tmp_path.rglob("*")]:
        if path.is_file():
            seen += path.read_bytes().decode("utf-8", errors="replace")
    assert key not in seen  # ...and found nowhere else


def test_a_config_file_with_a_key_is_private(tmp_path):
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path)}
    saved = subprocess.run([sys.executable, "-m", "probe_tui", "endpoints", "add", "work", "--backend", "openai",
                            "--base-url", "https://api.example.invalid/v1", "--model", "gpt-x", "--api-key-stdin"],
                           input="sk-stored-key\n", capture_output=True, text=True, env=env, timeout=60)
    assert saved.returncode == 0, saved.stderr
    path = tmp_path / "probe-tui" / "endpoints.toml"
    assert path.stat().st_mode & 0o777 == 0o600
    listing = subprocess.run([sys.executable, "-m", "probe_tui", "models"], capture_output=True, text=True, env=env, timeout=60)
    assert "work" in listing.stdout and "sk-stored-key" not in listing.stdout
    path.chmod(0o644)
    refused = subprocess.run([sys.executable, "-m", "probe_tui", "models"], capture_output=True, text=True, env=env, timeout=60)
    assert refused.returncode == 2 and "holds an API key but other users can read it; run: chmod 600" in refused.stderr
