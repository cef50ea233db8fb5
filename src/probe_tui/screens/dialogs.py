"""Small modal dialogs: the persona picker and the help card."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown, OptionList, Static
from textual.widgets.option_list import Option

from ..core.personas import Persona
from ..widgets.script import visual


class PersonaPicker(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "dismiss_none", "Close")]
    DEFAULT_CSS = """
    PersonaPicker { align: center middle; }
    PersonaPicker > Vertical { width: 60; max-width: 95%; height: auto; border: thick $accent; background: $surface; padding: 0 1; }
    """

    def __init__(self, personas: dict[str, Persona], language: str, current: str):
        super().__init__()
        self.personas, self.language, self.current = personas, language, current

    def compose(self) -> ComposeResult:
        options = [
            Option(Text(("● " if key == self.current else "  ") + visual(p.name_in(self.language))), id=key)
            for key, p in self.personas.items()
        ]
        with Vertical():
            yield Static("[b]Answer as…[/b]  (Enter to choose, Esc to close)")
            yield OptionList(*options, id="persona-options")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = list(self.personas).index(self.current)
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


HELP = """\
# probe-tui

The model answers one survey item at a time. The bars are its **real next-token probabilities** for
each option, renormalised over the options; `valid_mass` is how much of its probability landed on the
options at all before that. The gauge compares the mean answer per dimension, under the current
language and persona, with the human figures for the United States and China, and names the
nearest baseline countries.

- `n` next item, `b` back
- `l` cycle the prompt language (EN → ZH → FR; VSM 2013 has 20 languages)
- `p` pick a persona
- `o` order check: the item again with the options' meanings reversed
- `f` free text: the model's own words for this prompt (`Esc` stops it)
- `a` every answer so far (`f` odd ones only, `s` sort, `Enter` open)
- `v` compare two conditions side by side
- `m` models: load another model or endpoint (`Esc` cancels a load)
- `t` show or hide the exact prompt
- `c` the countries view (VSM 2013): every item asked for 20 countries, each in its own language
  with its national persona (`m` switches to all-English or all-Chinese), and the deviation ratio
  per country against Hofstede's scores: DR > 1 means closer than one global-average answer
- `Ctrl+P` the command palette
- `?` this help (Esc closes it), `q` quit

Flags: `low-mass`, `high-entropy`, `order-flip` (after `o`), `jump` (a big change when only the
language, persona or model changes).

Full log: `{log}`
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 84; max-width: 95%; height: auto; max-height: 90%; border: thick $accent; background: $surface; }
    """

    def __init__(self, log_path: str):
        super().__init__()
        self.log_path = log_path

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(HELP.format(log=self.log_path))
