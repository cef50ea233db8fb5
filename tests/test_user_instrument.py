"""Issue 15: an instrument a researcher adds without code (a YAML file and a baseline CSV in the
data directory) is asked by `run`, scored by `score`, drawn by `figure`, exported, shown in the app's
gauge against its baseline, and `items check` reports bad files with file:line."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from probe_tui.app import ProbeApp
from probe_tui.core import instruments, rescore
from probe_tui.core.instruments import get_instrument, load_bank
from probe_tui.core.store import SessionStore
from probe_tui.export import export_session
from scripted import ScriptedBackend
from test_app import answered, probe_screen, wait_for

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples"  # the README's worked example


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    """A data directory holding only the example's two files; the bank is read from it."""
    home = tmp_path / "data"
    items = home / "probe-tui" / "items"
    items.mkdir(parents=True)
    for name in ("weekend.yaml", "weekend_baseline.csv"):
        shutil.copy(EXAMPLE / name, items / name)
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    instruments.reload()
    yield items
    instruments.reload()


def probe_tui(*args, cwd=None):
    result = subprocess.run([sys.executable, "-m", "probe_tui", *args], capture_output=True, text=True, timeout=900,
                            env=os.environ.copy(), cwd=cwd)
    assert "Traceback" not in result.stdout + result.stderr
    return result


def test_the_files_alone_make_an_instrument_with_its_baseline(data_home):
    weekend = get_instrument("weekend")
    assert weekend.dimensions == ("thrift", "novelty") and [i.code for i in weekend.items] == ["W1", "W2", "W3", "W4"]
    assert weekend.items[1].keyed(2.0) == 4.0 and weekend.items[0].keyed(2.0) == 2.0  # W2 is reverse-keyed
    baseline = weekend.baseline()
    assert baseline.source == "Example numbers, made up for the README" and not baseline.scale_free
    assert baseline.table.loc["Japan", "thrift"] == 3.9 and list(baseline.table.columns) == ["thrift", "novelty"]
    result = probe_tui("items", "check")
    assert result.returncode == 0, result.stdout
    assert "weekend" in result.stdout and "baseline: 4 rows × 2 dimensions" in result.stdout


@pytest.mark.parametrize("csv,problem", [
    ("country,thrift,novelty\nUnited States,3,3\nChina,3,3\nAtlantis,1,2\n", "weekend_baseline.csv:4: country: unknown country 'Atlantis'"),
    ("country,thrift\nUnited States,3\nChina,3\n", "weekend_baseline.csv:1: missing column(s) novelty"),
    ("country,thrift,novelty\nUnited States,3,3\nChina,high,3\n", "weekend_baseline.csv:3: thrift: expected a number, got 'high'"),
    ("country,thrift,novelty\nUnited States,3,3\nJapan,3,3\n", "weekend_baseline.csv: no row for China"),
])
def test_a_bad_baseline_is_reported_with_its_line_and_the_file_is_skipped(data_home, csv, problem):
    (data_home / "weekend_baseline.csv").write_text(csv, encoding="utf-8")
    bank = load_bank(data_home)
    assert "weekend" not in bank.instruments
    assert len(bank.problems) == 1 and f"{data_home / problem.split(':')[0]}{problem[len(problem.split(':')[0]):]}" in bank.problems[0]


@pytest.mark.parametrize("edit,problem", [
    (("scoring: means ", "scoring: medians "), "weekend.yaml:7: scoring: unknown scoring kind 'medians'; expected one of: means, "),
    (("file: weekend_baseline.csv", "file: elsewhere.csv"), "weekend.yaml:9: baseline.file: no such file"),
    (("comparison: profile", "comparison: loose"), "weekend.yaml:11: baseline.comparison: 'loose': expected profile or scale-free"),
    (("    dimension: novelty\n    text: {en: I try", "    dimension: courage\n    text: {en: I try"),
     "weekend.yaml:29: items[2].dimension: 'courage' is not one of thrift, novelty"),
])
def test_a_bad_item_file_is_reported_with_its_line(data_home, edit, problem):
    path = data_home / "weekend.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(*edit), encoding="utf-8")
    result = probe_tui("items", "check")
    assert result.returncode == 1
    assert f"problem: {data_home / problem}" in result.stdout, result.stdout


