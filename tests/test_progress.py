"""The command line's progress bars: at any width the counts and times stay whole; the bar gives
way first, then the description, cut with "…"."""

import io
import re

import pytest
from rich.console import Console

from probe_tui.progress import progress_bars


@pytest.mark.parametrize("width", [40, 60, 80, 120])
@pytest.mark.parametrize("eta", [False, True])
def test_the_counts_and_times_stay_whole_and_a_description_that_fits_is_not_cut(width, eta):
    out = io.StringIO()
    console = Console(file=out, width=width)
    label = "connecting to http://127.0.0.1:34105/v1 (model smollm2)"
    with progress_bars(console, eta=eta) as progress:
        progress.add_task(label, total=100, completed=100)
        progress.add_task("mfq2 en persona=[bold]custom[/bold]", total=1120, completed=5)
    lines = out.getvalue().splitlines()
    assert all(len(line) <= width for line in lines), lines
    assert re.search(r" 100/100 +0:00:00", lines[0]) and " 5/1120 0:00:00" in lines[1], lines
    assert ("ETA -:--:--" in lines[0]) is eta
    assert (label in lines[0]) is (width >= 80 if not eta else width >= 120)  # cut only when it does not fit
    assert "[bold]" in lines[1] or "…" in lines[1]  # plain text, never markup
