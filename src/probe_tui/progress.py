"""The command line's progress bars (run, study run, baselines build). The bar gives way first, then
the description, cut with "…" to what the other columns leave: the counts and times stay whole in a
narrow terminal and in a pipe, where rich draws 80 columns. Descriptions are plain text, never markup."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Column
from rich.text import Text

TIME = 8  # "10:00:00"


class _Description(ProgressColumn):
    def __init__(self, console: Console, others: int):
        super().__init__(table_column=Column(no_wrap=True))
        self.console, self.others = console, others  # others: the widths of the other columns but the counts, and the gaps
        self.tasks = lambda: []

    def render(self, task) -> Text:
        total = max((int(t.total or 0) for t in self.tasks()), default=int(task.total or 0))
        counts = 2 * len(str(total)) + 1  # MofNCompleteColumn: "  5/560"
        text = Text(task.description, no_wrap=True)
        text.truncate(max(8, self.console.width - self.others - counts), overflow="ellipsis")
        return text


def progress_bars(console: Console, eta: bool = False) -> Progress:
    times = [TimeElapsedColumn(table_column=Column(no_wrap=True))]
    if eta:
        times += [TextColumn("ETA", table_column=Column(no_wrap=True)), TimeRemainingColumn(table_column=Column(no_wrap=True))]
    description = _Description(console, others=(2 + len(times)) + TIME * (1 + eta) + 3 * eta)  # gaps, times, "ETA"
    progress = Progress(description, BarColumn(), MofNCompleteColumn(table_column=Column(no_wrap=True)), *times, console=console)
    description.tasks = lambda: progress.tasks
    return progress
