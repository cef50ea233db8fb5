"""The Instrument protocol, and the registry of scoring kinds that build instruments from files.

An instrument's YAML file names its scoring kind (`scoring: means`, `vsm-indices` or `pairs`); the
module of each kind registers its class here with @register_kind, so the bank (core.instruments)
builds every instrument from its files without knowing any instrument by name.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ..errors import ItemFileError

if TYPE_CHECKING:
    import pandas as pd

    from ..baselines import Baseline
    from ..personas import Persona
    from ..prompts import ChatTemplate, Prompt

SCREENS = ("items", "pairs")  # the kinds of screen that show an instrument: ProbeScreen, CountryPairsScreen


@runtime_checkable
class Instrument(Protocol):
    key: str
    name: str
    source: str
    dimensions: tuple[str, ...]
    languages: tuple[str, ...]
    screen: str  # one of SCREENS
    figure_kinds: tuple[str, ...]  # the figures `probe-tui figure` draws from its responses
    countries_view: bool  # it can run the 20-country sweep
    row_columns: list[str]  # the extra CSV/export columns of its answers
    origin: tuple[str, ...]  # the files it was built from

    @property
    def items(self) -> tuple: ...

    @property
    def contents(self) -> str:
        """Its size in a few words, e.g. "36 items"."""

    def check_language(self, language: str) -> str: ...

    def missing_translations(self) -> list[str]: ...

    def find_item(self, key) -> Any | None: ...

    def build_prompt(self, item, language: str, persona: Persona, chat_template: ChatTemplate | None,
                     style: str | None = None, reverse_options: bool = False, variant: str = "",
                     statement: str | None = None) -> Prompt:
        """variant: core/variants.py's canonical string (its order part comes as reverse_options);
        statement: text in place of the item's (a content-free item; "" for none), for calibration."""

    def baseline(self) -> Baseline | None: ...

    def dimension_labels(self) -> dict[str, str]:
        """A readable name per dimension."""

    def row_fields(self, answer) -> dict: ...

    def select_items(self, limit: int | None = None, pairs: str | None = None, scenarios: int | None = None) -> list: ...

    def score_responses(self, frame: pd.DataFrame, path="responses", **options) -> pd.DataFrame:
        """Recorded responses -> score rows in rescore.OUTPUT's long format."""

    def summary(self, scores: pd.DataFrame) -> str:
        """score_responses' rows in a few lines for the terminal."""


class Kind(Protocol):
    """A scoring kind: how its files are read and its instruments built."""

    scoring: str
    mergeable: bool  # a user file may extend a shipped instrument of this kind

    @classmethod
    def read_file(cls, path: Path) -> dict: ...

    @classmethod
    def from_data(cls, data: dict, frames: dict[str, dict]) -> Instrument: ...


KINDS: dict[str, type] = {}


def register_kind(scoring: str):
    """Class decorator: the kind named `scoring` in item files."""
    def register(cls):
        cls.scoring = scoring
        KINDS[scoring] = cls
        return cls
    return register


def kind_of(scoring: str, path, line) -> type:
    if scoring not in KINDS:
        raise ItemFileError(path, line, "scoring", f"unknown scoring kind {scoring!r}; expected one of: {', '.join(KINDS)}")
    return KINDS[scoring]
