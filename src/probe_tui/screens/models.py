"""Models: the embedded models, the .gguf files in models/ and the data directory, and the configured
remote endpoints. Enter loads the highlighted one (through the app's ModelManager); the screen behind
shows the load and Esc there cancels it."""

from __future__ import annotations

import logging

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from ..backends.gguf_meta import describe_file
from ..backends.models import EMBEDDED, user_model_files
from ..widgets.text import safe_cell, safe_text
from ..core import paths
from ..core.errors import ProbeError

log = logging.getLogger(__name__)
COLUMNS = ("", "model", "kind", "size", "quant", "context", "layers", "chat template", "where")


class ModelsScreen(Screen):
    HELP = """\
# Models

The embedded models, your `.gguf` files and your endpoints (endpoints.toml), with size, quantisation,
context and chat template; ● marks the one in use. Answers so far are kept, each under its own model.
"""
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", tooltip="back, loading nothing", id="models.back"),
        Binding("enter", "load", "Load", show=False, tooltip="load the highlighted model (Esc on the screen behind cancels a load)", id="models.load"),
    ]

    def __init__(self, screen, on_choose=None, current: str | None = None):
        """on_choose(kind, spec): what Enter does (default: screen.switch_model)."""
        super().__init__()
        self.on_choose = on_choose or screen.switch_model
        self.current = current or screen.backend.identity
        self.choices: dict[str, tuple] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        folders = " and ".join(str(d) for d in paths.model_dirs())
        yield Static(f"Enter loads a model · Esc goes back · put your own .gguf files in {folders}", id="models-caption")
        yield DataTable(id="models-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in COLUMNS:
            table.add_column(column, key=column or "current")
        current = self.current
        for name, (_, note) in EMBEDDED.items():
            self._add(table, f"embedded:{name}", ("file", name), name, "embedded", note, current)
        for path in user_model_files():
            self._add(table, f"file:{path}", ("file", str(path)), path.name, "file", str(path.parent), current)
        try:
            from ..backends.remote import load_endpoints

            endpoints = load_endpoints()
        except ProbeError as exc:
            self.notify(str(exc), title="Endpoints not read", severity="warning", markup=False)
            endpoints = {}
        for name, config in endpoints.items():
            key = f"endpoint:{name}"
            self.choices[key] = ("endpoint", name)
            marker = "●" if f"{config.base_url.rstrip('/')}#{config.model}" == current else ""
            table.add_row(marker, safe_cell(name), f"{config.kind} endpoint", "–", "–", "–", "–", "server's", safe_cell(f"{config.model} @ {config.base_url}"), key=key)
        table.focus()
        self.read_details()

    def _add(self, table, key, choice, name, kind, where, current) -> None:
        self.choices[key] = choice
        table.add_row("", safe_cell(name), kind, "…", "…", "…", "…", "…", safe_cell(where), key=key)

    class Details(Message):
        """A model file's header, read in the worker: its details, or why it could not be read."""

        def __init__(self, key: str, path: str = "", details: dict | None = None, problem: str = ""):
            super().__init__()
            self.key, self.path, self.details, self.problem = key, path, details, problem

    @work(thread=True)
    def read_details(self) -> None:
        """Each file's header is read off the UI thread (a big vocabulary takes a moment)."""
        from ..backends.models import resolve_model

        for key, (kind, spec) in list(self.choices.items()):
            if kind != "file":
                continue
            try:
                path = resolve_model(spec)
                self.post_message(self.Details(key, str(path), describe_file(path)))
            except ProbeError as exc:
                self.post_message(self.Details(key, problem=str(exc)))

    def on_models_screen_details(self, message: Details) -> None:
        table, d = self.query_one(DataTable), message.details
        if d is None:
            table.update_cell(message.key, "size", Text("✗", style="red"), update_width=True)
            table.update_cell(message.key, "where", safe_text(message.problem, style="red"), update_width=True)
            return
        values = {"size": f"{d['size_bytes'] / 1e6:.0f} MB", "quant": d["quantisation"], "context": f"{d['context_length']:,}",
                  "layers": str(d["layers"] or "–"), "chat template": "yes" if d["chat_template"] else "no (base model)",
                  "current": "●" if message.path == self.current else ""}
        for column, value in values.items():
            table.update_cell(message.key, column, value, update_width=True)

    def action_load(self) -> None:
        if not self.is_active:
            return  # a later key of a burst, handled after this screen closed
        table = self.query_one(DataTable)
        if not table.row_count:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        self.app.pop_screen()
        self.on_choose(*self.choices[key])

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_load()
