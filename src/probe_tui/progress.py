"""The command line's progress bars (run, study run, baselines build). The description column is
the one that shrinks, so the counts and times stay whole in a narrow terminal and in a pipe, where
rich draws 80 columns. Descriptions are plain text, never markup."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Column


def progress_bars(console: Console, eta: bool = False) -> Progress:
    columns = [TextColumn("{task.description}", markup=False, table_column=Column(ratio=1, no_wrap=True, overflow="ellipsis")),
               BarColumn(bar_width=20), MofNCompleteColumn(), TimeElapsedColumn()]
    if eta:
        columns += [TextColumn("ETA"), TimeRemainingColumn()]
    return Progress(*columns, console=console, expand=True)  # expand: the description takes what the others leave
