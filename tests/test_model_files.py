"""#21.15: only regular files in models/ are read; a FIFO, a folder or a dangling link never blocks."""

import os
import subprocess
import sys
import threading

import pytest

from probe_tui.backends.gguf_meta import describe_file, read_metadata
from probe_tui.backends.models import check_gguf, list_models, resolve_model
from probe_tui.core.errors import ProbeError


def within_seconds(call, seconds=5):
    """call()'s exception or result, failing (not hanging) if it blocks, as an open of a FIFO does."""
    outcome = {}

    def run():
        try:
            outcome["result"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "blocked"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


@pytest.fixture
def models_dir(tmp_path, monkeypatch, smollm2_path):
    models = tmp_path / "models"
    models.mkdir()
    os.mkfifo(models / "fifo.gguf")
    (models / "folder.gguf").mkdir()
    (models / "dangling.gguf").symlink_to(tmp_path / "gone.gguf")
    (models / "real.gguf").symlink_to(smollm2_path)
    monkeypatch.setenv("PROBE_TUI_MODELS", str(models))
    return models


def test_only_regular_files_are_listed(models_dir):
    files = [entry.name for entry in within_seconds(list_models) if entry.kind == "file"]
    assert files == ["real.gguf"]
    assert within_seconds(lambda: describe_file(resolve_model("real")))["chat_template"]


@pytest.mark.parametrize("name", ["fifo.gguf", "folder.gguf", "dangling.gguf"])
def test_anything_else_is_refused_in_one_line(models_dir, name):
    path = models_dir / name
    for read in (read_metadata, describe_file, check_gguf):
        with pytest.raises(ProbeError, match="not a regular file|not found") as caught:
            within_seconds(lambda: read(path))
        assert "\n" not in str(caught.value)


def test_the_cli_refuses_a_fifo_model_in_one_line(models_dir, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "probe_tui", "run", "--model", str(models_dir / "fifo.gguf"), "--limit", "1",
         "--output", str(tmp_path / "out.csv")],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.count("error") == 1
    assert done.stderr.splitlines()[-1] == f"probe-tui: error: {models_dir / 'fifo.gguf'} is not a regular file"
