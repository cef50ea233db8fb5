"""`probe-tui baselines build`: group baselines from the survey microdata a researcher has (WVS-7,
EVS or IVS, as CSV, SPSS .sav or Stata .dta), read in chunks with pandas and pyreadstat.

The survey's variables are matched to the project's items by their official codes (Q177 is the item
whose code is Q177; --items Q177=F114A names another variable). Negative values are missing codes and
are dropped. For each group (--by country,sex,...) and item: the weighted answer distribution, the
weighted mean, the modal answer (the lowest of tied ones) and n (respondents who answered). Groups with
fewer respondents than --min-n are left out and named. The result is a group-baseline CSV in the format
core/groups.py reads, with a provenance file beside it (<name>.json: the source file's name and
SHA-256, the wave, the weight variable, the date). How group labels become personas is in
assets/baselines/survey_variables.yaml.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from . import countries, paths
from .errors import ProbeError
from .yamlfile import META_KEYS, load_yaml

SUFFIXES = (".csv", ".sav", ".zsav", ".dta")
CHUNK_ROWS = 50_000
NAME = re.compile(r"[A-Za-z0-9_.-]+")


def _plain_data(value):
    """The YAML's data without the line numbers load_yaml keeps."""
    if isinstance(value, dict):
        return {k: _plain_data(v) for k, v in value.items() if k not in META_KEYS}
    if isinstance(value, list):
        return [_plain_data(v) for v in value]
    return value


@cache
def survey_variables() -> dict:
    return _plain_data(load_yaml(paths.assets_dir() / "baselines" / "survey_variables.yaml"))


# --- the command line's specs ---------------------------------------------------------------------

def parse_items(spec: str) -> dict[str, str]:
    """"Q177-Q195,Q200=V12" -> item code -> the survey variable holding it (the same name unless given)."""
    chosen: dict[str, str] = {}
    for part in [p.strip() for p in spec.split(",") if p.strip()]:
        code, _, variable = part.partition("=")
        span = re.fullmatch(r"([A-Za-z_]*)(\d+)-\1?(\d+)", code.strip())
        if span and not variable:
            prefix, first, last = span.group(1), int(span.group(2)), int(span.group(3))
            if last < first:
                raise ProbeError(f"--items: {part!r} runs backwards")
            width = len(span.group(2))
            chosen.update({f"{prefix}{n:0{width}d}": f"{prefix}{n:0{width}d}" for n in range(first, last + 1)})
        else:
            chosen[code.strip()] = variable.strip() or code.strip()
    if not chosen:
        raise ProbeError("--items names no item, e.g. --items Q177-Q195")
    return chosen


def parse_by(spec: str) -> list[tuple[str, str | None]]:
    """"country,sex=V225" -> [(attribute, variable or None for the default one)]."""
    known = survey_variables()["attributes"]
    chosen = []
    for part in [p.strip() for p in spec.split(",") if p.strip()]:
        attribute, _, variable = part.partition("=")
        attribute = attribute.strip()
        if attribute not in known:
            raise ProbeError(f"--by: unknown attribute {attribute!r}; expected some of: {', '.join(known)} (ATTRIBUTE=VARIABLE names the variable)")
        chosen.append((attribute, variable.strip() or None))
    if not chosen:
        raise ProbeError("--by names no attribute, e.g. --by country,sex")
    if len({a for a, _ in chosen}) != len(chosen):
        raise ProbeError("--by names an attribute twice")
    return chosen


def resolve_items(codes, instrument_key: str | None = None) -> dict[str, tuple]:
    """item code -> (instrument, item): the one instrument that has an item of that code."""
    from .instruments import available_instruments

    instruments = [i for i in available_instruments().values() if hasattr(i, "scale")]
    if instrument_key:
        instruments = [i for i in instruments if i.key == instrument_key]
        if not instruments:
            raise ProbeError(f"--instrument: no survey instrument {instrument_key!r}")
    found = {}
    for code in codes:
        holders = [(i, item) for i in instruments for item in i.items if item.code == code]
        if not holders:
            raise ProbeError(f"--items: no instrument has an item with code {code!r}")
        if len(holders) > 1:
            raise ProbeError(f"--items: several instruments have an item {code!r} ({', '.join(i.key for i, _ in holders)}); choose one with --instrument")
        found[code] = holders[0]
    return found


