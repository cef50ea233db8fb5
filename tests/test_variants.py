"""Prompt variants as factors of a run (#20.1), the sensitivity to them (#20.2), calibration (#20.3),
an honest lean (#20.4) and a relative low-mass threshold (#20.5)."""


import json
import math

import numpy as np
import pandas as pd
import pytest

from probe_tui.core.calibration import CONTEXTUAL, PMI, calibrate_probs, calibrated
from probe_tui.core.conditions import single_condition_jobs
from probe_tui.core.errors import ProbeError
from probe_tui.core.gauge import GaugeEngine
from probe_tui.core.instruments import get_instrument
from probe_tui.core.lean import NO_CLEAR_LEAN
from probe_tui.core.metrics import CN, US
from probe_tui.core.personas import get_persona
from probe_tui.core.report import lean_line
from probe_tui.core.rows import answer_row
from probe_tui.core.runner import run_jobs
from probe_tui.core.scoring import Distribution
from probe_tui.core.sensitivity import sensitivity
from probe_tui.core.variants import Variant, parse_factors, parse_variant, variants_for

from scripted import PositionBiasedBackend


def test_variant_strings_are_canonical_and_bad_ones_are_refused():
    assert str(parse_variant("frame=2; order=reversed")) == "order=reversed;frame=2"
    assert parse_variant("") == Variant() and str(Variant()) == ""
    assert len(variants_for(parse_factors("order,anchors,frames"))) == 18 and variants_for(("order",)) == ["", "order=reversed"]
    for bad in ("order=sideways", "frame=9", "colour=red", "anchors=both;anchors=verbal"):
        with pytest.raises(ProbeError):
            parse_variant(bad)
    with pytest.raises(ProbeError):
        parse_factors("order,wording")


def test_each_variant_asks_differently_and_the_standard_prompt_is_unchanged():
    mfq2 = get_instrument("mfq2")
    item, none = mfq2.items[0], get_persona("none")
    standard = mfq2.build_prompt(item, "en", none, None).text
    assert "1 = Does not describe me at all" in standard and "Reply with one number from 1 to 5" in standard
    numbered = mfq2.build_prompt(item, "en", none, None, variant="anchors=numbered").text
    assert "\n2\n3\n4\n" in numbered and "5 = Describes me extremely well" in numbered
    assert "Does not describe me at all (1)" in mfq2.build_prompt(item, "en", none, None, variant="anchors=verbal").text
    wordings = {mfq2.build_prompt(item, "en", none, None, variant=f"frame={f}").text for f in (1, 2, 3)}
    assert len(wordings) == 3
    for language in mfq2.languages:  # three wordings of the instruction in every language, each naming the scale's ends
        frame = mfq2.frames[language]
        texts = [frame[k].format(first="1", last="5") for k in ("instruction", "instruction_2", "instruction_3")]
        assert len(set(texts)) == 3 and all("1" in t and "5" in t for t in texts), language


def _biased_run(shift: int, variants=("", "order=reversed")):
    mfq2 = get_instrument("mfq2")
    backend = PositionBiasedBackend(mfq2.scale.anchors_in("en"), shift=shift)
    jobs = single_condition_jobs(mfq2, mfq2.items[:12], backend.identity, "en", get_persona("none"), list(variants))
    answers = run_jobs(jobs, backend, mfq2)
    return mfq2, pd.DataFrame([answer_row(a) for a in answers])


