"""The study file: YAML, checked in full before anything runs, every error naming file:line:field.
Its keys (README, Studies; examples in assets/studies/): name, folder, models (each: name, and model
[with backend and its settings] or endpoint or endpoints), instruments (keys, or mappings with key
and an item subset), languages, personas, order (standard and/or reversed), repeats (how many times
each prompt is asked), countries (a country sweep: instrument, countries, conditions), groups (a
group baseline CSV) and bootstrap."""

from __future__ import annotations

import hashlib
import json
import os
import reprlib
from dataclasses import dataclass, field
from pathlib import Path

from ..core import paths
from ..core.conditions import COUNTRY_CONDITIONS, target_countries
from ..core.demo import _item_numbers
from ..core.errors import ItemFileError, ProbeError
from ..core.instruments import get_instrument
from ..core.personas import get_persona
from ..core.settings import get_settings
from ..core.yamlfile import META_KEYS, line_of, load_yaml

LOCAL_SETTINGS = {"n_ctx": int, "n_gpu_layers": int, "threads": int}
REMOTE_SETTINGS = {"base_url": str, "api_key_env": str, "mode": str, "samples": int, "temperature": (int, float), "seed": int,
                   "top_logprobs": int, "timeout": (int, float), "max_tokens": int}
REMOTE_BACKENDS = ("openai", "openai-completions", "anthropic")
MODES = ("auto", "logprobs", "sampled", "parsed")
ORDERS = {"standard": "", "reversed": "order=reversed"}  # the order factor's levels, as canonical variant strings
SUBGROUPS = "subgroups:"  # a persona entry naming a group baseline: every group of it
TOP_KEYS = ("name", "folder", "models", "instruments", "languages", "personas", "order", "repeats", "countries", "groups", "bootstrap")
MAX_REPEATS = 100
MODEL_KEYS = ("name", "model", "backend", "endpoint", "endpoints", "per_endpoint", "concurrency", "cache",
              *LOCAL_SETTINGS, *REMOTE_SETTINGS)


@dataclass(frozen=True)
class ModelSpec:
    label: str
    kind: str  # "local" (a GGUF file), "remote" (a model id on an API), "endpoint" (one named), "sharded" (several)
    model: str = ""  # local: the resolved GGUF path; remote: the model id (endpoint: an override, or "")
    backend: str = "llama"
    endpoints: tuple[str, ...] = ()
    per_endpoint: int = 4
    concurrency: int = 8  # remote: requests in flight at once
    cache: bool = True
    settings: dict = field(default_factory=dict)  # the local or remote settings given
    line: int | None = None

    @property
    def local(self) -> bool:
        return self.kind == "local"

    @property
    def fingerprint(self) -> str:
        """What the entry asks with, hashed: part of every journal key, so changing a model's file or
        settings under the same label never reuses the answers of the old one."""
        material = {"kind": self.kind, "model": self.model, "backend": self.backend, "endpoints": list(self.endpoints),
                    "settings": self.settings, "cache": self.cache}
        return hashlib.sha1(json.dumps(material, sort_keys=True).encode()).hexdigest()[:10]


@dataclass(frozen=True)
class InstrumentSpec:
    key: str
    items: tuple  # the instrument's items (or prompts) asked


@dataclass(frozen=True)
class CountrySweep:
    key: str
    items: tuple
    countries: tuple[str, ...]
    conditions: tuple[str, ...]


@dataclass(frozen=True)
class Study:
    path: Path
    name: str
    folder: Path
    models: tuple[ModelSpec, ...]
    instruments: tuple[InstrumentSpec, ...]
    languages: tuple[str, ...]
    personas: tuple[str, ...]  # canonical persona keys
    orders: tuple[str, ...]  # variant strings: "" (standard) and/or "order=reversed"
    countries: CountrySweep | None
    groups: Path | None
    bootstrap: int
    text: str  # the study file itself, for the report's provenance
    subgroups: tuple[str, ...] = ()  # group baselines whose every group is a persona (seed 003's sweep)
    repeats: int = 1  # each prompt asked this many times (draws 0..repeats-1; the `repeat` column counts from 1)


