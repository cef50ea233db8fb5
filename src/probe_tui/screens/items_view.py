"""What the probe screen shows as text: language labels, the item's header, the flags and the change
line, the gauge pane and its waiting line, the persona choices, and the user files' problems."""

from __future__ import annotations

from dataclasses import replace

from ..core.errors import ProbeError
from ..core.groups import load_group_baselines
from ..core.instruments import item_bank
from ..core.personas import get_persona, national_persona, persona_bank

NAMES = {"en": "EN English", "zh": "ZH 中文", "fr": "FR Français"}


def language_label(language: str) -> str:
    name = item_bank().frames.get(language, {}).get("name", "")
    return f"{language.upper()} {name}".strip() if language not in NAMES else language.upper()


def language_name(language: str) -> str:
    return NAMES.get(language) or language_label(language)


def restored(position: dict, items, instrument, condition, personas: dict, explicit: dict):
    """(item index, condition): where an instrument's screen stood when the session was last open
    (items: those the screen browses); a language or persona given on the command line (explicit) stays."""
    if not position:
        return 0, condition
    index = min(max(int(position.get("index", 0)), 0), len(items) - 1)
    if position.get("language") in instrument.languages and not explicit["language"]:
        condition = replace(condition, language=position["language"])
    try:
        if not explicit["persona"]:
            condition = replace(condition, persona=get_persona(position.get("persona", condition.persona), personas).key)
    except ProbeError:
        pass  # a persona file since removed: keep the one asked for
    return index, condition


def item_header(instrument, items, index: int, language: str, persona) -> str:
    item = items[index]
    return (f"{instrument.name} · item {index + 1}/{len(items)} · official no. {item.code} · "
            f"{item.construct or item.dimension} · {language_label(language)} · persona: {persona.name_in(language)}")


def condition_label(condition, shown, personas: dict, model_name) -> str:
    """How the change line names an earlier condition: with its model when that differs from shown's."""
    if condition is None:
        return ""
    label = f"{language_label(condition.language)} · {get_persona(condition.persona, personas).name_in(condition.language)}"
    return label if condition.model == shown.model else f"{model_name(condition.model)} · {label}"


def flags_line(session, answer, item, condition, calibration: str = "") -> str:
    """The answer's flags (low valid_mass is shown under the bars already), and the order check;
    with a calibrated view picked, that view beside the raw answer, and the flags judge it."""
    if answer is None:
        return ""
    view = session.calibrated_view(answer, calibration) if calibration else None
    lines = []
    if calibration:
        d = answer.distribution
        lines.append(f"{calibration}: E[x] {view.expected:.2f}, argmax {view.answer} (raw: E[x] {d.expected:.2f}, argmax {d.answer})"
                     if view is not None and not view.unanswered else
                     f"{calibration}: {view.unanswered}" if view is not None else f"{calibration}: asking its reference prompt…")
    lines += [f"⚑ {flag}" for flag in session.flags_for(answer, view=view if view is not None and not view.unanswered else None)
              if flag.kind != "low-mass"]
    check = session.order_check_for(item, condition)
    if check and not any(line.startswith("⚑ order-flip") for line in lines):
        lines.append(f"order check: E[x] {check.distribution.expected:.2f} with the meanings reversed (consistent)")
    return "\n".join(lines)


def change_line(before, answer, before_label: str) -> str:
    """The change from the previous condition's answer to this item, when there is one."""
    if not (answer and before) or before is answer:
        return ""
    a, b = before.distribution, answer.distribution
    return (f"Change from {before_label}: E[x] {a.expected:.2f} → {b.expected:.2f} "
            f"({b.expected - a.expected:+.2f}), argmax {a.answer} → {b.answer}")


def gauge_waiting(session, condition) -> str:
    answered = len(session.answers_under(condition))
    note = session.engine.missing_note(condition) if answered else None
    return f"{answered} item(s) answered so far; {note}" if note else "no answers yet under this condition"


def show_gauge(view, session, condition, human: dict, groups, persona) -> None:
    """The probe screen's gauge pane: the condition's reading against the US and China, its nearest
    countries and its groups."""
    caption = f"Gauge · {language_label(condition.language)} · {persona.name_in(condition.language)}"
    view.show(session.gauge(condition), session.dimension_labels(), human, caption, session.baseline,
              session.nearest_countries(condition), session.group_comparison(condition, groups), gauge_waiting(session, condition))


def persona_choices(session, personas: dict, current: str) -> dict:
    """The personas on offer: the saved ones, then a national one per baseline country."""
    choices = dict(personas)
    if session.baseline is not None:
        for country in sorted(session.baseline.table.index):
            national = national_persona(country)
            choices[national.key] = national
    if current not in choices:
        choices[current] = get_persona(current, personas)
    return choices


def group_baselines_and_problems():
    """The user's group baselines (None when unreadable), and a one-line note of the user files
    that were skipped (empty when none)."""
    problems, groups = item_bank().problems + persona_bank().problems, None
    try:
        groups = load_group_baselines()
        problems += groups.attrs["problems"]
    except ProbeError as exc:
        problems.append(str(exc))
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return groups, f"{problems[0]}{more}. That file was skipped; run: probe-tui items check" if problems else ""
