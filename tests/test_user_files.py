"""Hostile user files (issue 21, items 14 and 16): each is reported by `items check` in one line,
file named, and skipped; `run` still works on the shipped instruments."""

import os
import subprocess
import sys

import pandas as pd
import pytest

NEW_INSTRUMENT = (
    "instrument: mine\nname: Mine\nlanguages: [en]\ndimensions: [a]\nquestion: {en: Q}\n"
    "scale: {labels: ['1', '2'], anchors: {en: [lo, hi]}}\n"
)
# "billion laughs", kept small enough (9**7 strings) that the code before the fix survives it
LAUGHS = "".join(f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdef", "bcdefg"))

BAD_FILES = {
    "frame-not-a-mapping": ("items", "instrument: mfq2\nframes: {en: notamapping}\n"),
    "scales-a-list": ("items", NEW_INSTRUMENT + "scales: [1, 2]\nitems: [{code: '1', dimension: a, text: {en: T}}]\n"),
    "questions-a-list": ("items", NEW_INSTRUMENT + "questions: [1]\nitems: [{code: '1', dimension: a, text: {en: T}}]\n"),
    "superscript-code": ("items", NEW_INSTRUMENT + "items: [{code: '²', dimension: a, text: {en: T}}]\n"),
    "duplicate-codes": ("items", NEW_INSTRUMENT + "items:\n  - {code: '1', dimension: a, text: {en: T}}\n"
                                                  "  - {code: '1', dimension: a, text: {en: U}}\n"),
    "instruction-a-number": ("items", "instrument: mfq2\nframes: {en: {instruction: 5}}\n"),
    "instruction-positional": ("items", "instrument: mfq2\nframes: {en: {instruction: '{0}'}}\n"),
    "persona-key-a-number": ("personas", "personas:\n  5: {name: {en: Five}, text: hi}\n"),
    "persona-text-a-mapping": ("personas", "personas:\n  odd: {name: {en: Odd}, text: {en: {x: 1}}}\n"),
    "billion-laughs": ("personas", "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + LAUGHS
                                   + "personas:\n  lol: {name: {en: lol}, text: {en: *g}}\n"),
}


def probe_tui(*args, env):
    return subprocess.run([sys.executable, "-m", "probe_tui", *args], capture_output=True, text=True, timeout=600, env=env)


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_user_file_is_reported_in_one_line_and_skipped(case, tmp_path):
    folder, text = BAD_FILES[case]
    data_home = tmp_path / "data"
    bad = data_home / "probe-tui" / folder / f"{case}.yaml"
    bad.parent.mkdir(parents=True)
    bad.write_text(text, encoding="utf-8")
    env = {**os.environ, "XDG_DATA_HOME": str(data_home)}

    check = probe_tui("items", "check", env=env)
    assert "Traceback" not in check.stderr, check.stderr
    problems = [line for line in check.stdout.splitlines() if line.startswith("problem:")]
    assert check.returncode == 1, check.stdout + check.stderr
    assert len(problems) == 1 and str(bad) in problems[0], check.stdout
    assert "__line__" not in check.stdout
    if case == "billion-laughs":
        assert "aliases expand" in problems[0]

    out = tmp_path / "out.csv"
    run = probe_tui("run", "--instrument", "mfq2", "--lang", "en", "--persona", "none", "--limit", "1", "--output", str(out), env=env)
    assert run.returncode == 0, run.stderr
    assert pd.read_csv(out)["item_id"].tolist() == ["mfq2_01"]
