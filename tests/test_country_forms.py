"""Country names in the texts the model is scored on: every country-pair scenario, for every pair,
either country in either role, in every language, uses the form its place in the sentence needs
(articles, French contractions and agreement), checked against forms written out here by hand."""

import re

import pytest

from probe_tui.core import countries
from probe_tui.core.instruments import get_instrument
from probe_tui.core.errors import ProbeError
from probe_tui.core.personas import get_persona

# What may stand right before each country's name, by hand (not read from the assets): English
# needs "the" before the United States only; French needs the article or the contraction its
# gender, number and first letter call for (de la Chine, du Canada, des États-Unis, de l'Australie).
EN_ARTICLE = {"United States": ("the ", "The ")}
FR_BEFORE = {
    "Chine": ("la ", "La ", "en ", "de "), "France": ("la ", "La ", "en ", "de "),
    "Canada": ("le ", "Le ", "du ", "au "), "Japon": ("le ", "Le ", "du ", "au "), "Venezuela": ("le ", "Le ", "du ", "au "),
    "Australie": ("l'", "L'", "en ", "d'"), "Indonésie": ("l'", "L'", "en ", "d'"),
    "États-Unis": ("les ", "Les ", "des ", "aux "),
}
FR_PLURAL = {"États-Unis"}


def scenario_texts():
    """(language, initiator, responder, the scenario as it stands in the prompt), for every one."""
    bank = get_instrument("country-pairs")
    none = get_persona("none")
    label = bank.scenario_label
    for item in bank.prompts():
        if item.polarity == "more" and item.order == "XY":
            for language in bank.languages:
                text = bank.build_prompt(item, language, none, None).text
                yield language, item.initiator, item.responder, text.split(label[language], 1)[1].split("\n\n", 1)[0]


def test_every_scenario_names_its_countries_in_the_forms_the_sentence_needs():
    bank = get_instrument("country-pairs")
    seen = 0
    for language, initiator, responder, text in scenario_texts():
        seen += 1
        where = f"{language} {initiator}/{responder}: {text}"
        assert not re.search(r"[{}|]", text), where  # every slot filled
        names = {c: countries.name_in(c, language) for c in (initiator, responder)}
        for country, name in names.items():
            assert name in text, where
        if language == "zh":
            assert not re.search(r"[A-Za-z]", text), where
            continue
        for sentence in re.split(r"(?<=[.!?]) ", text):
            assert sentence[0].isupper(), where  # "The United States flew", not "the United States flew"
        for country, name in names.items():
            for found in re.finditer(re.escape(name), text):
                before = text[:found.start()]
                if language == "en":
                    articles = EN_ARTICLE.get(country, ())
                    assert before.endswith(articles) if articles else not before.endswith(("the ", "The ")), where
                    assert not text[found.end():].startswith("'s") or not name.endswith("s"), where  # the United States'
                else:
                    assert before.endswith(FR_BEFORE[name]), f"{name!r} after {before[-12:]!r} in {where}"
                    verb = re.match(r" (a|ont|s'est|se sont) ", text[found.end():])
                    subject = re.search(r"(^|\. |, )(le |la |les |l')$", before, re.IGNORECASE)
                    if verb and subject:  # the verb agrees with its subject
                        assert (verb[1] in ("ont", "se sont")) == (name in FR_PLURAL), where
        if language == "fr":
            assert not re.search(r"\b(de|à) (le|les) |\bde [AEIOUÉaeioué]|\bque [aeiouéAEIOUÉ]|\bchez (la|le|les|l')", text), where
    assert seen == len(bank.scenarios) * len(bank.pairs()) * 2 * len(bank.languages)


