"""Issue 3: every instrument, persona kind and baseline; user files; runs on the real model."""

import json
import math
import os
import subprocess
import sys

import pandas as pd
import pytest

from probe_tui.core import countries
from probe_tui.core.errors import ProbeError
from probe_tui.core.instruments import get_instrument, load_bank
from probe_tui.core.personas import get_persona, load_persona_bank, national_persona, subgroup_persona
from probe_tui.core.instruments.vsm import VSM_FORMULAS

LANGUAGES = ("en", "zh", "fr")


def probe_tui(*args, env=None):
    return subprocess.run([sys.executable, "-m", "probe_tui", *args], capture_output=True, text=True, timeout=900, env=env or os.environ.copy())


def test_items_check_passes_on_the_shipped_files():
    result = probe_tui("items", "check")
    assert result.returncode == 0, result.stdout
    assert "ok: no problems" in result.stdout
    for key in ("mfq2", "wvs", "vsm2013", "country-pairs"):
        assert key in result.stdout


def test_wvs_items_and_scale():
    wvs = get_instrument("wvs")
    assert [item.code for item in wvs.items] == [f"Q{n}" for n in range(177, 196)]
    assert wvs.items[0].scale.labels == tuple(str(n) for n in range(1, 11))
    for language in LANGUAGES:
        anchors = wvs.items[0].scale.anchors_in(language)
        assert anchors[0] and anchors[-1] and not any(anchors[1:-1])
    assert not wvs.missing_translations()
    assert {item.construct for item in wvs.items} >= {"homosexuality", "death_penalty", "benefits_fraud"}


def test_vsm_items_have_their_own_scales_and_feed_the_index_formulas():
    vsm = get_instrument("vsm2013")
    by_code = {item.code: item for item in vsm.items}
    assert list(by_code) == [f"VSM{n:02d}" for n in range(1, 25)]
    assert by_code["VSM01"].scale.anchors_in("en")[0] == "Of the greatest importance"
    assert by_code["VSM15"].scale.anchors_in("en") == ("Always", "Usually", "Sometimes", "Seldom", "Never")
    assert by_code["VSM19"].scale.anchors_in("en")[0] == "Very proud"
    assert by_code["VSM20"].scale.anchors_in("en")[0] == "Never"
    assert by_code["VSM24"].scale.anchors_in("fr")[-1] == "Pas du tout d'accord"
    assert by_code["VSM11"].question["en"].startswith("In your private life")
    for index, terms in VSM_FORMULAS.items():
        for _, a, b in terms:
            assert by_code[a].dimension == index and by_code[b].dimension == index
    assert not vsm.missing_translations()


def test_every_baseline_country_has_a_national_persona_in_every_language():
    for instrument in ("mfq2", "wvs", "vsm2013"):
        for country in get_instrument(instrument).baseline().table.index:
            persona = national_persona(country)
            for language in LANGUAGES:
                assert countries.name_in(country, language) in persona.text_in(language)
    assert national_persona("U.S.A.").key == "us_average"  # its named persona's key: one key per persona
    assert national_persona("South Korea").key == "country:south-korea"
    assert get_persona("country:south-korea").text_in("zh") == "请以一位来自韩国的普通人的身份来回答。"


def test_singapore_subgroups_are_expressible():
    for ethnicity in ("chinese", "malay", "indian"):
        for religion in ("buddhist", "christian", "muslim", "hindu", "none"):
            for age in ("18-29", "30-49", "50-64", "65+"):
                persona = get_persona(f"subgroup:country=singapore,ethnicity={ethnicity},religion={religion},age={age}")
                assert all(persona.text_in(lang) for lang in LANGUAGES)
    malay = subgroup_persona("country=singapore,ethnicity=malay,religion=muslim,sex=female")
    assert malay.text_in("en").endswith("Country: Singapore; Ethnicity: Malay; Religion: Muslim; Sex: female")
    assert "马来族" in malay.text_in("zh") and "musulmane" in malay.text_in("fr")
    with pytest.raises(ProbeError, match="unknown value for religion 'jedi'; choose one of: buddhist"):
        get_persona("subgroup:religion=jedi")


def test_custom_persona_is_data_never_a_template(mfq2):
    persona = get_persona("custom:You are {{ config.__class__ }} {% raw %} {A}")
    prompt = mfq2.build_prompt(mfq2.items[0], "fr", persona, None)
    assert prompt.text.startswith("You are {{ config.__class__ }} {% raw %} {A}\n\n")


