"""Odd-answer flags, and the order check (options' meanings reversed) on the real embedded model."""

import math

from probe_tui.core.flags import answer_flags
from probe_tui.core.personas import get_persona
from probe_tui.core.scoring import OptionLogprobs, distribution_from_logprobs
from probe_tui.core.session import Answer, Condition, ProbeSession, ask

LABELS = ("1", "2", "3", "4", "5")


def _answer(mfq2, probs, condition=None, mass=1.0, reverse=False):
    raw = OptionLogprobs({label: math.log(p * mass) for label, p in zip(LABELS, probs)}, "logprobs")
    distribution = distribution_from_logprobs(raw, LABELS)
    condition = condition or Condition("m", "mfq2", "en", "none")
    return Answer(condition, mfq2.items[0], None, distribution.mirrored() if reverse else distribution, reverse)


def test_a_confident_on_scale_answer_has_no_flags(mfq2):
    assert answer_flags(_answer(mfq2, (0.9, 0.04, 0.03, 0.02, 0.01))) == []


def test_low_mass_and_high_entropy_are_flagged_with_their_figures(mfq2):
    flags = answer_flags(_answer(mfq2, (0.2,) * 5, mass=0.05))
    assert [f.kind for f in flags] == ["low-mass", "high-entropy"]
    assert "valid_mass 0.05" in flags[0].detail and "2.32 of 2.32 bits" in flags[1].detail


def test_order_flip_and_jump_between_languages(mfq2):
    english = _answer(mfq2, (0.8, 0.1, 0.05, 0.03, 0.02))
    # asked with the meanings reversed, the model again says "1": mirrored back, that is a 5
    reversed_check = _answer(mfq2, (0.8, 0.1, 0.05, 0.03, 0.02), reverse=True)
    chinese = _answer(mfq2, (0.02, 0.03, 0.05, 0.1, 0.8), Condition("m", "mfq2", "zh", "none"))
    kinds = [f.kind for f in answer_flags(english, reversed_check, [chinese])]
    assert kinds == ["order-flip", "jump"]
    assert "language zh" in str(answer_flags(english, None, [chinese])[0])
    # a change of two fields at once is not a jump "between languages"
    other = _answer(mfq2, (0.02, 0.03, 0.05, 0.1, 0.8), Condition("m", "mfq2", "zh", "china"))
    assert answer_flags(english, None, [other]) == []


def test_reversed_prompt_swaps_the_meanings_not_the_labels(mfq2, personas):
    item = mfq2.items[0]
    persona = get_persona("none", personas)
    plain = mfq2.build_prompt(item, "en", persona, None)
    flipped = mfq2.build_prompt(item, "en", persona, None, reverse_options=True)
    anchors = item.scale.anchors_in("en")
    assert f"1 = {anchors[0]}" in plain.text and f"1 = {anchors[-1]}" in flipped.text
    assert flipped.anchors == anchors[::-1] and flipped.labels == plain.labels


def test_the_order_check_on_the_real_model_finds_position_following_answers(backend, mfq2, personas):
    """SmolLM2 says "1" to most English items whatever "1" means: the order check must catch that."""
    persona = get_persona("none", personas)
    condition = Condition(backend.identity, "mfq2", "en", "none")
    session = ProbeSession(mfq2)
    flips = 0
    for item in mfq2.items[:6]:
        answer = ask(backend, mfq2, item, condition, persona)
        check = ask(backend, mfq2, item, condition, persona, reverse_options=True)
        session.record(answer)
        session.record(check)
        assert session.answer_for(item, condition) is answer and session.order_check_for(item, condition) is check
        # the mirrored check is a permutation of the model's own distribution for the reversed prompt
        assert sorted(check.distribution.probs.values()) == sorted(
            distribution_from_logprobs(backend.score(check.prompt), check.prompt.labels).probs.values())
        flips += any(f.kind == "order-flip" for f in session.flags_for(answer))
    assert flips >= 3


def test_a_jump_between_models_names_the_model_file_not_its_folders(mfq2):
    here = _answer(mfq2, (0.8, 0.1, 0.05, 0.03, 0.02), Condition("/models/b.gguf", "mfq2", "en", "none"))
    other = _answer(mfq2, (0.02, 0.03, 0.05, 0.1, 0.8), Condition("/home/me/models/a.gguf", "mfq2", "en", "none"))
    (jump,) = answer_flags(here, None, [other])
    assert jump.kind == "jump" and jump.detail.endswith("against model a.gguf")
