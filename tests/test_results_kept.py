"""Issue 21.2-21.5: a run never loses finished results: not to a failed re-run, a device node, an
unexpected error or a full disk."""

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from probe_tui import cli
from probe_tui.core.journal import journal_path
from scripted import ScriptedBackend


def probe_tui(*args):
    return subprocess.run([sys.executable, "-m", "probe_tui", *args], capture_output=True, text=True, timeout=600)


def journal_rows(output: Path) -> list:
    return sqlite3.connect(journal_path(output)).execute("SELECT position, item_id, row FROM answers ORDER BY position").fetchall()


def test_a_failed_or_different_run_leaves_finished_results_and_their_journal(tmp_path, smollm2_path):
    """21.2: a different run needs --force; one that fails before its first answer (a model that
    does not load, a dead endpoint) leaves the CSV and the journal, so --resume still works."""
    out = tmp_path / "keep.csv"
    finished = ("run", "--limit", "2", "--output", str(out))
    assert probe_tui(*finished).returncode == 0
    csv, journal = out.read_bytes(), journal_rows(out)
    different = probe_tui("run", "--limit", "2", "--lang", "fr", "--output", str(out))
    assert different.returncode == 2
    assert different.stderr.strip() == (f"probe-tui: error: {out} holds the results of a different run (language was 'en'); "
                                         "add --force to replace it, or choose another --output")
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(smollm2_path.read_bytes()[:200_000])
    failed_to_load = probe_tui("run", "--model", str(truncated), "--force", "--no-cache", "--limit", "2", "--output", str(out))
    assert failed_to_load.returncode == 2 and "truncated.gguf ends inside its GGUF header" in failed_to_load.stderr
    dead = probe_tui("run", "--backend", "openai", "--base-url", "http://127.0.0.1:9/v1", "--model", "m", "--force",
                     "--limit", "2", "--output", str(out))
    assert dead.returncode == 2 and dead.stderr.strip().splitlines()[-1].startswith("probe-tui: error: ")
    assert out.read_bytes() == csv and journal_rows(out) == journal
    resumed = probe_tui(*finished, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert out.read_bytes() == csv


def test_the_same_run_again_needs_no_force(tmp_path):
    out = tmp_path / "again.csv"
    assert probe_tui("run", "--limit", "1", "--output", str(out)).returncode == 0
    again = probe_tui("run", "--limit", "1", "--output", str(out))
    assert again.returncode == 0, again.stderr
    assert len(pd.read_csv(out)) == 1


def special_files(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    folder = tmp_path / "folder"
    folder.mkdir()
    linked = tmp_path / "stdout"
    linked.symlink_to(fifo)  # as /dev/stdout is a link to a pipe, a terminal...
    to_file = tmp_path / "stdout-to-file"
    (tmp_path / "regular").write_text("kept\n")
    to_file.symlink_to(tmp_path / "regular")  # ...or a file: the swapped-in CSV would replace the link itself
    nodes = {"a FIFO": fifo, "a folder": folder, "a link to a FIFO": linked, "a link to a file": to_file}
    if os.geteuid() == 0:  # a device node like /dev/full (1, 7), of our own: only root may make one
        device = tmp_path / "full"
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
        nodes["a device node"] = device
    return nodes


def test_only_a_regular_file_or_a_new_path_is_an_output(tmp_path):
    """21.3: --output /dev/full (or /dev/null, /dev/stdout) replaced the device node with a CSV."""
    for kind, path in special_files(tmp_path).items():
        before = os.lstat(path)
        result = probe_tui("run", "--limit", "1", "--output", str(path))
        assert result.returncode == 2, kind
        assert result.stderr.strip() == f"probe-tui: error: --output {path} is not a regular file; choose a file name", kind
        after = os.lstat(path)
        assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino), kind
    assert not list(tmp_path.glob("*.partial"))


class BreaksAfterThree(ScriptedBackend):
    """A backend with a bug that no real part can be made to have: the fourth prompt raises."""

    def score(self, prompt):
        if self.calls == 3:
            raise RuntimeError("a bug in the fourth answer")
        return super().score(prompt)


def test_an_unexpected_error_still_writes_what_was_done(tmp_path, monkeypatch, capsys):
    """21.4: only ProbeError and Ctrl+C reached the CSV-writing path: the CSV of an earlier run
    stayed while the journal held the new answers."""
    out = tmp_path / "out.csv"
    command = ["run", "--limit", "10", "--output", str(out)]
    monkeypatch.setattr(cli, "_backend", lambda args: ScriptedBackend())
    assert cli.main(command) == 0
    assert len(pd.read_csv(out)) == 10
    monkeypatch.setattr(cli, "_backend", lambda args: BreaksAfterThree())
    capsys.readouterr()
    assert cli.main(command) == 1
    error = capsys.readouterr().err.strip().splitlines()
    assert pd.read_csv(out)["item_id"].tolist() == ["mfq2_01", "mfq2_02", "mfq2_03"] == [row[1] for row in journal_rows(out)]
    assert "probe-tui: stopped after 3 of 10 prompts; they are kept. Run the same command with --resume to finish." in error
    assert error[-1].startswith("probe-tui: unexpected error: RuntimeError: a bug in the fourth answer (traceback in ")
    monkeypatch.setattr(cli, "_backend", lambda args: ScriptedBackend())
    assert cli.main([*command, "--resume"]) == 0
    assert len(pd.read_csv(out)) == 10


@pytest.fixture
def full_disk(tmp_path):
    """A real, tiny filesystem (tmpfs, 64 KiB), filled up: only root may mount one."""
    folder = tmp_path / "disk"
    folder.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)]).returncode != 0:
        pytest.skip("mounting a tiny filesystem needs root")
    try:
        with open(folder / "filler", "wb", buffering=0) as filler, pytest.raises(OSError, match="No space left"):
            while True:
                filler.write(b"\0" * 4096)
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_full_disk_says_what_happened_and_how_to_resume(full_disk):
    """21.5: "unexpected OSError", a stray out.csv.partial and no resume hint."""
    out = full_disk / "out.csv"
    command = ("run", "--limit", "2", "--output", str(out))
    result = probe_tui(*command)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (f"probe-tui: error: could not write {out}: No space left on device; "
                                                      "the 2 answer(s) are kept: run the same command with --resume once it can be written")
    assert sorted(p.name for p in full_disk.iterdir()) == ["filler"]
    (full_disk / "filler").unlink()
    resumed = probe_tui(*command, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert pd.read_csv(out)["item_id"].tolist() == ["mfq2_01", "mfq2_02"]