# --- reading the file -------------------------------------------------------------------------------

@dataclass
class SurveyFile:
    path: Path
    columns: list[str]
    rows: int | None
    value_labels: dict[str, dict] = field(default_factory=dict)
    separator: str = ","  # a CSV's: "," or ";" (some survey exports), read from its header

    @property
    def kind(self) -> str:
        return self.path.suffix.lower()


def _readstat(kind: str):
    import pyreadstat

    return pyreadstat.read_dta if kind == ".dta" else pyreadstat.read_sav


def _read_errors() -> tuple:
    import pyreadstat

    return (pyreadstat.ReadstatError, pyreadstat.PyreadstatError, OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError)


def open_survey(path: Path) -> SurveyFile:
    """The file's variables, row count and value labels, read without its data."""
    kind = path.suffix.lower()
    if kind not in SUFFIXES:
        raise ProbeError(f"{path}: expected survey microdata as .csv, .sav or .dta, not {path.suffix or 'a file without a suffix'}")
    if not path.is_file():
        raise ProbeError(f"{path}: no such file")
    try:
        if kind == ".csv":
            with open(path, encoding="utf-8-sig") as handle:
                header = handle.readline()
            separator = ";" if header.count(";") > header.count(",") else ","
            columns = list(pd.read_csv(path, nrows=0, encoding="utf-8-sig", sep=separator).columns)
            return SurveyFile(path, [str(c) for c in columns], None, separator=separator)
        _, meta = _readstat(kind)(str(path), metadataonly=True)
    except _read_errors() as exc:
        raise ProbeError(f"cannot read {path} as {kind[1:]} microdata: {' '.join(str(exc).split())[:200]}") from None
    except pd.errors.EmptyDataError:
        raise ProbeError(f"{path}: the file is empty") from None
    rows = meta.number_rows if meta.number_rows and meta.number_rows > 0 else None
    return SurveyFile(path, list(meta.column_names), rows, dict(meta.variable_value_labels or {}))


def chunks(survey: SurveyFile, usecols: list[str]):
    """The file's rows, CHUNK_ROWS at a time, only the columns used."""
    try:
        if survey.kind == ".csv":
            yield from pd.read_csv(survey.path, usecols=usecols, chunksize=CHUNK_ROWS, encoding="utf-8-sig", low_memory=False,
                                   sep=survey.separator)
            return
        import pyreadstat

        for frame, _ in pyreadstat.read_file_in_chunks(_readstat(survey.kind), str(survey.path), chunksize=CHUNK_ROWS, usecols=usecols):
            yield frame
    except _read_errors() as exc:
        raise ProbeError(f"cannot read {survey.path}: {' '.join(str(exc).split())[:200]}") from None


def file_digest(path: Path) -> tuple[str, int]:
    """The file's SHA-256 and its number of lines (a CSV's rows, for the progress bar)."""
    digest, lines = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            lines += block.count(b"\n")
    return digest.hexdigest(), lines


# --- group labels -> persona attribute values --------------------------------------------------------

