"""Country names per language, the canonical name for every spelling the baselines use, and the
forms a name takes in a sentence (assets/country-forms.yaml), for templates that name countries."""

from __future__ import annotations

import re
from functools import cache

from . import paths
from .errors import ProbeError, unknown_choice
from .yamlfile import META_KEYS, load_yaml


@cache
def countries() -> dict[str, dict[str, str]]:
    """Canonical English name -> {language: name}, English included."""
    data = load_yaml(paths.assets_dir() / "countries.yaml")
    return {name: {"en": name, **{k: v for k, v in entry.items() if k not in ("aliases", "language", *META_KEYS)}}
            for name, entry in data.items() if name not in META_KEYS}


@cache
def primary_languages() -> dict[str, str]:
    """Canonical name -> the country's primary language, for the countries that have one."""
    data = load_yaml(paths.assets_dir() / "countries.yaml")
    return {name: entry["language"] for name, entry in data.items() if name not in META_KEYS and "language" in entry}


@cache
def _aliases() -> dict[str, str]:
    data = load_yaml(paths.assets_dir() / "countries.yaml")
    table = {name.casefold(): name for name in data if name not in META_KEYS}
    table.update({slug_of(name): name for name in data if name not in META_KEYS})
    for name, entry in data.items():
        if name not in META_KEYS:
            table.update({alias.casefold(): name for alias in entry.get("aliases", [])})
    return table


def canonical(name: str) -> str:
    """The canonical name for a name, an alias, or a slug ("south-korea")."""
    table = _aliases()
    found = table.get(name.strip().casefold()) or table.get(name.strip().casefold().replace("-", " "))
    if found is None:
        raise unknown_choice("country", name, countries())
    return found


def name_in(country: str, language: str) -> str:
    names = countries()[canonical(country)]
    return names.get(language) or names["en"]


def slug_of(name: str) -> str:
    return name.casefold().replace(" ", "-")


def slug(country: str) -> str:
    return slug_of(canonical(country))


# {A} (the bare name), {A.form} ({A.The}: capitalised), {A|sg|pl} or {A|m|f|mpl|fpl} (agreement)
SLOT = re.compile(r"\{(?P<slot>\w+)(?:\.(?P<form>\w+)|(?P<choices>(?:\|[^{}|]*)+))?\}")
AGREEMENT = ("m", "f", "mpl", "fpl")


@cache
def _grammar() -> dict:
    data = load_yaml(paths.assets_dir() / "country-forms.yaml")
    return {language: entry for language, entry in data.items() if language not in META_KEYS}


@cache
def forms(country: str, language: str) -> dict[str, str]:
    """The country's forms in a language ({"the": "the United States", "s": ...}), with "agree"
    where the language has agreement. A language without forms has only the bare name ("name")."""
    name, grammar = canonical(country), _grammar().get(language)
    if grammar is None:
        return {"name": name_in(name, language)}
    kind = grammar.get("countries", {}).get(name, grammar.get("default"))
    if kind is None:
        raise ProbeError(f"{name} has no {language} forms in country-forms.yaml")
    table = {form: pattern.replace("{}", name_in(name, language)) for form, pattern in grammar["classes"][kind].items()
             if form not in META_KEYS}
    table.update({form: text for form, text in grammar.get("exceptions", {}).get(name, {}).items() if form not in META_KEYS})
    return table


def render(template: str, slots: dict[str, str], language: str) -> str:
    """Fill a template's country slots (slot name -> country) in one language; a slot that names no
    country of `slots`, or a form the language lacks (a bare {A} in English), is an error."""

    def fill(match: re.Match) -> str:
        slot, form, choices = match["slot"], match["form"], match["choices"]
        if slot not in slots:
            raise ProbeError(f"{match[0]} names no country; the slots are {', '.join('{' + s + '}' for s in slots)}")
        table = forms(slots[slot], language)
        if choices is not None:
            words, agree = choices.split("|")[1:], table.get("agree")
            if agree is None:
                raise ProbeError(f"{match[0]}: {language} names have no agreement to choose by")
            if len(words) not in (2, 4):
                raise ProbeError(f"{match[0]}: agreement takes 2 words (sg|pl) or 4 (m|f|mpl|fpl)")
            return words[AGREEMENT.index(agree)] if len(words) == 4 else words[agree.endswith("pl")]
        wanted = (form or "name").lower()
        text = table.get(wanted) if wanted != "agree" else None
        if text is None:
            known = ", ".join("{" + f"{slot}.{f}" + "}" if f != "name" else "{" + slot + "}" for f in table if f != "agree")
            raise ProbeError(f"{match[0]}: {language} has no such form; use {known}")
        return text[:1].upper() + text[1:] if form and form[0].isupper() else text

    return SLOT.sub(fill, template)
