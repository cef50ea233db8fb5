"""Small modal dialogs: the persona and instrument pickers, the persona composer and the help card."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Input, Label, Markdown, OptionList, Select, Static
from textual.widgets.option_list import Option

from ..core import paths
from ..core.errors import ProbeError
from ..core.personas import Persona, save_persona, subgroup_attributes, subgroup_persona
from ..keymap import remapped
from ..widgets.script import visual
from ..widgets.text import safe_text

COMPOSE = "__compose__"
QUIT = Binding("q", "app.quit", "Quit", show=False, id="dialog.quit")  # a modal screen's keys never reach the app's


class PersonaPicker(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "dismiss_none", "Close", id="persona_picker.close"), QUIT]

    def __init__(self, personas: dict[str, Persona], language: str, current: str):
        super().__init__()
        self.personas, self.language, self.current = personas, language, current

    def compose(self) -> ComposeResult:
        options = [
            Option(safe_text(("● " if key == self.current else "  ") + visual(p.name_in(self.language))), id=key)
            for key, p in self.personas.items()
        ] + [Option(Text("＋ compose a subgroup, or write your own…", style="italic"), id=COMPOSE)]
        with Vertical():
            yield Static("[b]Answer as…[/b]  (Enter to choose, Esc to close)")
            yield OptionList(*options, id="persona-options")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = list(self.personas).index(self.current)
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if not self.is_active:
            return  # a later key of a burst, handled after this screen closed
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        if not self.is_active:
            return  # a later key of a burst, handled after this screen closed
        self.dismiss(None)


def pick_persona(app, choices: dict[str, Persona], language: str, current: str, personas: dict[str, Persona], on_chosen) -> None:
    """The persona picker, and the composer behind its last option. on_chosen(key) gets the key
    chosen; a composed or saved persona is added to personas (the app's) first."""

    def composed(persona: Persona | None) -> None:
        if persona is not None:
            personas.setdefault(persona.key, persona)
            on_chosen(persona.key)

    def chosen(key: str | None) -> None:
        if key == COMPOSE:
            app.push_screen(PersonaComposer(language), composed)
        elif key:
            on_chosen(key)

    app.push_screen(PersonaPicker(choices, language, current), chosen)


class InstrumentPicker(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "dismiss_none", "Close", id="instrument_picker.close"), QUIT]

    def __init__(self, current: str, offered: dict[str, str] | None = None):
        """offered: the instruments offered (a study's), each with what it holds; None: every one."""
        super().__init__()
        self.current, self.offered = current, offered

    def compose(self) -> ComposeResult:
        from ..core.instruments import available_instruments

        choices = {key: f"{instrument.name} ({instrument.contents if self.offered is None else self.offered[key]})"
                   for key, instrument in available_instruments().items() if self.offered is None or key in self.offered}
        self.keys = list(choices)
        with Vertical():
            yield Static("[b]Instrument[/b]  (Enter to choose, Esc to close; answers so far are kept)")
            yield OptionList(*[Option(safe_text(("● " if key == self.current else "  ") + text), id=key) for key, text in choices.items()])

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = self.keys.index(self.current) if self.current in self.keys else 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if not self.is_active:
            return  # a later key of a burst, handled after this screen closed
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        if not self.is_active:
            return  # a later key of a burst, handled after this screen closed
        self.dismiss(None)


class PersonaComposer(ModalScreen[Persona | None]):
    """Compose a demographic-subgroup persona from its attributes, or write and save a custom one."""

    BINDINGS = [Binding("escape", "dismiss_none", "Close", id="persona_composer.close"), QUIT]

    def __init__(self, language: str):
        super().__init__()
        self.language = language
        self.attributes = subgroup_attributes()

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("[b]A demographic subgroup[/b] (leave an attribute blank to leave it out)")
            for attribute, values in self.attributes.items():
                with Horizontal(classes="attribute"):
                    yield Label(attribute)
                    yield Select([(shown, key) for key, shown in values.items()], prompt="—", id=f"attribute-{attribute}", compact=True)
            yield Static("", id="preview")
            yield Button("Use this subgroup", id="use-subgroup", variant="primary", compact=True)
            yield Static("\n[b]Or your own persona[/b], saved for next time (the same text in every language)")
            yield Input(placeholder="name, e.g. Retired farmer from Normandy", id="custom-name", compact=True)
            yield Input(placeholder="text, e.g. Answer as a retired farmer from Normandy would answer.", id="custom-text", compact=True)
            yield Button("Save and use", id="save-custom", compact=True)
            yield Static("", id="composer-error")

    def on_mount(self) -> None:
        self.query(Select).first().focus()

    def spec(self) -> str:
        selects = [(attribute, self.query_one(f"#attribute-{attribute}", Select)) for attribute in self.attributes]
        return ",".join(f"{attribute}={select.value}" for attribute, select in selects if not select.is_blank())

    def on_select_changed(self) -> None:
        spec = self.spec()
        preview = subgroup_persona(spec).text_in(self.language) if spec else "(choose at least one attribute)"
        self.query_one("#preview", Static).update(Text(visual(preview)))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if not self.is_active:
            return  # a later key of a burst, handled after this screen closed
        try:
            if event.button.id == "use-subgroup":
                if not self.spec():
                    raise ProbeError("choose at least one attribute")
                self.dismiss(subgroup_persona(self.spec()))
            elif event.button.id == "save-custom":
                self.dismiss(save_persona(self.query_one("#custom-name", Input).value, self.query_one("#custom-text", Input).value))
        except ProbeError as exc:
            self.query_one("#composer-error", Static).update(Text(f"✗ {exc}"))

    def action_dismiss_none(self) -> None:
        if not self.is_active:
            return  # a later key of a burst, handled after this screen closed
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    """The help card of the screen it was opened on: that screen's HELP, then every key it answers
    to, read from its bindings and the app's."""

    BINDINGS = [Binding("escape,question_mark", "dismiss", "Close", id="help.close"), QUIT]

    def __init__(self, screen: Screen):
        super().__init__()
        self.for_screen = screen

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(help_text(self.for_screen))


def help_text(screen: Screen) -> str:
    """Markdown: the screen's HELP, then a line per key from its bindings and the app's."""
    app = screen.app
    keys: dict[tuple, list[str]] = {}  # one line per action and description, with all its keys
    for binding in screen_keys(screen):
        explained = f"**{binding.description}**" + (f": {binding.tooltip}" if binding.tooltip else "")
        keys.setdefault((binding.action, explained), []).append(f"`{app.get_key_display(binding)}`")
    lines = [f"- {' '.join(shown)} {explained}" for (_, explained), shown in keys.items()]
    intro = screen.HELP or f"# {type(screen).__name__}"
    return f"{intro.rstrip()}\n\n## Keys\n\n" + "\n".join(lines) + f"\n\nFull log: `{paths.log_file()}`\n"


def screen_keys(screen: Screen) -> list[Binding]:
    """The screen's BINDINGS, the app's (on every screen but a modal one) and the command palette's,
    with the keys config.toml's [keymap] gave them (Textual keeps the keymap in App._keymap).
    Not screen.active_bindings: that drops a key which the focused widget takes too (a table's Enter)."""
    app = screen.app
    keys = [*Binding.make_bindings(type(screen).BINDINGS), *([] if screen.is_modal else Binding.make_bindings(type(app).BINDINGS))]
    keys = remapped(keys, app._keymap)
    palette = screen.active_bindings.get(app.COMMAND_PALETTE_BINDING)
    return [binding for binding in keys if binding.description] + ([palette.binding] if palette else [])