def test_run_score_and_figure_on_the_real_model(data_home, tmp_path):
    out = tmp_path / "weekend.csv"
    run = probe_tui("run", "--instrument", "weekend", "--limit", "3", "--output", str(out))
    assert run.returncode == 0, run.stderr
    frame = pd.read_csv(out)
    assert list(frame["item_id"]) == ["weekend_W1", "weekend_W2", "weekend_W3"] and set(frame["method"]) == {"logprobs"}
    assert "Gauge over 3 item(s)" in run.stdout and "thrift" in run.stdout and "novelty" in run.stdout

    scores_path = tmp_path / "scores.csv"
    score = probe_tui("score", "--instrument", "weekend", "--responses", str(out), "--output", str(scores_path), "--bootstrap", "0")
    assert score.returncode == 0, score.stderr
    scores = pd.read_csv(scores_path)
    ranked = scores[scores["metric"] == "rank"].sort_values("value")["target"].tolist()
    assert sorted(ranked) == ["Brazil", "China", "Japan", "United States"]  # every row of its own baseline
    assert f"nearest: {', '.join(ranked[:3])}" in score.stdout
    # the scores follow from the answers and the baseline: RMSE to Japan by hand
    weekend = get_instrument("weekend")
    answers = {item.dimension: [] for item in weekend.items}
    for row in frame.itertuples():
        item = weekend.find_item(row.item_id)
        answers[item.dimension].append(item.keyed(row.expected))
    model = {d: sum(v) / len(v) for d, v in answers.items()}
    japan = weekend.baseline().table.loc["Japan"]
    rmse = ((model["thrift"] - japan["thrift"]) ** 2 / 2 + (model["novelty"] - japan["novelty"]) ** 2 / 2) ** 0.5
    assert scores[(scores["target"] == "Japan") & (scores["metric"] == "rmse")]["value"].iloc[0] == pytest.approx(rmse)

    svg = tmp_path / "dims.svg"
    figure = probe_tui("figure", "dimensions", "--instrument", "weekend", "--responses", str(out), "-o", str(svg))
    assert figure.returncode == 0, figure.stderr
    text = svg.read_text(encoding="utf-8")
    assert "Weekend Habits (example)" in text and "thrift" in text and "novelty" in text


async def test_the_app_shows_its_gauge_against_its_baseline_and_exports_it(data_home, tmp_path):
    store = SessionStore(tmp_path / "sessions.sqlite")
    app = ProbeApp(ScriptedBackend(), instrument="weekend", session="weekend-test", store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await probe_screen(app, pilot)
        for _ in range(3):
            await wait_for(pilot, answered(screen), 10)
            await pilot.press("n")
        await wait_for(pilot, answered(screen), 10)
        condition = screen.condition()
        reading = screen.session.gauge(condition)
        assert reading is not None and set(reading.model_means) == {"thrift", "novelty"} and reading.items_answered == 4
        await pilot.pause(0.2)
        shown = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
        gauge = [line.split("│")[-1].strip() for line in shown.splitlines() if "│" in line]  # the gauge pane
        rows = {line.split()[0]: line.split()[1:] for line in gauge if line.split() and line.split()[0] in ("thrift", "novelty")}
        human = get_instrument("weekend").baseline().table
        for dimension in ("thrift", "novelty"):  # the model's mean, then the baseline's US and China
            assert rows[dimension] == [f"{reading.model_means[dimension]:.2f}", f"{human.loc['United States', dimension]:.2f}",
                                       f"{human.loc['China', dimension]:.2f}"]
        assert "Example numbers, made up for the" in "\n".join(gauge)  # its citation
        await pilot.press("g")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "GaugeScreen", 10)
        await pilot.pause(0.5)
        shown = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
        assert "thrift" in shown and "novelty" in shown
        assert "Brazil" in shown and "Japan" in shown  # ranked against its own baseline's rows
    exported = tmp_path / "weekend-export.csv"
    assert export_session(store, "weekend-test", exported, "weekend") == 4
    frame = rescore.read_responses(exported)
    assert set(frame["instrument"]) == {"weekend"} and set(frame["item_code"]) == {"W1", "W2", "W3", "W4"}
    scores, summary = rescore.score(get_instrument("weekend"), frame, exported, n_resamples=0)
    assert set(scores[scores["metric"] == "rank"]["target"]) == {"Brazil", "China", "Japan", "United States"}
    assert "nearest:" in summary
