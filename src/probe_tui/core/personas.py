"""Personas: who the model is asked to answer as."""

from __future__ import annotations

from dataclasses import dataclass

from . import paths
from .errors import ItemFileError, unknown_choice
from .yamlfile import line_of, load_yaml, require


@dataclass(frozen=True)
class Persona:
    key: str
    name: dict[str, str]  # language -> display name
    text: dict[str, str] | None  # language -> instruction; None means no persona

    def name_in(self, language: str) -> str:
        return self.name.get(language) or self.name.get("en") or self.key

    def text_in(self, language: str) -> str | None:
        if self.text is None:
            return None
        if language not in self.text:
            raise unknown_choice(f"language for persona {self.key}", language, [k for k in self.text if k != "__line__"])
        return self.text[language]


def load_personas(path=None) -> dict[str, Persona]:
    path = path or paths.assets_dir() / "personas" / "personas.yaml"
    data = require(load_yaml(path), "personas", dict, path)
    personas = {}
    for key, entry in data.items():
        if key == "__line__":
            continue
        if not isinstance(entry, dict):
            raise ItemFileError(path, line_of(data), f"personas.{key}", "expected a mapping with name and text")
        name = require(entry, "name", dict, path, f"personas.{key}")
        text = entry.get("text")
        if text is not None and not isinstance(text, dict):
            raise ItemFileError(path, line_of(entry), f"personas.{key}.text", "expected null or a mapping of language -> text")
        strip = lambda d: {k: str(v) for k, v in d.items() if k != "__line__"}  # noqa: E731
        personas[key] = Persona(key=key, name=strip(name), text=strip(text) if text else None)
    return personas


def get_persona(key: str, personas: dict[str, Persona] | None = None) -> Persona:
    personas = personas if personas is not None else load_personas()
    if key not in personas:
        raise unknown_choice("persona", key, personas)
    return personas[key]