def test_user_files_override_add_and_fail_alone(tmp_path):
    items_dir = tmp_path / "items"
    items_dir.mkdir()
    (items_dir / "licensed.yaml").write_text(
        'instrument: mfq2\nitems:\n  - code: 1\n    text: {en: "Official wording one"}\n', encoding="utf-8")
    (items_dir / "german.yaml").write_text(
        "instrument: wvs\nlanguages: [de]\n"
        "frames:\n  de: {options_intro: 'Optionen:', instruction: 'Antworte mit einer Zahl von {first} bis {last}.', statement: 'Handlung:', answer_prefix: 'Antwort:'}\n"
        "question: {de: 'Ist das zu rechtfertigen?'}\n"
        "scale: {labels: ['1','2','3','4','5','6','7','8','9','10'], anchors: {de: [nie, '', '', '', '', '', '', '', '', immer]}}\n"
        "items:\n" + "".join(f"  - {{code: Q{n}, text: {{de: 'Handlung {n}'}}}}\n" for n in range(177, 196)),
        encoding="utf-8")
    (items_dir / "broken.yaml").write_text("instrument: vsm2013\nitems:\n  - code: VSM01\n    reverse: sometimes\n", encoding="utf-8")
    bank = load_bank(items_dir)
    assert bank.instruments["mfq2"].items[0].text["en"] == "Official wording one"
    assert bank.instruments["mfq2"].items[0].text["zh"]  # the shipped translations stay
    assert bank.problems == [f"{items_dir / 'broken.yaml'}:4: items[0].reverse: expected true or false"]
    wvs = bank.instruments["wvs"]
    assert "de" in wvs.languages and wvs.items[5].text["de"] == "Handlung 182"
    assert bank.frames["de"]["answer_prefix"] == "Antwort:"

    personas_dir = tmp_path / "personas"
    personas_dir.mkdir()
    (personas_dir / "mine.yaml").write_text("personas:\n  fisher:\n    name: {en: Breton fisher}\n    text: Answer as a retired fisher from Brittany.\n", encoding="utf-8")
    (personas_dir / "bad.yaml").write_text("personas:\n  oops: [1, 2]\n", encoding="utf-8")
    persona_bank = load_persona_bank(personas_dir)
    assert persona_bank.personas["fisher"].text_in("zh") == "Answer as a retired fisher from Brittany."
    assert len(persona_bank.problems) == 1 and "bad.yaml" in persona_bank.problems[0]


def test_user_files_reach_the_cli(tmp_path):
    data = tmp_path / "data" / "probe-tui" / "items"
    data.mkdir(parents=True)
    (data / "broken.yaml").write_text("instrument: mfq2\nitems:\n  - code: 3\n    dimension: courage\n", encoding="utf-8")
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")}
    result = probe_tui("items", "check", env=env)
    assert result.returncode == 1
    assert f"{data / 'broken.yaml'}:4: items[0].dimension: 'courage' is not one of care" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_country_pair_prompts():
    bank = get_instrument("country-pairs")
    assert len(bank.scenarios) >= 40 and len(set(s.domain for s in bank.scenarios)) >= 10
    assert len(bank.pairs()) == 28
    assert sum(1 for _ in bank.prompts()) == len(bank.scenarios) * 28 * 2 * 2 * 2
    items = list(bank.prompts(bank.parse_pairs("USA-China"), 1))
    assert {(i.initiator, i.polarity, i.order) for i in items} == {
        (c, p, o) for c in ("United States", "China") for p in ("more", "less") for o in ("XY", "YX")}
    assert bank.parse_pairs("china-usa") == [("United States", "China")]
    with pytest.raises(ProbeError, match="choose one of: Australia, Canada, China"):
        bank.parse_pairs("USA-Mars")


def test_one_bit_of_10_is_not_counted_as_1(scorer):
    # On a 1-10 scale "10" starts with the token "1": P("1") must exclude the "10" answers.
    labels = tuple(str(n) for n in range(1, 11))
    text = "<|im_start|>user\nPick a number from 1 to 10.<|im_end|>\n<|im_start|>assistant\n"
    raw = scorer.score(text, labels).logprobs
    tokens = scorer.prompt_tokens(text)
    p = lambda seq: math.exp(sum(float(scorer._evaluate(tokens + list(seq[:i]))[seq[i]]) for i in range(len(seq))))
    one = sum(p(v) for v in scorer.label_variants("1"))
    ten = sum(p(v) for v in scorer.label_variants("10"))
    assert math.exp(raw["1"]) == pytest.approx(one - ten, abs=1e-6)
    assert math.exp(raw["10"]) == pytest.approx(ten, abs=1e-6)


@pytest.mark.parametrize("args,expected_rows", [
    (["--instrument", "wvs", "--lang", "zh", "--persona", "country:china", "--limit", "3"], 3),
    (["--instrument", "vsm2013", "--lang", "fr", "--persona", "subgroup:country=singapore,ethnicity=malay,religion=muslim"], 24),
    (["--instrument", "country-pairs", "--lang", "en", "--pairs", "USA-China", "--scenarios", "1"], 8),
])
def test_each_instrument_runs_on_the_real_model(tmp_path, args, expected_rows):
    out = tmp_path / "out.csv"
    result = probe_tui("run", *args, "--output", str(out))
    assert result.returncode == 0, result.stderr
    frame = pd.read_csv(out)
    assert len(frame) == expected_rows
    assert all(sum(json.loads(p).values()) == pytest.approx(1.0) for p in frame["probs"])
    assert set(frame["method"]) == {"logprobs"}
    if "vsm2013" in args:
        assert "Compared scale-free" in result.stdout and "pdi" in result.stdout
        assert "Pays : Singapour" in frame["prompt"][0]
    if "wvs" in args:
        assert "请以一位来自中国的普通人的身份来回答。" in frame["prompt"][0] and "Lean:" in result.stdout
    if "country-pairs" in args:
        assert set(frame["pair"]) == {"USA-China"} and set(frame["scenario"]) == {"airspace-1"}
        assert set(frame["polarity"]) == {"more", "less"} and set(frame["order"]) == {"XY", "YX"}
        assert set(frame["initiator"]) == {"USA", "China"}
        assert "(A) United States\n(B) China" in frame["prompt"][0] or "(A) China\n(B) United States" in frame["prompt"][0]
        assert "No human baseline" in result.stdout