def _error(path, mapping, key, field_name, problem) -> ItemFileError:
    return ItemFileError(path, line_of(mapping, key), field_name, problem)


_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 40


def _got(value) -> str:
    """What the file gave, shortened, for the end of an error line."""
    return f"; got {_SHORT.repr(value)}"


def _unknown_keys(path, mapping: dict, known, context: str) -> None:
    for key in mapping:
        if key not in known and key not in META_KEYS:
            where = f"{context}.{key}" if context else str(key)
            raise _error(path, mapping, key, where, f"unknown setting; expected one of: {', '.join(known)}")


def _strings(path, data: dict, key: str, default: list[str]) -> list[str]:
    value = data.get(key, default)
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
        raise _error(path, data, key, key, "expected a list of names (or one name)")
    return [str(v).strip() for v in value]


def shipped_studies() -> dict[str, Path]:
    """The example studies in assets/studies/, by name."""
    return {p.stem: p for p in sorted((paths.assets_dir() / "studies").glob("*.yaml"))}


def study_path(given) -> Path:
    """A study file, or the name of a shipped example study (seed000-embedded...)."""
    path = Path(given)
    if not path.exists() and str(given) in shipped_studies():
        return shipped_studies()[str(given)]
    if not path.is_file():
        raise ProbeError(f"no study file {given}; shipped examples: {', '.join(shipped_studies())}")
    return path


def default_folder(path: Path) -> Path:
    """Beside the study file (NAME.study/), where a researcher looks for its results; in the data
    directory (studies/NAME.study/) when the file's folder cannot be written (a shipped example)."""
    if os.access(path.parent, os.W_OK):
        return path.parent / f"{path.stem}.study"
    return paths.user_data_dir() / "studies" / f"{path.stem}.study"


def load_study(given) -> Study:
    path = study_path(given)
    data = load_yaml(path)
    _unknown_keys(path, data, TOP_KEYS, "")
    name = str(data.get("name") or path.stem).strip()
    if not name or "/" in name or name.startswith("."):
        raise _error(path, data, "name", "name", f"expected a plain name (no '/', not starting with '.'){_got(name)}")
    folder_value = data.get("folder")
    if folder_value is not None and (not isinstance(folder_value, str) or not folder_value.strip()):
        raise _error(path, data, "folder", "folder", f"expected a folder path{_got(folder_value)}")
    folder = (path.parent / folder_value if folder_value else default_folder(path)).resolve()
    models = _models(path, data)
    languages = _strings(path, data, "languages", ["en"])
    personas, subgroups = [], []
    for spec in _strings(path, data, "personas", ["none"]):
        if spec.startswith(SUBGROUPS):
            subgroups.append(spec.removeprefix(SUBGROUPS).strip())
            continue
        try:
            personas.append(get_persona(spec).key)
        except ProbeError as exc:
            raise _error(path, data, "personas", "personas", str(exc)) from None
    orders = []
    for level in _strings(path, data, "order", ["standard"]):
        if level not in ORDERS:
            raise _error(path, data, "order", "order", f"unknown order {level!r}; choose standard and/or reversed")
        orders.append(ORDERS[level])
    instruments = _instruments(path, data, languages)
    countries = _countries(path, data)
    if not instruments and countries is None:
        raise _error(path, data, None, "instruments", "a study needs instruments (or a countries sweep)")
    groups = data.get("groups")
    if groups is not None:
        if not isinstance(groups, str) or not (path.parent / groups).is_file():
            raise _error(path, data, "groups", "groups", f"expected the path of a group baseline CSV; {groups!r} is not a file")
        groups = (path.parent / groups).resolve()
    personas += _subgroup_personas(path, data, subgroups, groups)
    repeats = data.get("repeats", 1)
    if not isinstance(repeats, int) or isinstance(repeats, bool) or not 1 <= repeats <= MAX_REPEATS:
        raise _error(path, data, "repeats", "repeats",
                     f"expected how many times each prompt is asked, a whole number from 1 to {MAX_REPEATS}{_got(repeats)}")
    bootstrap = data.get("bootstrap", 1000)
    if not isinstance(bootstrap, int) or isinstance(bootstrap, bool) or not 0 <= bootstrap <= 10_000:
        raise _error(path, data, "bootstrap", "bootstrap", f"expected a whole number of resamples from 0 to 10,000{_got(bootstrap)}")
    _no_duplicates(path, data, "personas", personas)
    _no_duplicates(path, data, "languages", languages)
    return Study(path=path.resolve(), name=name, folder=folder, models=tuple(models), instruments=tuple(instruments),
                 languages=tuple(languages), personas=tuple(personas), orders=tuple(dict.fromkeys(orders)), countries=countries,
                 groups=groups, bootstrap=bootstrap, text=path.read_text(encoding="utf-8"), subgroups=tuple(subgroups),
                 repeats=repeats)


