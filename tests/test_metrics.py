import numpy as np
import pytest
from scipy import stats

from probe_tui.core.baselines import baseline, mfq2_country_means
from probe_tui.core.metrics import CN, US, dimension_means, read_gauge
from probe_tui.core.profiles import model_profile, vsm_indices

FOUNDATIONS = ("care", "equality", "proportionality", "loyalty", "authority", "purity")


def test_baselines_carry_sources_and_canonical_country_names():
    frame = mfq2_country_means()
    assert len(frame) == 21
    assert frame.loc["United States", "care"] == pytest.approx(4.0605)
    assert frame.loc["China", "purity"] == pytest.approx(3.4404)
    assert frame["source"].notna().all()
    wvs = baseline("wvs")
    assert len(wvs.table) == 55 and list(wvs.table.columns) == [f"Q{n}" for n in range(177, 196)]
    assert wvs.table.loc["South Korea", "Q182"] > 0 and "Taiwan" in wvs.table.index
    hofstede = baseline("vsm2013")
    assert hofstede.scale_free and "2015-08-16" in hofstede.source
    assert hofstede.table.loc["United States", "idv"] == 91 and hofstede.table.loc["China", "pdi"] == 80
    assert len(hofstede.table) == 110


def test_gauge_worked_example():
    table = baseline("mfq2").table
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
    reading = read_gauge({"care": 4.06}, baseline("mfq2").table, FOUNDATIONS, 1)
    assert reading.fits[US].profile_r is None
    assert reading.fits[US].rmse == pytest.approx(abs(4.06 - 4.0605))
    assert reading.lean == US


def test_no_answers_no_gauge():
    assert read_gauge({}, baseline("mfq2").table, FOUNDATIONS, 0) is None


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
    profile = model_profile("vsm2013", scored)
    reading = read_gauge(profile, baseline("vsm2013").table, ("pdi", "idv", "mas", "uai", "lto", "ivr"), 24, scale_free=True)
    assert reading.fits[US].rmse is None and reading.rmse_skew is None
    assert reading.fits[US].profile_r is not None
    assert reading.lean == (US if reading.r_skew > 0 else CN) and reading.lean_by == "profile r"
