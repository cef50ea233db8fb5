"""The command palette's commands for the probe screen, namespaced as "area: action"."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from ..core.personas import national_persona


class ProbeCommands(Provider):
    def _commands(self):
        screen = self.screen
        if not hasattr(screen, "instrument"):
            return
        yield "item: next", "the next survey item", screen.action_next_item
        yield "item: previous", "the previous survey item", screen.action_previous_item
        for language in screen.instrument.languages:
            yield f"language: {screen.language_name(language)}", "ask in this language", partial(screen.set_language, language)
        for key, persona in screen.personas.items():
            yield f"persona: {persona.name_in(screen.language)}", (persona.text_in(screen.language) or "no persona")[:80], partial(screen.set_persona, key)
        if screen.session.baseline is not None:
            for country in sorted(screen.session.baseline.table.index):
                persona = national_persona(country)
                yield f"persona: {persona.name_in(screen.language)}", "the national persona", partial(screen.set_persona, persona.key)
        yield "check: order", "ask again with the options' meanings reversed", screen.action_order_check
        yield "free text: write", "stream the model's own words for this prompt", screen.action_free_text
        yield "instrument: choose", "MFQ-2, WVS, VSM 2013 or the country pairs", screen.app.action_pick_instrument
        yield "view: answers", "every answer so far, odd ones flagged", screen.action_session_answers
        yield "view: gauge", "the gauge full screen: tracks, nearest countries, dimensions", screen.action_gauge
        yield "view: models", "load another model or endpoint", screen.action_models
        yield "view: compare", "this item under two conditions side by side", screen.action_compare
        yield "view: countries", "VSM 2013 across 20 countries", screen.action_countries
        yield "view: prompt", "show or hide the exact prompt", screen.action_toggle_prompt
        for suffix in ("csv", "parquet", "json"):
            yield f"export: {suffix}", f"this session's answers with provenance, into probe-tui-<session>.{suffix} here", partial(screen.app.export, suffix)
        yield "picture: screenshot (SVG)", "this screen as an SVG file, here", screen.app.screenshot_here
        yield "help: keys", "the help card", screen.action_help

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
