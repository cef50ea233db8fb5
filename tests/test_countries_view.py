"""The countries view (seed 001) and right-to-left display, driven with Pilot."""

from __future__ import annotations

import io

import arabic_reshaper
import pytest
from rich.console import Console
from bidi import get_display

from probe_tui.app import ProbeApp
from probe_tui.backends.llama_cpp import LlamaCppBackend
from probe_tui.core.instruments import get_instrument
from probe_tui.core.instruments.vsm import align_countries, raw_indices
from probe_tui.screens.countries import CountriesScreen
from probe_tui.widgets.script import visual

from scripted import ScriptedBackend
from test_app import probe_screen, wait_for

ARABIC = "أن يكون لديك رئيس تستطيع أن تحترمه"


def plain(renderable) -> str:
    console = Console(width=80, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def test_visual_shapes_and_reorders_rtl_and_leaves_other_scripts_alone(monkeypatch):
    assert visual("Have a secure job") == "Have a secure job"
    assert visual("ได้ทำงานที่น่าสนใจ") == "ได้ทำงานที่น่าสนใจ"
    shown = visual(ARABIC)
    assert shown == get_display(arabic_reshaper.reshape(ARABIC), base_dir="R")
    assert shown != ARABIC and "\ufe8d" <= max(shown)  # presentation forms: the letters join
    monkeypatch.setenv("PROBE_TUI_BIDI", "0")
    assert visual(ARABIC) == ARABIC


def test_wrapped_rtl_text_keeps_its_reading_order_line_by_line():
    words = ARABIC.split()
    lines = visual(ARABIC, width=16).split("\n")
    assert len(lines) > 1 and all(len(line) == 16 for line in lines)  # right-aligned to the width
    # read each visual line right to left: the first line holds the first words
    first_line_logical = get_display(lines[0].strip(), base_dir="R")
    assert first_line_logical.startswith(arabic_reshaper.reshape(words[0]))


async def test_countries_view_fills_in_and_ranks_by_deviation_ratio():
    backend = ScriptedBackend()
    app = ProbeApp(backend, instrument="vsm2013", language="ar", persona="country:arab-countries")
    async with app.run_test(size=(120, 40)) as pilot:
        probe = await probe_screen(app, pilot)
        await wait_for(pilot, lambda: probe.session.answer_for(probe.item, probe.condition()) is not None, 30)
        header = str(probe.query_one("#item-text").render())
        assert visual(probe.item.text_in("ar")).strip() in header
        await pilot.press("c")
        await pilot.pause()
        countries = app.screen
        assert isinstance(countries, CountriesScreen) and len(countries.countries) == 20
        assert countries.alignment is None
        await pilot.press("s")
        # the sweep ends, then the view redraws from every answer (a tick before, it may hold one country fewer)
        await wait_for(pilot, lambda: not countries.running.is_set() and countries.alignment is not None
                       and len(countries.alignment.indices) == len(countries.countries), 120)
        alignment = countries.alignment
        assert len(alignment.indices) == 20
        # the view's numbers are core's numbers for the same answers
        complete = {c: countries.answers_for(c) for c in countries.countries}
        expected = align_countries(raw_indices(complete), get_instrument("vsm2013").baseline().table)
        assert alignment.deviation_ratio.to_dict() == pytest.approx(expected.deviation_ratio.to_dict())
        chart = countries.query_one("#chart")
        shown = [chart.get_option_at_index(i).id for i in range(chart.option_count)]
        assert shown == alignment.deviation_ratio.sort_values(ascending=False).index.tolist()
        first = str(chart.get_option_at_index(0).prompt)
        assert f"{alignment.deviation_ratio[shown[0]]:5.2f}" in first and ("│" in first or "┃" in first)
        at = shown.index(countries.cursor_country)
        await pilot.press("up" if at == len(shown) - 1 else "down")
        await pilot.pause()
        moved = shown[at - 1] if at == len(shown) - 1 else shown[at + 1]
        assert countries.cursor_country == moved
        detail = plain(countries.query_one("#detail").content)
        assert moved in detail and "Hofstede" in detail and f"DR {alignment.deviation_ratio[moved]:.2f}" in detail
        # the Arabic answer given on the probe screen was reused, not asked again
        assert backend.calls == 20 * 24
        await pilot.press("m")
        await pilot.pause()
        assert countries.condition_name == "en" and countries.alignment is None
        assert "0/24 items" in str(chart.get_option_at_index(0).prompt)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is probe


async def test_countries_view_on_the_real_model(smollm2_path):
    backend = LlamaCppBackend(smollm2_path, n_ctx=2048)
    app = ProbeApp(backend, instrument="vsm2013")
    async with app.run_test(size=(100, 30)) as pilot:
        probe = await probe_screen(app, pilot)
        await wait_for(pilot, lambda: probe.model_ready, 120)
        await pilot.press("c")
        await pilot.pause()
        countries = app.screen
        await pilot.press("s")
        await wait_for(pilot, lambda: len(countries.answers_for("Arab countries")) >= 1, 180)
        await pilot.press("s")  # pause; the item in flight finishes
        await wait_for(pilot, lambda: countries.asking is None, 180)
        await pilot.pause(0.5)  # the chart redraws on its next tick
        condition, _ = countries.condition_for("Arab countries")
        answers = probe.session.answers_under(condition)
        assert answers[0].distribution.method == "logprobs" and condition.language == "ar"
        assert sum(answers[0].distribution.probs.values()) == pytest.approx(1.0)
        assert "الدول العربية" in answers[0].prompt.text
        assert f"{len(answers)}/24 items" in str(countries.query_one("#chart").get_option_at_index(0).prompt)
        await pilot.press("escape")
