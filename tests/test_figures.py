"""Figures for slides: PNG and SVG files that hold the numbers they claim to show."""

import subprocess
import sys
import xml.etree.ElementTree as ET

import matplotlib.image
import pandas as pd
import pytest

from probe_tui.core import rescore
from probe_tui.core.errors import ProbeError
from probe_tui.core.metrics import pair_matrix
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
    engine, _, _ = rescore.likert_engine("mfq2", mfq_runs)
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
    matrix = pair_matrix(rescore.balanced_pairs(chat), ["China", "Japan"])
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
    with pytest.raises(ProbeError, match="drawn from mfq2, wvs or vsm2013"):
        draw("gauge", one_model, "country-pairs", tmp_path / "g.png")
