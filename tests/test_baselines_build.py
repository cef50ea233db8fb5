"""Issue 17: group baselines built from survey microdata (CSV, .sav, .dta) and imported from
GlobalOpinionQA, checked against figures worked out by hand; bad input writes nothing."""

import json

import pandas as pd
import pyreadstat
import pytest

from probe_tui.cli import main
from probe_tui.core.errors import ProbeError
from probe_tui.core.goqa import import_goqa
from probe_tui.core.groups import groups_for, list_baselines, load_group_baselines, read_group_baselines
from probe_tui.core.instruments import get_instrument
from probe_tui.core.microdata import build_baseline, parse_by, parse_items

# country (ISO numeric), sex (1 male, 2 female), Q177, Q182, weight; negative answers are missing codes
ROWS = [
    (702, 1, 1, 5, 1.0), (702, 1, 1, 6, 2.0), (702, 1, 2, 6, 1.0), (702, 1, -1, 10, 5.0),
    (702, 2, 3, -2, 1.0), (702, 2, 3, 7, 1.0), (702, 2, 4, 8, 2.0),
    (458, 1, 5, 5, 1.0), (458, 1, 6, 6, 1.0),  # Malaysia, men: 2 respondents, under --min-n 3
]
COLUMNS = ["B_COUNTRY", "Q260", "Q177", "Q182", "W_WEIGHT"]


def write_microdata(folder, suffix: str):
    frame = pd.DataFrame(ROWS, columns=COLUMNS)
    path = folder / f"wvs{suffix}"
    labels = {"B_COUNTRY": {702.0: "Singapore", 458.0: "Malaysia"}, "Q260": {1.0: "Male", 2.0: "Female"}}
    if suffix == ".csv":
        frame.assign(B_COUNTRY=frame["B_COUNTRY"].map({702: "SGP", 458: "MYS"})).to_csv(path, index=False)  # ISO alpha-3
    elif suffix == ".sav":
        pyreadstat.write_sav(frame, str(path), variable_value_labels=labels)
    else:
        pyreadstat.write_dta(frame, str(path))  # no value labels: the ISO numeric code names the country
    return path


def shares(row) -> dict:
    return {k: v for k, v in json.loads(row["distribution"]).items() if v}


