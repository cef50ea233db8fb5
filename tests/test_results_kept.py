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


def special_files(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    folder = tmp_path / "folder"
    folder.mkdir()
    linked = tmp_path / "stdout"
    linked.symlink_to(fifo)  # as /dev/stdout is a link to a pipe or a terminal
    nodes = {"a FIFO": fifo, "a folder": folder, "a link to a FIFO": linked}
    if os.geteuid() == 0:  # a device node like /dev/full (1, 7), of our own: only root may make one
        device = tmp_path / "full"
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
        nodes["a device node"] = device
    return nodes


def test_only_a_regular_file_or_a_new_path_is_an_output(tmp_path):
    """21.3: --output /dev/full (or /dev/null, /dev/stdout) replaced the device node with a CSV."""
    for kind, path in special_files(tmp_path).items():
        before = os.stat(path)
        result = probe_tui("run", "--limit", "1", "--output", str(path))
        assert result.returncode == 2, kind
        assert result.stderr.strip() == f"probe-tui: error: --output {path} is not a regular file; choose a file name", kind
        after = os.stat(path)
        assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino), kind
    assert not list(tmp_path.glob("*.partial"))
