"""The app's Messages: what worker threads tell the UI thread. A worker posts one (post_message is
safe from any thread) and never sets a widget's or a screen's attributes itself; the handler runs on
the UI thread. Floods (load progress, free-text pieces) coalesce with can_replace."""

from __future__ import annotations

from textual.message import Message


# --- models (posted to the app by its ModelManager) ------------------------------------------------
class ModelLoadProgress(Message):
    def __init__(self, backend, fraction: float):
        super().__init__()
        self.backend, self.fraction = backend, fraction

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ModelLoadProgress) and message.backend is self.backend


class ModelReady(Message):
    def __init__(self, backend, info):
        super().__init__()
        self.backend, self.info = backend, info


class ModelFailed(Message):
    def __init__(self, backend, message: str):
        super().__init__()
        self.backend, self.message = backend, message


# --- answers (posted to the screen that asked) -----------------------------------------------------
class AnswerArrived(Message):
    def __init__(self, answer, key: tuple | None = None):
        """key: what was asked (item, condition, reverse_options), where the asker keeps a queue."""
        super().__init__()
        self.answer, self.key = answer, key


class AnswerFailed(Message):
    def __init__(self, key: tuple, message: str):
        super().__init__()
        self.key, self.message = key, message


# --- free text (posted to the FreeText widget) -----------------------------------------------------
class FreeTextProgress(Message):
    def __init__(self, text: str):
        """text: all that is written so far."""
        super().__init__()
        self.text = text

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FreeTextProgress)


class FreeTextDone(Message):
    def __init__(self, text: str, ending: str):
        super().__init__()
        self.text, self.ending = text, ending


# --- slow work off the UI thread -------------------------------------------------------------------
class ScreensImported(Message):
    """The screens' modules (with pandas and scipy) are imported: the first one can open. keymap: the
    usable entries of config.toml's [keymap]; problems: one line for each other entry."""

    def __init__(self, keymap: dict[str, str], problems: list[str]):
        super().__init__()
        self.keymap, self.problems = keymap, problems


class WorkDone(Message):
    """An export, a figure or a screenshot has finished: say so (severity "error" when it failed)."""

    def __init__(self, title: str, text: str, severity: str = "information"):
        super().__init__()
        self.title, self.text, self.severity = title, text, severity


class RankingReady(Message):
    """The gauge screen's ranking with bootstrap intervals for one condition, and its parts as drawn."""

    def __init__(self, condition, key: tuple, ranking, parts: tuple = ()):
        """key: the condition and the scores it was computed from; parts: the ranking's and the
        dimensions' renderables, made in the worker."""
        super().__init__()
        self.condition, self.key, self.ranking, self.parts = condition, key, ranking, parts


class TracksRead(Message):
    """The gauge screen's readings of its tracks, computed in a worker: condition -> (key, reading)."""

    def __init__(self, readings: dict):
        super().__init__()
        self.readings = readings


# --- from a child screen to the probe screen -------------------------------------------------------
class ItemChosen(Message):
    """Show this item (compare steps through the items with the probe screen)."""

    def __init__(self, index: int):
        super().__init__()
        self.index = index


class AnswerOpened(Message):
    """Show this answer: its item under its condition (Enter on the answers screen)."""

    def __init__(self, answer):
        super().__init__()
        self.answer = answer


class ShowCountries(Message):
    """Open the countries view once this screen is up (c asked for it on another instrument's)."""
