"""The gauge's group-baseline parts (issue 17): for the selected track (▶), the persona-vs-subgroup
panel (seed 003: modal accuracy and NMAE against each group baseline that matches its persona) and
the nearest countries by answer distribution (1 − JSD and normalised W1, per item and on average,
against the countries of a baseline that holds distributions), each saying which baseline it uses.
Computed in a worker (pandas), kept by (track, its answers), so a key press only redraws."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.message import Message
from textual.widgets import Static

from ..core.groups import (ModelAnswer, compare_to_group, distribution_baselines, distribution_fits, groups_for, list_baselines,
                           nearest_by_distribution)
from ..core.personas import get_persona
from ..widgets.text import safe_text

NEAREST = 5
PER_ITEM_COUNTRIES = 3


class BaselinesCompared(Message):
    def __init__(self, key, parts) -> None:
        super().__init__()
        self.key, self.parts = key, parts


def _fmt(value) -> str:
    return "–" if value is None or value != value else f"{value:.2f}"


def subgroup_part(comparison: dict[str, dict], groups, persona_key: str, persona_name: str, method: str):
    title = Text.assemble(("Persona vs subgroup (seed 003) for ▶ ", "bold"), safe_text(persona_name, style="bold"))
    if not comparison:
        return Group(title, Text(f"no subgroup baseline matches this persona ({persona_key[:60]}); `probe-tui baselines` lists them, "
                                 "`probe-tui baselines build` makes one from survey microdata", style="dim italic"))
    table = Table(box=None, padding=(0, 1))
    for column, justify in (("group", "left"), ("baseline", "left"), ("items", "right"), ("modal acc", "right"), ("NMAE", "right"),
                            ("1−JSD", "right"), ("W1", "right")):
        table.add_column(column, justify=justify)
    for name, result in comparison.items():
        rows = groups[groups["group"] == name.split(" (")[0]] if groups is not None else None
        source = ", ".join(sorted(rows["baseline"].unique())) if rows is not None and len(rows) and "baseline" in rows else ""
        table.add_row(safe_text(name[:32]), safe_text(source[:20]), str(result["items"]), _fmt(result["modal_accuracy"]), _fmt(result["nmae"]),
                      _fmt(result["js_similarity"]), _fmt(result["wasserstein"]))
    note = Text(f"modal acc: the model's most likely option = the group's modal answer; NMAE: |expected − group mean| / scale range; "
                f"model answers by {method}", style="dim")
    return Group(title, table, note)


def distribution_part(session, answers: list[ModelAnswer], groups, labels: dict[str, str], method: str):
    instrument = session.instrument
    names = distribution_baselines(instrument, groups) if groups is not None else []
    means_from = session.baseline.source if session.baseline is not None else "none"
    if not names:
        return Group(Text("Nearest by distribution", style="bold"),
                     Text(f"no country baseline with answer distributions for {instrument.key} (import one: probe-tui baselines "
                          f"import-goqa FILE, or build one: probe-tui baselines build FILE --by country); the ranking by mean above "
                          f"uses {means_from}", style="dim italic"))
    name = names[0]
    info = next((b for b in list_baselines() if b["name"] == name), {})
    fits = distribution_fits(answers, groups, instrument, name)
    nearest = nearest_by_distribution(fits)
    also = f"; also: {', '.join(names[1:])}" if len(names) > 1 else ""
    title = Text.assemble(("Nearest by distribution for ▶ (mean 1 − JSD over items; W1 normalised)", "bold"))
    source = safe_text(f"distributions: {name} ({info.get('source', '')}){also} · by mean (above): {means_from} · model: {method}", style="dim")
    if nearest.empty:
        return Group(title, source, Text("no answered item with a distribution in this baseline yet", style="dim italic"))
    table = Table(box=None, padding=(0, 1))
    for column, justify in (("#", "right"), ("country", "left"), ("1−JSD", "right"), ("W1", "right"), ("items", "right")):
        table.add_column(column, justify=justify)
    for position, row in enumerate(nearest.head(NEAREST).itertuples(), start=1):
        table.add_row(str(position), safe_text(row.group[:28]), _fmt(row.js_similarity), _fmt(row.wasserstein), str(row.items))
    top = list(nearest["group"].head(PER_ITEM_COUNTRIES))
    per_item = Table(box=None, padding=(0, 1), title=None)
    per_item.add_column("item (1−JSD / W1)")
    for country in top:
        per_item.add_column(safe_text(country[:16]), justify="right")
    by_item = fits.set_index(["item_code", "group"])
    for code in dict.fromkeys(fits["item_code"]):
        cells = []
        for country in top:
            if (code, country) in by_item.index:
                fit = by_item.loc[(code, country)]
                cells.append(f"{fit['js_similarity']:.2f} / {fit['wasserstein']:.2f}")
            else:
                cells.append("–")
        per_item.add_row(safe_text(f"{code} {labels.get(code, '')}"[:28]), *cells)
    return Group(title, source, table, Text("Per item, against the nearest:", style="bold"), per_item)


class BaselinePanels:
    """Mixed into GaugeScreen: two Statics, #subgroups and #by-distribution, drawn by show_baselines()."""

    def baseline_statics(self):
        yield Static(id="subgroups", classes="gauge-part")
        yield Static(id="by-distribution", classes="gauge-part")

    def show_baselines(self) -> None:
        condition = self.selected
        session = self.probe.session
        answers = [ModelAnswer(a.item.code, a.distribution.expected, a.distribution.answer, a.distribution.probs)
                   for a in session.answers_under(condition)] if condition is not None else []
        key = (condition, tuple((a.code, a.expected) for a in answers))
        cache = self.__dict__.setdefault("_baseline_parts", {})
        if key in cache:
            self._show_baseline_parts(*cache[key])
            return
        if not answers:
            self._show_baseline_parts("", "")
            return
        self.query_one("#subgroups", Static).update(Text("comparing with the group baselines…", style="dim italic"))
        methods = sorted({a.distribution.method for a in session.answers_under(condition)})
        self.compare_baselines(key, condition, answers, self.probe.groups, ", ".join(methods))

    @work(thread=True, exclusive=True, group="baselines")
    def compare_baselines(self, key, condition, answers: list[ModelAnswer], groups, method: str) -> None:
        session = self.probe.session
        persona = get_persona(condition.persona, self.probe.personas)
        matching = groups_for(session.instrument, condition.persona, groups) if groups is not None and len(groups) else {}
        comparison = {name: compare_to_group(answers, rows, session.instrument.scale.labels) for name, rows in matching.items()}
        labels = {item.code: item.construct for item in session.instrument.items}
        parts = (subgroup_part(comparison, groups, condition.persona, persona.name_in("en"), method),
                 distribution_part(session, answers, groups, labels, method))
        self.post_message(BaselinesCompared(key, parts))

    def on_baselines_compared(self, message: BaselinesCompared) -> None:
        self.__dict__.setdefault("_baseline_parts", {})[message.key] = message.parts
        if message.key[0] == self.selected:
            self._show_baseline_parts(*message.parts)

    def _show_baseline_parts(self, subgroups, by_distribution) -> None:
        self.query_one("#subgroups", Static).update(subgroups)
        self.query_one("#by-distribution", Static).update(by_distribution)
