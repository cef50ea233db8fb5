"""Conditions that lack items (issue 19: 6, 7, 9, 17): VSM 2013 indices that cannot be formed yet and
intervals from too few items are said in one line, on screen, in figures and on the command line;
nothing crashes and no empty figure or zero-width interval is shown."""

from __future__ import annotations

import io
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from probe_tui import figures
from probe_tui.app import ProbeApp
from probe_tui.cli import main
from probe_tui.core import rescore
from probe_tui.core.instruments import get_instrument
from probe_tui.core.instruments.vsm import DIMENSIONS
from probe_tui.core.errors import ProbeError
from probe_tui.core.gauge import GaugeEngine
from probe_tui.core.instruments.likert import MIN_ITEMS_FOR_INTERVAL
from probe_tui.core.metrics import US
from probe_tui.core.store import SessionStore

from scripted import ScriptedBackend
from test_app import answered, probe_screen, wait_for

FIRST_SIX_MISSING = ("VSM indices need all 4 items of a dimension: PDI lacks VSM07, VSM20, VSM23; IDV lacks VSM09; "
                     "MAS lacks VSM08, VSM10; UAI lacks VSM18, VSM15, VSM21, VSM24; LTO lacks VSM13, VSM14, VSM19, VSM22; "
                     "IVR lacks VSM12, VSM11, VSM17, VSM16")


def plain(renderable) -> str:
    console = Console(width=160, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def run(tmp_path, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "probe_tui", *args], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def vsm_runs(tmp_path_factory):
    """The real SmolLM2 on VSM 2013: every item in English, the first 6 in French."""
    folder = tmp_path_factory.mktemp("vsm")
    complete, partial = folder / "en.csv", folder / "fr6.csv"
    done = [run(folder, "run", "--instrument", "vsm2013", "--output", str(complete)),
            run(folder, "run", "--instrument", "vsm2013", "--lang", "fr", "--limit", "6", "--output", str(partial))]
    for result in done:
        assert result.returncode == 0, result.stderr
    return {"complete": complete, "partial": partial, "partial_stdout": done[1].stdout}


# --- 9: a VSM condition lacking items ------------------------------------------------------------

def test_a_vsm_track_lacking_items_ranks_nothing_and_says_what_it_lacks():
    engine = GaugeEngine(get_instrument("vsm2013"), get_instrument("vsm2013").baseline())
    for n in range(1, 7):
        engine.add("t", f"VSM{n:02d}", "x", 3.0)
    assert engine.ranking("t").empty  # was: ValueError, zero-size array to reduction operation fmax
    assert engine.missing_note("t") == FIRST_SIX_MISSING
    assert engine.reading("t") is None


def test_score_of_an_incomplete_vsm_run_is_one_line(vsm_runs, tmp_path):
    result = run(tmp_path, "score", "--instrument", "vsm2013", "--responses", str(vsm_runs["partial"]), "--output", str(tmp_path / "s.csv"))
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"probe-tui: error: {vsm_runs['partial']}: nothing to score for ")
    assert line.endswith(f" · fr · none: {FIRST_SIX_MISSING}")
    assert not (tmp_path / "s.csv").exists()


def test_score_of_a_session_with_one_incomplete_condition_scores_the_others(vsm_runs, tmp_path):
    both = pd.concat([pd.read_csv(vsm_runs["complete"]), pd.read_csv(vsm_runs["partial"])])
    responses = tmp_path / "both.csv"
    both.to_csv(responses, index=False)
    out = tmp_path / "scores.csv"
    result = run(tmp_path, "score", "--instrument", "vsm2013", "--responses", str(responses), "--bootstrap", "0", "--output", str(out))
    assert result.returncode == 0, result.stderr
    scores = pd.read_csv(out)
    english = scores[scores["language"] == "en"]
    assert (english["metric"] == "profile_r").sum() > 20
    french = scores[scores["language"] == "fr"]
    assert set(french["metric"]) == {"missing_items"}
    assert french.set_index("target")["value"].to_dict() == {"pdi": 3, "idv": 1, "mas": 2, "uai": 4, "lto": 4, "ivr": 4}
    assert f"· fr · none: {FIRST_SIX_MISSING}" in result.stdout
    assert "· en · none: r(US)" in result.stdout


def test_figures_of_an_incomplete_vsm_run_are_errors_not_empty_files(vsm_runs, tmp_path):
    frame = rescore.read_responses(vsm_runs["partial"])
    for kind in ("dimensions", "gauge"):
        with pytest.raises(ProbeError, match=f"nothing to draw: .* · FR · none: {FIRST_SIX_MISSING}"):
            figures.draw(kind, frame, "vsm2013", tmp_path / f"{kind}.png")
        assert not (tmp_path / f"{kind}.png").exists()
    result = run(tmp_path, "figure", "gauge", "--instrument", "vsm2013", "--responses", str(vsm_runs["partial"]), "-o", str(tmp_path / "g.png"))
    assert result.returncode == 2 and "wrote" not in result.stderr and FIRST_SIX_MISSING in result.stderr