@pytest.mark.parametrize("suffix", [".csv", ".sav", ".dta", ";csv"])
def test_weighted_distributions_means_and_modes_match_the_hand_worked_figures(tmp_path, suffix):
    seen = []
    path = write_microdata(tmp_path, suffix.replace(";", "."))
    if suffix == ";csv":  # some survey exports separate their columns with semicolons
        path.write_text(path.read_text().replace(",", ";"))
        suffix = ".csv"
    result = build_baseline(path, parse_by("country,sex"), parse_items("Q177,Q182"), "W_WEIGHT",
                            min_n=3, name="synthetic", out_dir=tmp_path / "out", progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (9, 9)
    assert result.left_out == {"Malaysia, male": 2}
    frame = read_group_baselines(result.path).set_index(["group", "item_id"])
    men, women = "Singapore, male", "Singapore, female"
    # men, Q177: answers 1 (w 1), 1 (w 2), 2 (w 1); -1 dropped -> 1: 3/4, 2: 1/4; mean 1.25; mode 1; n 3
    assert shares(frame.loc[(men, "Q177")]) == {"1": 0.75, "2": 0.25}
    assert frame.loc[(men, "Q177"), "mean"] == pytest.approx(1.25)
    assert (frame.loc[(men, "Q177"), "mode"], frame.loc[(men, "Q177"), "n"]) == ("1", "3")
    # men, Q182: 5 (w 1), 6 (w 2), 6 (w 1), 10 (w 5) -> 5: 1/9, 6: 3/9, 10: 5/9; mean 73/9; mode 10
    assert shares(frame.loc[(men, "Q182")]) == pytest.approx({"5": 1 / 9, "6": 3 / 9, "10": 5 / 9}, abs=1e-6)
    assert frame.loc[(men, "Q182"), "mean"] == pytest.approx(73 / 9, abs=1e-6)
    assert frame.loc[(men, "Q182"), "mode"] == "10"
    # women, Q177: 3 (w 1), 3 (w 1), 4 (w 2) -> a tie; the lower answer is the mode; mean 3.5
    assert shares(frame.loc[(women, "Q177")]) == {"3": 0.5, "4": 0.5}
    assert (frame.loc[(women, "Q177"), "mode"], frame.loc[(women, "Q177"), "mean"]) == ("3", 3.5)
    # women, Q182: -2 dropped; 7 (w 1), 8 (w 2) -> mean 23/3, mode 8, n 2
    assert frame.loc[(women, "Q182"), "mean"] == pytest.approx(23 / 3, abs=1e-6)
    assert (frame.loc[(women, "Q182"), "mode"], frame.loc[(women, "Q182"), "n"]) == ("8", "2")
    assert frame.loc[(women, "Q182"), "persona"] == "subgroup:country=singapore,sex=female"
    provenance = json.loads(result.path.with_suffix(".json").read_text())
    assert provenance["file"] == f"wvs{suffix}" and len(provenance["sha256"]) == 64 and provenance["weight"] == "W_WEIGHT"
    assert provenance["built"] and provenance["left_out"] == {"Malaysia, male": 2}


def test_a_country_group_finds_the_country_persona_and_a_subgroup_persona_in_any_order(tmp_path):
    path = write_microdata(tmp_path, ".sav")
    build_baseline(path, parse_by("country"), parse_items("Q177"), None, min_n=1, name="countries", out_dir=tmp_path / "out")
    build_baseline(path, parse_by("sex,country"), parse_items("Q177"), None, min_n=1, name="subgroups", out_dir=tmp_path / "out")
    frame = pd.concat([read_group_baselines(p) for p in sorted((tmp_path / "out").glob("*.csv"))], ignore_index=True)
    wvs = get_instrument("wvs")
    assert list(groups_for(wvs, "country:singapore", frame)) == ["Singapore"]
    unweighted = groups_for(wvs, "country:Singapore", frame)["Singapore"]
    assert unweighted["mean"].iloc[0] == pytest.approx((1 + 1 + 2 + 3 + 3 + 4) / 6)  # no weight: each respondent counts once
    assert list(groups_for(wvs, "subgroup:country=singapore,sex=female", frame)) == ["female, Singapore"]
    assert list(groups_for(wvs, "subgroup:country=singapore", frame)) == ["Singapore"]


@pytest.mark.parametrize("make, args, message", [
    (lambda d: d / "wvs.sav", ["--items", "Q177"], "cannot read"),  # a text file called .sav
    (lambda d: d / "wvs.txt", ["--items", "Q177"], "expected survey microdata as .csv, .sav or .dta"),
    (lambda d: write_microdata(d, ".csv"), ["--items", "Q177=V999"], "unknown variable(s) V999"),
    (lambda d: write_microdata(d, ".csv"), ["--items", "Q177", "--by", "country,sex=V12"], "unknown variable 'V12'"),
    (lambda d: write_microdata(d, ".csv"), ["--items", "Q999"], "no instrument has an item with code 'Q999'"),
    (lambda d: write_microdata(d, ".csv"), ["--items", "Q177", "--weight", "W_NEG"], "negative values"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, monkeypatch, capsys, make, args, message):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    path = make(tmp_path)
    if not path.exists():
        path.write_text("this is not survey data\n", encoding="utf-8")
    if "W_NEG" in args:
        frame = pd.read_csv(path)
        frame.assign(W_NEG=[1, 1, -0.5, 1, 1, 1, 1, 1, 1]).to_csv(path, index=False)
    assert main(["baselines", "build", str(path), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("probe-tui: error: ") and message in err[-1]
    assert not [line for line in err if "Traceback" in line]
    assert not list((tmp_path / "data").rglob("*.csv")) and not list((tmp_path / "data").rglob("*.json"))


def test_build_and_list_from_the_command_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    path = write_microdata(tmp_path, ".dta")
    assert main(["baselines", "build", str(path), "--by", "country,sex", "--items", "Q177,Q182", "--weight", "W_WEIGHT",
                 "--min-n", "3", "--name", "wvs7", "--wave", "7"]) == 0
    out = capsys.readouterr().out
    assert "2 group(s) × 2 item(s) from 9 respondents" in out and "left out, under --min-n 3: Malaysia, male (n=2)" in out
    assert main(["baselines"]) == 0
    listing = capsys.readouterr().out
    assert "wvs7" in listing and "wave 7" in listing and "weight W_WEIGHT" in listing and "2 group(s) (subgroup), 2 with a persona" in listing
    assert [b["name"] for b in list_baselines()] == ["wvs7"]
    assert len(load_group_baselines()) == 4


def test_item_ranges_are_expanded():
    assert list(parse_items("Q177-Q180,Q195")) == ["Q177", "Q178", "Q179", "Q180", "Q195"]
    assert parse_items("Q177=F114A") == {"Q177": "F114A"}
    with pytest.raises(ProbeError, match="unknown attribute"):
        parse_by("country,shoe_size")


# --- GlobalOpinionQA ---------------------------------------------------------------------------------

OPTIONS = ["Never justifiable", "2", "3", "4", "5", "6", "7", "8", "9", "Always justifiable", "Don't know", "No answer"]


def write_goqa(path):
    nigeria = [0.5, 0.1, 0, 0, 0, 0, 0, 0, 0, 0.2, 0.1, 0.1]  # 20% non-substantive
    japan = [0.1, 0, 0, 0, 0.3, 0, 0, 0, 0, 0.6, 0, 0]
    rows = [
        {"question": "Is it ever justifiable to evade a fare (our test wording)?",
         "selections": f"defaultdict(<class 'list'>, {{'Nigeria': {nigeria}, 'Japan': {japan}}})", "options": repr(OPTIONS), "source": "WVS"},
        {"question": "Justifiable: the death penalty? (our test wording)",
         "selections": f"defaultdict(<class 'list'>, {{'Japan': {japan}}})", "options": repr(OPTIONS), "source": "WVS"},
        {"question": "Do you like fares?", "selections": "defaultdict(<class 'list'>, {'Japan': [1.0]})", "options": "['Yes']", "source": "GAS"},
    ]
    pd.DataFrame(rows).to_csv(path, index=False)


def test_goqa_import_keeps_the_wvs_items_drops_non_substantive_answers_and_renormalises(tmp_path):
    path = tmp_path / "goqa.csv"
    write_goqa(path)
    result = import_goqa(path, "wvs", "goqa", out_dir=tmp_path / "out")
    assert sorted(result.matched) == ["Q178", "Q195"]
    frame = read_group_baselines(result.path).set_index(["group", "item_id"])
    nigeria = frame.loc[("Nigeria", "Q178")]
    assert shares(nigeria) == pytest.approx({"1": 0.625, "2": 0.125, "10": 0.25})  # 0.5, 0.1, 0.2 over 0.8
    assert nigeria["mean"] == pytest.approx(0.625 + 0.25 + 2.5)
    assert float(nigeria["dropped_share"]) == pytest.approx(0.2)
    assert result.dropped_share == pytest.approx(0.2 / 3)  # Nigeria 0.2, Japan 0 twice
    assert frame.loc[("Japan", "Q195"), "persona"] == "country:japan" and frame.loc[("Japan", "Q195"), "mode"] == "10"
    assert result.provenance["skipped_questions"]["other source"] == 1


def test_a_file_not_in_goqa_format_is_refused(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ProbeError, match="not GlobalOpinionQA's format"):
        import_goqa(path, "wvs", "goqa", out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_import_goqa_from_the_command_line_reports_the_non_substantive_share(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    write_goqa(tmp_path / "goqa.csv")
    assert main(["baselines", "import-goqa", str(tmp_path / "goqa.csv"), "--name", "goqa-test"]) == 0
    out = capsys.readouterr().out
    assert "goqa-test: 2 countries × 2 item(s) (Q178, Q195)" in out
    assert "6.7% of answers on average" in out and "other source: 1" in out  # Nigeria's 20% on one of three rows
    assert [b["name"] for b in list_baselines()] == ["goqa-test"]


def test_an_off_scale_answer_is_named_as_the_survey_wrote_it(tmp_path, monkeypatch, capsys):
    """A new user's find: the value was shown as numpy's repr, np.int64(11)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    path = write_microdata(tmp_path, ".csv")
    frame = pd.read_csv(path)
    frame.loc[0, "Q177"] = 11
    frame.to_csv(path, index=False)
    assert main(["baselines", "build", str(path), "--items", "Q177"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "(item Q177) has the value 11, off its scale 1–10" in err and "np." not in err
