"""Personas: who the model is asked to answer as.

- shipped ones (assets/personas/personas.yaml) and the user's (<user_data_dir>/personas/*.yaml);
- `country:<name>`: an average person from any country in assets/countries.yaml;
- `subgroup:attr=value,...`: a demographic subgroup composed from attributes;
- `custom:<text>`: free text, used as it is in every language.

Persona text is data: it goes into the prompt verbatim and is never evaluated as a template.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from . import countries, paths
from .errors import ItemFileError, ProbeError, unknown_choice
from .yamlfile import META_KEYS, line_of, load_yaml, require

ANY_LANGUAGE = "*"


@dataclass(frozen=True)
class Persona:
    key: str
    name: dict[str, str]  # language -> display name
    text: dict[str, str] | None  # language -> instruction ("*": any language); None means no persona

    def name_in(self, language: str) -> str:
        return self.name.get(language) or self.name.get("en") or self.key

    def text_in(self, language: str) -> str | None:
        if self.text is None:
            return None
        text = self.text.get(language) or self.text.get(ANY_LANGUAGE)
        if text is None:
            raise unknown_choice(f"language for persona {self.key}", language, [k for k in self.text if k != ANY_LANGUAGE])
        return text


@dataclass
class PersonaBank:
    personas: dict[str, Persona] = field(default_factory=dict)
    national: dict = field(default_factory=dict)
    subgroup: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _strip(mapping: dict) -> dict[str, str]:
    return {k: str(v) for k, v in mapping.items() if k not in META_KEYS}


def _read_personas(path: Path, data: dict) -> dict[str, Persona]:
    entries = require(data, "personas", dict, path)
    personas = {}
    for key, entry in entries.items():
        if key in META_KEYS:
            continue
        if ":" in key:
            raise ItemFileError(path, line_of(entries), f"personas.{key}", "a persona key may not contain ':'")
        if not isinstance(entry, dict):
            raise ItemFileError(path, line_of(entries), f"personas.{key}", "expected a mapping with name and text")
        name = require(entry, "name", dict, path, f"personas.{key}")
        text = entry.get("text")
        if text is not None and not isinstance(text, (dict, str)):
            raise ItemFileError(path, line_of(entry), f"personas.{key}.text", "expected null, a text, or a mapping of language -> text")
        if isinstance(text, str):
            text = {ANY_LANGUAGE: text}
        personas[key] = Persona(key=key, name=_strip(name), text=_strip(text) if text else None)
    return personas


def user_personas_dir() -> Path:
    return paths.user_data_dir() / "personas"


def load_persona_bank(user_dir: Path | None = None) -> PersonaBank:
    path = paths.assets_dir() / "personas" / "personas.yaml"
    data = load_yaml(path)
    bank = PersonaBank(personas=_read_personas(path, data), national=data["national"], subgroup=data["subgroup"])
    user_dir = user_dir if user_dir is not None else user_personas_dir()
    for user_file in sorted(user_dir.glob("*.yaml")) if user_dir.is_dir() else []:
        try:
            bank.personas.update(_read_personas(user_file, load_yaml(user_file)))
        except ProbeError as exc:
            bank.problems.append(str(exc))
    return bank


@cache
def _cached_bank(user_dir: Path) -> PersonaBank:
    return load_persona_bank(user_dir)


def persona_bank() -> PersonaBank:
    return _cached_bank(user_personas_dir())


def load_personas() -> dict[str, Persona]:
    """The named personas (shipped and the user's), in file order."""
    return persona_bank().personas


def national_persona(country: str, bank: PersonaBank | None = None) -> Persona:
    bank = bank or persona_bank()
    name = countries.canonical(country)

    def fill(template: dict) -> dict[str, str]:
        return {lang: text.replace("{country}", countries.name_in(name, lang)) for lang, text in _strip(template).items()}

    return Persona(key=f"country:{countries.slug(name)}", name=fill(bank.national["name"]), text=fill(bank.national["text"]))


def save_persona(name: str, text: str, user_dir: Path | None = None) -> Persona:
    """Write a custom persona (the same text in every language) to the user's personas folder, as a
    file of its own, and make it part of the persona bank. Returns it under its new key."""
    import re

    import yaml

    name, text = name.strip(), text.strip()
    if not name or not text:
        raise ProbeError("a custom persona needs a name and a text")
    key = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "custom"
    user_dir = user_dir if user_dir is not None else user_personas_dir()
    user_dir.mkdir(parents=True, exist_ok=True)
    path = user_dir / f"{key}.yaml"
    path.write_text(yaml.safe_dump({"personas": {key: {"name": {"en": name}, "text": text}}}, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    _cached_bank.cache_clear()
    return Persona(key=key, name={"en": name}, text={ANY_LANGUAGE: text})


def subgroup_attributes(bank: PersonaBank | None = None) -> dict[str, dict[str, str]]:
    """attribute -> {value key: value shown in English}, for composing a subgroup (countries included)."""
    bank = bank or persona_bank()
    result = {}
    for attribute, spec in bank.subgroup["attributes"].items():
        if attribute in META_KEYS:
            continue
        values = spec["values"]
        if values == "countries":
            result[attribute] = {countries.slug(c): c for c in countries.countries()}
        else:
            result[attribute] = {key: _strip(shown)["en"] for key, shown in values.items() if key not in META_KEYS}
    return result


def subgroup_persona(spec: str, bank: PersonaBank | None = None) -> Persona:
    """spec: "country=singapore,ethnicity=malay,..." (attributes in the order given)."""
    bank = bank or persona_bank()
    definition = bank.subgroup
    attributes = definition["attributes"]
    chosen: list[tuple[str, str]] = []
    for part in [p for p in spec.split(",") if p.strip()]:
        attribute, _, value = part.partition("=")
        attribute, value = attribute.strip(), value.strip()
        if attribute not in attributes or attribute in META_KEYS:
            raise unknown_choice("subgroup attribute", attribute, [a for a in attributes if a not in META_KEYS])
        if not value:
            raise ProbeError(f"subgroup attribute {attribute!r} needs a value, as in {attribute}=...")
        chosen.append((attribute, value))
    if not chosen:
        raise ProbeError("a subgroup persona needs at least one attribute, e.g. subgroup:country=singapore,ethnicity=malay")
    languages = [lang for lang in _strip(definition["intro"])]
    text, name = {}, {}
    for lang in languages:
        parts = []
        for attribute, value in chosen:
            spec_values = attributes[attribute]["values"]
            if spec_values == "countries":
                shown = countries.name_in(countries.canonical(value), lang)
            else:
                if value not in spec_values or value in META_KEYS:
                    raise unknown_choice(f"value for {attribute}", value, [v for v in spec_values if v not in META_KEYS])
                shown = _strip(spec_values[value])[lang]
            parts.append(f"{_strip(attributes[attribute]['label'])[lang]}{definition['colon'][lang]}{shown}")
        description = definition["separator"][lang].join(parts)
        text[lang] = f"{definition['intro'][lang]}\n{description}"
        name[lang] = description
    key = "subgroup:" + ",".join(f"{a}={v}" for a, v in chosen)
    return Persona(key=key, name=name, text=text)


def get_persona(spec: str, personas: dict[str, Persona] | None = None) -> Persona:
    """A persona by key, or composed from `country:`, `subgroup:` or `custom:` specs."""
    personas = personas if personas is not None else load_personas()
    if spec in personas:
        return personas[spec]
    kind, _, rest = spec.partition(":")
    if kind == "country" and rest:
        return national_persona(rest)
    if kind == "subgroup":
        return subgroup_persona(rest)
    if kind == "custom" and rest.strip():
        text = rest.strip()
        return Persona(key=spec, name={ANY_LANGUAGE: text[:40]}, text={ANY_LANGUAGE: text})
    raise unknown_choice("persona", spec, list(personas) + ["country:<name>", "subgroup:<attr>=<value>,...", "custom:<text>"])