def _plain(value):
    """1.0 -> 1, so codes read from CSV and .sav meet the same tables (numpy's scalars as Python's)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _country(text: str) -> str | None:
    """A canonical country name for a name, alias, ISO 3166 code or value label; None if unknown."""
    text = str(text).strip()
    try:
        return countries.canonical(text)
    except ProbeError:
        pass
    import pycountry

    found = None
    try:
        found = pycountry.countries.get(alpha_3=text.upper()) if len(text) == 3 and text.isalpha() else None
        found = found or (pycountry.countries.get(alpha_2=text.upper()) if len(text) == 2 and text.isalpha() else None)
        found = found or (pycountry.countries.get(numeric=f"{int(float(text)):03d}") if re.fullmatch(r"\d+(\.0)?", text) else None)
    except (KeyError, LookupError, ValueError):
        found = None
    iso_names = survey_variables().get("iso_names", {})
    for name in [getattr(found, key, None) for key in ("common_name", "name", "official_name")] if found else []:
        if not name:
            continue
        try:
            return countries.canonical(iso_names.get(name, name))
        except ProbeError:
            continue
    return None


@dataclass
class Attribute:
    """One --by attribute: its variable and how a raw value becomes (shown label, persona value or None)."""

    name: str
    variable: str
    default_variable: bool
    spec: dict
    labels: dict  # the variable's value labels (raw code -> text), where the file has them
    persona_values: dict[str, str]  # value key -> shown in English (personas.yaml)
    cache: dict = field(default_factory=dict)  # raw value -> (label, persona value)
    persona_of: dict = field(default_factory=dict)  # label -> persona value (None: none)

    def map(self, raw) -> tuple[str, str | None] | None:
        """None: missing (NaN or a negative code)."""
        if raw is None or (isinstance(raw, float) and math.isnan(raw)) or (isinstance(raw, str) and not raw.strip()):
            return None
        raw = _plain(raw)
        if isinstance(raw, (int, float)) and raw < 0:
            return None
        if raw not in self.cache:
            self.cache[raw] = self._map(raw)
        return self.cache[raw]

    def _map(self, raw) -> tuple[str, str | None]:
        label = str(self.labels.get(raw, self.labels.get(float(raw), raw)) if isinstance(raw, (int, float)) else self.labels.get(raw, raw))
        if self.spec.get("values") == "countries":
            country = _country(label) or _country(str(raw))
            return (country, countries.slug(country)) if country else (label, None)
        if "bins" in self.spec:
            try:
                years = float(raw)
            except (TypeError, ValueError):
                return label, None
            for value, (low, high) in self.spec["bins"].items():
                if low <= years <= high:
                    return str(value), str(value)
            return f"{self.name} {label}", None
        if self.default_variable and isinstance(raw, int) and raw in self.spec.get("codes", {}):
            value = str(self.spec["codes"][raw])
            return value, value
        return self._by_label(label)

    def _by_label(self, label: str) -> tuple[str, str | None]:
        text = label.strip().lower()
        for key, shown in self.persona_values.items():
            if text in (key.lower(), shown.lower()):
                return key, key
        for word, key in self.spec.get("words", {}).items():
            if re.search(rf"\b{re.escape(word)}\b", text):
                return str(key), str(key)
        return label.strip(), None


def attributes_for(by, survey: SurveyFile) -> list[Attribute]:
    from .personas import subgroup_attributes

    specs = survey_variables()["attributes"]
    values = subgroup_attributes()
    chosen = []
    for name, variable in by:
        default = variable is None
        if default:
            variable = next((v for v in specs[name]["variables"] if v in survey.columns), None)
            if variable is None:
                raise ProbeError(f"{survey.path}: no variable for {name} (tried {', '.join(specs[name]['variables'])}); "
                                 f"name it with --by {name}=VARIABLE")
        elif variable not in survey.columns:
            raise ProbeError(f"{survey.path}: unknown variable {variable!r} (for --by {name})")
        chosen.append(Attribute(name, variable, default, specs[name], survey.value_labels.get(variable, {}), values.get(name, {})))
    return chosen


# --- building ------------------------------------------------------------------------------------------

@dataclass
class BuildResult:
    path: Path
    provenance: dict
    groups: int
    left_out: dict[str, int]  # group -> its respondents, under --min-n
    no_persona: list[str]  # groups whose labels map to no persona
    rows: int  # respondents read


def _weights(frame: pd.DataFrame, weight: str | None, path: Path) -> pd.Series:
    if weight is None:
        return pd.Series(1.0, index=frame.index)
    values = pd.to_numeric(frame[weight], errors="coerce")
    bad = values.isna() | ~np.isfinite(values)
    if bad.any():
        raise ProbeError(f"{path}: weight variable {weight} has a missing or non-numeric value ({int(bad.sum())} row(s))")
    if (values < 0).any():
        raise ProbeError(f"{path}: weight variable {weight} has negative values ({int((values < 0).sum())} row(s)); weights must be 0 or more")
    return values.astype(float)


def _answers(frame: pd.DataFrame, items: dict[str, tuple], variables: dict[str, str], path: Path) -> pd.DataFrame:
    """The items' valid answers, long: _row, code, value (1..k); negative codes dropped, others off the scale refused."""
    long = []
    for code, (_, item) in items.items():
        values = pd.to_numeric(frame[variables[code]], errors="coerce")
        text = frame[variables[code]]
        unreadable = values.isna() & text.notna() & (text.astype(str).str.strip() != "")
        values = values[values.notna() & (values >= 0)]
        size = len(item.scale.labels)
        off = ~values.isin(range(1, size + 1))
        if unreadable.any() or off.any():
            shown = text[unreadable].iloc[0] if unreadable.any() else _plain(values[off].iloc[0])
            raise ProbeError(f"{path}: variable {variables[code]} (item {code}) has the value {shown!r}, off its scale 1–{size} "
                             "and not a (negative) missing code")
        long.append(pd.DataFrame({"_row": values.index, "code": code, "value": values.astype(int).to_numpy()}))
    return pd.concat(long, ignore_index=True)


