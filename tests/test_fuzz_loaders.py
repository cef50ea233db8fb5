"""Random bytes and random YAML/CSV into the user-file loaders: a result or a one-line ProbeError,
never another exception (issue 21)."""

import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from probe_tui.core.errors import ProbeError
from probe_tui.core.groups import read_group_baselines
from probe_tui.core.instruments import load_bank
from probe_tui.core.personas import load_persona_bank
from probe_tui.core.yamlfile import load_yaml

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12),
                    st.sampled_from(["en", "mfq2", "1", "{0}", "{first}", "a:b", "care", "2024-13-45"]))
keys = st.one_of(st.sampled_from(["instrument", "name", "languages", "dimensions", "scale", "scales", "question",
                                  "questions", "frames", "items", "code", "text", "labels", "anchors", "en",
                                  "instruction", "personas", "country", "dimension", "reverse"]), scalars)
documents = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
                         max_leaves=25)


def yaml_text(document) -> str:
    return yaml.safe_dump(document, allow_unicode=True)


def check_user_folder(folder: str, name: str, content: bytes):
    """Load the item and persona banks with one fuzzed user file: its problems are reported, one line each."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / name
        path.write_bytes(content)
        bank = load_bank(Path(directory)) if folder == "items" else load_persona_bank(Path(directory))
        assert all("\n" not in problem for problem in bank.problems)
        try:
            load_yaml(path)
        except ProbeError as exc:
            assert "\n" not in str(exc)


@FUZZ
@given(st.one_of(st.binary(max_size=300), documents.map(lambda d: yaml_text(d).encode()),
                 st.fixed_dictionaries({"instrument": st.sampled_from(["mfq2", "new"])}, optional={
                     "name": scalars, "languages": documents, "dimensions": documents, "scale": documents,
                     "scales": documents, "question": documents, "questions": documents, "frames": documents,
                     "items": st.lists(documents, max_size=3)}).map(lambda d: yaml_text(d).encode())))
def test_item_loader_never_raises_anything_else(content):
    check_user_folder("items", "fuzz.yaml", content)


@FUZZ
@given(st.one_of(st.binary(max_size=300), documents.map(lambda d: yaml_text(d).encode()),
                 st.dictionaries(keys, documents, max_size=3).map(lambda d: yaml_text({"personas": d}).encode())))
def test_persona_loader_never_raises_anything_else(content):
    check_user_folder("personas", "fuzz.yaml", content)


cells = st.one_of(st.text(max_size=10), st.sampled_from(['"{""1"": 0.5}"', "1e400", "nan", "-1", "mfq2", "none", '"[1]"', '"{}"']))


@FUZZ
@given(st.one_of(st.binary(max_size=300),
                 st.lists(st.lists(cells, min_size=6, max_size=7), max_size=4)
                 .map(lambda rows: "group,persona,instrument,item_id,mean,distribution\n" + "\n".join(",".join(r) for r in rows))
                 .map(str.encode)))
def test_group_baseline_loader_never_raises_anything_else(content):
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "groups.csv"
        path.write_bytes(content)
        try:
            read_group_baselines(path)
        except ProbeError as exc:
            assert "\n" not in str(exc)


EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "weekend.yaml"
baseline_cells = st.one_of(st.text(max_size=8), st.sampled_from(["United States", "China", "Atlantis", "3.1", "1e400", "nan", "inf", "-", '""']))


@FUZZ
@given(st.one_of(st.binary(max_size=300),
                 st.lists(st.lists(baseline_cells, min_size=2, max_size=4), max_size=5)
                 .map(lambda rows: "country,thrift,novelty\n" + "\n".join(",".join(r) for r in rows)).map(str.encode)))
def test_instrument_baseline_loader_never_raises_anything_else(content):
    """A user instrument's baseline CSV (#15, #21): the instrument loads, or its problem is one line."""
    with tempfile.TemporaryDirectory() as directory:
        (Path(directory) / "weekend.yaml").write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
        (Path(directory) / "weekend_baseline.csv").write_bytes(content)
        bank = load_bank(Path(directory))
        assert all("\n" not in problem for problem in bank.problems)
        assert ("weekend" in bank.instruments) != any("weekend_baseline.csv" in problem for problem in bank.problems)
