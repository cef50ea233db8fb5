"""A study's matrix as the runner's jobs: for each model, every instrument × language × persona ×
order (and the country sweep's countries × conditions × order), item by item, and each of those
`repeats` times (the draws: a remote model is asked again for each, a local model's exact
probabilities are read once, from the response cache).

Each job's key names all of it, and the model entry's fingerprint (its file or id and settings):
the journal keeps one answer per key, so a rerun asks only what is missing, and a changed model
entry is asked afresh."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace

from ..core.conditions import country_condition
from ..core.instruments import get_instrument
from ..core.personas import get_persona
from ..core.runner import Job
from ..core.session import Condition
from .spec import ModelSpec, Study


@dataclass(frozen=True)
class Planned:
    """One prompt of the study: the runner's job, its instrument and the study's own columns."""

    job: Job
    instrument: str
    extras: dict  # study_model, country, condition, repeat: the study's own columns (rows.py gives variant and order)


def orders_for(study: Study, instrument_key: str) -> tuple[str, ...]:
    """The order factor's levels an instrument is asked under: a pair instrument balances its
    option orders itself (each pair both ways), so it is asked in its standard form only."""
    if get_instrument(instrument_key).screen == "pairs":
        return ("",)
    return study.orders


def conditions_of(study: Study) -> int:
    """How many conditions the matrix has (a country sweep's countries × conditions count as conditions)."""
    per_model = sum(len(study.languages) * len(study.personas) * len(orders_for(study, s.key)) for s in study.instruments)
    if study.countries is not None:
        per_model += len(study.countries.countries) * len(study.countries.conditions) * len(study.orders)
    return per_model * len(study.models)


def draw_suffix(draw: int) -> str:
    """A job key's repeat part: none for the first asking (so a study that adds repeats keeps its answers)."""
    return f"|repeat={draw + 1}" if draw else ""


def model_key(spec: ModelSpec, identity: str, params: dict) -> str:
    """The model part of every job key: the label, and a hash of the entry, the model's identity and
    the scoring parameters (so a changed n_ctx in config.toml is another model too)."""
    material = json.dumps([spec.fingerprint, identity, params], sort_keys=True, default=str)
    return f"{spec.label}@{hashlib.sha1(material.encode()).hexdigest()[:12]}"


def model_plan(study: Study, spec: ModelSpec, identity: str, params: dict) -> list[Planned]:
    """Every prompt the study asks this model (identity: what its answers name as their model;
    params: its backend's scoring parameters)."""
    base = model_key(spec, identity, params)
    plan = []
    for draw in range(study.repeats):
        plan += _one_asking(study, spec.label, base, identity, draw)
    return plan


def _one_asking(study: Study, label: str, base: str, identity: str, draw: int) -> list[Planned]:
    """Every prompt of the matrix once, as its draw-th asking."""
    plan, again = [], draw_suffix(draw)
    for variant in study.orders:  # "" (standard) or "order=reversed": core/variants.py's canonical strings
        extras = {"study_model": label, "repeat": draw + 1}
        for chosen in study.instruments:
            if variant not in orders_for(study, chosen.key):
                continue
            for language in study.languages:
                for persona_key in study.personas:
                    persona = get_persona(persona_key)
                    condition = Condition(identity, chosen.key, language, persona.key, variant)
                    for item in chosen.items:
                        key = f"{base}|{chosen.key}|{language}|{persona.key}|{variant}|{item.id}{again}"
                        plan.append(Planned(Job(key, item, condition, persona, draw=draw), chosen.key,
                                            extras | {"country": "", "condition": ""}))
        sweep = study.countries
        if sweep is not None:
            instrument = get_instrument(sweep.key)
            for condition_name in sweep.conditions:
                for country in sweep.countries:
                    condition, persona = country_condition(instrument, country, condition_name, identity)
                    condition = replace(condition, variant=variant)
                    for item in sweep.items:
                        key = f"{base}|{sweep.key}|countries={condition_name}|{country}|{variant}|{item.id}{again}"
                        plan.append(Planned(Job(key, item, condition, persona, country, draw=draw), sweep.key,
                                            extras | {"country": country, "condition": condition_name}))
    return plan


def by_instrument(plan: list[Planned]) -> list[tuple[str, list[Planned]]]:
    """The plan cut into runs of one instrument each (the runner asks one instrument at a time), in order."""
    runs: list[tuple[str, list[Planned]]] = []
    for planned in plan:
        if runs and runs[-1][0] == planned.instrument:
            runs[-1][1].append(planned)
        else:
            runs.append((planned.instrument, [planned]))
    return runs