def test_order_correction_removes_a_planted_position_bias_and_the_report_finds_it():
    mfq2, biased = _biased_run(shift=1)
    _, honest = _biased_run(shift=0)
    assert set(biased["variant"]) == {"", "order=reversed"} and set(biased["order"]) == {"standard", "reversed"}
    per_item, per_dimension = sensitivity(biased, mfq2)
    _, honest_dims = sensitivity(honest, mfq2)
    truth = honest_dims.set_index("dimension")["score_standard"]
    found = per_dimension.set_index("dimension")
    # the standard asking is pulled one option towards the first listed; the mean over both orders is the opinion itself
    assert np.allclose(found["score_standard"], truth - 1, atol=1e-6)
    assert np.allclose(found["score_order_corrected"], truth, atol=1e-6)
    assert np.allclose(found["order_effect"], -1, atol=1e-6) and (found["argmax_change_share"] == 1).all()
    assert np.allclose(honest_dims["order_effect"], 0, atol=1e-6) and (honest_dims["argmax_change_share"] == 0).all()
    assert (found["var_between_variants"] > 1).all()  # the two orders' means lie 2 apart
    assert np.allclose(per_item["max_abs_delta"], 2, atol=1e-6)


def _dist(probs):
    labels = tuple(probs)
    expected = sum((i + 1) * p for i, p in enumerate(probs.values()))
    entropy = -sum(p * math.log2(p) for p in probs.values() if p > 0)
    return Distribution(labels, dict(probs), 0.8, expected, max(probs, key=probs.get), entropy, "logprobs")


def test_contextual_calibration_matches_a_hand_worked_example():
    raw = _dist({"1": 0.5, "2": 0.3, "3": 0.2})
    content_free = _dist({"1": 0.25, "2": 0.25, "3": 0.5})
    # ratios 2, 1.2, 0.4 (sum 3.6): 5/9, 1/3, 1/9
    view = calibrated(raw, content_free, CONTEXTUAL)
    assert view.probs == pytest.approx({"1": 5 / 9, "2": 1 / 3, "3": 1 / 9})
    assert view.expected == pytest.approx(5 / 9 + 2 / 3 + 1 / 3) and view.answer == "1" and view.method == CONTEXTUAL
    assert view.valid_mass == raw.valid_mass and raw.probs == {"1": 0.5, "2": 0.3, "3": 0.2}  # the raw answer is left as it was


def test_pmi_calibration_matches_a_hand_worked_example():
    given_item = _dist({"1": 0.6, "2": 0.3, "3": 0.1})
    frame_alone = _dist({"1": 0.8, "2": 0.1, "3": 0.1})
    # ratios 0.75, 3, 1 (sum 4.75): the frame's pull to "1" is taken out, and "2" wins
    view = calibrated(given_item, frame_alone, PMI)
    assert view.probs == pytest.approx({"1": 0.75 / 4.75, "2": 3 / 4.75, "3": 1 / 4.75})
    assert view.answer == "2" and view.method == PMI
    assert calibrate_probs({"a": 1.0, "b": 0.0}, {"a": 0.0, "b": 1.0}, "ab") == pytest.approx({"a": 1.0, "b": 0.0})


def _engine(values_of, n_items):
    """An MFQ-2 track whose items score values_of(dimension, index)."""
    mfq2 = get_instrument("mfq2")
    engine = GaugeEngine(mfq2, mfq2.baseline())
    for index, item in enumerate(mfq2.items[:n_items]):
        engine.add("t", item.code, item.dimension, values_of(item.dimension, index))
    return engine


def test_the_lean_is_claimed_only_when_its_interval_excludes_zero():
    table = get_instrument("mfq2").baseline().table
    rng = np.random.default_rng(7)
    noise = rng.normal(0, 1.2, 36)
    halfway = _engine(lambda d, i: (table.loc[US, d] + table.loc[CN, d]) / 2 + noise[i], 36).reading("t")
    interval = halfway.lean_interval
    assert interval.low < 0 < interval.high and halfway.claim == NO_CLEAR_LEAN
    assert "no clear lean" in lean_line(halfway) and "includes 0" in lean_line(halfway)
    american = _engine(lambda d, i: table.loc[US, d] + 0.05 * noise[i], 36).reading("t")
    assert american.lean_interval.low > 0 and american.claim == US and lean_line(american).startswith("Lean: United States")