def _subgroup_personas(path, data, baselines: list[str], groups: Path | None) -> list[str]:
    """`subgroups:NAME` in personas: the persona of every group of that group baseline (the study's
    `groups` file or one built with `probe-tui baselines build`), in the baseline's order."""
    if not baselines:
        return []
    from ..core.groups import load_group_baselines

    try:
        frame = load_group_baselines(groups)
    except ProbeError as exc:
        raise _error(path, data, "groups", "groups", str(exc)) from None
    keys = []
    for name in baselines:
        mine = frame[frame["baseline"] == name] if len(frame) else frame
        found = [key for key in dict.fromkeys(mine["persona"]) if str(key).strip()] if len(mine) else []
        if not found:
            known = ", ".join(sorted(frame["baseline"].unique())) if len(frame) else "none (build one with: probe-tui baselines build FILE)"
            raise _error(path, data, "personas", "personas", f"no group baseline {name!r} with personas; there are: {known}")
        keys += [get_persona(key).key for key in found]
    return keys


def _no_duplicates(path, data, key, values) -> None:
    seen = [v for i, v in enumerate(values) if v in values[:i]]
    if seen:
        raise _error(path, data, key, key, f"{seen[0]!r} is listed twice")


def _models(path, data: dict) -> list[ModelSpec]:
    entries = data.get("models")
    if not isinstance(entries, list) or not entries:
        raise _error(path, data, "models", "models", "expected a list of models, each a mapping with model (or endpoint)")
    models = []
    for number, entry in enumerate(entries):
        context = f"models[{number}]"
        if isinstance(entry, str):
            entry = {"model": entry, "__line__": line_of(data, "models"), "__lines__": {}}
        if not isinstance(entry, dict):
            raise _error(path, data, "models", context, "expected a mapping with model (or endpoint)")
        models.append(_model(path, entry, context))
    labels = [m.label for m in models]
    for number, label in enumerate(labels):
        if not label.isprintable() or "|" in label:
            raise _error(path, entries[number] if isinstance(entries[number], dict) else data, "name", f"models[{number}].name",
                         "a model's label must be printable text without '|'")
    for number, label in enumerate(labels):
        if label in labels[:number]:
            raise _error(path, entries[number] if isinstance(entries[number], dict) else data, "name", f"models[{number}].name",
                         f"the label {label!r} is used twice; give each model its own name")
    return models


