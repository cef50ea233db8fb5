"""Which screen shows an instrument: the instrument says which kind ("items" or "pairs"), the UI
maps the kind to a screen class."""

from __future__ import annotations

from .pairs import CountryPairsScreen
from .probe import ProbeScreen

SCREENS = {"items": ProbeScreen, "pairs": CountryPairsScreen}


def screen_class(instrument):
    return SCREENS[instrument.screen]
