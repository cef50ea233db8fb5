"""`probe-tui baselines import-goqa`: per-country answer distributions from GlobalOpinionQA's CSV
(Durmus et al. 2023: columns question, selections, options, source), for the items the project holds.

Questions are matched to item codes by assets/baselines/globalopinionqa_items.yaml (words each
question must contain, per item). Non-substantive options (don't know, no answer, refused, ...) are
dropped and the rest renormalised; the share they held is kept per row (dropped_share) and reported.
The result is a group baseline (one group per country, standing for its national persona) written
as microdata.write_baseline writes one, with its provenance.
"""

from __future__ import annotations

import ast
import datetime
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import paths
from .errors import ProbeError
from .yamlfile import META_KEYS, load_yaml

COLUMNS = ["question", "selections", "options", "source"]
NON_SUBSTANTIVE = re.compile(r"\b(don'?t know|do not know|no answer|refused?|decline[ds]?|not asked|missing|dk/na|not applicable)\b", re.I)


@dataclass
class ImportResult:
    path: Path
    provenance: dict
    matched: dict[str, str]  # item code -> the question it was taken from (its first 60 characters)
    dropped_share: float  # mean share of non-substantive answers over the rows kept
    unknown_countries: list[str]


def parse_selections(text: str) -> dict[str, list[float]]:
    """"defaultdict(<class 'list'>, {'Nigeria': [0.1, ...]})" (or a plain dict) -> country -> shares."""
    body = re.sub(r"^\s*defaultdict\(\s*<class '[^']*'>\s*,\s*(.*)\)\s*$", r"\1", str(text), flags=re.S)
    value = ast.literal_eval(body)
    if not isinstance(value, dict):
        raise ValueError("selections is not a mapping")
    return {str(k): [float(x) for x in v] for k, v in value.items()}


def parse_options(text: str) -> list[str]:
    value = ast.literal_eval(str(text))
    if not isinstance(value, (list, tuple)):
        raise ValueError("options is not a list")
    return [str(v) for v in value]


def _match(question: str, table: dict) -> list[str]:
    def has(word: str) -> bool:  # at the start of a word: "steal" finds "stealing", "fare" not "welfare"
        return re.search(rf"\b{re.escape(word)}", question, re.I) is not None

    if not any(has(str(word)) for word in table.get("battery", [""])):
        return []
    return [code for code, words in table["items"].items() if code not in META_KEYS and all(has(str(w)) for w in words)]


def import_goqa(path: Path, instrument_key: str | None = None, name: str | None = None, out_dir: Path | None = None) -> ImportResult:
    """instrument_key None: the one instrument the matching table has a block for."""
    from .instruments import get_instrument
    from .microdata import NAME, _country, file_digest, write_baseline
    from .personas import national_persona

    path = Path(path)
    name = name or "goqa"
    if not NAME.fullmatch(name):
        raise ProbeError(f"--name {name!r}: use letters, digits, '_', '-' or '.'")
    tables = load_yaml(paths.assets_dir() / "baselines" / "globalopinionqa_items.yaml")
    known = [k for k in tables if k not in META_KEYS]
    if instrument_key is None:
        if len(known) != 1:
            raise ProbeError(f"choose the instrument with --instrument: one of {', '.join(known)}")
        instrument_key = known[0]
    instrument = get_instrument(instrument_key)
    if instrument.key not in tables:
        raise ProbeError(f"no GlobalOpinionQA matching table for {instrument.key} (assets/baselines/globalopinionqa_items.yaml has: "
                         f"{', '.join(known)})")
    table = tables[instrument.key]
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ProbeError(f"cannot read {path} as GlobalOpinionQA CSV: {' '.join(str(exc).split())[:200]}") from None
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ProbeError(f"{path}: not GlobalOpinionQA's format: missing column(s) {', '.join(missing)} (expected {', '.join(COLUMNS)})")
    rows, matched, dropped, unknown, skipped = [], {}, [], set(), {"other source": 0, "no item": 0, "several items": 0, "options": 0}
    for line, record in zip(range(2, len(frame) + 2), frame.to_dict("records")):
        if record["source"].strip().upper() != "WVS":
            skipped["other source"] += 1
            continue
        codes = _match(record["question"], table)
        if len(codes) != 1:
            skipped["no item" if not codes else "several items"] += 1
            continue
        code = codes[0]
        item = instrument.find_item(code)
        if item is None or code in matched:
            skipped["several items"] += 1
            continue
        try:
            options = parse_options(record["options"])
            selections = parse_selections(record["selections"])
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
            raise ProbeError(f"{path}:{line}: cannot read its options/selections: {' '.join(str(exc).split())[:120]}") from None
        keep = [i for i, option in enumerate(options) if not NON_SUBSTANTIVE.search(option)]
        labels = item.scale.labels
        if len(keep) != len(labels):
            skipped["options"] += 1
            continue
        matched[code] = record["question"][:60]
        for country_name, shares in selections.items():
            shares = np.array(shares, dtype=float)
            if len(shares) != len(options) or not np.isfinite(shares).all() or (shares < 0).any():
                raise ProbeError(f"{path}:{line}: {country_name[:40]!r} has {len(shares)} share(s) for {len(options)} option(s), "
                                 "or a share that is negative or not a number")
            substantive = shares[keep]
            if not substantive.sum() > 0:
                continue
            dropped_share = float(1 - substantive.sum() / shares.sum()) if shares.sum() > 0 else 0.0
            distribution = substantive / substantive.sum()
            country = _country(country_name)
            if country is None:
                unknown.add(country_name)
            rows.append({"group": country or country_name.strip(), "persona": national_persona(country).key if country else "",
                         "instrument": instrument.key, "item_id": code,
                         "mean": round(float(np.dot(distribution, np.arange(1, len(labels) + 1))), 6),
                         "distribution": json.dumps({label: round(float(s), 6) for label, s in zip(labels, distribution)}),
                         "n": "", "mode": labels[int(np.argmax(distribution))], "level": "country", "country": country or country_name.strip(),
                         "dropped_share": round(dropped_share, 6)})
            dropped.append(dropped_share)
    if not rows:
        raise ProbeError(f"{path}: no question matched an item of {instrument.key} "
                         f"(skipped: {', '.join(f'{k} {v}' for k, v in skipped.items() if v)}); nothing written")
    digest, _ = file_digest(path)
    provenance = {
        "name": name, "kind": "globalopinionqa", "file": path.name, "sha256": digest, "wave": "as in GlobalOpinionQA (WVS wave 7)",
        "weight": "as in GlobalOpinionQA", "built": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
        "instruments": [instrument.key], "items": sorted(matched), "skipped_questions": skipped,
        "non_substantive_share": round(float(np.mean(dropped)), 6), "unknown_countries": sorted(unknown),
        "groups": len({r["group"] for r in rows}),
    }
    target = write_baseline(name, pd.DataFrame(rows), provenance, out_dir)
    return ImportResult(target, provenance, matched, float(np.mean(dropped)), sorted(unknown))

