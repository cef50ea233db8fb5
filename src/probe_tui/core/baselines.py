"""Human baselines: country (or group) × dimension figures, each declared by its instrument's YAML
file (a `baseline:` block naming a CSV, its citation and how to compare). The shipped ones are in
assets/baselines with their sources (see assets/baselines/README.md); a researcher's sit beside
their item file. Every table is canonical country (or group name) × the instrument's dimensions."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .countries import canonical
from .errors import ItemFileError, ProbeError
from .metrics import CN, US


@dataclass(frozen=True)
class Baseline:
    instrument: str
    table: pd.DataFrame  # index: canonical country (or group); columns: the instrument's dimensions
    source: str  # the citation
    scale_free: bool  # True: compare by profile correlation only (VSM indices with a free constant)
    full: pd.DataFrame | None = None  # every column of the file (e.g. MFQ-2's n and *_se), same index
    path: str = ""


@dataclass(frozen=True)
class BaselineSpec:
    """What an instrument's YAML declares (core.items.read_baseline_block)."""

    file: Path
    citation: str
    columns: tuple[str, ...] = ()  # the dimension columns; () means the instrument's dimensions
    scale_free: bool = False
    declared_in: str = ""  # the YAML file
    line: int | None = None

    @classmethod
    def from_block(cls, block: dict) -> "BaselineSpec":
        return cls(file=Path(block["file"]), citation=block["citation"],
                   columns=tuple(block.get("columns", ())), scale_free=block["scale_free"],
                   declared_in=block.get("declared_in", ""), line=block.get("line"))


REFERENCE_COUNTRIES = (US, CN)  # the gauge compares every answer with these two (and ranks the others)


def read_baseline(instrument: str, spec: BaselineSpec, dimensions) -> Baseline:
    """The declared CSV: a `country` column (names as in assets/countries.yaml, among them the
    reference countries) and one column per dimension, every cell checked: errors say file:line:
    column."""
    path = spec.file
    if not path.is_file():
        raise ItemFileError(spec.declared_in, spec.line, "baseline.file", f"no such file: {path}")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ProbeError(f"cannot read baseline {path}: {' '.join(str(exc).split())}") from None
    columns = list(spec.columns or dimensions)  # the file's column for each dimension, in order
    if len(columns) != len(dimensions):
        raise ItemFileError(spec.declared_in, spec.line, "baseline.columns", f"names {len(columns)} columns for {len(dimensions)} dimensions")
    missing = [c for c in ["country", *columns] if c not in frame.columns]
    if missing:
        raise ProbeError(f"{path}:1: missing column(s) {', '.join(missing)}; it has {', '.join(frame.columns)}")
    rows = []
    for line, row in zip(range(2, len(frame) + 2), frame.to_dict("records")):
        name = row["country"].strip()
        try:
            row["country"] = canonical(name)
        except ProbeError:
            raise ProbeError(f"{path}:{line}: country: unknown country {name[:60]!r} (the names and their "
                             "other spellings are in assets/countries.yaml)") from None
        for column in columns:
            row[column] = _number(row[column], f"{path}:{line}: {column}")
        rows.append(row)
    table = pd.DataFrame(rows, columns=list(frame.columns))
    duplicated = table["country"][table["country"].duplicated()]
    if len(duplicated):
        line = int(duplicated.index[0]) + 2
        raise ProbeError(f"{path}:{line}: country: {duplicated.iloc[0]!r} already has a row")
    lacking = [c for c in REFERENCE_COUNTRIES if c not in set(table["country"])]
    if lacking:
        raise ProbeError(f"{path}: no row for {' or '.join(lacking)}: the gauge compares every answer with "
                         f"{' and '.join(REFERENCE_COUNTRIES)}")
    full = table.set_index("country")
    for column in full.columns:  # the other numeric columns (n, *_se) as numbers too
        if column not in columns:
            converted = pd.to_numeric(full[column], errors="coerce")
            if converted.notna().all():
                full[column] = converted
    table = full[columns].astype(float).set_axis(list(dimensions), axis=1)
    return Baseline(instrument, table, spec.citation, spec.scale_free, full, str(path))


def _number(text: str, where: str) -> float:
    """A cell: a finite number, or blank for a missing value."""
    text = str(text).strip()
    if not text:
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise ProbeError(f"{where}: expected a number, got {text[:40]!r}") from None
    if not math.isfinite(value):
        raise ProbeError(f"{where}: expected a finite number, got {text[:40]!r}")
    return value