def test_no_interval_and_no_claim_below_the_minimum_number_of_items():
    table = get_instrument("mfq2").baseline().table
    engine = _engine(lambda d, i: table.loc[US, d], 4)
    reading = engine.reading("t")
    assert reading.lean_interval.low is None and "after 5 items (4 so far)" in reading.lean_interval.note
    assert reading.claim == "" and "none claimed" in lean_line(reading)
    top, gap = engine.nearest_interval("t")  # the nearest countries follow the same rule
    assert len(top) == 2 and gap.low is None and "after 5 items" in gap.note


def test_the_bootstrap_draws_each_items_variants_too():
    table = get_instrument("mfq2").baseline().table
    steady = _engine(lambda d, i: table.loc[US, d], 36)
    shaky = _engine(lambda d, i: table.loc[US, d], 36)
    for item in get_instrument("mfq2").items:
        shaky.add_variants("t", item.code, [table.loc[US, item.dimension] - 1.5, table.loc[US, item.dimension] + 1.5])
    narrow, wide = steady.reading("t").lean_interval, shaky.reading("t").lean_interval
    assert wide.with_variants and not narrow.with_variants
    assert (wide.high - wide.low) > (narrow.high - narrow.low)


def test_low_mass_is_judged_against_the_models_own_answers_and_the_threshold_is_said():
    from dataclasses import replace

    from probe_tui.core.flags import LOW_VALID_MASS
    from probe_tui.core.prompts import Prompt
    from probe_tui.core.session import Answer, Condition, ProbeSession

    mfq2 = get_instrument("mfq2")
    session = ProbeSession(mfq2)
    condition = Condition("m", "mfq2", "en", "none")
    base = _dist({"1": 0.2, "2": 0.2, "3": 0.2, "4": 0.2, "5": 0.2})
    for index, item in enumerate(mfq2.items[:20]):  # every one under the 0.5 floor, as SmolLM2's are
        prompt = Prompt(f"p{index}", base.labels, "completion")
        session.record(Answer(condition, item, prompt, replace(base, valid_mass=0.05 + 0.01 * index)), remember=False)
    threshold = session.mass_threshold("m")
    assert threshold.percentile == pytest.approx(np.percentile([0.05 + 0.01 * i for i in range(20)], 10))
    assert threshold.value == threshold.percentile < LOW_VALID_MASS
    flagged = [a for a in session.all_answers() if any(f.kind == "low-mass" for f in session.flags_for(a))]
    assert 0 < len(flagged) <= 2 and all(a.distribution.valid_mass < threshold.value for a in flagged)
    assert "10th percentile over 20 answers" in str(threshold) and f"valid_mass < {threshold.value:.2g} " in str(threshold)
    tiny = replace(threshold, value=0.0074, percentile=0.0074)  # a new user's find: shown as 0.01, it hid the real cut
    assert str(tiny).startswith("low-mass: valid_mass < 0.0074 (")
    few = ProbeSession(mfq2)  # under 10 answers: the floor alone, and it says so
    few.record(session.all_answers()[0], remember=False)
    assert few.mass_threshold("m").value == LOW_VALID_MASS and "after 10" in str(few.mass_threshold("m"))


