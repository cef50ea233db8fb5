"""Bad group-baseline CSVs (issue 21, item 17): reported with file:line, that file skipped."""

import pytest

from probe_tui.core.errors import ProbeError
from probe_tui.core.groups import groups_for, load_group_baselines, user_groups_dir
from probe_tui.core.instruments import get_instrument

HEADER = "group,persona,instrument,item_id,mean,distribution\n"
GOOD = HEADER + 'Mine,none,mfq2,1,3.5,"{""1"": 0.5, ""5"": 0.5}"\n'


@pytest.mark.parametrize("row", [
    'G,none,mfq2,1,,"{""1"": 0, ""2"": 0}"',  # a zero distribution
    'G,none,mfq2,1,1e400,',  # an infinite mean
    'G,none,mfq2,1,,"{""1"": 1e400}"',  # an infinite share
    'G,none,mfq2,1,abc,',  # not a number
])
def test_a_bad_group_file_is_reported_with_its_line_and_skipped(row):
    folder = user_groups_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a_good.csv").write_text(GOOD, encoding="utf-8")
    bad = folder / "b_bad.csv"
    bad.write_text(HEADER + row + "\n", encoding="utf-8")
    try:
        frame = load_group_baselines()
    finally:
        bad.unlink()
        (folder / "a_good.csv").unlink()
    assert [p.split(": ")[0] for p in frame.attrs["problems"]] == [f"{bad}:2"]
    assert set(frame["source_file"]) == {str(folder / "a_good.csv")}
    assert list(groups_for(get_instrument("mfq2"), "none", frame)) == ["Mine"]


def test_an_unknown_item_id_names_its_file_and_line(tmp_path):
    path = tmp_path / "groups.csv"
    path.write_text(GOOD + "Mine,none,mfq2,Q999,2,\n", encoding="utf-8")
    with pytest.raises(ProbeError, match=rf"{path}:3: item_id 'Q999'"):
        groups_for(get_instrument("mfq2"), "none", load_group_baselines(path))
