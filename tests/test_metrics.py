import numpy as np
import pytest
from scipy import stats

from probe_tui.core.baselines import mfq2_country_means
from probe_tui.core.metrics import CN, US, read_gauge

FOUNDATIONS = ("care", "equality", "proportionality", "loyalty", "authority", "purity")


def test_baselines_carry_us_china_and_sources():
    frame = mfq2_country_means()
    assert len(frame) == 21
    assert frame.loc["United States", "care"] == pytest.approx(4.0605)
    assert frame.loc["China", "purity"] == pytest.approx(3.4404)
    assert frame["source"].notna().all()


def test_gauge_worked_example():
    baselines = mfq2_country_means()
    scores = [(dim, value) for dim, value in zip(FOUNDATIONS, [4.0, 3.0, 3.5, 3.9, 3.7, 3.3])]
    scores.append(("care", 3.0))  # care is now the mean of 4.0 and 3.0
    reading = read_gauge(scores, baselines, FOUNDATIONS)
    model = np.array([3.5, 3.0, 3.5, 3.9, 3.7, 3.3])
    for country in (US, CN):
        human = baselines.loc[country, list(FOUNDATIONS)].to_numpy(dtype=float)
        assert reading.fits[country].rmse == pytest.approx(np.sqrt(np.mean((model - human) ** 2)))
        assert reading.fits[country].profile_r == pytest.approx(stats.pearsonr(model, human).statistic)
    assert reading.items_answered == 7
    assert reading.rmse_skew == pytest.approx(reading.fits[CN].rmse - reading.fits[US].rmse)
    assert reading.lean == (US if reading.rmse_skew > 0 else CN)


def test_gauge_with_one_foundation_has_rmse_but_no_correlation():
    reading = read_gauge([("care", 4.06)], mfq2_country_means(), FOUNDATIONS)
    assert reading.fits[US].profile_r is None
    assert reading.fits[US].rmse == pytest.approx(abs(4.06 - 4.0605))
    assert reading.lean == US


def test_no_answers_no_gauge():
    assert read_gauge([], mfq2_country_means(), FOUNDATIONS) is None
