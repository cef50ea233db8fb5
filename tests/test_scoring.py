import math

import pytest

from probe_tui.core.scoring import OptionLogprobs, distribution_from_logprobs


def test_worked_example_distribution():
    # Option masses 0.4, 0.2, 0.1, 0.05, 0.05 -> valid_mass 0.8; renormalised 0.5, 0.25, 0.125, 0.0625, 0.0625
    masses = {"1": 0.4, "2": 0.2, "3": 0.1, "4": 0.05, "5": 0.05}
    raw = OptionLogprobs({k: math.log(v) for k, v in masses.items()}, method="logprobs")
    d = distribution_from_logprobs(raw, ["1", "2", "3", "4", "5"])
    assert d.valid_mass == pytest.approx(0.8)
    assert d.probs == pytest.approx({"1": 0.5, "2": 0.25, "3": 0.125, "4": 0.0625, "5": 0.0625})
    assert sum(d.probs.values()) == pytest.approx(1.0)
    assert d.expected == pytest.approx(1 * 0.5 + 2 * 0.25 + 3 * 0.125 + 4 * 0.0625 + 5 * 0.0625)
    assert d.answer == "1"
    assert d.entropy_bits == pytest.approx(0.5 * 1 + 0.25 * 2 + 0.125 * 3 + 2 * 0.0625 * 4)
    assert d.method == "logprobs"


def test_uniform_distribution_has_maximal_entropy():
    raw = OptionLogprobs({str(i): math.log(0.01) for i in range(1, 6)}, method="logprobs")
    d = distribution_from_logprobs(raw, [str(i) for i in range(1, 6)])
    assert d.entropy_bits == pytest.approx(math.log2(5))
    assert d.expected == pytest.approx(3.0)
    assert d.valid_mass == pytest.approx(0.05)


def test_missing_option_is_an_error():
    raw = OptionLogprobs({"1": -1.0}, method="logprobs")
    with pytest.raises(ValueError, match="no log-probability"):
        distribution_from_logprobs(raw, ["1", "2"])
