"""Issue 15: outside the instrument modules, assets and tests, the instrument keys appear only in
registrations and defaults: no code branches on an instrument's name."""

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "probe_tui"
KEY = re.compile(r"(?<![\w-])(vsm2013|country-pairs|mfq2|wvs)(?![\w-])")

# (file, text of the line): the defaults, each one line.
ALLOWED = {
    ("core/settings.py", 'instrument: str = Field("mfq2", description="the instrument the app and `run` start with")'),
    ("core/settings.py", 'countries_instrument: str = Field("vsm2013", description="the instrument the countries view (c) asks")'),
    ("cli.py", '_add_instrument_option(condition, INSTRUMENT_HELP + " (default mfq2)")'),
    ("core/demo.py", "instrument: mfq2          # optional; mfq2 by default"),
    ("core/demo.py", 'DEFAULT_INSTRUMENT = "mfq2"'),
}

# Branches on a name still in files other parts of issue 15 are rewriting (the app and runner
# engineers switch them to the instrument's own attributes: screen, figure_kinds, countries_view).
# An entry that is gone must be removed from here, so this list only shrinks.
NOT_YET_MOVED: set[tuple[str, str]] = set()


def key_lines() -> set[tuple[str, str]]:
    found = set()
    for path in SRC.rglob("*.py"):
        relative = path.relative_to(SRC).as_posix()
        if relative.startswith("core/instruments/"):
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if KEY.search(line):
                found.add((relative, line.strip()))
    return found


def test_instrument_keys_appear_only_in_registrations_and_defaults():
    found = key_lines()
    unexpected = sorted(found - ALLOWED - NOT_YET_MOVED)
    assert not unexpected, "an instrument key outside core/instruments/: " + "; ".join(f"{f}: {line}" for f, line in unexpected)
    stale = sorted((ALLOWED | NOT_YET_MOVED) - found)
    assert not stale, "no longer there, so remove it from the list: " + "; ".join(f"{f}: {line}" for f, line in stale)
