"""Issue 17.3: real subgroup figures reach the gauge screen (Pilot): modal accuracy and NMAE for a
subgroup persona with a baseline built by the test, and 1 − JSD and W1 against the countries of an
imported GlobalOpinionQA baseline."""

import numpy as np

from probe_tui.app import ProbeApp
from probe_tui.core.goqa import import_goqa
from probe_tui.core.metrics import js_similarity, normalised_wasserstein
from probe_tui.core.microdata import build_baseline, parse_by, parse_items
from scripted import ScriptedBackend
from test_app import answered, probe_screen, wait_for
from test_baselines_build import write_goqa, write_microdata
from test_countries_view import plain


def model_probs(answer):
    return np.array([answer.distribution.probs[label] for label in answer.item.scale.labels])


async def test_the_gauge_shows_modal_accuracy_and_nmae_for_a_subgroup_persona(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    build_baseline(write_microdata(tmp_path, ".sav"), parse_by("country,sex"), parse_items("Q177,Q182"), "W_WEIGHT", min_n=3, name="wvs7")
    app = ProbeApp(ScriptedBackend(), instrument="wvs", persona="subgroup:sex=male,country=singapore")
    async with app.run_test(size=(120, 90)) as pilot:
        screen = await probe_screen(app, pilot)
        await wait_for(pilot, answered(screen), 10)  # Q177
        answer = screen.session.answer_for(screen.item, screen.condition())
        await pilot.press("g")
        gauge = app.screen
        await wait_for(pilot, lambda: "modal acc" in plain(gauge.query_one("#subgroups").content), 20)
        shown = plain(gauge.query_one("#subgroups").content)
        # the men of Singapore on Q177: mode 1, weighted mean 1.25, shares 1: 0.75, 2: 0.25 (worked out in test_baselines_build)
        accuracy = 1.0 if answer.distribution.answer == "1" else 0.0
        nmae = abs(answer.distribution.expected - 1.25) / 9
        group = np.array([0.75, 0.25] + [0.0] * 8)
        row = next(line for line in shown.splitlines() if line.strip().startswith("Singapore, male"))
        expected = ["1", f"{accuracy:.2f}", f"{nmae:.2f}", f"{js_similarity(model_probs(answer), group):.2f}",
                    f"{normalised_wasserstein(model_probs(answer), group):.2f}"]
        assert row.split()[-5:] == expected and "wvs7" in row  # items, modal acc, NMAE, 1−JSD, W1
        assert "Persona vs subgroup (seed 003)" in shown and "model answers by scripted" in shown


async def test_the_gauge_ranks_the_countries_of_an_imported_baseline_by_distribution(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    goqa = tmp_path / "goqa.csv"
    write_goqa(goqa)
    import_goqa(goqa, "wvs", "goqa")
    app = ProbeApp(ScriptedBackend(), instrument="wvs", persona="none")
    async with app.run_test(size=(120, 90)) as pilot:
        screen = await probe_screen(app, pilot)
        await wait_for(pilot, answered(screen), 10)
        await pilot.press("n")
        await wait_for(pilot, answered(screen), 10)  # Q178, which the import holds for Nigeria and Japan
        answer = screen.session.answer_for(screen.item, screen.condition())
        assert answer.item.code == "Q178"
        await pilot.press("g")
        gauge = app.screen
        await wait_for(pilot, lambda: "Per item" in plain(gauge.query_one("#by-distribution").content), 20)
        shown = plain(gauge.query_one("#by-distribution").content)
        p = model_probs(answer)
        nigeria = np.array([0.625, 0.125] + [0.0] * 7 + [0.25])
        japan = np.array([0.1, 0, 0, 0, 0.3, 0, 0, 0, 0, 0.6])
        fits = {"Nigeria": (js_similarity(p, nigeria), normalised_wasserstein(p, nigeria)),
                "Japan": (js_similarity(p, japan), normalised_wasserstein(p, japan))}
        for country, (js, w1) in fits.items():
            line = next(line for line in shown.splitlines() if country in line and line.strip()[0].isdigit())
            assert f"{js:.2f}" in line and f"{w1:.2f}" in line
        first = max(fits, key=lambda c: fits[c][0])
        assert next(line for line in shown.splitlines() if line.strip().startswith("1 ")).split()[1] == first
        assert "distributions: goqa (globalopinionqa: goqa.csv" in shown
        assert "Q178 fare_evasion" in shown
