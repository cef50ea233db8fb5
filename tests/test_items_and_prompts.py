import pytest

from probe_tui.core.errors import ItemFileError, ProbeError
from probe_tui.core.instruments import get_instrument, load_instrument
from probe_tui.core.personas import Persona, get_persona
from probe_tui.core.prompts import ChatTemplate

FOUNDATIONS = ["care", "equality", "proportionality", "loyalty", "authority", "purity"]


def test_mfq2_has_36_items_keyed_by_official_number(mfq2):
    assert len(mfq2.items) == 36
    for number, item in enumerate(mfq2.items, start=1):
        assert item.code == str(number)
        assert item.id == f"mfq2_{number:02d}"
        assert item.dimension == FOUNDATIONS[(number - 1) % 6]
        assert set(item.text) >= {"en", "zh", "fr"}
        assert all(item.text[lang].strip() for lang in ("en", "zh", "fr"))
    assert mfq2.scale.labels == ("1", "2", "3", "4", "5")
    assert len(set(item.text["zh"] for item in mfq2.items)) == 36


def test_unknown_language_lists_the_known_ones(mfq2):
    with pytest.raises(ProbeError, match="choose one of: en, fr, zh"):
        mfq2.check_language("de")


def test_unknown_instrument_and_persona_list_the_known_ones(personas):
    with pytest.raises(ProbeError, match="country-pairs, mfq2, vsm2013, wvs"):
        get_instrument("nope")
    with pytest.raises(ProbeError, match="cn_average, country:<name>, custom:<text>, none, subgroup:"):
        get_persona("martian", personas)


def test_malformed_item_file_names_file_line_and_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "instrument: x\nname: X\nlanguages: [en]\ndimensions: [a]\nquestion: {en: Q}\n"
        "scale: {labels: ['1','2'], anchors: {en: [lo, hi]}}\n"
        "items:\n  - code: 1\n    dimension: a\n    text: {en: fine}\n  - code: 2\n    dimension: b\n    text: {en: oops}\n",
        encoding="utf-8",
    )
    with pytest.raises(ItemFileError) as info:
        load_instrument(bad)
    message = str(info.value)
    assert message.startswith(f"{bad}:12: items[1].dimension")  # the line of the field itself
    assert "'b' is not one of a" in message


def test_broken_yaml_gives_line(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("instrument: x\nitems: [\n  - code: 1\n", encoding="utf-8")
    with pytest.raises(ItemFileError, match=r"broken.yaml:\d+: yaml: not valid YAML"):
        load_instrument(bad)


CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def test_chat_prompt_puts_persona_in_system_and_item_last(mfq2, personas):
    prompt = mfq2.build_prompt(mfq2.items[0], "zh", personas["cn_average"], ChatTemplate(CHATML))
    assert prompt.style == "chat"
    assert prompt.text.startswith("<|im_start|>system\n请以一位来自中国的普通人的身份来回答。<|im_end|>")
    assert prompt.text.endswith(f"{mfq2.items[0].text['zh']}<|im_end|>\n<|im_start|>assistant\n")
    assert "1 = 完全不符合我" in prompt.text


def test_completion_prompt_ends_in_answer_prefix(mfq2, personas):
    prompt = mfq2.build_prompt(mfq2.items[3], "fr", personas["none"], None)
    assert prompt.style == "completion"
    assert prompt.text.endswith(mfq2.items[3].text["fr"] + "\nRéponse :")


def test_persona_text_with_template_syntax_stays_literal(mfq2):
    sneaky = Persona("x", {"en": "x"}, {"en": "Answer as {{ 7*7 }} {name} {% raw %}"})
    prompt = mfq2.build_prompt(mfq2.items[0], "en", sneaky, ChatTemplate(CHATML))
    assert "Answer as {{ 7*7 }} {name} {% raw %}" in prompt.text
    completion = mfq2.build_prompt(mfq2.items[0], "en", sneaky, None)
    assert completion.text.startswith("Answer as {{ 7*7 }} {name} {% raw %}\n\n")


def test_hostile_chat_template_cannot_reach_python_internals(mfq2, personas):
    hostile = ChatTemplate("{{ ''.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(ProbeError, match="chat template failed to render"):
        mfq2.build_prompt(mfq2.items[0], "en", personas["none"], hostile)
