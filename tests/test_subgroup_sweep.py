"""Issue 17.5: the subgroup sweep asks under the persona of every group in a baseline (CLI; the job
builder in core/conditions.py is the one studies and the app use)."""

import pandas as pd

from probe_tui.cli import main
from probe_tui.core.conditions import subgroup_items, subgroup_jobs, subgroup_personas
from probe_tui.core.groups import load_group_baselines
from probe_tui.core.instruments import get_instrument
from probe_tui.core.microdata import build_baseline, parse_by, parse_items
from test_baselines_build import write_microdata


def test_subgroup_jobs_ask_each_group_of_a_baseline_under_its_persona(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    build_baseline(write_microdata(tmp_path, ".csv"), parse_by("country,sex"), parse_items("Q177,Q182"), "W_WEIGHT", min_n=3, name="wvs7")
    wvs, groups = get_instrument("wvs"), load_group_baselines()
    personas = subgroup_personas(wvs, groups, "wvs7")
    assert [p.key for p in personas] == ["subgroup:country=singapore,sex=female", "subgroup:country=singapore,sex=male"]
    items = subgroup_items(wvs, wvs.items, groups, "wvs7")
    assert [i.code for i in items] == ["Q177", "Q182"]  # only the items the baseline has
    jobs = subgroup_jobs(wvs, items, "m", "en", personas)
    assert [(j.condition.persona, j.item.code) for j in jobs] == [(p.key, c) for p in personas for c in ("Q177", "Q182")]
    assert "Sex: female" in jobs[0].persona.text_in("en")


def test_run_subgroups_answers_and_compares_every_group(tmp_path, monkeypatch, capsys, smollm2_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    build_baseline(write_microdata(tmp_path, ".csv"), parse_by("country,sex"), parse_items("Q177,Q182"), "W_WEIGHT", min_n=3, name="wvs7")
    out = tmp_path / "run.csv"
    assert main(["run", "--model", str(smollm2_path), "--instrument", "wvs", "--subgroups", "wvs7", "--output", str(out)]) == 0
    frame = pd.read_csv(out)
    assert sorted(set(frame["persona"])) == ["subgroup:country=singapore,sex=female", "subgroup:country=singapore,sex=male"]
    assert len(frame) == 4
    printed = capsys.readouterr().out
    assert "vs group Singapore, female: modal_accuracy" in printed and "2 subgroups: accuracy_range" in printed
    assert main(["run", "--instrument", "wvs", "--subgroups", "nope", "--output", str(tmp_path / "x.csv")]) == 2
    assert "no group baseline 'nope' for wvs; there are: wvs7" in capsys.readouterr().err


async def test_the_subgroups_view_asks_every_group_and_shows_its_accuracy_and_nmae(tmp_path, monkeypatch):
    from probe_tui.app import ProbeApp
    from probe_tui.screens.subgroups import SubgroupsScreen, subgroup_commands
    from scripted import ScriptedBackend
    from test_app import probe_screen, wait_for
    from test_countries_view import plain

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    build_baseline(write_microdata(tmp_path, ".csv"), parse_by("country,sex"), parse_items("Q177,Q182"), "W_WEIGHT", min_n=3, name="wvs7")
    app = ProbeApp(ScriptedBackend(), instrument="wvs")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await probe_screen(app, pilot)
        await wait_for(pilot, lambda: screen.groups is not None and screen.model_ready, 20)
        (name, _, open_view), = list(subgroup_commands(screen))
        assert name == "view: subgroups (wvs7)"
        open_view()
        await wait_for(pilot, lambda: isinstance(app.screen, SubgroupsScreen), 10)
        view = app.screen
        await wait_for(pilot, lambda: view.is_attached and view.query("#subgroup-table"), 10)
        assert "accuracy range –, CV –" in plain(view.query_one("#subgroup-table").content)  # no fairness before two groups have answers
        await pilot.press("s")
        await wait_for(pilot, lambda: not view.jobs_left() and not view.run_active, 30)
        shown = plain(view.query_one("#subgroup-table").content)
        for persona in view.personas:
            condition = view.condition_for(persona)
            result = next(iter(screen.session.group_comparison(condition, screen.groups).values()))
            line = next(line for line in shown.splitlines() if persona.name_in("en")[:30] in line)
            assert line.split()[-3:] == ["2/2", f"{result['modal_accuracy']:.2f}", f"{result['nmae']:.2f}"]
        accuracies = [next(iter(screen.session.group_comparison(view.condition_for(p), screen.groups).values()))["modal_accuracy"]
                      for p in view.personas]
        spread = (max(accuracies) - min(accuracies)) / max(accuracies) if max(accuracies) else None
        assert f"fairness over the groups: accuracy range {'–' if spread is None else f'{spread:.2f}'}" in shown
        assert "Every group answered" in plain(view.query_one("#subgroups-status").content)
