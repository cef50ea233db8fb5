"""The command palette's commands, namespaced as "area: action"."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from ..core.errors import ProbeError
from ..widgets.script import visual
from ..widgets.text import safe_markup
from .items_view import language_name
from .subgroups import subgroup_commands


def session_commands(screen):
    """Commands every instrument's screen has: instrument, exports, pictures."""
    app = screen.app
    yield "instrument: choose", "MFQ-2, WVS, VSM 2013 or the country pairs", app.action_pick_instrument
    for suffix in ("csv", "parquet", "json"):
        yield f"export: {suffix}", f"this session's answers with provenance, into probe-tui-<session>.{suffix} here", partial(app.export, suffix)
    for kind in screen.instrument.figure_kinds:
        for suffix in ("png", "svg"):
            yield f"picture: {kind} ({suffix.upper()})", "a figure for slides from this session's answers, here", partial(app.figure, kind, suffix)
    yield "picture: screenshot (SVG)", "this screen as an SVG file, here", app.screenshot_here
    yield "help: keys", "the help card: this screen's keys", app.action_help


def probe_commands(screen):
    yield "item: next", "the next survey item", screen.action_next_item
    yield "item: previous", "the previous survey item", screen.action_previous_item
    for language in screen.instrument.languages:
        yield f"language: {language_name(language)}", "ask in this language", partial(screen.set_language, language)
    for key, persona in screen.persona_choices().items():  # each once: the named ones, then the national ones
        try:
            text = persona.text_in(screen.language)
        except ProbeError:
            continue  # it has no text in this language, so it cannot be asked in it
        yield f"persona: {safe_markup(persona.name_in(screen.language))}", safe_markup((text or "no persona")[:80]), partial(screen.set_persona, key)
    yield "check: order", "ask again with the options' meanings reversed", screen.action_order_check
    yield "free text: write", "stream the model's own words for this prompt", screen.action_free_text
    yield "view: answers", "every answer so far, odd ones flagged", screen.action_session_answers
    yield "view: gauge", "the gauge full screen: tracks, nearest countries, dimensions", screen.action_gauge
    yield "view: models", "load another model or endpoint", screen.action_models
    yield "view: compare", "this item under two conditions side by side", screen.action_compare
    yield "view: countries", "VSM 2013 across 20 countries", screen.action_countries
    yield from subgroup_commands(screen)  # seed 003's subgroup sweep, one per group baseline
    yield "view: prompt", "show or hide the exact prompt", screen.action_toggle_prompt
    yield from session_commands(screen)


def pairs_commands(screen):
    yield "pair: next", "the next of the 28 pairs", partial(screen.action_step, 1)
    yield "pair: previous", "the previous pair", partial(screen.action_step, -1)
    yield "scenario: next", "the next scenario", partial(screen.action_scenario, 1)
    yield "scenario: previous", "the previous scenario", partial(screen.action_scenario, -1)
    yield "sweep: start or pause", "ask every pair and scenario in turn", screen.action_toggle_sweep
    yield "language: next", "EN → ZH → FR", screen.action_cycle_language
    yield "view: answers", "every answer so far, odd ones flagged", screen.action_session_answers
    yield "view: models", "load another model or endpoint", screen.action_models
    yield "view: prompt", "show or hide the exact prompts", screen.action_toggle_prompt
    yield from session_commands(screen)


class _Commands(Provider):
    """Names are matched as written; they are shown (and their help) as a terminal must draw them:
    right-to-left text shaped and reordered."""

    listing = staticmethod(lambda screen: iter(()))

    async def discover(self) -> Hits:
        for name, help_text, callback in self.listing(self.screen):
            yield DiscoveryHit(visual(name), callback, text=name, help=visual(help_text))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self.listing(self.screen):
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(visual(name)), callback, text=name, help=visual(help_text))


class ProbeCommands(_Commands):
    listing = staticmethod(probe_commands)


class PairsCommands(_Commands):
    listing = staticmethod(pairs_commands)