def test_run_with_variants_and_calibration_on_smollm2(tmp_path):
    """#20: `run --variants order,anchors,frames` writes every variant's row and prints the
    sensitivity; the calibrated views sum to 1 and carry their labels; the raw numbers are those of
    the run without calibration; `score` reports the sensitivity and the lean's rule."""
    from test_cli import probe_tui

    out, calibrated_out = tmp_path / "variants.csv", tmp_path / "calibrated.csv"
    result = probe_tui("run", "--limit", "1", "--no-cache", "--variants", "order,anchors,frames", "--output", str(out))
    assert result.returncode == 0, result.stderr
    frame = pd.read_csv(out, keep_default_na=False)
    assert len(frame) == 18 and set(frame["variant"]) == set(variants_for(("order", "anchors", "frames")))
    assert set(frame["anchors"]) == {"both", "numbered", "verbal"} and set(frame["frame"]) == {1, 2, 3}
    assert "Sensitivity to the way the question was asked" in result.stdout and "argmax changes" in result.stdout
    assert "order effect" in result.stdout and "Lean: none claimed, no interval: intervals after 5 items" in result.stdout
    # a new user's find: run and score named different nearest countries, neither saying over what
    assert "The standard asking (the same over all variants follows" in result.stdout
    assert "Over all variants: Nearest countries: " in result.stdout
    result = probe_tui("run", "--limit", "1", "--no-cache", "--variants", "order", "--calibrate", "contextual,pmi",
                       "--output", str(calibrated_out))
    assert result.returncode == 0, result.stderr
    assert "calibrated-contextual: mean E[x]" in result.stdout and "calibrated-pmi: mean E[x]" in result.stdout
    calibrated = pd.read_csv(calibrated_out, keep_default_na=False)
    for short, label in (("contextual", "calibrated-contextual"), ("pmi", "calibrated-pmi")):
        assert set(calibrated[f"method_{short}"]) == {label}
        for cell in calibrated[f"probs_{short}"]:
            assert sum(json.loads(cell).values()) == pytest.approx(1.0)
    mine = calibrated.set_index("variant")
    raw = frame.set_index("variant").loc[mine.index]
    for column in ("prompt", "probs", "valid_mass", "expected", "answer", "method"):
        assert (mine[column] == raw[column]).all(), column
    scored = probe_tui("score", "--instrument", "mfq2", "--responses", str(out), "--output", str(tmp_path / "scores.csv"))
    assert scored.returncode == 0, scored.stderr
    scores = pd.read_csv(tmp_path / "scores.csv")
    assert {"sensitivity_argmax_change_share", "sensitivity_score_order_corrected", "sensitivity_item_max_abs_delta",
            "lean"} <= set(scores["metric"])
    assert "sensitivity" in scored.stdout


def test_score_reports_the_lean_with_its_interval_and_the_sensitivity():
    from probe_tui.core.rescore import score

    mfq2 = get_instrument("mfq2")
    table = mfq2.baseline().table
    rows = [{"model": "m", "language": "en", "persona": "none", "item_id": item.id, "variant": variant,
             "expected": item.keyed(table.loc[US, item.dimension]) + shift, "answer": "3"}
            for item in mfq2.items for variant, shift in (("", -0.05), ("order=reversed", 0.05))]
    scores, text = score(mfq2, pd.DataFrame(rows), n_resamples=300)
    lean = scores[scores["metric"] == "lean"].iloc[0]
    assert lean["value"] == 1 and lean["question"].startswith("leans US by RMSE (95% interval")
    assert scores[scores["metric"] == "lean_rmse_low"]["value"].iloc[0] > 0
    assert "leans US" in text and "sensitivity" in text
    corrected = scores[scores["metric"] == "sensitivity_score_order_corrected"].set_index("target")["value"]
    assert corrected.to_dict() == pytest.approx(table.loc[US, list(mfq2.dimensions)].to_dict())
    few, _ = score(mfq2, pd.DataFrame(rows[:6]), n_resamples=300)
    assert np.isnan(few[few["metric"] == "lean"]["value"].iloc[0])
    assert "no interval: intervals after 5 items (3 so far)" in few[few["metric"] == "lean"]["question"].iloc[0]


