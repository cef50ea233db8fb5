"""The subgroup sweep (seed 003) in the app: every item a group baseline has, asked under the
persona of each of its groups (core/conditions.subgroup_jobs, as `run --subgroups`), with each
group's modal accuracy and NMAE filling in as the answers come, and seed 003's fairness over them.
Opened from the command palette ("view: subgroups ..."); the answers go into the probe session, so
the gauge has a track per group too."""

from __future__ import annotations

import threading

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from ..core.conditions import subgroup_items, subgroup_jobs, subgroup_personas
from ..core.metrics import coefficient_of_variation, normalised_range
from ..core.session import Condition
from ..widgets.text import safe_text
from .jobs import JobAnswered, JobAsking, RunEnded, run_for


class SubgroupsScreen(Screen):
    HELP = """\
# Subgroups (seed 003)

Every item of a group baseline asked under the persona of each of its groups, and each group's
modal accuracy (the model's most likely option = the group's modal answer) and NMAE (|expected −
group mean| / scale range), with the fairness over the groups: normalised range and coefficient of
variation. s starts or pauses the sweep; answers already given are kept.
"""
    BINDINGS = [
        Binding("s", "toggle_sweep", "Start/pause", tooltip="start or pause the subgroup sweep (answers already given are kept)",
                id="subgroups.toggle_sweep"),
        Binding("escape", "app.pop_screen", "Back", tooltip="back to the probe screen", id="subgroups.back"),
    ]

    def __init__(self, probe_screen, baseline: str):
        super().__init__()
        self.probe, self.baseline = probe_screen, baseline
        self.session, self.instrument = probe_screen.session, probe_screen.instrument
        groups = probe_screen.groups
        self.personas = subgroup_personas(self.instrument, groups, baseline)
        self.items = subgroup_items(self.instrument, self.instrument.items, groups, baseline)
        self.running, self.cancel, self.run_active, self.error = False, threading.Event(), False, ""

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static(id="subgroup-table")
        yield Static("", id="subgroups-status")
        yield Footer()

    def on_mount(self) -> None:
        self.stale, self.asking = False, None
        self.set_interval(0.25, self._tick)  # answers are drawn a few times a second at most, however fast they come
        self.refresh_view()

    def _tick(self) -> None:
        if self.stale:
            self.stale = False
            self.refresh_view()

    def condition_for(self, persona) -> Condition:
        return Condition(model=self.probe.backend.identity, instrument=self.instrument.key, language=self.probe.language, persona=persona.key)

    def jobs_left(self) -> list:
        jobs = subgroup_jobs(self.instrument, self.items, self.probe.backend.identity, self.probe.language, self.personas)
        return [job for job in jobs if self.session.answer_for(job.item, job.condition) is None]

    def action_toggle_sweep(self) -> None:
        if self.running:
            self.running = False
            self.cancel.set()
        else:
            self.running, self.error = True, ""
            self.start_sweep()
        self.refresh_view()

    def start_sweep(self) -> None:
        jobs = self.jobs_left()
        if not jobs or self.run_active:
            self.running = bool(jobs) and self.running
            return
        self.cancel, self.run_active = threading.Event(), True
        self.sweep(jobs, self.probe.backend, self.cancel)

    @work(thread=True, group="subgroups")
    def sweep(self, jobs, backend, cancel: threading.Event) -> None:
        run_for(self, jobs, backend, self.instrument, cancel, ready=lambda: self.probe.model_ready)

    def on_job_asking(self, message: JobAsking) -> None:
        self.asking, self.stale = message.job, True

    def on_job_answered(self, message: JobAnswered) -> None:
        self.session.record(message.answer)
        self.stale = True

    def on_run_ended(self, message: RunEnded) -> None:
        self.run_active, self.asking = False, None
        if message.error:
            self.running, self.error = False, message.error
        elif self.running and self.jobs_left():
            self.start_sweep()
        else:
            self.running = False
        self.refresh_view()

    def refresh_view(self) -> None:
        if not self.is_attached:
            return
        asking = self.asking
        table = Table(box=None, padding=(0, 1))
        for column, justify in (("group persona", "left"), ("answered", "right"), ("modal acc", "right"), ("NMAE", "right")):
            table.add_column(column, justify=justify)
        accuracies, errors = [], []
        for persona in self.personas:
            condition = self.condition_for(persona)
            comparison = self.session.group_comparison(condition, self.probe.groups)
            result = next(iter(comparison.values()), None)
            answered = len(self.session.answers_under(condition))
            accuracy, nmae = (result["modal_accuracy"], result["nmae"]) if result else (None, None)
            if accuracy is not None:
                accuracies.append(accuracy)
            if nmae is not None:
                errors.append(nmae)
            table.add_row(safe_text(persona.name_in("en")[:60]), f"{answered}/{len(self.items)}", _fmt(accuracy), _fmt(nmae))
        title = Text.assemble(("Subgroups of ", "bold"), safe_text(self.baseline, style="bold"),
                              (f" · {len(self.personas)} groups × {len(self.items)} items · {self.probe.language.upper()}", "dim"))
        def spread(values, measure):  # over two groups or more
            return measure(values) if len(values) >= 2 else None

        fairness = Text(f"fairness over the groups: accuracy range {_fmt(spread(accuracies, normalised_range))}, CV "
                        f"{_fmt(spread(accuracies, coefficient_of_variation))} · NMAE range {_fmt(spread(errors, normalised_range))}, CV "
                        f"{_fmt(spread(errors, coefficient_of_variation))} (over {len(accuracies)} group(s) with answers)", style="bold")
        self.query_one("#subgroup-table", Static).update(Group(title, table, fairness))
        left = len(self.jobs_left())
        if self.error:
            status = f"✗ {self.error} (paused; press s to retry)"
        elif not left:
            status = "Every group answered · seed 003's full comparison: probe-tui score (see README)"
        elif self.running:
            status = f"Sweeping: {left} prompts left" + (f" · asking {asking.persona.name_in('en')[:40]}" if asking else "") + " · s pauses"
        else:
            status = f"Paused: {left} prompts left. Press s to ask every item under each group's persona."
        self.query_one("#subgroups-status", Static).update(safe_text(status))


def _fmt(value) -> str:
    return "–" if value is None or value != value else f"{value:.2f}"


def subgroup_commands(screen):
    """The palette's "view: subgroups (BASELINE)": one per group baseline of this instrument whose
    groups have personas."""
    groups = screen.groups
    if groups is None or not len(groups):
        return
    mine = groups[(groups["instrument"] == screen.instrument.key) & (groups["persona"].str.strip() != "")]
    for name in sorted(mine["baseline"].unique()):
        count = mine.loc[mine["baseline"] == name, "persona"].nunique()
        yield (f"view: subgroups ({name})", f"seed 003: every item of {name} under each of its {count} groups' personas",
               lambda name=name: screen.app.push_screen(SubgroupsScreen(screen, name)))
