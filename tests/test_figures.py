"""Figures for slides: PNG and SVG files that hold the numbers they claim to show."""

import subprocess
import sys
import xml.etree.ElementTree as ET

import matplotlib.image
import pandas as pd
import pytest

from probe_tui.core import rescore
from probe_tui.core.errors import ProbeError
from probe_tui.core.instruments import get_instrument
from probe_tui.core.instruments.pairs import balanced_pairs
from probe_tui.core.metrics import pair_matrix
from probe_tui import figures
from probe_tui.core.report import signed
from probe_tui.figures import draw
from test_reproduction import EXTERNAL, needs_external


def svg_text(path) -> str:
    return " ".join(t.strip() for t in ET.parse(path).getroot().itertext() if t.strip())


@pytest.fixture(scope="module")
def mfq_runs(tmp_path_factory):
    """The real SmolLM2 on 12 MFQ-2 items, in English and in Chinese."""
    folder = tmp_path_factory.mktemp("runs")
    paths = []
    for language in ("en", "zh"):
        path = folder / f"{language}.csv"
        subprocess.run([sys.executable, "-m", "probe_tui", "run", "--instrument", "mfq2", "--lang", language, "--limit", "12",
                        "--output", str(path)], check=True, capture_output=True, timeout=600)
        paths.append(path)
    return pd.concat([rescore.read_responses(p) for p in paths], ignore_index=True)


def test_dimensions_and_gauge_figures(mfq_runs, tmp_path):
    engine, _ = get_instrument("mfq2").engine(mfq_runs)
    for suffix in ("png", "svg"):
        dims = draw("dimensions", mfq_runs, "mfq2", tmp_path / f"dims.{suffix}")
        gauge = draw("gauge", mfq_runs, "mfq2", tmp_path / f"gauge.{suffix}")
    image = matplotlib.image.imread(tmp_path / "dims.png")
    assert image.shape[0] > 800 and image.shape[1] > 1200  # slide-sized, 200 dpi
    text = svg_text(tmp_path / "gauge.svg")
    for track in engine.tracks:
        reading = engine.reading(track)
        assert f"RMSE to US {reading.fits['United States'].rmse:.2f}, to China {reading.fits['China'].rmse:.2f}" in text
    assert "· EN · none" in text and "· ZH · none" in text
    assert "care" in svg_text(dims) and "United States" in svg_text(dims)


@needs_external
def test_base_vs_chat_and_heat_map_from_seed_002(tmp_path):
    files = [EXTERNAL / f"bladon2026_qwen2.5-7b{s}_raw_logodds.csv" for s in ("", "-inst")]
    out = tmp_path / "base-vs-chat.svg"
    result = subprocess.run([sys.executable, "-m", "probe_tui", "figure", "base-vs-chat", "--instrument", "country-pairs",
                             "--responses", *map(str, files), "--labels", "Qwen base,Qwen chat", "--map", "bias=logodds",
                             "--set", "language=en,persona=none", "--output", str(out)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    text = svg_text(out)
    assert "Qwen base" in text and "Qwen chat" in text and "China" in text and "Japan" in text
    chat = rescore.read_responses(files[1], {"bias": "logodds"}, {"model": "chat", "language": "en", "persona": "none"})
    heat = draw("heatmap", chat, "country-pairs", tmp_path / "heat.svg")
    matrix = pair_matrix(balanced_pairs(chat), ["China", "Japan"])
    assert f"{matrix.loc['China', 'Japan']:+.1f}" in svg_text(heat)
    fav = draw("favourability", chat, "country-pairs", tmp_path / "fav.png")
    assert matplotlib.image.imread(fav).shape[1] > 1000


def test_figure_errors_are_one_line(mfq_runs, tmp_path):
    with pytest.raises(ProbeError, match="must end in .png or .svg"):
        draw("gauge", mfq_runs, "mfq2", tmp_path / "gauge.pdf")
    with pytest.raises(ProbeError, match="drawn from country-pairs responses"):
        draw("heatmap", mfq_runs, "mfq2", tmp_path / "heat.png")
    with pytest.raises(ProbeError, match="unknown figure 'pie'"):
        draw("pie", mfq_runs, "mfq2", tmp_path / "pie.png")
    one_model = mfq_runs.assign(model="m")
    with pytest.raises(ProbeError, match="drawn from mfq2, vsm2013 or wvs"):
        draw("gauge", one_model, "country-pairs", tmp_path / "g.png")


# --- issue 19.25: the heat map's numbers and colours, and labels clear of the legend -----------------

def _hand_made_pairs() -> pd.DataFrame:
    rows = [("USA", "China", 0.2), ("USA", "France", -0.003), ("France", "China", 0.1)]
    return pd.DataFrame([{"model": "m", "language": "en", "persona": "none", "country_1": a, "country_2": b, "scenario": "s1",
                          "scenario_type": "t1", "question": "justified", "logodds": value} for a, b, value in rows])


def test_the_heat_map_scales_to_the_data_and_never_shows_minus_zero():
    plt = figures._style()
    figure = figures._heatmap(plt, _hand_made_pairs(), "country-pairs", [])
    try:
        axis = figure.axes[0]
        assert axis.images[0].get_clim() == pytest.approx((-0.2, 0.2))  # was fixed at ±0.5: small effects looked white
        texts = [t.get_text() for t in axis.texts]
        assert "+0.20" in texts and "-0.20" in texts and "0.00" in texts
        assert not any(t.startswith("-0.0") and float(t) == 0 for t in texts)
    finally:
        plt.close(figure)
    assert signed(-0.04) == "0.0" and signed(0.04) == "0.0" and signed(-0.06) == "-0.1" and signed(1.25, 2) == "+1.25"


async def test_the_tui_heat_map_never_shows_minus_zero():
    from probe_tui.app import ProbeApp
    from scripted import ScriptedBackend
    from test_app import wait_for

    app = ProbeApp(ScriptedBackend(), instrument="country-pairs")
    async with app.run_test(size=(120, 60)) as pilot:
        await wait_for(pilot, lambda: type(app.screen).__name__ == "CountryPairsScreen", 30)
        await pilot.pause()
        shown = rendered_text(app.screen._heat_map(_hand_made_pairs()))
    assert "-0.0" not in shown and " 0.0" in shown and "+0.2" in shown


def rendered_text(renderable) -> str:
    import io

    from rich.console import Console

    console = Console(width=120, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def test_rotated_wvs_labels_stay_clear_of_the_legend(tmp_path):
    path = tmp_path / "wvs.csv"
    subprocess.run([sys.executable, "-m", "probe_tui", "run", "--instrument", "wvs", "--output", str(path)],
                   check=True, capture_output=True, timeout=600)
    plt = figures._style()
    figure = figures._dimensions(plt, rescore.read_responses(path), get_instrument("wvs"), [])
    try:
        renderer = figure.canvas.get_renderer()
        axis = figure.axes[0]
        legend = axis.get_legend().get_window_extent(renderer)
        labels = [label.get_window_extent(renderer) for label in axis.get_xticklabels()]
        assert len(labels) == 19 and not any(legend.overlaps(label) for label in labels)
    finally:
        plt.close(figure)