def _model(path, entry: dict, context: str) -> ModelSpec:
    _unknown_keys(path, entry, MODEL_KEYS, context)
    line = line_of(entry)

    def setting(key, kind):
        value = entry[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise _error(path, entry, key, f"{context}.{key}", f"expected {kind.__name__ if isinstance(kind, type) else 'a number'}{_got(value)}")
        return value

    def whole(key, default):
        value = entry.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise _error(path, entry, key, f"{context}.{key}", f"expected a whole number of at least 1{_got(value)}")
        return value

    cache = entry.get("cache", True)
    if not isinstance(cache, bool):
        raise _error(path, entry, "cache", f"{context}.cache", f"expected true or false{_got(cache)}")
    model = entry.get("model")
    if model is not None and not isinstance(model, str):
        raise _error(path, entry, "model", f"{context}.model", "expected a model name, GGUF path or model id")
    endpoint, endpoints = entry.get("endpoint"), entry.get("endpoints")
    backend = entry.get("backend", "llama")
    if endpoint is not None and endpoints is not None:
        raise _error(path, entry, "endpoints", context, "give endpoint or endpoints, not both")
    if endpoints is not None:
        if not isinstance(endpoints, list) or len(endpoints) < 2 or not all(isinstance(e, str) for e in endpoints):
            raise _error(path, entry, "endpoints", f"{context}.endpoints", "expected a list of two or more endpoint names")
        kind = "sharded"
    elif endpoint is not None:
        if not isinstance(endpoint, str) or not endpoint:
            raise _error(path, entry, "endpoint", f"{context}.endpoint", "expected an endpoint name")
        endpoints, kind = [endpoint], "endpoint"
    elif backend == "llama":
        kind = "local"
    elif backend in REMOTE_BACKENDS:
        kind = "remote"
    else:
        raise _error(path, entry, "backend", f"{context}.backend", f"unknown backend {backend!r}; choose llama, {', '.join(REMOTE_BACKENDS)}")
    given = {key: setting(key, kind_) for key, kind_ in (LOCAL_SETTINGS | REMOTE_SETTINGS).items() if key in entry}
    if kind == "local":
        wrong = [key for key in given if key in REMOTE_SETTINGS and key != "mode"]
        if wrong:
            raise _error(path, entry, wrong[0], f"{context}.{wrong[0]}", "applies to remote models only (backend openai, "
                         "openai-completions or anthropic, or an endpoint)")
        if given.pop("mode", "logprobs") != "logprobs":
            raise _error(path, entry, "mode", f"{context}.mode", "a local GGUF model is scored by its logprobs; mode must be logprobs")
        from ..backends.models import resolve_model

        spec = model or None
        if spec and (spec.endswith(".gguf") or "/" in spec) and not Path(spec).is_absolute():
            spec = str((path.parent / spec).resolve())  # a GGUF path, relative to the study file
        try:
            resolved = str(resolve_model(spec))
        except ProbeError as exc:
            raise _error(path, entry, "model", f"{context}.model", str(exc)) from None
        label = str(entry.get("name") or Path(resolved).stem)
        return ModelSpec(label=label, kind=kind, model=resolved, settings=given, cache=cache, line=line)
    wrong = [key for key in given if key in LOCAL_SETTINGS]
    if wrong:
        raise _error(path, entry, wrong[0], f"{context}.{wrong[0]}", "applies to local GGUF models only")
    if "mode" in given and given["mode"] not in MODES:
        raise _error(path, entry, "mode", f"{context}.mode", f"unknown mode {given['mode']!r}; choose one of: {', '.join(MODES)}")
    if kind == "remote" and (not model or "base_url" not in given):
        raise _error(path, entry, "backend", context, f"backend {backend} needs model (the model id) and base_url")
    if kind in ("endpoint", "sharded"):
        from ..backends.remote import load_endpoints

        known = load_endpoints()
        for name in endpoints:
            if name not in known:
                listed = ", ".join(sorted(known)) or "none yet (add one with: probe-tui endpoints add NAME ...)"
                raise _error(path, entry, "endpoints" if kind == "sharded" else "endpoint", f"{context}.endpoint",
                             f"unknown endpoint {name!r}; saved endpoints: {listed}")
    label = str(entry.get("name") or model or endpoints[0])
    return ModelSpec(label=label, kind=kind, model=model or "", backend=backend if kind == "remote" else "", endpoints=tuple(endpoints or ()),
                     per_endpoint=whole("per_endpoint", 4), concurrency=whole("concurrency", 8), cache=cache, settings=given, line=line)


def _item_subset(path, entry: dict, instrument, context: str) -> tuple:
    if instrument.screen == "pairs":
        pairs, scenarios = entry.get("pairs"), entry.get("scenarios")
        if pairs is not None and not isinstance(pairs, str):
            raise _error(path, entry, "pairs", f"{context}.pairs", "expected pairs such as USA-China,France-China")
        if scenarios is not None and (not isinstance(scenarios, int) or isinstance(scenarios, bool) or scenarios < 1):
            raise _error(path, entry, "scenarios", f"{context}.scenarios", f"expected a whole number of scenarios{_got(scenarios)}")
        try:
            return tuple(instrument.select_items(None, pairs, scenarios))
        except ProbeError as exc:
            raise _error(path, entry, "pairs", context, str(exc)) from None
    if "items" not in entry:
        return tuple(instrument.items)
    items = []
    for code in _item_numbers(entry["items"], path, line_of(entry, "items"), f"{context}.items"):
        item = instrument.find_item(code)
        if item is None:
            raise _error(path, entry, "items", f"{context}.items", f"{instrument.key} has no item {code!r}")
        items.append(item)
    return tuple({item.id: item for item in items}.values())


def _instrument_entry(path, entry, parent, context: str, allowed) -> tuple[dict, object]:
    if isinstance(entry, str):
        entry = {"key": entry, "__line__": line_of(parent), "__lines__": {"key": line_of(parent)}}
    if not isinstance(entry, dict) or not isinstance(entry.get("key", entry.get("instrument")), str):
        raise _error(path, parent, None, context, "expected an instrument key, or a mapping with key and items")
    _unknown_keys(path, entry, allowed, context)
    key = entry.get("key", entry.get("instrument"))
    try:
        return entry, get_instrument(key)
    except ProbeError as exc:
        raise _error(path, entry, "key", f"{context}.key", str(exc)) from None


def _instruments(path, data: dict, languages: list[str]) -> list[InstrumentSpec]:
    entries = data.get("instruments", [])
    if isinstance(entries, str):
        entries = [entries]
    if not isinstance(entries, list):
        raise _error(path, data, "instruments", "instruments", "expected a list of instrument keys")
    chosen = []
    for number, entry in enumerate(entries):
        context = f"instruments[{number}]"
        entry, instrument = _instrument_entry(path, entry, data if isinstance(entry, str) else entry, context,
                                              ("key", "items", "pairs", "scenarios"))
        for language in languages:
            if language not in instrument.languages:
                raise _error(path, data, "languages", "languages",
                             f"{instrument.key} has no language {language!r}; it has {', '.join(instrument.languages)}")
        if any(spec.key == instrument.key for spec in chosen):
            raise _error(path, entry, "key", f"{context}.key", f"{instrument.key} is listed twice")
        chosen.append(InstrumentSpec(instrument.key, _item_subset(path, entry, instrument, context)))
    return chosen


def _countries(path, data: dict) -> CountrySweep | None:
    block = data.get("countries")
    if block is None:
        return None
    if not isinstance(block, dict):
        raise _error(path, data, "countries", "countries", "expected a mapping: instrument, countries, conditions")
    _unknown_keys(path, block, ("instrument", "items", "countries", "conditions"), "countries")
    block.setdefault("instrument", get_settings().countries_instrument)  # the countries view's instrument
    block, instrument = _instrument_entry(path, block, block, "countries", ("instrument", "items", "countries", "conditions"))
    if instrument.screen != "items":
        raise _error(path, block, "instrument", "countries.instrument", f"a country sweep asks survey instruments, not {instrument.key}")
    chosen = block.get("countries", "all")
    spec = ",".join(map(str, chosen)) if isinstance(chosen, list) else str(chosen)
    try:
        countries = target_countries(instrument, spec)
    except ProbeError as exc:
        raise _error(path, block, "countries", "countries.countries", str(exc)) from None
    conditions = _strings(path, block, "conditions", ["aligned"])
    for name in conditions:
        if name not in COUNTRY_CONDITIONS:
            raise _error(path, block, "conditions", "countries.conditions",
                         f"unknown condition {name!r}; choose from {', '.join(COUNTRY_CONDITIONS)}")
    return CountrySweep(instrument.key, _item_subset(path, block, instrument, "countries"), tuple(countries), tuple(dict.fromkeys(conditions)))
