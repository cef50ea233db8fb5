"""The conditions a run asks under, and its jobs, built in one place: one condition for every item,
or one per target country (its own language, or all in English or Chinese, always with its national
persona). The CLI sweep and the countries view both build theirs here."""

from __future__ import annotations

from .countries import canonical, primary_languages
from .errors import ProbeError
from .personas import Persona, national_persona
from .runner import Job
from .session import Condition

COUNTRY_CONDITIONS = ("aligned", "en", "zh")  # each country in its own language, all in English, all in Chinese
COUNTRY_CONDITION_NOTES = {"aligned": "each country in its own language", "en": "every country in English",
                           "zh": "every country in Chinese"}


def single_condition_jobs(instrument, items, model: str, language: str, persona: Persona, variants=("",)) -> list[Job]:
    """Every item under one condition, or under one condition per prompt variant (core/variants.py),
    item by item (an item's variants are asked one after the other). The standard asking keeps the
    item id as its key; a variant's key is "VARIANT|item id"."""
    instrument.check_language(language)
    conditions = [Condition(model=model, instrument=instrument.key, language=language, persona=persona.key, variant=v) for v in variants]
    return [Job(f"{c.variant}|{item.id}" if c.variant else item.id, item, c, persona) for item in items for c in conditions]


def country_language(country: str, condition_name: str) -> str:
    """The language a country is asked in: its primary one ("aligned"), else the one named."""
    return primary_languages()[country] if condition_name == "aligned" else condition_name


def country_condition(instrument, country: str, condition_name: str, model: str) -> tuple[Condition, Persona]:
    """The condition a target country is asked under, with its national persona."""
    language = instrument.check_language(country_language(country, condition_name))
    persona = national_persona(country)
    return Condition(model=model, instrument=instrument.key, language=language, persona=persona.key), persona


def country_jobs(instrument, items, model: str, countries: list[str], condition_name: str) -> list[Job]:
    """Every item for each target country, country by country, each under its own condition."""
    jobs = []
    for country in countries:
        condition, persona = country_condition(instrument, country, condition_name, model)
        jobs += [Job(f"{country}|{item.id}", item, condition, persona, country) for item in items]
    return jobs


def target_countries(instrument, spec: str = "all") -> list[str]:
    """"all": every country with a primary language the instrument speaks and a full baseline row;
    else a comma-separated list of names, aliases or slugs."""
    languages = primary_languages()
    if spec.strip().lower() != "all":
        chosen = [canonical(name) for name in spec.split(",") if name.strip()]
        lacking = [c for c in chosen if c not in languages]
        if lacking:
            raise ProbeError(f"no primary language is known for {', '.join(lacking)}; countries with one: {', '.join(languages)}")
        return chosen
    table = instrument.baseline().table if instrument.baseline() is not None else None
    return [c for c, lang in languages.items() if lang in instrument.languages
            and (table is None or (c in table.index and table.loc[c].notna().all()))]
