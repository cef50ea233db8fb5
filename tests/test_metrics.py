import numpy as np
import pytest
from scipy import stats

from probe_tui.core.instruments import get_instrument
from probe_tui.core.metrics import CN, US, dimension_means, read_gauge
from probe_tui.core.instruments.vsm import vsm_indices

FOUNDATIONS = ("care", "equality", "proportionality", "loyalty", "authority", "purity")


def test_baselines_carry_sources_and_canonical_country_names():
    frame = get_instrument("mfq2").baseline().full
    assert len(frame) == 21
    assert frame.loc["United States", "care"] == pytest.approx(4.0605)
    assert frame.loc["China", "purity"] == pytest.approx(3.4404)
    assert frame["source"].notna().all()
    wvs = get_instrument("wvs").baseline()
    assert len(wvs.table) == 55 and list(wvs.table.columns) == [f"Q{n}" for n in range(177, 196)]
    assert wvs.table.loc["South Korea", "Q182"] > 0 and "Taiwan" in wvs.table.index
    hofstede = get_instrument("vsm2013").baseline()
    assert hofstede.scale_free and "2015-08-16" in hofstede.source
    assert hofstede.table.loc["United States", "idv"] == 91 and hofstede.table.loc["China", "pdi"] == 80
    assert len(hofstede.table) == 110


def test_gauge_worked_example():
    table = get_instrument("mfq2").baseline().table
    scores = [(dim, value) for dim, value in zip(FOUNDATIONS, [4.0, 3.0, 3.5, 3.9, 3.7, 3.3])] + [("care", 3.0)]
    reading = read_gauge(dimension_means(scores), table, FOUNDATIONS, items_answered=7)
    model = np.array([3.5, 3.0, 3.5, 3.9, 3.7, 3.3])
    for country in (US, CN):
        human = table.loc[country, list(FOUNDATIONS)].to_numpy(dtype=float)
        assert reading.fits[country].rmse == pytest.approx(np.sqrt(np.mean((model - human) ** 2)))
        assert reading.fits[country].profile_r == pytest.approx(stats.pearsonr(model, human).statistic)
    assert reading.items_answered == 7
    assert reading.rmse_skew == pytest.approx(reading.fits[CN].rmse - reading.fits[US].rmse)
    assert reading.lean == (US if reading.rmse_skew > 0 else CN)


def test_gauge_with_one_foundation_has_rmse_but_no_correlation():
    reading = read_gauge({"care": 4.06}, get_instrument("mfq2").baseline().table, FOUNDATIONS, 1)
    assert reading.fits[US].profile_r is None
    assert reading.fits[US].rmse == pytest.approx(abs(4.06 - 4.0605))
    assert reading.lean == US


def test_no_answers_no_gauge():
    assert read_gauge({}, get_instrument("mfq2").baseline().table, FOUNDATIONS, 0) is None


def test_vsm_indices_worked_example():
    means = {f"VSM{n:02d}": 3.0 for n in range(1, 25)}
    means.update({"VSM07": 4.0, "VSM02": 2.0, "VSM20": 3.5, "VSM23": 2.5})  # PDI = 35*2 + 25*1
    indices = vsm_indices(means, constant=10)
    assert indices["pdi"] == pytest.approx(35 * 2 + 25 * 1 + 10)
    assert indices["idv"] == pytest.approx(10)
    assert set(indices) == {"pdi", "idv", "mas", "uai", "lto", "ivr"}
    assert "pdi" not in vsm_indices({"VSM07": 4.0, "VSM02": 2.0})  # an index needs all four items


def test_vsm_gauge_is_scale_free():
    scored = [(f"VSM{n:02d}", "x", 2.0 + (n % 3) * 0.5) for n in range(1, 25)]
    profile = get_instrument("vsm2013").profile({code: (dim, score) for code, dim, score in scored})
    reading = read_gauge(profile, get_instrument("vsm2013").baseline().table, ("pdi", "idv", "mas", "uai", "lto", "ivr"), 24, scale_free=True)
    assert reading.fits[US].rmse is None and reading.rmse_skew is None
    assert reading.fits[US].profile_r is not None
    assert reading.lean == (US if reading.r_skew > 0 else CN) and reading.lean_by == "profile r"


# --- issue 4: hand-worked examples --------------------------------------------------------------

import math

import pandas as pd

