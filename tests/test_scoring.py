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


def test_no_mass_on_any_option_is_an_answer_with_valid_mass_0_not_an_error(tmp_path, mfq2):
    """#21.8: a model certain of another token (every option at -inf) is recorded as answered with
    valid_mass 0 and no distribution over the options: flagged, stored, and skipped by the gauge."""
    from probe_tui.core.flags import answer_flags
    from probe_tui.core.personas import load_personas
    from probe_tui.core.session import Answer, Condition, ProbeSession
    from probe_tui.core.store import SessionStore

    labels = ["1", "2", "3", "4", "5"]
    raw = OptionLogprobs(dict.fromkeys(labels, -math.inf), method="logprobs", top_tokens=(("I", 0.0),))
    d = distribution_from_logprobs(raw, labels)
    assert d.valid_mass == 0.0 and "no probability on any option" in d.unanswered
    assert all(math.isnan(p) for p in d.probs.values()) and math.isnan(d.expected) and d.answer == ""

    item, condition = mfq2.items[0], Condition("m", "mfq2", "en", "none")
    prompt = mfq2.build_prompt(item, "en", load_personas()["none"], None)
    answer = Answer(condition, item, prompt, d)
    assert [flag.kind for flag in answer_flags(answer)] == ["low-mass"]
    session = ProbeSession(mfq2)
    session.record(answer)
    assert session.gauge(condition) is None and session.answer_for(item, condition) is answer
    store = SessionStore(tmp_path / "sessions.sqlite")
    store.add("s", answer, {"model": "m"})
    again = store.answers("s", mfq2)[0].distribution
    assert again.valid_mass == 0.0 and again.unanswered == d.unanswered and math.isnan(again.expected)


async def test_the_app_shows_an_answer_with_no_mass_on_the_options():
    """#21.8: the probe screen shows it as such, without a traceback."""
    from probe_tui.app import ProbeApp
    from scripted import ScriptedBackend
    from test_app import answered, probe_screen, wait_for

    class CertainOfAnotherToken(ScriptedBackend):
        def score(self, prompt):
            return OptionLogprobs(dict.fromkeys(prompt.labels, -math.inf), "logprobs", top_tokens=(("I", 0.0),))

    app = ProbeApp(CertainOfAnotherToken())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await probe_screen(app, pilot)
        await wait_for(pilot, answered(screen), 10)
        answer = screen.session.answer_for(screen.item, screen.condition())
        assert answer.distribution.valid_mass == 0.0 and answer.distribution.unanswered
        await pilot.press("n")
        await wait_for(pilot, answered(screen), 10)
    assert app.return_code in (None, 0)
