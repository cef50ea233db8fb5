"""The session's answers in one table: every item answered so far under every condition.

It can show only the odd answers (flagged), be sorted by any column, and open an answer on the screen
it came from (which is told with an AnswerOpened Message)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from ..core.personas import get_persona
from ..messages import AnswerOpened
from ..widgets.script import visual
from ..widgets.text import printable, safe_cell, safe_text

COLUMNS = ("item", "construct", "lang", "persona", "E[x]", "answer", "flags", "valid_mass", "entropy", "method")
DESCENDING_FIRST = ("flags", "entropy")  # the oddest first
# what s steps through: (column, descending); each column in its first direction, then reversed
SORT_STEPS = [("item", False)] + [(column, descending) for column in ("E[x]", "valid_mass", "entropy", "flags")
                                  for descending in ((True, False) if column in DESCENDING_FIRST else (False, True))]


class AnswersScreen(Screen):
    HELP = """\
# Answers

Every answer of this session to this instrument, under every condition: model, language and persona.
"""
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", tooltip="back to where you were", id="answers.back"),
        Binding("f", "toggle_odd", "Odd only", tooltip="only the flagged answers, or all again", id="answers.toggle_odd"),
        Binding("s", "next_sort", "Sort", tooltip="sort by the next column, then s again reverses it; a click on a header sorts by it, a second click reverses", id="answers.next_sort"),
        Binding("enter", "open_answer", "Open", show=False, tooltip="show the highlighted answer, its item under its condition", id="answers.open_answer"),
    ]

    def __init__(self, probe_screen):
        super().__init__()
        self.probe = probe_screen
        self.odd_only = False
        self.sort_column, self.descending = "item", False
        self.rows: dict[str, object] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="answers-caption")
        yield DataTable(id="answers-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        self.by_model = len({answer.condition.model for answer in self.probe.session.all_answers()}) > 1  # a study's models
        for column in COLUMNS[:1] + (("model",) if self.by_model else ()) + COLUMNS[1:]:
            table.add_column(Text(column), key=column)
        self.fill()
        table.focus()

    def _row(self, answer, flags, label: str) -> tuple:
        d = answer.distribution
        language = answer.condition.language
        persona = get_persona(answer.condition.persona, self.probe.personas).name_in(language)
        mass = f"{d.samples - d.unparsed}/{d.samples}" if d.samples else f"{d.valid_mass:.3f}"
        model = (safe_cell(self.app.model_label(answer.condition.model)),) if self.by_model else ()
        return (safe_cell(label), *model, safe_cell(getattr(answer.item, "construct", "") or answer.item.dimension), answer.condition.language,
                safe_cell(visual(persona if len(persona) <= 24 else persona[:23] + "…")), round(d.expected, 2), d.answer,
                Text(", ".join(f.kind for f in flags), style="yellow"), mass, round(d.entropy_bits, 2), d.method)

    def fill(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        session = self.probe.session
        answers = session.all_answers()
        shown = 0
        self.rows = {}
        items = self.probe.items  # those the screen browses: a study's own, else the instrument's
        position = {item.id: number for number, item in enumerate(items)}
        answers = [answer for answer in answers if answer.item.id in position]
        codes_name_items = len({item.code for item in items}) == len(items)  # else (country pairs) the id tells them apart
        thresholds = {model: session.mass_threshold(model) for model in {a.condition.model for a in answers}}
        flagged = {id(answer): session.flags_for(answer, thresholds[answer.condition.model]) for answer in answers}
        in_order = sorted(answers, key=lambda a: (position[a.item.id], a.condition.language, a.condition.persona))
        for number, answer in enumerate(in_order[::-1] if self.sort_column == "item" and self.descending else in_order):
            flags = flagged[id(answer)]
            if self.odd_only and not flags:
                continue
            key = f"answer-{number}"
            self.rows[key] = answer
            table.add_row(*self._row(answer, flags, answer.item.code if codes_name_items else answer.item.id), key=key)
            shown += 1
        if self.sort_column != "item":
            table.sort(self.sort_column, key=_sort_key, reverse=self.descending)
        odd = sum(1 for flags in flagged.values() if flags)
        self.query_one("#answers-caption", Static).update(safe_text(
            f"{shown} of {len(answers)} answers shown · {odd} flagged odd · sorted by {self.sort_column} {'↓' if self.descending else '↑'}"
            f"{' · odd answers only (f: all)' if self.odd_only else ' (f: odd only)'} · Enter opens an answer"
            + "".join(f"\n{threshold}" for threshold in thresholds.values())))

    def action_toggle_odd(self) -> None:
        self.odd_only = not self.odd_only
        self.fill()

    def action_next_sort(self) -> None:
        step = (self.sort_column, self.descending)
        at = SORT_STEPS.index(step) if step in SORT_STEPS else 0
        self.sort_column, self.descending = SORT_STEPS[(at + 1) % len(SORT_STEPS)]
        self.fill()

    def sort_by(self, column: str) -> None:
        """A column sorts in its first direction; sorting by it again reverses it."""
        self.descending = not self.descending if column == self.sort_column else column in DESCENDING_FIRST
        self.sort_column = column
        self.fill()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        self.sort_by(str(event.column_key.value))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self._open(event.row_key.value)

    def action_open_answer(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            self._open(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def _open(self, key: str | None) -> None:
        if not self.is_active:
            return  # a later key of a burst, handled after this screen closed
        answer = self.rows.get(key)
        shown = self.app.models.primary.identity  # the model whose answers the item screens show
        if answer is not None and self.by_model and answer.condition.model != shown:  # another of a study's models
            self.app.notify(printable(f"that answer is {self.app.model_label(answer.condition.model)}'s; the item screen shows "
                                      f"{self.app.model_label(shown)}'s (the study's report and export hold every model's)"),
                            severity="warning", markup=False)
            return
        if answer is not None:
            self.app.pop_screen()
            self.probe.post_message(AnswerOpened(answer))


def _sort_key(value):
    """Numbers as numbers, "0.812" and "7/10" too; the flags by how many; other text as text."""
    if isinstance(value, Text):  # the flags column
        return (0, float(len([kind for kind in value.plain.split(", ") if kind])), "")
    text = value
    if isinstance(text, str):
        try:
            numerator, _, denominator = text.partition("/")
            return (0, float(numerator) / float(denominator) if denominator else float(numerator), "")
        except ValueError:
            return (1, 0.0, text)
    return (0, float(text), "")
