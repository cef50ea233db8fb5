"""Seed 001: VSM 2013 in 20 languages, country sweeps and the deviation ratio."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from probe_tui.cli import main
from probe_tui.core.instruments import get_instrument
from probe_tui.core.countries import primary_languages
from probe_tui.core.instruments.vsm import DIMENSIONS, align_countries, parse_constants, raw_indices
from probe_tui.core.errors import ProbeError
from probe_tui.core.personas import national_persona
from probe_tui.sweep import target_countries

STUDY_LANGUAGES = {"en", "zh", "fr", "de", "ja", "ko", "es", "pt", "ru", "hi", "id", "tr", "ar", "it", "nl", "sv", "pl", "vi", "th", "fa"}


def test_the_twenty_study_countries_and_their_languages():
    vsm = get_instrument("vsm2013")
    countries = target_countries(vsm, "all")
    assert len(countries) == 20
    assert {primary_languages()[c] for c in countries} == STUDY_LANGUAGES
    assert set(vsm.languages) == STUDY_LANGUAGES
    assert vsm.missing_translations() == []
    table = get_instrument("vsm2013").baseline().table
    assert table.loc[countries, list(DIMENSIONS)].notna().all().all()


def test_items_check_reports_twenty_complete_languages(capsys):
    assert main(["items", "check"]) == 0
    line = next(l for l in capsys.readouterr().out.splitlines() if l.startswith("vsm2013"))
    assert "20/20 languages complete" in line


@pytest.mark.parametrize("country, script", [("Arab countries", "\u0600-\u06ff"), ("Iran", "\u0600-\u06ff"),
                                             ("Thailand", "\u0e00-\u0e7f"), ("India", "\u0900-\u097f"),
                                             ("South Korea", "\uac00-\ud7af"), ("Japan", "\u3040-\u30ff")])
def test_aligned_prompts_are_wholly_in_the_country_language(country, script):
    vsm = get_instrument("vsm2013")
    language = primary_languages()[country]
    persona = national_persona(country)
    for item in vsm.items:
        text = vsm.build_prompt(item, language, persona, None, "completion").text
        assert re.search(f"[{script}]", item.text_in(language))
        assert persona.text_in(language) in text and "Answer" not in text and "Options" not in text


def test_deviation_ratio_worked_by_hand():
    truth = pd.DataFrame({d: [10.0, 30.0] for d in DIMENSIONS}, index=["A", "B"])
    raw = pd.DataFrame({d: [0.0, 10.0] for d in DIMENSIONS}, index=["A", "B"])
    centred = align_countries(raw, truth)
    # C_d = 20 - 5 = 15, so M = 15 and 25: 5 off each, against 10 for the global mean of 20
    assert centred.constants == {d: 15.0 for d in DIMENSIONS}
    assert centred.deviation_ratio.to_dict() == pytest.approx({"A": 2.0, "B": 2.0})
    fixed = align_countries(raw, truth, {d: 0.0 for d in DIMENSIONS})
    # M = 0 and 10: 10 and 20 off
    assert fixed.deviation_ratio.to_dict() == pytest.approx({"A": 1.0, "B": 0.5})
    assert fixed.mean_deviation_ratio == pytest.approx(0.75)
    assert "fixed" in fixed.describe_convention() and "centred" in centred.describe_convention()


def test_the_across_country_correlation_follows_the_ranking():
    truth = get_instrument("vsm2013").baseline().table.loc[["United States", "China", "Japan", "Germany"]]
    raw = truth[list(DIMENSIONS)] * 0.5 - 7  # a perfectly ordered but shrunk model
    result = align_countries(raw, truth)
    assert result.correlation.to_numpy() == pytest.approx(np.ones(6))
    assert (result.deviation_ratio > 1).all()


def _identical_answers(countries) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    answers = {f"VSM{n:02d}": float(rng.uniform(1, 5)) for n in range(1, 25)}
    return pd.DataFrame([{"model": "m", "language": primary_languages()[c], "persona": f"country:{c}", "country": c,
                          "item_id": code, "response": value} for c in countries for code, value in answers.items()])


def test_score_gives_dr_one_for_every_country_when_answers_are_identical(tmp_path, capsys):
    countries = target_countries(get_instrument("vsm2013"), "all")
    responses = tmp_path / "same.csv"
    _identical_answers(countries).to_csv(responses, index=False)
    out = tmp_path / "scores.csv"
    assert main(["score", "--instrument", "vsm2013", "--responses", str(responses), "--output", str(out), "--bootstrap", "0"]) == 0
    scores = pd.read_csv(out)
    dr = scores[scores["metric"] == "deviation_ratio"].set_index("target")["value"]
    assert sorted(dr.index) == sorted(countries)
    assert dr.to_numpy() == pytest.approx(np.ones(20), abs=1e-9)
    assert (scores[scores["metric"] == "deviation_ratio"]["question"] == "centred").all()
    printed = capsys.readouterr().out
    assert "mean deviation ratio 1.00 over 20 countries (centred VSM constants)" in printed


def test_score_with_fixed_constants_says_so(tmp_path, capsys):
    responses = tmp_path / "same.csv"
    _identical_answers(["United States", "China", "Japan"]).to_csv(responses, index=False)
    out = tmp_path / "scores.csv"
    assert main(["score", "--instrument", "vsm2013", "--responses", str(responses), "--output", str(out),
                 "--bootstrap", "0", "--vsm-constant", "pdi=50,idv=40"]) == 0
    scores = pd.read_csv(out)
    constants = scores[scores["metric"] == "vsm_constant"].set_index("target")["value"]
    assert constants["pdi"] == 50 and constants["idv"] == 40 and constants["mas"] == 0
    assert "(fixed VSM constants)" in capsys.readouterr().out
    dr = scores[scores["metric"] == "deviation_ratio"]["value"]
    assert not np.allclose(dr, 1.0)


def test_countries_missing_an_item_are_left_out():
    means = {"Japan": {f"VSM{n:02d}": 3.0 for n in range(1, 25)}, "Iran": {f"VSM{n:02d}": 3.0 for n in range(1, 24)}}
    assert list(raw_indices(means).index) == ["Japan"]


def test_bad_constants_and_countries_are_one_line_errors():
    with pytest.raises(ProbeError, match="unknown dimension 'xyz'"):
        parse_constants("xyz=3")
    with pytest.raises(ProbeError, match="expects a number"):
        parse_constants("pdi=abc")
    assert parse_constants("12") == {d: 12.0 for d in DIMENSIONS}
    with pytest.raises(ProbeError, match="no primary language is known for Chile"):
        target_countries(get_instrument("vsm2013"), "Chile")
    with pytest.raises(ProbeError, match="unknown country"):
        target_countries(get_instrument("vsm2013"), "Atlantis")


def test_country_sweep_on_the_real_model_records_each_target_country(tmp_path, capsys, smollm2_path):
    out = tmp_path / "countries.csv"
    code = main(["run", "--model", str(smollm2_path), "--instrument", "vsm2013", "--countries", "Arab countries,Thailand",
                 "--limit", "1", "--output", str(out)])
    assert code == 0
    rows = pd.read_csv(out)
    assert rows[["country", "language", "persona", "condition"]].values.tolist() == [
        ["Arab countries", "ar", "country:arab-countries", "aligned"], ["Thailand", "th", "country:thailand", "aligned"]]
    assert "الدول العربية" in rows["prompt"][0] and "ประเทศไทย" in rows["prompt"][1]
    assert all(0 < mass <= 1 + 1e-9 for mass in rows["valid_mass"])
    en = tmp_path / "en.csv"
    assert main(["run", "--model", str(smollm2_path), "--instrument", "vsm2013", "--countries", "Thailand",
                 "--condition", "en", "--limit", "1", "--output", str(en)]) == 0
    english = pd.read_csv(en)
    assert english["language"].tolist() == ["en"] and "average person from Thailand" in english["prompt"][0]
    assert not math.isnan(english["expected"][0])


def test_countries_with_lang_or_persona_is_refused_in_one_line(tmp_path, capsys):
    code = main(["run", "--instrument", "vsm2013", "--countries", "Japan", "--lang", "ja", "--output", str(tmp_path / "x.csv")])
    error = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and error == ["probe-tui: error: --countries sets each country's language (--condition) and its national persona; "
                                   "drop --lang and --persona"]


def _varied_answers(countries, seed=3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame([{"model": "m", "language": primary_languages()[c], "persona": national_persona(c).key, "country": c,
                          "condition": "aligned", "item_id": f"VSM{n:02d}", "response": float(rng.uniform(1, 5))}
                         for c in countries for n in range(1, 25)])


def test_deviation_rows_keep_the_condition_in_its_own_column(tmp_path, capsys):
    countries = ["Japan", "Brazil", "Germany", "India", "Turkey"]
    responses, out = tmp_path / "five.csv", tmp_path / "scores.csv"
    _varied_answers(countries).to_csv(responses, index=False)
    assert main(["score", "--instrument", "vsm2013", "--responses", str(responses), "--output", str(out), "--bootstrap", "0"]) == 0
    scores = pd.read_csv(out, keep_default_na=False)
    assert list(scores.columns[:4]) == ["model", "language", "persona", "condition"]
    dr = scores[scores["metric"] == "deviation_ratio"].set_index("target")
    assert (dr["condition"] == "aligned").all() and "aligned" not in set(scores["persona"])  # the persona column was "aligned"
    assert dr.loc["Japan", ["language", "persona"]].tolist() == ["ja", "country:japan"]
    assert "m · aligned: mean deviation ratio" in capsys.readouterr().out


def test_a_centred_comparison_of_few_countries_warns(tmp_path, capsys):
    from probe_tui.sweep import country_summary

    two = _varied_answers(["Japan", "Brazil"])
    responses, out = tmp_path / "two.csv", tmp_path / "scores.csv"
    two.to_csv(responses, index=False)
    assert main(["score", "--instrument", "vsm2013", "--responses", str(responses), "--output", str(out), "--bootstrap", "0"]) == 0
    printed = capsys.readouterr().out
    assert ("warning: the centred VSM constants are fitted to these 2 countries themselves, so their DR means little "
            "(with 2, both countries get the same DR by construction)") in printed
    dr = pd.read_csv(out).query("metric == 'deviation_ratio'")["value"]
    assert dr.iloc[0] == pytest.approx(dr.iloc[1])  # what the warning says
    assert "warning" in country_summary(get_instrument("vsm2013"), two, None)  # the sweep prints the same table
    assert "warning" not in country_summary(get_instrument("vsm2013"), two, {d: 0.0 for d in DIMENSIONS})  # fixed constants: DR means what it says
    assert "warning" not in country_summary(get_instrument("vsm2013"), _varied_answers(["Japan", "Brazil", "Germany", "India", "Turkey"]), None)


def test_the_readme_country_sweeps_compare_enough_countries():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    sweeps = re.findall(r"--countries (\S+)", readme)
    assert sweeps and all(spec == "all" or len(spec.split(",")) >= 5 for spec in sweeps), sweeps
