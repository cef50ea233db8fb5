"""The headless `probe-tui run`, and one-line errors on bad input."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from scipy.special import logsumexp

from probe_tui.core.prompts import ChatTemplate


def probe_tui(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "probe_tui", *args], capture_output=True, text=True, cwd=cwd, env=os.environ.copy(), timeout=600)


def test_run_writes_36_rows_that_bare_llama_cpp_reproduces(tmp_path, scorer):
    out = tmp_path / "out.csv"
    result = probe_tui("run", "--instrument", "mfq2", "--lang", "en", "--persona", "none", "--output", str(out))
    assert result.returncode == 0, result.stderr
    frame = pd.read_csv(out)
    assert len(frame) == 36
    assert list(frame.columns[:6]) == ["instrument", "item_id", "language", "persona", "model", "method"]
    assert set(frame["method"]) == {"logprobs"}
    assert frame["item_id"].tolist() == [f"mfq2_{i:02d}" for i in range(1, 37)]
    for _, row in frame.iterrows():
        probs = json.loads(row["probs"])
        assert sum(probs.values()) == pytest.approx(1.0)
    assert "Lean:" in result.stdout and "profile r" in result.stdout
    # Re-evaluating a row's exact prompt with bare llama.cpp gives the same probabilities.
    for _, row in frame.iloc[[0, 17, 35]].iterrows():
        raw = scorer.score(row["prompt"], ("1", "2", "3", "4", "5")).logprobs
        total = logsumexp(list(raw.values()))
        expected = {label: math.exp(lp - total) for label, lp in raw.items()}
        assert json.loads(row["probs"]) == pytest.approx(expected, abs=1e-6)
        assert row["valid_mass"] == pytest.approx(math.exp(total), abs=1e-6)


def test_run_limit_persona_and_language(tmp_path):
    out = tmp_path / "zh.csv"
    result = probe_tui("run", "--lang", "zh", "--persona", "cn_average", "--limit", "3", "--output", str(out))
    assert result.returncode == 0, result.stderr
    frame = pd.read_csv(out)
    assert len(frame) == 3
    assert set(frame["language"]) == {"zh"} and set(frame["persona"]) == {"cn_average"}
    assert "请以一位来自中国的普通人的身份来回答。" in frame["prompt"][0]


@pytest.mark.parametrize(
    "args,message",
    [
        (["--lang", "de"], "unknown language for mfq2 'de'; choose one of: en, fr, zh"),
        (["--persona", "alien"], "unknown persona 'alien'; choose one of: cn_average, country:<name>, custom:<text>, none, subgroup:<attr>=<value>,..., us_average"),
        (["--instrument", "nope"], "unknown instrument 'nope'; choose one of: country-pairs, mfq2, vsm2013, wvs"),
        (["--persona", "subgroup:planet=mars"], "unknown subgroup attribute 'planet'; choose one of: age, country, education, ethnicity, region, religion, sex"),
        (["--instrument", "wvs", "--pairs", "USA-China"], "--pairs and --scenarios apply to --instrument country-pairs only"),
        (["--model", "/nowhere/x.gguf"], "model file not found: /nowhere/x.gguf"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path, args, message):
    result = probe_tui("run", *args, "--limit", "1", "--output", str(tmp_path / "o.csv"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == f"probe-tui: error: {message}"
    assert "Traceback" not in result.stderr


def test_not_a_gguf_and_corrupt_gguf(tmp_path, smollm2_path):
    text_file = tmp_path / "notes.gguf"
    text_file.write_text("hello")
    result = probe_tui("run", "--model", str(text_file), "--limit", "1", "--output", str(tmp_path / "o.csv"))
    assert result.returncode == 2
    assert "notes.gguf is not a GGUF model file" in result.stderr
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(smollm2_path.read_bytes()[: 200_000])
    result = probe_tui("run", "--model", str(truncated), "--limit", "1", "--output", str(tmp_path / "o.csv"))
    assert result.returncode == 2
    assert "truncated.gguf ends inside its GGUF header" in result.stderr  # the reason, not a bare "could not load"
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()[-1]) < 300


def test_models_lists_embedded_and_user_files(tmp_path, smollm2_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "mine.gguf").symlink_to(smollm2_path)
    result = probe_tui("models", cwd=tmp_path)
    assert result.returncode == 0
    assert "smollm2-135m-instruct" in result.stdout and "gemma3-270m" in result.stdout
    assert "mine.gguf" in result.stdout


def test_backend_reports_load_progress_and_model_details(smollm2_path):
    from probe_tui.backends.llama_cpp import LlamaCppBackend

    backend = LlamaCppBackend(smollm2_path, n_ctx=1024)
    seen = []
    try:
        info = backend.start(on_progress=seen.append)
    finally:
        backend.close()
    assert seen and seen[-1] == pytest.approx(1.0)
    assert seen == sorted(seen)
    assert info.chat_template is not None and "<|im_start|>" in info.chat_template.source
    assert info.details["quantisation"] == "Q4_1"
    assert info.details["n_ctx"] == 1024
    assert info.details["n_gpu_layers"] == (-1 if info.details["gpu_offload_supported"] else 0)
    assert backend.capabilities.logprobs


def test_a_run_that_answers_nothing_says_only_why_and_keeps_the_earlier_csv(tmp_path, smollm2_path):
    """Issue 19.24: no "wrote 0 row(s)" before the error, no "stopped after 0 of N; they are kept"."""
    out = tmp_path / "keep.csv"
    assert probe_tui("run", "--limit", "1", "--output", str(out)).returncode == 0
    finished = out.read_bytes()
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(smollm2_path.read_bytes()[: 200_000])
    result = probe_tui("run", "--model", str(truncated), "--force", "--no-cache", "--limit", "2", "--output", str(out))
    assert result.returncode == 2
    assert "wrote" not in result.stderr and "stopped after" not in result.stderr and "kept" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("probe-tui: error: truncated.gguf ends inside its GGUF header")
    assert out.read_bytes() == finished


def test_a_remote_run_says_it_connects_to_the_endpoint(tmp_path, llama_server):
    """Issue 19.24: the progress line names what is really started: the endpoint, not a model file."""
    result = probe_tui("run", "--backend", "openai", "--base-url", llama_server.url, "--model", "smollm2", "--no-cache",
                       "--limit", "1", "--output", str(tmp_path / "remote.csv"))
    assert result.returncode == 0, result.stderr
    assert f"connecting to {llama_server.url} (model smollm2)" in result.stderr
    assert "loading" not in result.stderr


def test_endpoints_are_listed_added_and_removed(tmp_path):
    """Issue 19.19: `endpoints` alone lists them; add takes seed, samples and temperature; remove."""
    import tomllib

    from probe_tui.backends.remote import load_endpoints

    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path)}
    path = tmp_path / "probe-tui" / "endpoints.toml"

    def endpoints(*args):
        return subprocess.run([sys.executable, "-m", "probe_tui", "endpoints", *args], capture_output=True, text=True, env=env, timeout=60)

    empty = endpoints()
    assert empty.returncode == 0, empty.stderr
    assert f"0 endpoint(s) in {path}; add one with: probe-tui endpoints add" in empty.stderr
    added = endpoints("add", "lab.v2", "--backend", "openai", "--base-url", "http://127.0.0.1:8080/v1", "--model", "smollm2",
                      "--mode", "sampled", "--samples", "4", "--temperature", "0.3", "--seed", "7")
    assert added.returncode == 0, added.stderr
    assert endpoints("add", "other", "--backend", "anthropic", "--base-url", "https://api.anthropic.com", "--model", "claude").returncode == 0
    assert path.stat().st_mode & 0o777 == 0o600
    assert tomllib.loads(path.read_text())["endpoints"]["lab.v2"] == {
        "backend": "openai", "base_url": "http://127.0.0.1:8080/v1", "model": "smollm2", "mode": "sampled", "samples": 4,
        "temperature": 0.3, "seed": 7}
    saved = load_endpoints(path)["lab.v2"]
    assert (saved.kind, saved.mode, saved.samples, saved.temperature, saved.seed) == ("openai", "sampled", 4, 0.3, 7)
    listing = endpoints("list")
    assert listing.returncode == 0
    assert "lab.v2" in listing.stdout and "mode sampled, 4 samples at T=0.3, seed 7" in listing.stdout and "other" in listing.stdout
    assert "2 endpoint(s)" in listing.stderr
    removed = endpoints("remove", "lab.v2")
    assert removed.returncode == 0, removed.stderr
    assert list(load_endpoints(path)) == ["other"] and path.stat().st_mode & 0o777 == 0o600
    again = endpoints("remove", "lab.v2")
    assert again.returncode == 2
    assert again.stderr.strip() == f"probe-tui: error: no endpoint 'lab.v2' in {path}; saved: other"


@pytest.fixture
def read_only_state(tmp_path):
    """A state directory that cannot be written: mode 0500, or, for root (who ignores modes), a
    read-only filesystem."""
    folder = tmp_path / "state"
    folder.mkdir(mode=0o500)
    mounted = os.geteuid() == 0
    if mounted and subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=16k", "tmpfs", str(folder)]).returncode != 0:
        pytest.skip("root could not mount a read-only filesystem")
    try:
        yield folder
    finally:
        if mounted:
            subprocess.run(["umount", str(folder)], check=True)


def test_a_read_only_state_directory_falls_back_to_a_temporary_log(tmp_path, read_only_state):
    """Issue 21.19: logging was set up outside the `try`, so every command died with a traceback."""
    env = {**os.environ, "XDG_STATE_HOME": str(read_only_state)}
    for command in (["models"], ["run", "--limit", "1", "--no-cache", "--output", str(tmp_path / "o.csv")]):
        result = subprocess.run([sys.executable, "-m", "probe_tui", *command], capture_output=True, text=True, env=env, timeout=600)
        assert result.returncode == 0, result.stderr
        warning = [line for line in result.stderr.splitlines() if line.startswith("probe-tui: warning")]
        assert len(warning) == 1 and warning[0].startswith("probe-tui: warning: cannot write the log (")
        assert f": {read_only_state}/probe-tui" in warning[0]
        log = Path(warning[0].rsplit("; logging to ", 1)[1])
        assert log.is_file() and not log.is_relative_to(read_only_state)
        if command[0] == "run":
            assert log.stat().st_size > 0  # the model worker's output went there too
