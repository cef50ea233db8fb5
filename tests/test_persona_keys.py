"""One persona, one key: however a persona is named (cn_average, country:china, country:PRC...),
its prompt is recorded under one condition, the picker and the palette offer it once, older
sessions read back under that key, and the national personas name countries grammatically."""

import pytest

from probe_tui.app import ProbeApp
from probe_tui.core.demo import load_script
from probe_tui.core.errors import ProbeError
from probe_tui.core.instruments import get_instrument
from probe_tui.core.personas import canonical_key, get_persona, load_personas

from probe_tui.core.session import Condition, ask
from probe_tui.core.store import SessionStore
from probe_tui.screens.commands import probe_commands
from probe_tui.screens.dialogs import PersonaPicker
from scripted import ScriptedBackend
from test_app import probe_screen, wait_for

CHINA = ["cn_average", "country:china", "country:China", "country:PRC", "country:People's Republic of China"]
UNITED_STATES = ["us_average", "country:united-states", "country:United States", "country:USA", "country:U.S.A.", "country:us"]


@pytest.mark.parametrize("specs, key", [(CHINA, "cn_average"), (UNITED_STATES, "us_average")])
def test_every_name_of_a_persona_gives_one_key_and_one_prompt(specs, key):
    mfq2 = get_instrument("mfq2")
    for language in ("en", "zh", "fr"):
        prompts = {spec: mfq2.build_prompt(mfq2.items[0], language, get_persona(spec), None).text for spec in specs}
        assert len(set(prompts.values())) == 1, prompts
    assert {get_persona(spec).key for spec in specs} == {canonical_key(spec) for spec in specs} == {key}


def test_a_subgroup_has_one_key_however_its_country_is_spelt():
    keys = {get_persona(f"subgroup:country={c},sex=female").key for c in ("China", "china", "PRC")}
    assert keys == {"subgroup:country=china,sex=female"}


def test_a_subgroup_is_one_persona_whatever_the_order_of_its_attributes():
    """A new user's find: subgroup:sex=female,country=china and the baseline's
    subgroup:country=china,sex=female gave two prompts (attributes listed as written), two keys
    and two answers for one group. Now the attributes follow personas.yaml's order."""
    mfq2 = get_instrument("mfq2")
    written = ("subgroup:sex=female,country=china", "subgroup:country=china,sex=female", "subgroup:country=PRC, sex=female")
    for language in ("en", "zh", "fr"):
        prompts = {mfq2.build_prompt(mfq2.items[0], language, get_persona(spec), None).text for spec in written}
        assert len(prompts) == 1, prompts
    assert {get_persona(spec).key for spec in written} == {canonical_key(spec) for spec in written} == {"subgroup:country=china,sex=female"}
    assert "Country: China; Sex: female" in get_persona(written[0]).text["en"]
    with pytest.raises(ProbeError, match="'sex' is given twice"):
        get_persona("subgroup:sex=female,country=china,sex=male")


@pytest.mark.parametrize("spec, language, name, text", [
    ("us_average", "en", "Average person from the United States", "Answer as an average person from the United States would answer."),
    ("country:netherlands", "en", "Average person from the Netherlands", "Answer as an average person from the Netherlands would answer."),
    ("cn_average", "en", "Average person from China", "Answer as an average person from China would answer."),
    ("us_average", "fr", "Personne moyenne des États-Unis", "Répondez comme le ferait une personne moyenne des États-Unis."),
    ("cn_average", "fr", "Personne moyenne de Chine", "Répondez comme le ferait une personne moyenne de Chine."),
    ("country:japan", "fr", "Personne moyenne du Japon", "Répondez comme le ferait une personne moyenne du Japon."),
    ("country:iran", "fr", "Personne moyenne d'Iran", "Répondez comme le ferait une personne moyenne d'Iran."),
    ("cn_average", "zh", "一位来自中国的普通人", "请以一位来自中国的普通人的身份来回答。"),
])
def test_national_personas_name_their_country_grammatically(spec, language, name, text):
    persona = get_persona(spec)
    assert (persona.name_in(language), persona.text_in(language)) == (name, text)


def test_an_older_session_that_recorded_country_china_reads_back_under_the_one_key(tmp_path):
    mfq2 = get_instrument("mfq2")
    backend = ScriptedBackend()
    backend.start()
    store = SessionStore(tmp_path / "sessions.sqlite")
    for recorded in ("country:china", "cn_average"):  # what older versions wrote, and what this one writes
        condition = Condition(backend.identity, "mfq2", "en", recorded)
        store.add("old", ask(backend, mfq2, mfq2.items[0], condition, get_persona(recorded)), {})
    assert {answer.condition.persona for answer in store.answers("old", mfq2)} == {"cn_average"}


def test_a_demo_step_records_the_one_key(tmp_path):
    path = tmp_path / "demo.yaml"
    path.write_text("steps:\n  - caption: a\n    persona: country:PRC\n    items: 1\n", encoding="utf-8")
    assert load_script(path).steps[0].persona == "cn_average"


async def test_the_picker_and_the_palette_offer_each_persona_once():
    app = ProbeApp(ScriptedBackend(), persona="country:china")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await probe_screen(app, pilot)
        assert screen.persona == "cn_average" and screen.condition().persona == "cn_average"
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, PersonaPicker), 10)
        names = [persona.name_in("en") for persona in app.screen.personas.values()]
        assert len(names) == len(set(names)) and names.count("Average person from China") == 1
        assert "Average person from the United States" in names and set(load_personas()) <= set(app.screen.personas)
        await pilot.press("escape")
        shown = [title for title, *_ in probe_commands(screen) if title.startswith("persona: ")]
        assert len(shown) == len(set(shown)) and shown.count("persona: Average person from China") == 1