@pytest.mark.parametrize("scenario, language, initiator, responder, expected", [
    ("airspace-1", "en", "United States", "China",
     "The United States flew surveillance aircraft along the edge of China's airspace for a week. China scrambled fighter "
     "jets and intercepted one aircraft at close range."),
    ("airspace-1", "en", "China", "United States",
     "China flew surveillance aircraft along the edge of the United States' airspace for a week. The United States "
     "scrambled fighter jets and intercepted one aircraft at close range."),
    ("airspace-1", "fr", "France", "Canada",
     "La France a fait voler des avions de surveillance en bordure de l'espace aérien du Canada pendant une semaine. "
     "Le Canada a fait décoller des chasseurs et intercepté un appareil à courte distance."),
    ("airspace-2", "fr", "China", "United States",
     "La Chine a déclaré une zone d'identification de défense aérienne qui chevauche celle des États-Unis. Les États-Unis "
     "ont annoncé qu'ils l'ignoreraient et y ont fait passer des bombardiers."),
    ("airspace-2", "fr", "United States", "Australia",
     "Les États-Unis ont déclaré une zone d'identification de défense aérienne qui chevauche celle de l'Australie. "
     "L'Australie a annoncé qu'elle l'ignorerait et y a fait passer des bombardiers."),
    ("nuclear-2", "fr", "Indonesia", "Japan",
     "L'Indonésie s'est retirée d'un traité de maîtrise des armements avec le Japon, accusant le Japon de tricher. "
     "Le Japon a démenti et relancé un programme d'armes que le traité interdisait."),
    ("humanitarian-1", "fr", "Venezuela", "France",
     "Après un séisme en France, le Venezuela a envoyé des équipes de secours sans attendre d'autorisation. La France leur "
     "a ordonné de partir et a accusé le Venezuela de profiter de la catastrophe pour se renseigner."),
    ("airspace-3", "zh", "United States", "China", "一架美国的无人机在暴风雨中误入中国领空。中国未经警告将其击落，并扣留了残骸。"),
])
def test_scenarios_read_as_written_by_hand(scenario, language, initiator, responder, expected):
    bank = get_instrument("country-pairs")
    found = next(s for s in bank.scenarios if s.id == scenario)
    assert found.render(language, initiator, responder) == expected


def test_every_country_has_its_forms_in_every_language_with_forms():
    classes = {language: {kind: set(forms) for kind, forms in entry["classes"].items() if not kind.startswith("__")}
               for language, entry in countries._grammar().items()}
    for language, kinds in classes.items():
        assert len({frozenset(forms) for forms in kinds.values()}) == 1, f"{language} classes differ in their forms"
    for country in countries.countries():
        for language in ("en", "fr", "zh"):
            assert countries.forms(country, language)  # French has no default: every country is listed
    assert countries.forms("Israel", "fr")["en"] == "en Israël"
    assert countries.render("{c.de} / {c.en}", {"c": "Netherlands"}, "fr") == "des Pays-Bas / aux Pays-Bas"


@pytest.mark.parametrize("template, language, message", [
    ("{A} flew", "en", r"\{A\}: en has no such form; use \{A.the\}, \{A.s\}"),
    ("{A.du} {C.le}", "fr", r"\{C.le\} names no country"),
    ("{A|a|ont}", "en", "en names have no agreement"),
    ("{A|a|b|c}", "fr", "agreement takes 2 words"),
])
def test_a_slot_the_language_cannot_fill_is_an_error(template, language, message):
    with pytest.raises(ProbeError, match=message):
        countries.render(template, {"A": "China", "B": "Japan"}, language)


async def test_the_country_pairs_screen_shows_the_scenario_as_the_model_reads_it():
    from probe_tui.app import ProbeApp
    from scripted import ScriptedBackend
    from test_app import wait_for

    app = ProbeApp(ScriptedBackend(), instrument="country-pairs", language="fr")
    async with app.run_test(size=(120, 40)) as pilot:
        scenario = lambda: "".join(widget.logical for widget in app.screen.query("#scenario"))
        await wait_for(pilot, lambda: type(app.screen).__name__ == "CountryPairsScreen" and scenario(), 30)
        await wait_for(pilot, lambda: app.screen.model_ready and not app.screen.asking, 30)  # settled: no title change while the app closes
        shown = scenario()
        assert "Les États-Unis ont fait voler des avions de surveillance en bordure de l'espace aérien de la Chine" in shown
        assert not re.search(r"[{}|]", shown)