from probe_tui.core.gauge import GaugeEngine
from probe_tui.core.metrics import (favourability, js_similarity, modal_accuracy, normalised_mae,
                                    normalised_wasserstein, rank_countries)


def test_favourability_worked_example():
    # Two scenario types, three countries. Type t1: A beats B by 1.0 and A beats C by 3.0 (two
    # scenarios, 2.0 and 4.0); type t2: A beats B by 2.0.
    rows = [("A", "B", "s1", "t1", "justified", 1.0), ("A", "C", "s2", "t1", "justified", 2.0), ("A", "C", "s3", "t1", "justified", 4.0),
            ("A", "B", "s4", "t2", "justified", 2.0),
            ("A", "B", "s1", "t1", "unjustified", -1.0), ("A", "B", "s4", "t2", "unjustified", 0.0)]
    frame = pd.DataFrame(rows, columns=["country_1", "country_2", "scenario", "scenario_type", "question", "logodds"])
    result = favourability(frame).set_index(["question", "country"])
    # A, justified: t1 = mean(pair A-B: 1.0, pair A-C: mean(2,4)=3.0) = 2.0; t2 = 2.0 -> 2.0, SE 0
    assert result.loc[("justified", "A"), "value"] == pytest.approx(2.0)
    assert result.loc[("justified", "A"), "ci95"] == pytest.approx(0.0)
    # B, justified: t1 = -1.0, t2 = -2.0 -> -1.5, SE = 0.5 -> ci95 = 0.98
    assert result.loc[("justified", "B"), "value"] == pytest.approx(-1.5)
    assert result.loc[("justified", "B"), "ci95"] == pytest.approx(1.96 * 0.5)
    assert result.loc[("justified", "B"), "p_value"] == pytest.approx(stats.ttest_1samp([-1.0, -2.0], 0).pvalue)
    # combined = ½(justified − unjustified) per type: B: t1 ½(-1 − 1) = -1, t2 ½(-2 − 0) = -1
    assert result.loc[("combined", "B"), "value"] == pytest.approx(-1.0)
    # A: unjustified t1 = -1.0, t2 = 0.0 -> combined t1 ½(2 − (−1)) = 1.5, t2 ½(2 − 0) = 1.0 -> 1.25
    assert result.loc[("combined", "A"), "value"] == pytest.approx(1.25)
    assert ("combined", "C") not in result.index  # C has no unjustified observations


def test_benjamini_hochberg_matches_the_definition():
    frame = pd.DataFrame(
        [(c1, c2, f"s{i}", f"t{i % 3}", "justified", v) for i, (c1, c2, v) in enumerate(
            [("A", "B", 1.0), ("A", "B", 1.2), ("A", "B", 0.9), ("A", "C", 0.1), ("A", "C", -0.2), ("A", "C", 0.3),
             ("B", "C", -0.5), ("B", "C", 0.4), ("B", "C", 0.2)])],
        columns=["country_1", "country_2", "scenario", "scenario_type", "question", "logodds"])
    result = favourability(frame)
    p = result["p_value"].to_numpy()
    order = np.argsort(p)
    m = len(p)
    expected = np.minimum.accumulate((p[order] * m / np.arange(1, m + 1))[::-1])[::-1]
    assert result["p_adjusted"].to_numpy()[order] == pytest.approx(np.minimum(expected, 1.0))


def test_distribution_metrics_worked_examples():
    assert js_similarity([0.5, 0.5], [0.5, 0.5]) == pytest.approx(1.0)
    assert js_similarity([1, 0], [0, 1]) == pytest.approx(0.0)
    # JSD(base 2) of [1,0] vs [0.5,0.5]: 0.5*KL([1,0]||[.75,.25]) + 0.5*KL([.5,.5]||[.75,.25])
    jsd = 0.5 * math.log2(1 / 0.75) + 0.5 * (0.5 * math.log2(0.5 / 0.75) + 0.5 * math.log2(0.5 / 0.25))
    assert js_similarity([1, 0], [0.5, 0.5]) == pytest.approx(1 - math.sqrt(jsd))
    assert normalised_wasserstein([1, 0, 0, 0, 0], [0, 0, 0, 0, 1]) == pytest.approx(1.0)
    assert normalised_wasserstein([1, 0, 0, 0, 0], [0, 1, 0, 0, 0]) == pytest.approx(0.25)
    assert normalised_wasserstein([0.5, 0, 0, 0, 0.5], [0, 0, 1, 0, 0]) == pytest.approx(0.5)
    assert modal_accuracy({"1": "4", "2": "2", "3": "5"}, {"1": "4", "2": "3"}) == pytest.approx(0.5)
    assert normalised_mae({"1": 4.0, "2": 2.0}, {"1": 3.0, "2": 4.0}, 1, 5) == pytest.approx(1.5 / 4)


