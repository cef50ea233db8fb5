"""The headless `probe-tui run`, and one-line errors on bad input."""

import json
import math
import os
import subprocess
import sys

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
    assert "could not load truncated.gguf" in result.stderr
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