def test_the_sensitivity_figure_is_drawn_from_a_variant_run(tmp_path):
    from probe_tui.figures import draw

    _, biased = _biased_run(shift=1)
    assert draw("sensitivity", biased, "mfq2", tmp_path / "s.png").stat().st_size > 10_000
    with pytest.raises(ProbeError, match="two variants"):
        draw("sensitivity", biased[biased["variant"] == ""], "mfq2", tmp_path / "none.png")


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_app_asks_the_variants_and_the_gauge_shows_the_interval_and_the_sensitivity(size):
    from probe_tui.app import ProbeApp
    from probe_tui.core.store import SessionStore
    from test_app import probe_screen, wait_for
    from test_countries_view import plain

    backend = PositionBiasedBackend(get_instrument("mfq2").scale.anchors_in("en"), shift=1)
    app = ProbeApp(backend, session="test", store=SessionStore(":memory:"))
    async with app.run_test(size=size) as pilot:
        screen = await probe_screen(app, pilot)
        await pilot.press("V")  # variants on: the option order
        assert screen.variants == ["", "order=reversed"]
        for _ in range(6):
            await wait_for(pilot, lambda: screen.session.variant_for(screen.item, screen.own, "order=reversed") is not None
                           and screen.in_flight is None, 10)
            await pilot.press("n")
        await wait_for(pilot, lambda: screen.in_flight is None, 10)
        assert screen.session.engine.tracks[screen.own].variants  # the bootstrap draws both orders
        await pilot.press("g")
        await wait_for(pilot, lambda: "Δargmax" in plain(app.screen.query_one("#sensitivity").content), 20)
        sensitivity = plain(app.screen.query_one("#sensitivity").content)
        assert "order effect -1.00" in sensitivity and "Δargmax 100%" in sensitivity
        tracks = plain(app.screen.query_one("#tracks").content)
        assert "95% " in tracks and ("leans" in tracks or "no clear lean" in tracks)
        assert all(len(line) <= 70 for line in sensitivity.splitlines() if "Δargmax " in line)


async def test_the_app_shows_a_calibrated_view_beside_the_raw_answer_and_the_flags_judge_it():
    from probe_tui.app import ProbeApp
    from probe_tui.core.store import SessionStore
    from test_app import answered, probe_screen, wait_for

    backend = PositionBiasedBackend(get_instrument("mfq2").scale.anchors_in("en"), shift=1)
    app = ProbeApp(backend, session="test", store=SessionStore(":memory:"))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await probe_screen(app, pilot)
        await wait_for(pilot, answered(screen), 10)
        raw = dict(screen.session.answer_for(screen.item, screen.own).distribution.probs)
        await pilot.press("K")
        assert screen.calibration == CONTEXTUAL
        await wait_for(pilot, lambda: screen.session.reference_for(screen.item, screen.own, CONTEXTUAL) is not None
                       and screen.in_flight is None, 10)
        answer = screen.session.answer_for(screen.item, screen.own)
        view = screen.session.calibrated_view(answer, CONTEXTUAL)
        assert view.method == CONTEXTUAL and sum(view.probs.values()) == pytest.approx(1.0)
        assert answer.distribution.probs == raw and screen.session.all_answers() == [answer]  # the reference is no answer
        shown = str(screen.query_one("#flags").render())
        assert f"calibrated-contextual: E[x] {view.expected:.2f}" in shown and f"raw: E[x] {answer.distribution.expected:.2f}" in shown
        await pilot.press("K")
        await wait_for(pilot, lambda: screen.session.reference_for(screen.item, screen.own, PMI) is not None and screen.in_flight is None, 10)
        assert "calibrated-pmi: E[x]" in str(screen.query_one("#flags").render())


def test_the_flags_judge_the_calibrated_view_when_one_is_picked():
    from probe_tui.core.flags import answer_flags
    from probe_tui.core.prompts import Prompt
    from probe_tui.core.session import Answer, Condition

    flat = _dist({"1": 0.22, "2": 0.2, "3": 0.2, "4": 0.19, "5": 0.19})
    answer = Answer(Condition("m", "mfq2", "en", "none"), get_instrument("mfq2").items[0], Prompt("p", flat.labels, "completion"), flat)
    view = calibrated(flat, _dist({"1": 0.02, "2": 0.2, "3": 0.2, "4": 0.29, "5": 0.29}), CONTEXTUAL)
    assert "high-entropy" in [f.kind for f in answer_flags(answer)]
    assert "high-entropy" not in [f.kind for f in answer_flags(answer, view=view)]
