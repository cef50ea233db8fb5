"""The README's key table, from the key bindings themselves (a test checks the README holds exactly
this), or with --ids every binding id there is, for config.toml's [keymap].

    python scripts/keys_table.py [--ids]

A row's keys come from the bindings it names; `{id}` in its text is the key of that binding."""

from __future__ import annotations

import re
import sys

from textual.binding import Binding
from textual.keys import format_key

from probe_tui.app import ProbeApp
from probe_tui.keymap import binding_owners

# The probe screen's keys, in the README's order: (the bindings whose keys the row shows, what they do).
ROWS = [
    (("probe.next_item", "probe.previous_item"), "next / previous item"),
    (("probe.cycle_language",), "cycle the prompt language: EN → ZH → FR (VSM 2013: 20 languages)"),
    (("probe.pick_persona",), "persona picker (none, the US and China personas, and an average person from every baseline country)"),
    (("probe.order_check",), "order check: ask the item again with the options' meanings reversed (1 = the last anchor); an answer "
                             "that follows the position, not the meaning, is flagged `order-flip`"),
    (("probe.toggle_variants",), "prompt variants: off → the option order → order, anchors and frames → off; each item is then asked "
                                 "under every variant too, and the gauge (`{probe.gauge}`) shows the sensitivity and the lean's interval over them"),
    (("probe.cycle_calibration",), "calibrated view beside the raw answer: none → contextual (Zhao et al. 2021) → PMI (Holtzman et al. "
                                   "2021) → none; its reference prompt is asked once per question, and the flags judge the calibrated view"),
    (("probe.free_text",), "free text: the model's own words for the exact prompt (greedy), streamed beside the bars; "
                           "`{probe.cancel_free_text}` stops it"),
    (("probe.session_answers",), "answers: every answer so far in a table; `{answers.toggle_odd}` shows only the flagged ones, "
                                 "`{answers.next_sort}` or a click on a header sorts (again: reversed), `{answers.open_answer}` opens an answer"),
    (("probe.compare",), "compare: the item under two conditions side by side; `{compare.cycle_language}` / `{compare.pick_persona}` / "
                         "`{compare.pick_model}` set B's language / persona / model (base vs chat: B loads beside A), `{compare.swap}` swaps, "
                         "`{compare.next_item}` / `{compare.previous_item}` step both"),
    (("probe.gauge",), "gauge, full screen: a US↔CN needle per condition (`{gauge.next_track}` selects one), the nearest countries with "
                       "95% bootstrap intervals and a lean claimed only when its interval excludes 0 (from 5 items on: fewer give a handful of distinct resamples; none for VSM, whose indices "
                       "need whole items), per-dimension bars against the US, China and the nearest countries"),
    (("probe.models",), "models: the embedded models, your `.gguf` files and your endpoints, with size, quantisation, context and chat "
                        "template; `{models.load}` loads one, `{probe.cancel_free_text}` cancels a load"),
    (("probe.pick_instrument",), "instrument: MFQ-2, WVS, VSM 2013 or the country pairs, on the same model; each keeps its answers"),
    (("probe.toggle_prompt",), "show or hide the exact prompt the model saw"),
    (("probe.countries",), "countries view (VSM 2013): `{countries.toggle_sweep}` starts or pauses the 20-country sweep, "
                           "`{countries.cycle_condition}` switches aligned → EN → ZH, ↑/↓ picks a country, {countries.back} goes back"),
    (("app.help",), "help: the keys of the screen it is pressed on (every screen has its own)"),
    (("app.quit",), "quit, from every screen (`{gauge.back}` goes back)"),
]
README_KEY_NAMES = {"escape": "Esc", "enter": "Enter"}


def bindings_by_id() -> dict[str, list[Binding]]:
    """Every binding of the app, its screens and widgets, by id (a binding with two keys gives two)."""
    found: dict[str, list[Binding]] = {}
    for owner in binding_owners(ProbeApp):
        for binding in Binding.make_bindings(owner.BINDINGS):
            found.setdefault(binding.id, [])
            if binding not in found[binding.id]:
                found[binding.id].append(binding)
    return found


def key_text(bindings: list[Binding]) -> str:
    return " / ".join(README_KEY_NAMES.get(binding.key, format_key(binding.key)) for binding in bindings)


def key_table() -> str:
    bindings = bindings_by_id()
    lines = ["| key | action |", "|---|---|"]
    for ids, text in ROWS:
        keys = " / ".join(f"`{key_text(bindings[binding_id])}`" for binding_id in ids)
        text = re.sub(r"\{([a-z_]+\.[a-z_]+)\}", lambda match: key_text(bindings[match[1]]), text)
        lines.append(f"| {keys} | {text} |")
    return "\n".join(lines) + "\n"


def id_list() -> str:
    return "\n".join(f"{binding_id:<28} {key_text(found):<16} {found[0].description}"
                     for binding_id, found in sorted(bindings_by_id().items())) + "\n"


if __name__ == "__main__":
    sys.stdout.write(id_list() if "--ids" in sys.argv[1:] else key_table())