def build_baseline(path: Path, by, items: dict[str, str], weight: str | None = None, min_n: int = 30, name: str | None = None,
                   wave: str | None = None, instrument: str | None = None, progress=None, out_dir: Path | None = None) -> BuildResult:
    """Read the file, compute every group's figures and write <out_dir>/<name>.csv and .json.
    progress(rows read, total rows or None) is called after each chunk. Nothing is written on an error."""
    path = Path(path)
    name = name or path.stem
    if not NAME.fullmatch(name):
        raise ProbeError(f"--name {name!r}: use letters, digits, '_', '-' or '.'")
    survey = open_survey(path)
    found = resolve_items(list(items), instrument)
    unknown = [v for v in items.values() if v not in survey.columns]
    if weight is not None and weight not in survey.columns:
        unknown.append(weight)
    if unknown:
        raise ProbeError(f"{path}: unknown variable(s) {', '.join(unknown[:5])}; the file has {len(survey.columns)} variables, "
                         f"e.g. {', '.join(survey.columns[:8])}")
    attributes = attributes_for(by, survey)
    waves = [v for v in survey_variables()["wave"] if v in survey.columns]
    usecols = list(dict.fromkeys([a.variable for a in attributes] + list(items.values()) + ([weight] if weight else []) + waves[:1]))
    digest, lines = file_digest(path)
    total = survey.rows if survey.rows is not None else max(lines - 1, 0)
    counts, respondents, read, wave_values = [], [], 0, set()
    group_columns = [a.name for a in attributes]
    for frame in chunks(survey, usecols):
        frame = frame.reset_index(drop=True)
        weights = _weights(frame, weight, path)
        labels = {}
        for attribute in attributes:
            labels[attribute.name] = [attribute.map(raw) for raw in frame[attribute.variable].tolist()]
        grouped = pd.DataFrame({a: [m[0] if m else None for m in labels[a]] for a in group_columns})
        answers = _answers(frame, found, items, path)
        answers = answers.join(grouped, on="_row").dropna(subset=group_columns)
        answers["w"] = weights.to_numpy()[answers["_row"].to_numpy()]
        counts.append(answers.groupby(group_columns + ["code", "value"]).agg(w=("w", "sum"), n=("w", "size")))
        respondents.append(answers.drop_duplicates("_row").groupby(group_columns).size())
        for attribute in attributes:  # (label, persona value) of each group label seen
            for mapped in labels[attribute.name]:
                if mapped:
                    attribute.persona_of.setdefault(mapped[0], mapped[1])
        if waves:
            wave_values.update(str(_plain(v)) for v in frame[waves[0]].dropna().unique())
        read += len(frame)
        if progress:
            progress(read, total)
    if not counts or not sum(len(c) for c in counts):
        raise ProbeError(f"{path}: no valid answers to the items in any group")
    table = pd.concat(counts).groupby(level=list(range(len(group_columns) + 2))).sum()
    sizes = pd.concat(respondents).groupby(level=list(range(len(group_columns)))).sum()
    rows, left_out, no_persona = [], {}, []
    for key, size in sizes.items():
        key = key if isinstance(key, tuple) else (key,)
        group = ", ".join(map(str, key))
        if size < min_n:
            left_out[group] = int(size)
            continue
        values = [attributes[i].persona_of.get(label) for i, label in enumerate(key)]
        persona = _persona_key(group_columns, values)
        if persona is None:
            no_persona.append(group)
        for code, (instr, item) in found.items():
            try:
                cell = table.xs(key + (code,), level=list(range(len(group_columns) + 1)))
            except KeyError:
                continue
            if not cell["w"].sum() > 0:
                continue
            shares = cell["w"] / cell["w"].sum()
            labels_ = item.scale.labels
            distribution = {label: round(float(shares.get(i + 1, 0.0)), 6) for i, label in enumerate(labels_)}
            mean = float((shares * shares.index.to_numpy(dtype=float)).sum())
            mode = labels_[int(shares.idxmax()) - 1]  # idxmax: the lowest of tied values
            rows.append({"group": group, "persona": persona or "", "instrument": instr.key, "item_id": code, "mean": round(mean, 6),
                         "distribution": json.dumps(distribution), "n": int(cell["n"].sum()), "mode": mode,
                         "level": "country" if group_columns == ["country"] else "subgroup",
                         **{a: v or label for a, v, label in zip(group_columns, values, key)}})
    if not rows:
        raise ProbeError(f"{path}: every group has fewer than --min-n {min_n} respondents ({len(left_out)} group(s)); nothing written")
    provenance = {
        "name": name, "kind": "microdata", "file": path.name, "sha256": digest,
        "wave": wave or (", ".join(sorted(wave_values)) if wave_values else "unknown"),
        "weight": weight or "none (unweighted)", "built": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
        "by": [f"{a.name}={a.variable}" for a in attributes], "items": items,
        "instruments": sorted({instr.key for instr, _ in found.values()}), "min_n": min_n, "respondents": read,
        "groups": len(sizes) - len(left_out), "left_out": left_out, "no_persona": no_persona,
    }
    target = write_baseline(name, pd.DataFrame(rows), provenance, out_dir)
    return BuildResult(target, provenance, len(sizes) - len(left_out), left_out, no_persona, read)


