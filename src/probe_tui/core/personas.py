"""Personas: who the model is asked to answer as.

- shipped ones (assets/personas/personas.yaml) and the user's (<user_data_dir>/personas/*.yaml);
- `country:<name>`: an average person from any country in assets/countries.yaml, under one key
  however the country is spelt (a named persona that is a country's, such as `cn_average`, gives
  that country's key: `country:china` and `country:PRC` are `cn_average`);
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
    national_keys: dict[str, str] = field(default_factory=dict)  # canonical country -> its named persona's key
    nationals: dict[str, Persona] = field(default_factory=dict, repr=False)  # national personas made so far


def _strip(mapping: dict) -> dict[str, str]:
    return {k: str(v) for k, v in mapping.items() if k not in META_KEYS}


def _texts(value, path: Path, line: int | None, field_name: str) -> dict[str, str]:
    """A mapping of language -> text from a persona file, checked: both sides must be text."""
    texts = {}
    for lang, text in value.items():
        if lang in META_KEYS:
            continue
        if not isinstance(lang, str) or not isinstance(text, str):
            raise ItemFileError(path, line_of(value, str(lang)) or line, f"{field_name}.{lang}", "expected language: text")
        texts[lang] = text
    return texts


NO_PERSONA = "none"


def _read_personas(path: Path, data: dict, bank: PersonaBank, user: bool = False) -> dict[str, Persona]:
    """The file's personas; an entry `{country: X}` is X's national persona under that key. A user's
    file may not redefine `none`: it means no persona at all."""
    entries = require(data, "personas", dict, path)
    personas = {}
    for key, entry in entries.items():
        if key in META_KEYS:
            continue
        if not isinstance(key, str):
            raise ItemFileError(path, line_of(entries, str(key)), f"personas.{key}", "a persona key must be text (quote it)")
        if ":" in key:
            raise ItemFileError(path, line_of(entries), f"personas.{key}", "a persona key may not contain ':'")
        if user and key == NO_PERSONA:
            raise ItemFileError(path, line_of(entries), f"personas.{key}", "the key 'none' means no persona; give yours another key")
        if not isinstance(entry, dict):
            raise ItemFileError(path, line_of(entries), f"personas.{key}", "expected a mapping with name and text, or a country")
        if "country" in entry:
            try:
                country = countries.canonical(str(entry["country"]))
            except ProbeError as exc:
                raise ItemFileError(path, line_of(entry, "country"), f"personas.{key}.country", str(exc)) from None
            if bank.national_keys.get(country, key) != key:
                raise ItemFileError(path, line_of(entry, "country"), f"personas.{key}.country",
                                    f"{country} already has a persona: {bank.national_keys[country]}")
            bank.national_keys[country] = key
            personas[key] = national_persona(country, bank)
            continue
        bank.national_keys = {c: k for c, k in bank.national_keys.items() if k != key}  # a persona of its own now
        name = require(entry, "name", dict, path, f"personas.{key}")
        text = entry.get("text")
        if text is not None and not isinstance(text, (dict, str)):
            raise ItemFileError(path, line_of(entry), f"personas.{key}.text", "expected null, a text, or a mapping of language -> text")
        if isinstance(text, str):
            text = {ANY_LANGUAGE: text}
        text = _texts(text, path, line_of(entry, "text"), f"personas.{key}.text") if text else None
        personas[key] = Persona(key=key, name=_texts(name, path, line_of(entry, "name"), f"personas.{key}.name"), text=text)
    return personas


def user_personas_dir() -> Path:
    return paths.user_data_dir() / "personas"


def load_persona_bank(user_dir: Path | None = None) -> PersonaBank:
    path = paths.assets_dir() / "personas" / "personas.yaml"
    data = load_yaml(path)
    bank = PersonaBank(national=data["national"], subgroup=data["subgroup"])
    bank.personas = _read_personas(path, data, bank)
    user_dir = user_dir if user_dir is not None else user_personas_dir()
    for user_file in sorted(user_dir.glob("*.yaml")) if user_dir.is_dir() else []:
        national_keys = dict(bank.national_keys)
        try:
            bank.personas.update(_read_personas(user_file, load_yaml(user_file), bank, user=True))
        except ProbeError as exc:
            bank.problems.append(str(exc))
            bank.national_keys = national_keys  # a broken file changes nothing
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
    """An average person from the country, under the key of its named persona if it has one
    (cn_average), else country:<slug>; the same persona whichever spelling names the country."""
    bank = bank or persona_bank()
    name = countries.canonical(country)
    key = bank.national_keys.get(name, f"country:{countries.slug(name)}")

    def fill(template: dict) -> dict[str, str]:
        return {lang: countries.render(text, {"country": name}, lang) for lang, text in _strip(template).items()}

    if bank.nationals.get(name, Persona(None, {}, None)).key != key:
        bank.nationals[name] = Persona(key=key, name=fill(bank.national["name"]), text=fill(bank.national["text"]))
    return bank.nationals[name]


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
    _canonical_key.cache_clear()
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
    """spec: "country=singapore,ethnicity=malay,..." in any order: the prompt and the key list the
    attributes in personas.yaml's order, so one subgroup is one persona however it is written."""
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
        if attributes[attribute]["values"] == "countries":
            value = countries.slug(value)  # one key however the country is spelt
        if attribute in dict(chosen):
            raise ProbeError(f"subgroup attribute {attribute!r} is given twice")
        chosen.append((attribute, value))
    chosen.sort(key=lambda pair: list(attributes).index(pair[0]))
    if not chosen:
        raise ProbeError("a subgroup persona needs at least one attribute, e.g. subgroup:country=singapore,ethnicity=malay")
    languages = [lang for lang in _strip(definition["intro"])]
    text, name = {}, {}
    for lang in languages:
        parts = []
        for attribute, value in chosen:
            spec_values = attributes[attribute]["values"]
            if spec_values == "countries":
                shown = countries.name_in(value, lang)
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


def canonical_key(spec: str, personas: dict[str, Persona] | None = None) -> str:
    """The one key a persona is recorded under, however it was named ("country:PRC" -> cn_average);
    a spec that names no persona now (say, from a user's file since removed) stays as it is."""
    if personas is None:
        return _canonical_key(spec)
    try:
        return get_persona(spec, personas).key
    except ProbeError:
        return spec


@cache
def _canonical_key(spec: str) -> str:  # a session's every row is read back through it: once per spec
    return canonical_key(spec, load_personas())


def get_persona(spec: str, personas: dict[str, Persona] | None = None) -> Persona:
    """A persona by key, or composed from `country:`, `subgroup:` or `custom:` specs; its key is
    the canonical one (get_persona("country:china").key == "cn_average")."""
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