async def test_the_palette_picture_of_an_incomplete_vsm_condition_is_a_notification(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = ProbeApp(ScriptedBackend(), instrument="vsm2013", language="fr", persona="subgroup:country=france,age=18-29",
                   session="vsm-fr", store=SessionStore(tmp_path / "s.sqlite"))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await probe_screen(app, pilot)
        await wait_for(pilot, answered(screen), 10)
        await pilot.press("ctrl+p")
        await pilot.press(*"picture: dimensions (PNG)")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("VSM indices need all 4 items" in n.message for n in app._notifications), 10)
        assert app.is_running and app.screen is screen
        (note,) = [n for n in app._notifications if "VSM indices" in n.message]
        assert note.severity == "error" and "PDI lacks VSM07, VSM02, VSM20, VSM23" in note.message
    assert not list(tmp_path.glob("*.png"))


# --- 17: run says what is missing ----------------------------------------------------------------

def test_a_run_lacking_vsm_items_says_what_is_missing(vsm_runs):
    printed = vsm_runs["partial_stdout"]
    assert "No answers, no gauge" not in printed
    assert f"No gauge yet: {FIRST_SIX_MISSING}" in printed


def test_a_run_with_some_vsm_indices_shows_them_and_what_the_rest_lack(smollm2_path, tmp_path, capsys):
    out = tmp_path / "nine.csv"  # VSM01-09 complete IDV only
    assert main(["run", "--model", str(smollm2_path), "--instrument", "vsm2013", "--limit", "9", "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "idv" in printed and "PDI lacks VSM20, VSM23" in printed and "IDV lacks" not in printed


# --- 6: VSM figures and screen on one, scale-free, convention ------------------------------------

def test_the_vsm_dimensions_figure_is_standardised_with_the_profile_r(vsm_runs):
    frame = rescore.read_responses(vsm_runs["complete"])
    engine, _ = get_instrument("vsm2013").engine(frame)
    (track,) = engine.tracks
    r = engine.ranking(track).set_index("country")["profile_r"]
    plt = figures._style()
    figure = figures._dimensions(plt, frame, get_instrument("vsm2013"), [])
    try:
        axis = figure.axes[0]
        heights = {c.get_label(): np.array([bar.get_height() for bar in c]) for c in axis.containers}
        model = heights.pop("model")
        assert np.abs(model).max() < 3 and model.mean() == pytest.approx(0, abs=1e-9)  # not −2…4 beside 20–95
        assert len(heights) == 4
        for label, human in heights.items():
            country = label.split(" (r ")[0]
            assert label == f"{country} (r {r[country]:+.2f})"
            if not np.isnan(human).any():
                assert np.mean(model * human) == pytest.approx(r[country])  # the bars are what r compares
        assert "standardised" in axis.get_ylabel()
    finally:
        plt.close(figure)


async def test_the_gauge_screen_shows_vsm_indices_standardised_as_the_figure_does():
    app = ProbeApp(ScriptedBackend(), instrument="vsm2013")
    async with app.run_test(size=(120, 60)) as pilot:
        screen = await probe_screen(app, pilot)
        for _ in range(23):
            await wait_for(pilot, answered(screen), 10)
            await pilot.press("n")
        await wait_for(pilot, answered(screen), 10)
        await pilot.press("g")
        await pilot.pause()
        shown = plain(app.screen.query_one("#dimensions").content)
        engine = screen.session.engine
        (track,) = engine.tracks
        hofstede = get_instrument("vsm2013").baseline().table.loc[US, list(DIMENSIONS)].astype(float)
        z = (hofstede - hofstede.mean()) / hofstede.std(ddof=0)
        assert "standardised" in shown
        assert f" {z['pdi']:.2f}" in shown and f" {hofstede['idv']:.2f}" not in shown  # 91.00 was shown beside −2…4


# --- 7: no interval from too few items -----------------------------------------------------------

FOUNDATIONS = ("care", "equality", "proportionality", "loyalty", "authority", "purity")


def test_no_bootstrap_interval_until_enough_items():
    engine = GaugeEngine(get_instrument("mfq2"), get_instrument("mfq2").baseline())
    engine.add("t", "1", "care", 4.0)
    ranking = engine.ranking_with_intervals("t")
    assert ranking["low"].isna().all() and ranking["high"].isna().all()  # was 1.13–1.13
    assert engine.interval_note("t") == f"intervals after {MIN_ITEMS_FOR_INTERVAL} items (1 so far)"
    for n in range(2, MIN_ITEMS_FOR_INTERVAL + 1):
        engine.add("t", str(n), FOUNDATIONS[n % 6], 1.0 + n % 4)
    top = engine.ranking_with_intervals("t").iloc[0]
    assert engine.interval_note("t") is None and top.high > top.low
    vsm = GaugeEngine(get_instrument("vsm2013"), get_instrument("vsm2013").baseline())
    assert "cannot be resampled" in vsm.interval_note("t")


async def test_the_gauge_screen_says_why_it_shows_no_interval_yet():
    app = ProbeApp(ScriptedBackend())
    async with app.run_test(size=(120, 60)) as pilot:
        screen = await probe_screen(app, pilot)
        await wait_for(pilot, answered(screen), 10)
        await pilot.press("g")
        await pilot.pause()
        shown = plain(app.screen.query_one("#ranking").content)
        assert f"intervals after {MIN_ITEMS_FOR_INTERVAL} items (1 so far)" in shown
        assert "95% interval" not in shown and not re.search(r"\d\.\d\d–\d\.\d\d", shown)