def _persona_key(attributes: list[str], values: list[str | None]) -> str | None:
    """The persona a group stands for: a country's own (country:singapore, or its named one) for a
    country alone, else subgroup:attr=value,...; None when a label maps to no persona value."""
    from .personas import national_persona

    if any(v is None for v in values):
        return None
    if attributes == ["country"]:
        return national_persona(values[0]).key
    return "subgroup:" + ",".join(f"{a}={v}" for a, v in zip(attributes, values))


def write_baseline(name: str, frame: pd.DataFrame, provenance: dict, out_dir: Path | None = None) -> Path:
    """<out_dir>/<name>.csv and its <name>.json, each written to a temporary file and then moved into
    place, so a failure leaves what was there."""
    from .groups import user_groups_dir

    out_dir = Path(out_dir) if out_dir else user_groups_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{name}.csv"
    staged = []
    try:
        for suffix, write in ((".csv", lambda h: frame.to_csv(h, index=False)),
                              (".json", lambda h: json.dump(provenance, h, indent=2, ensure_ascii=False))):
            handle = tempfile.NamedTemporaryFile("w", dir=out_dir, suffix=suffix + ".tmp", delete=False, encoding="utf-8", newline="")
            staged.append((handle.name, out_dir / f"{name}{suffix}"))
            with handle:
                write(handle)
        for temporary, final in staged:
            os.replace(temporary, final)
    finally:
        for temporary, _ in staged:
            if os.path.exists(temporary):
                os.unlink(temporary)
    return target
