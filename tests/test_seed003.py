"""Issue 17.4: seed 003's measures (Tan et al. 2026) against hand-worked examples, and in `score`."""

import pandas as pd
import pytest

from probe_tui.cli import main
from probe_tui.core.metrics import coefficient_of_variation, modal_diversity, normalised_range
from probe_tui.core.microdata import build_baseline, parse_by, parse_items
from test_baselines_build import write_microdata


def test_fairness_measures_by_hand():
    assert normalised_range([0.5, 1.0, 0.75]) == pytest.approx(0.5)  # (1 − 0.5) / 1
    # mean 0.75, population sd sqrt((0.25² + 0.25² + 0) / 3) = 0.2041 -> cv 0.2722
    assert coefficient_of_variation([0.5, 1.0, 0.75]) == pytest.approx(0.2041241 / 0.75)
    assert normalised_range([]) is None and normalised_range([0, 0]) is None and coefficient_of_variation([0.0]) is None


def test_modal_diversity_score_by_hand():
    # item a: 2 distinct modes of 3 subgroups -> (2 − 1) / (3 − 1) = 0.5; item b: one mode -> 0; mean 0.25
    assert modal_diversity({"a": ["1", "1", "2"], "b": ["3", "3", "3"]}, n_options=10) == pytest.approx(0.25)
    # with 2 options, 3 subgroups can have at most 2 modes: 2 distinct -> (2 − 1) / (2 − 1) = 1
    assert modal_diversity({"a": ["1", "2", "1"]}, n_options=2) == pytest.approx(1.0)
    assert modal_diversity({"a": ["1"]}, n_options=5) is None


def test_score_reports_accuracy_nmae_fairness_and_mds_per_subgroup(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    build_baseline(write_microdata(tmp_path, ".csv"), parse_by("country,sex"), parse_items("Q177,Q182"), "W_WEIGHT", min_n=3, name="wvs7")
    men, women = "subgroup:country=singapore,sex=male", "subgroup:sex=female,country=singapore"  # either order finds its group
    responses = pd.DataFrame([
        ("m", "en", men, "Q177", 1, "1"), ("m", "en", men, "Q182", 8, "8"),
        ("m", "en", women, "Q177", 3, "3"), ("m", "en", women, "Q182", 8, "8"),
    ], columns=["model", "language", "persona", "item_id", "response", "answer"])
    responses.to_csv(tmp_path / "responses.csv", index=False)
    out = tmp_path / "scores.csv"
    assert main(["score", "--instrument", "wvs", "--responses", str(tmp_path / "responses.csv"), "--output", str(out), "--bootstrap", "0"]) == 0
    scores = pd.read_csv(out, keep_default_na=False)
    value = lambda persona, target, metric: float(scores[(scores.persona == persona) & (scores.target == target)  # noqa: E731
                                                         & (scores.metric == metric)]["value"].iloc[0])
    # men: Q177 1 = mode 1, Q182 8 ≠ mode 10 -> 0.5; NMAE (|1 − 1.25| + |8 − 73/9|) / 2 / 9
    assert value(men, "Singapore, male", "modal_accuracy") == pytest.approx(0.5)
    assert value(men, "Singapore, male", "nmae") == pytest.approx((0.25 + (73 / 9 - 8)) / 18)
    # women: both modal (a tie on Q177 goes to 3) -> 1.0; NMAE (|3 − 3.5| + |8 − 23/3|) / 2 / 9
    assert value(women, "Singapore, female", "modal_accuracy") == pytest.approx(1.0)
    nmae_w = (0.5 + (8 - 23 / 3)) / 18
    nmae_m = (0.25 + (73 / 9 - 8)) / 18
    assert value(women, "Singapore, female", "nmae") == pytest.approx(nmae_w)
    assert value("(subgroups)", "all subgroups", "accuracy_range") == pytest.approx(0.5)
    assert value("(subgroups)", "all subgroups", "accuracy_cv") == pytest.approx(0.25 / 0.75)
    assert value("(subgroups)", "all subgroups", "nmae_range") == pytest.approx((max(nmae_w, nmae_m) - min(nmae_w, nmae_m)) / max(nmae_w, nmae_m))
    assert value("(subgroups)", "sex", "accuracy_range") == pytest.approx(0.5)
    assert value("(subgroups)", "sex=female", "accuracy_mean") == pytest.approx(1.0)
    # modal answers: the model's differ on Q177 (1, 3) but not on Q182 (8, 8); the humans' on both (1, 3; 10, 8)
    assert value("(subgroups)", "all items", "mds_model") == pytest.approx(0.5)
    assert value("(subgroups)", "all items", "mds_human") == pytest.approx(1.0)
    assert value("(subgroups)", "Q182", "mds_model") == pytest.approx(0.0)
    assert "2 subgroups: accuracy_range 0.50" in capsys.readouterr().out


def test_the_subgroups_figure_draws_a_panel_per_attribute(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    build_baseline(write_microdata(tmp_path, ".csv"), parse_by("country,sex"), parse_items("Q177,Q182"), "W_WEIGHT", min_n=3, name="wvs7")
    pd.DataFrame([("m", "en", f"subgroup:country=singapore,sex={sex}", item, 3) for sex in ("male", "female") for item in ("Q177", "Q182")],
                 columns=["model", "language", "persona", "item_id", "response"]).to_csv(tmp_path / "r.csv", index=False)
    output = tmp_path / "subgroups.svg"
    assert main(["figure", "subgroups", "--instrument", "wvs", "--responses", str(tmp_path / "r.csv"), "-o", str(output)]) == 0
    svg = output.read_text()
    assert "sex: modal accuracy" in svg and "country: NMAE" in svg and "female" in svg


def test_score_ranks_the_countries_of_an_imported_baseline_by_distribution(tmp_path, monkeypatch, capsys):
    import json

    import numpy as np

    from probe_tui.core.goqa import import_goqa
    from probe_tui.core.metrics import js_similarity, normalised_wasserstein
    from test_baselines_build import write_goqa

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    write_goqa(tmp_path / "goqa.csv")
    import_goqa(tmp_path / "goqa.csv", "wvs", "goqa")
    probs = {str(k): (0.55 if k == 1 else 0.05) for k in range(1, 11)}
    pd.DataFrame([("m", "en", "none", "Q178", sum(k * p for k, p in zip(range(1, 11), probs.values())), "1", json.dumps(probs))],
                 columns=["model", "language", "persona", "item_id", "response", "answer", "probs"]).to_csv(tmp_path / "r.csv", index=False)
    out = tmp_path / "s.csv"
    assert main(["score", "--instrument", "wvs", "--responses", str(tmp_path / "r.csv"), "--output", str(out), "--bootstrap", "0"]) == 0
    scores = pd.read_csv(out, keep_default_na=False)
    mine = scores[scores["question"] == "goqa"].set_index(["target", "metric"])["value"].astype(float)
    p = np.array(list(probs.values()))
    nigeria = np.array([0.625, 0.125] + [0.0] * 7 + [0.25])
    assert mine[("Nigeria", "distribution_js")] == pytest.approx(js_similarity(p, nigeria))
    assert mine[("Nigeria", "distribution_w1")] == pytest.approx(normalised_wasserstein(p, nigeria))
    assert mine[("Nigeria", "rank_by_distribution")] == 1  # mostly 1s, like Nigeria; Japan's answers lean to 10
    assert "nearest by distribution (goqa): Nigeria, Japan" in capsys.readouterr().out
