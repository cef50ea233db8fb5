"""Which screen shows an instrument: the instrument says which kind ("items" or "pairs"), the UI
maps the kind to a screen class."""

from __future__ import annotations

from .pairs import CountryPairsScreen
from .probe import ProbeScreen

SCREENS = {"items": ProbeScreen, "pairs": CountryPairsScreen}


def screen_class(instrument):
    kind = getattr(instrument, "screen", "pairs" if hasattr(instrument, "scenarios") else "items")  # until the protocol lands
    return SCREENS[kind]
