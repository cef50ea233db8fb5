"""The conditions a run asks under, and its jobs, built in one place: one condition for every item,
or one per target country (its own language, or all in English or Chinese, always with its national
persona), or one per group of a group baseline (seed 003's subgroup sweep, under each group's persona).
The CLI sweep, the countries view, the subgroups view and studies build theirs here."""

from __future__ import annotations

from .countries import canonical, primary_languages
from .errors import ProbeError
from .personas import Persona, get_persona, national_persona
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


def subgroup_personas(instrument, groups, baseline: str) -> list[Persona]:
    """The persona of every group of one group baseline (core/groups.load_group_baselines) that has
    figures for this instrument, in the file's order; groups without a persona are not asked."""
    mine = groups[groups["instrument"] == instrument.key] if len(groups) else groups
    names = sorted(mine["baseline"].unique()) if len(mine) else []
    if baseline not in names:
        raise ProbeError(f"no group baseline {baseline!r} for {instrument.key}; "
                         f"{'there are: ' + ', '.join(names) if names else 'build one with: probe-tui baselines build FILE'}")
    keys = [key for key in dict.fromkeys(mine.loc[mine["baseline"] == baseline, "persona"]) if key.strip()]
    if not keys:
        raise ProbeError(f"no group of {baseline!r} has a persona (its labels are not the persona composer's)")
    return [get_persona(key) for key in keys]


def subgroup_items(instrument, items, groups, baseline: str) -> list:
    """Of these items, those the baseline has figures for (the others would be compared with nothing)."""
    mine = groups[(groups["instrument"] == instrument.key) & (groups["baseline"] == baseline)]
    codes = {item.code for key in mine["item_id"].unique() if (item := instrument.find_item(key)) is not None}
    return [item for item in items if item.code in codes]


def subgroup_jobs(instrument, items, model: str, language: str, personas: list[Persona]) -> list[Job]:
    """Every item under each subgroup's persona, group by group, each its own condition."""
    instrument.check_language(language)
    jobs = []
    for persona in personas:
        condition = Condition(model=model, instrument=instrument.key, language=language, persona=persona.key)
        jobs += [Job(f"{persona.key}|{item.id}", item, condition, persona) for item in items]
    return jobs
