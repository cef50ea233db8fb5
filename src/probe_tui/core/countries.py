"""Country names per language, and the canonical name for every spelling the baselines use."""

from __future__ import annotations

from functools import cache

from . import paths
from .errors import unknown_choice
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


def slug(country: str) -> str:
    return canonical(country).casefold().replace(" ", "-")