def test_engine_updates_match_a_batch_computation_and_replace_re_asked_items():
    engine = GaugeEngine(get_instrument("mfq2"), get_instrument("mfq2").baseline())
    scored = [(str(i), FOUNDATIONS[(i - 1) % 6], 1 + (i * 7 % 5)) for i in range(1, 37)]
    for code, dim, score in scored:
        engine.add("track", code, dim, 3.0)  # asked once...
        engine.add("track", code, dim, score)  # ...and again: the new score replaces the old
    assert engine.profile("track") == pytest.approx(dimension_means([(d, s) for _, d, s in scored]))
    assert engine.reading("track").items_answered == 36
    other = engine.reading("other")
    assert other is None  # tracks are separate per condition


def test_ranking_and_bootstrap():
    engine = GaugeEngine(get_instrument("mfq2"), get_instrument("mfq2").baseline())
    us = get_instrument("mfq2").baseline().table.loc[US]
    for i in range(1, 37):
        dim = FOUNDATIONS[(i - 1) % 6]
        engine.add("t", str(i), dim, float(us[dim]) + (0.3 if ((i - 1) // 6) % 2 else -0.3))  # cancels per dimension
    ranking = engine.ranking("t")
    assert ranking.iloc[0]["country"] == US and ranking.iloc[0]["rmse"] == pytest.approx(0.0, abs=1e-9)
    assert list(ranking["rmse"]) == sorted(ranking["rmse"])
    samples = engine.bootstrap("t", n_resamples=300)
    assert samples["profile_r"].shape[1] == len(get_instrument("mfq2").baseline().table)
    us_index = list(samples["countries"]).index(US)
    assert np.nanmean(samples["profile_r"][:, us_index]) > 0.9
    assert GaugeEngine(get_instrument("vsm2013"), get_instrument("vsm2013").baseline()).bootstrap("t") is None
    assert rank_countries({"pdi": 40, "idv": 91, "mas": 62}, get_instrument("vsm2013").baseline().table[["pdi", "idv", "mas"]], True).iloc[0]["profile_r"] == pytest.approx(1.0)


def test_argmax_scoring_and_group_comparison_in_a_session():
    from probe_tui.core.groups import read_group_baselines
    from probe_tui.core.instruments import get_instrument
    from probe_tui.core.prompts import Prompt
    from probe_tui.core.scoring import Distribution
    from probe_tui.core.session import Answer, Condition, ProbeSession
    from probe_tui.core import paths

    mfq2 = get_instrument("mfq2")
    persona = "subgroup:country=singapore,ethnicity=malay,age=18-29"
    condition = Condition("m", "mfq2", "en", persona)
    probs = {"1": 0.1, "2": 0.1, "3": 0.1, "4": 0.6, "5": 0.1}
    d = Distribution(labels=("1", "2", "3", "4", "5"), probs=probs, valid_mass=1.0, expected=3.5, answer="4", entropy_bits=1.0, method="logprobs")
    answer = Answer(condition, mfq2.items[0], Prompt("p", d.labels, "chat"), d)
    assert answer.score_by("expected") == pytest.approx(3.5) and answer.score_by("argmax") == 4.0
    session = ProbeSession(mfq2, score_by="argmax")
    session.record(answer)
    assert session.gauge(condition).model_means["care"] == 4.0
    groups = read_group_baselines(paths.assets_dir() / "baselines" / "example_group_baseline.csv")
    (result,) = session.group_comparison(condition, groups).values()
    assert result["modal_accuracy"] == 0.0  # the group's mode for item 1 is "5", the model's is "4"
    assert result["nmae"] == pytest.approx(abs(3.5 - 4.2) / 4)
    assert result["js_similarity"] == pytest.approx(js_similarity(list(probs.values()), [0.02, 0.05, 0.13, 0.35, 0.45]))
