"""Studies (#16): the study file's file:line errors, a study end to end on the two embedded models,
the kill -9 resume (every answer exactly once, equal to an uninterrupted run), the report and the
study as an app session."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from probe_tui.core.errors import ProbeError
from probe_tui.study.spec import load_study

E2E = """\
name: e2e
models:
  - name: smollm2
    model: smollm2-135m-instruct
    n_ctx: 2048
  - name: gemma
    model: gemma3-270m
    n_ctx: 2048
instruments:
  - key: mfq2
    items: 1-3
  - key: wvs
    items: Q177-Q179
languages: [en, zh]
personas: [none, us_average]
"""


def write(tmp_path: Path, text: str, name: str = "study.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text, line, field, problem", [
    ("models: [smollm2-135m-instruct]\ninstruments: [mfq2]\ncolour: red\n", 3, "colour", "unknown setting"),
    ("models: [smollm2-135m-instruct]\ninstruments:\n  - key: mfq99\n", 3, "instruments[0].key", "mfq99"),
    ("models: [smollm2-135m-instruct]\ninstruments: [mfq2]\npersonas: [none, nobody_at_all]\n", 3, "personas", "nobody_at_all"),
    ("models: [smollm2-135m-instruct]\ninstruments: [mfq2]\nlanguages: [en, xx]\n", 3, "languages", "no language 'xx'"),
    ("models:\n  - model: smollm2-135m-instruct\n    mode: sampled\ninstruments: [mfq2]\n", 3, "models[0].mode", "logprobs"),
    ("models: [smollm2-135m-instruct]\ninstruments:\n  - key: wvs\n    items: Q1-Q3\n", 4, "instruments[0].items", "no item 'Q1'"),
    ("models:\n  - model: smollm2-135m-instruct\n  - model: smollm2-135m-instruct\ninstruments: [mfq2]\n", 3,
     "models[1].name", "used twice"),
    ("models:\n  - model: smollm2-135m-instruct\n    temperature: 0.7\ninstruments: [mfq2]\n", 3, "models[0].temperature", "remote"),
    ("models:\n  - endpoint: nowhere\ninstruments: [mfq2]\n", 2, "models[0].endpoint", "unknown endpoint 'nowhere'"),
    ("models: [smollm2-135m-instruct]\ninstruments: [mfq2]\norder: [standard, sideways]\n", 3, "order", "sideways"),
    ("models: [smollm2-135m-instruct]\ninstruments: [mfq2]\nrepeats: 0\n", 3, "repeats", "from 1 to 100; got 0"),
    ("models: [smollm2-135m-instruct]\ninstruments: [mfq2]\nrepeats: two\n", 3, "repeats", "; got 'two'"),
    ("models:\n  - model: smollm2-135m-instruct\n    n_ctx: lots\ninstruments: [mfq2]\n", 3, "models[0].n_ctx", "got 'lots'"),
    ("models:\n  - model: smollm2-135m-instruct\n    cache: sometimes\ninstruments: [mfq2]\n", 3, "models[0].cache",
     "expected true or false; got 'sometimes'"),
    ("models: [smollm2-135m-instruct]\ninstruments: [mfq2]\nbootstrap: " + "9" * 60 + "\n", 3, "bootstrap", "; got 999999"),
    ("models: [smollm2-135m-instruct]\ncountries:\n  countries: [Atlantis]\n", 3, "countries.countries", "Atlantis"),
])
def test_a_bad_study_file_is_one_line_naming_file_line_and_field(tmp_path, text, line, field, problem):
    path = write(tmp_path, text)
    with pytest.raises(ProbeError) as caught:
        load_study(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: {field}: "), message
    assert problem in message and "\n" not in message


def test_the_cli_says_a_bad_study_file_in_one_line(tmp_path):
    path = write(tmp_path, "models: [smollm2-135m-instruct]\ninstruments: [mfq2]\nlanguages: [en, xx]\n")
    done = probe_tui("study", "check", str(path))
    assert done.returncode == 2
    assert done.stderr.strip() == f"probe-tui: error: {path}:3: languages: mfq2 has no language 'xx'; it has en, zh, fr"


def test_the_matrix_and_its_keys(tmp_path):
    from probe_tui.study.matrix import conditions_of, model_plan

    study = load_study(write(tmp_path, E2E + "order: [standard, reversed]\n"))
    assert conditions_of(study) == 2 * 2 * 2 * 2 * 2
    plan = model_plan(study, study.models[0], "smollm2@sha256:x", {"n_ctx": 2048})
    assert len(plan) == (3 + 3) * 2 * 2 * 2
    assert len({p.job.key for p in plan}) == len(plan)  # one key per prompt
    assert sum(p.job.condition.variant == "order=reversed" for p in plan) == len(plan) // 2  # core/variants.py's order
    other = model_plan(study, study.models[0], "smollm2@sha256:x", {"n_ctx": 4096})
    assert not {p.job.key for p in plan} & {p.job.key for p in other}  # another n_ctx is another model


def probe_tui(*args, env=None):
    return subprocess.run([sys.executable, "-m", "probe_tui", *args], capture_output=True, text=True, timeout=1800,
                          env=env or os.environ.copy())


def test_a_study_runs_end_to_end_with_its_report_and_app_session(tmp_path):
    path = write(tmp_path, E2E)
    done = probe_tui("study", "run", str(path))
    assert done.returncode == 0, done.stderr[-2000:]
    folder = tmp_path / "study.study"
    frame = pd.read_parquet(folder / "responses.parquet")
    assert len(frame) == 2 * (3 + 3) * 2 * 2 and frame["key"].is_unique
    assert set(frame["study_model"]) == {"smollm2", "gemma"}
    assert frame.groupby(["study_model", "instrument", "language", "persona"]).size().to_dict() == {
        (m, i, lang, p): n for m in ("smollm2", "gemma") for i, n in (("mfq2", 3), ("wvs", 3)) for lang in ("en", "zh")
        for p in ("none", "us_average")}
    for column in ("model_sha256", "chat_template_sha256", "prompt", "probs", "method", "params", "versions", "options_reversed"):
        assert column in frame.columns
    assert set(frame["method"]) == {"logprobs"}
    assert frame.loc[frame["study_model"] == "smollm2", "chat_template_sha256"].str.len().eq(64).all()
    gemma = frame[frame["study_model"] == "gemma"]
    assert (gemma["prompt_style"] == "completion").all() and (gemma["chat_template_sha256"] == "").all()  # a base model
    scores = pd.read_csv(folder / "scores.csv", keep_default_na=False)
    r = scores[(scores["metric"] == "profile_r") & scores["target"].isin(["United States", "China"])]
    assert len(r) == 2 * 2 * 2 * 2 * 2  # per model, instrument, language, persona: r(US) and r(CN)
    assert {Path(p).name for p in (folder / "figures").iterdir()} >= {"mfq2-dimensions.png", "mfq2-gauge.png", "wvs-gauge.png"}

    again = probe_tui("study", "check", str(path))
    assert again.returncode == 0, again.stderr
    assert "smollm2 (local): 24 prompts, 24 already answered in the study" in again.stdout

    report = probe_tui("study", "report", str(path))
    assert report.returncode == 0, report.stderr
    text = (folder / "report.html").read_text(encoding="utf-8")
    assert "src=\"http" not in text and "href=\"http" not in text and "<script" not in text  # self-contained
    assert text.count("src=\"data:image/png;base64,") >= 3
    assert text.count("method: logprobs") >= 3
    assert "r(United States)" in text and "Provenance" in text and "chat template SHA-256" in text
    assert "items: Q177-Q179" in text  # the study file itself

    from probe_tui.study.session import study_session

    store, name = study_session(load_study(path))
    assert store.count(name) == len(frame)
    store, name = study_session(load_study(path))  # opened again: nothing imported twice
    assert store.count(name) == len(frame)
    from probe_tui.core.instruments import get_instrument

    answers = store.answers(name, get_instrument("mfq2"))
    assert len({a.condition for a in answers}) == 2 * 2 * 2  # a gauge track per condition


KILLED = """\
name: resume
folder: {folder}
models:
  - name: smollm2
    model: smollm2-135m-instruct
    n_ctx: 2048
instruments:
  - key: mfq2
    items: 1-6
languages: [en, zh]
personas: [none]
order: [standard, reversed]
"""


def journal_count(folder: Path) -> int:
    journal = folder / "journal.sqlite"
    if not journal.exists():
        return 0
    try:
        db = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
        try:
            return db.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
        finally:
            db.close()
    except sqlite3.OperationalError:
        return 0


def test_a_study_killed_mid_way_continues_and_every_answer_is_there_once(tmp_path):
    """kill -9 after some answers, run again: every answer exactly once, equal to an uninterrupted
    run (made with a cache of its own, so neither run replays the other)."""
    env = os.environ.copy()
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache-killed")
    killed = write(tmp_path, KILLED.format(folder="killed"), "killed.yaml")
    process = subprocess.Popen([sys.executable, "-m", "probe_tui", "study", "run", str(killed)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while journal_count(tmp_path / "killed") < 6 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    partial = journal_count(tmp_path / "killed")
    assert 6 <= partial < 24, "the kill came too late to test a resume"
    assert not (tmp_path / "killed" / "responses.parquet").exists()
    rerun = probe_tui("study", "run", str(killed), env=env)
    assert rerun.returncode == 0, rerun.stderr[-2000:]

    whole_env = os.environ.copy()
    whole_env["XDG_CACHE_HOME"] = str(tmp_path / "cache-whole")
    whole = write(tmp_path, KILLED.format(folder="whole"), "whole.yaml")
    assert probe_tui("study", "run", str(whole), env=whole_env).returncode == 0

    resumed = pd.read_parquet(tmp_path / "killed" / "responses.parquet")
    uninterrupted = pd.read_parquet(tmp_path / "whole" / "responses.parquet")
    assert len(resumed) == 24 and resumed["key"].is_unique
    assert journal_count(tmp_path / "killed") == 24
    # answered_at differs; cached: an answer in flight at the kill was cached but not journaled, so the rerun replays it
    ignore = ["answered_at", "cached"]
    pd.testing.assert_frame_equal(resumed.drop(columns=ignore), uninterrupted.drop(columns=ignore))
    assert (resumed["variant"] == "order=reversed").sum() == 12 and (resumed["order"] == "reversed").sum() == 12


def test_a_pair_instrument_is_asked_in_its_own_balanced_orders(tmp_path):
    from probe_tui.study.matrix import conditions_of, model_plan

    study = load_study(write(tmp_path, "models: [smollm2-135m-instruct]\ninstruments:\n  - mfq2\n"
                                       "  - {key: country-pairs, pairs: USA-China, scenarios: 1}\norder: [standard, reversed]\n"))
    plan = model_plan(study, study.models[0], "m", {})
    pairs = [p for p in plan if p.instrument == "country-pairs"]
    assert pairs and all(p.job.condition.variant == "" for p in pairs)  # each pair is asked both ways already
    assert {p.job.condition.variant for p in plan if p.instrument == "mfq2"} == {"", "order=reversed"}
    assert conditions_of(study) == 3


def test_a_shipped_study_is_found_by_name(tmp_path):
    from probe_tui.study.spec import shipped_studies

    assert {"seed000-embedded", "seed001-embedded", "seed002-embedded"} <= set(shipped_studies())
    for name in shipped_studies():
        study = load_study(name)
        assert study.models and (study.instruments or study.countries)
    done = probe_tui("study", "check", "no-such-study")
    assert done.returncode == 2 and "shipped examples: seed000-embedded" in done.stderr


def test_a_model_on_several_endpoints_is_sharded_over_them(tmp_path, monkeypatch):
    """endpoints: [a, b] builds one ShardedBackend (behind the response cache) over both, with
    per_endpoint requests in flight on each; the runner gets their sum."""
    from probe_tui.backends.cached import CachedBackend
    from probe_tui.backends.sharded import ShardedBackend
    from probe_tui.study.backends import build_backend, concurrency_of

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    (tmp_path / "config" / "probe-tui").mkdir(parents=True)
    (tmp_path / "config" / "probe-tui" / "endpoints.toml").write_text(
        '[endpoints.a]\nkind = "openai-completions"\nbase_url = "http://127.0.0.1:9/v1"\nmodel = "smollm2"\n'
        '[endpoints.b]\nkind = "openai-completions"\nbase_url = "http://127.0.0.1:10/v1"\nmodel = "smollm2"\n')
    study = load_study(write(tmp_path, "models:\n  - name: pair\n    endpoints: [a, b]\n    per_endpoint: 3\n"
                                       "    mode: logprobs\ninstruments: [mfq2]\n"))
    spec = study.models[0]
    assert (spec.kind, spec.endpoints, spec.per_endpoint) == ("sharded", ("a", "b"), 3)
    backend = build_backend(spec)
    assert isinstance(backend, CachedBackend) and isinstance(backend.inner, ShardedBackend)
    assert backend.inner.endpoints == ["http://127.0.0.1:9/v1", "http://127.0.0.1:10/v1"]
    assert concurrency_of(spec, backend) == 6
    assert backend.inner.cache_params["mode"] == "logprobs"  # the entry's setting reaches the endpoints (they must agree)


def test_the_report_gives_a_country_sweep_its_deviation_ratio_per_country(tmp_path):
    """A country sweep's report: DR per country and condition, in a table and an embedded figure
    (synthetic answers: the scoring is the real one)."""
    import numpy as np

    from probe_tui.study.report import write_report
    from probe_tui.study.results import write_results

    study = load_study(write(tmp_path, "models: [smollm2-135m-instruct]\ncountries:\n  countries: [Japan, Brazil, Germany, France, China]\n"
                                       "  conditions: [aligned, en]\n"))
    rng = np.random.default_rng(1)
    rows = [dict(instrument="vsm2013", item_id=item.id, language="en", persona="x", model="m", method="logprobs", prompt="p",
                 probs="{}", valid_mass=1.0, expected=float(rng.uniform(1, len(item.scale.labels))), answer="1", entropy=1.0,
                 cached=False, unanswered="", top_tokens="[]", variant="", order="standard", options_reversed=False, country=country,
                 condition=condition, study_model="smol", key=f"{condition}|{country}|{item.id}", versions='{"python": "3"}',
                 params="{}", model_name="smol", model_sha256="ab", endpoint="", chat_template_sha256="cd", prompt_style="chat")
            for condition in ("aligned", "en") for country in study.countries.countries for item in study.countries.items]
    write_results(study, pd.DataFrame(rows))
    scores = pd.read_csv(study.folder / "scores.csv", keep_default_na=False)
    dr = scores[scores["metric"] == "deviation_ratio"]
    assert len(dr) == 10 and set(dr["condition"]) == {"aligned", "en"}
    text = write_report(study).read_text(encoding="utf-8")
    assert "smol · aligned" in text and "smol · en" in text
    for country in study.countries.countries:
        assert f"<td>{country}</td>" in text
    assert "Deviation ratio per country (line at DR = 1)" in text and text.count("data:image/png;base64,") == 1


def test_the_app_opens_a_study_only_with_its_own_session_and_results(tmp_path):
    path = write(tmp_path, E2E)
    done = probe_tui("--study", str(path), "--model", "gemma3-270m")
    assert done.returncode == 2 and "--study opens the study's own session with its first model" in done.stderr
    done = probe_tui("--study", str(path))
    assert done.returncode == 2 and "has no answers yet" in done.stderr and "probe-tui study run" in done.stderr
    done = probe_tui("--study", str(path), "run", "--output", str(tmp_path / "x.csv"))
    assert done.returncode == 2 and done.stderr.strip() == "probe-tui: error: --study does not apply to `probe-tui run`"


def test_a_second_run_of_a_study_being_run_is_one_line_without_run_flags(tmp_path):
    """Two `study run` on one study folder: the second is refused by the journal's lock, and its
    message offers no --output (a study has none)."""
    from probe_tui.core.journal import RunJournal

    path = tmp_path / "journal.sqlite"
    first = RunJournal(path, {"study": "x"}, resume=True)
    try:
        with pytest.raises(ProbeError) as refused:
            RunJournal(path, {"study": "x"}, resume=True)
        assert str(refused.value) == f"another run (pid {os.getpid()}) is writing {path}; wait for it to finish"
    finally:
        first.close()


def test_subgroups_in_personas_asks_under_every_group_of_a_baseline(tmp_path):
    """Seed 003's sweep in a study (#17.5): `subgroups:NAME` stands for the persona of every group
    of that group baseline, in its order; an unknown baseline is one line naming the file and line."""
    groups = tmp_path / "sg.csv"
    groups.write_text("group,persona,instrument,item_id,mean\n"
                      "Malay,\"subgroup:country=singapore,ethnicity=malay\",mfq2,1,4.2\n"
                      "Chinese,\"subgroup:country=singapore,ethnicity=chinese\",mfq2,1,3.9\n"
                      "All,country:singapore,mfq2,1,4.0\n", encoding="utf-8")
    text = "models: [smollm2-135m-instruct]\ninstruments: [{key: mfq2, items: 1-2}]\ngroups: sg.csv\npersonas: [none, \"subgroups:sg\"]\n"
    study = load_study(write(tmp_path, text))
    from probe_tui.core.personas import get_persona

    expected = [get_persona(k).key for k in ("none", "subgroup:country=singapore,ethnicity=malay",
                                              "subgroup:country=singapore,ethnicity=chinese", "country:singapore")]
    assert list(study.personas) == expected and study.subgroups == ("sg",)
    with pytest.raises(ProbeError) as refused:
        load_study(write(tmp_path, text.replace("subgroups:sg", "subgroups:nope"), "bad.yaml"))
    assert str(refused.value).startswith(f"{tmp_path / 'bad.yaml'}:4: personas: no group baseline 'nope'")


def test_the_report_says_when_its_scores_average_the_option_orders(tmp_path):
    """A new user's find: with the order factor, the main table and figures are each item's mean
    over both orders (the order-corrected score), which the report did not say."""
    import numpy as np

    from probe_tui.study.report import write_report
    from probe_tui.study.results import write_results

    study = load_study(write(tmp_path, "models: [smollm2-135m-instruct]\ninstruments: [{key: mfq2, items: 1-6}]\n"
                                       "order: [standard, reversed]\n"))
    rng = np.random.default_rng(2)
    items = study.instruments[0].items
    rows = [dict(instrument="mfq2", item_id=item.id, language="en", persona="none", model="m", method="logprobs", prompt="p",
                 probs="{}", valid_mass=1.0, expected=float(rng.uniform(1, 5)), answer="1", entropy=1.0, cached=False,
                 unanswered="", top_tokens="[]", variant=variant, order="reversed" if variant else "standard",
                 options_reversed=False, country="", condition="", study_model="smol", key=f"{variant}|{item.id}",
                 versions='{"python": "3"}', params="{}", model_name="smol", model_sha256="ab", endpoint="",
                 chat_template_sha256="cd", prompt_style="chat")
            for variant in ("", "order=reversed") for item in items]
    write_results(study, pd.DataFrame(rows))
    text = write_report(study).read_text(encoding="utf-8")
    assert "its mean over the ways it was asked, the order-corrected score" in text
    single = load_study(write(tmp_path, "models: [smollm2-135m-instruct]\ninstruments: [{key: mfq2, items: 1-6}]\n", "one.yaml"))
    write_results(single, pd.DataFrame([r for r in rows if not r["variant"]]))
    assert "order-corrected score" not in write_report(single).read_text(encoding="utf-8")


def test_the_order_check_counts_each_prompt_once_over_its_repeats(tmp_path):
    """A study with repeats and both orders: the order check paired every repeat as its own pair, so
    a local model's identical repeats doubled its count (16 pairs of 8 prompts). Each order's expected
    value is now its mean over the answered draws, as the scores take it."""
    from probe_tui.study.report import write_report
    from probe_tui.study.results import write_results

    study = load_study(write(tmp_path, "models: [smollm2-135m-instruct]\ninstruments: [{key: mfq2, items: 1-3}]\n"
                                       "order: [standard, reversed]\nrepeats: 2\n"))
    expected = {("", 1): 2.0, ("", 2): 3.0, ("order=reversed", 1): 4.0, ("order=reversed", 2): 4.0}  # |2.5 − 4| = 1.5
    rows = [dict(instrument="mfq2", item_id=item.id, language="en", persona="none", model="m", method="logprobs", prompt="p",
                 probs="{}", valid_mass=1.0, expected=expected[variant, repeat], answer="1", entropy=1.0, cached=False,
                 unanswered="", top_tokens="[]", variant=variant, order="reversed" if variant else "standard",
                 options_reversed=False, country="", condition="", study_model="smol", key=f"{variant}|{item.id}|{repeat}",
                 versions='{"python": "3"}', params="{}", model_name="smol", model_sha256="ab", endpoint="",
                 chat_template_sha256="cd", prompt_style="chat", repeat=repeat)
            for variant in ("", "order=reversed") for item in study.instruments[0].items for repeat in (1, 2)]
    write_results(study, pd.DataFrame(rows))
    text = write_report(study).read_text(encoding="utf-8")
    order_check = text[text.index("<h2>Order check</h2>"):].split("</table>")[0]
    assert "<td>smol</td><td>mfq2</td><td class=\"num\">3</td><td class=\"num\">1.50</td><td class=\"num\">1.50</td>" in order_check


REPEATED = """\
name: repeated-draws-of-a-local-and-a-sampled-remote-model
models:
  - name: local
    model: smollm2-135m-instruct
    n_ctx: 2048
  - name: sampled
    backend: openai
    model: smollm2
    base_url: {url}
    mode: sampled
    samples: 2
    temperature: 1.0
    seed: 7
    max_tokens: 4
instruments:
  - key: mfq2
    items: 1-2
repeats: 2
"""


def test_repeats_draw_a_remote_model_afresh_and_read_a_local_models_exact_answer_once(tmp_path, llama_server):
    """`repeats: 2`: every prompt twice. The sampled remote model is asked again, its seeded samples
    taking the next seeds (7, 8, then 9, 10), as the requests the real server got show; the local
    model's exact probabilities are read once, the repeat from the cache."""
    from loopback import FaultProxy

    proxy = FaultProxy(llama_server.url.removesuffix("/v1"))
    env = os.environ.copy()
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")  # nothing answered before
    try:
        path = write(tmp_path, REPEATED.format(url=proxy.url), "repeated.yaml")
        checked = probe_tui("study", "check", str(path), env=env)
        assert checked.returncode == 0, checked.stderr[-2000:]
        assert "= 2 conditions, each asked 2 times, 8 prompts" in checked.stdout
        assert "repeats: its probabilities are exact and the same on every asking, so every repeat reads the first one" in checked.stdout
        assert "repeats: asked again for each (sampled answers draw afresh; seeded ones with the next seeds)" in checked.stdout
        done = probe_tui("study", "run", str(path), env=env)
        assert done.returncode == 0, done.stderr[-2000:]
        assert " 8/8 " in done.stderr and " 4/4 " in done.stderr, done.stderr  # a long name no longer cuts the counts (80 columns)
        seeds = sorted(json.loads(body)["seed"] for _, where, _, body in proxy.requests if where.endswith("/chat/completions"))
    finally:
        proxy.stop()
    assert seeds == [7, 7, 8, 8, 9, 9, 10, 10]  # per item: the first asking's two samples, then the repeat's next two
    frame = pd.read_parquet(tmp_path / "repeated.study" / "responses.parquet")
    assert len(frame) == 8 and frame["key"].is_unique
    assert frame.groupby(["study_model", "repeat"]).size().to_dict() == {(m, r): 2 for m in ("local", "sampled") for r in (1, 2)}
    local = frame[frame["study_model"] == "local"].set_index(["item_id", "repeat"])
    assert set(local["method"]) == {"logprobs"}
    for item in local.index.get_level_values(0).unique():
        assert local.loc[(item, 2), "probs"] == local.loc[(item, 1), "probs"]
        assert bool(local.loc[(item, 2), "cached"])  # read from the cache, not asked again
    sampled = frame[frame["study_model"] == "sampled"]
    assert set(sampled["method"]) == {"sampled(n=2,T=1)"}
    drawn = sampled.set_index("repeat")["params"].map(json.loads)
    assert all(p.get("draw") == 1 for p in drawn.loc[2]) and not any("draw" in p for p in drawn.loc[1])  # the draw is recorded
    assert not any("draw" in json.loads(p) for p in local["params"])  # a local repeat reads the first answer: no draw of its own
    report = probe_tui("study", "report", str(path), env=env)
    assert report.returncode == 0, report.stderr
    text = (tmp_path / "repeated.study" / "report.html").read_text(encoding="utf-8")
    assert "<h2>Repeats</h2>" in text and "each prompt asked 2 times" in text
    assert "<td class=\"num\">2 of 2</td>" in text  # the local model's prompts, answered in both draws


def test_check_times_a_remote_model_with_as_many_requests_in_flight_as_the_run_keeps(tmp_path, llama_server):
    """`study check` assumed a remote server overlaps the run's requests (8× low on a server that
    serves one at a time). It now asks the next prompts together, `concurrency` of them in flight,
    and estimates from that; the proxy in front of the real server saw them at once."""
    from loopback import FaultProxy

    proxy = FaultProxy(llama_server.url.removesuffix("/v1"))
    proxy.faults = [("sleep", 0.5)] * 50  # every request takes a while: the ones sent together overlap
    env = os.environ.copy()
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    text = (f"models:\n  - name: sampled\n    backend: openai\n    model: smollm2\n    base_url: {proxy.url}\n"
            "    mode: sampled\n    samples: 1\n    seed: 3\n    max_tokens: 4\n    concurrency: 3\n"
            "instruments:\n  - key: mfq2\n    items: 1-8\n")
    try:
        checked = probe_tui("study", "check", str(write(tmp_path, text)), env=env)
    finally:
        proxy.stop()
    assert checked.returncode == 0, checked.stderr[-2000:]
    line = next(line for line in checked.stdout.splitlines() if line.startswith("  sampled (remote)"))
    assert "s per prompt alone over 3 timed, " in line and " s each with 3 at once)" in line, line
    assert "if the server overlaps them" not in line
    assert proxy.most_in_flight == 3


def test_a_repeated_draw_has_its_own_cache_key_unless_the_backend_is_repeatable(tmp_path):
    from dataclasses import replace

    from scripted import ScriptedBackend

    from probe_tui.backends.cached import CachedBackend
    from probe_tui.core.cache import ResponseCache
    from probe_tui.core.prompts import COMPLETION, Prompt

    prompt = Prompt("Q: how much? A:", ("1", "2"), COMPLETION)
    again = replace(prompt, draw=1)
    varying = CachedBackend(ScriptedBackend(), ResponseCache(tmp_path / "cache.sqlite"))
    assert varying.key_for(again) != varying.key_for(prompt)

    class Exact(ScriptedBackend):
        repeatable = True

    exact = CachedBackend(Exact(), ResponseCache(tmp_path / "cache.sqlite"))
    assert exact.key_for(again) == exact.key_for(prompt)


SMALL = """\
name: three moral items
models:
  - name: smol-study
    model: smollm2-135m-instruct
    n_ctx: 2048
instruments:
  - key: mfq2
    items: 4-6
personas: [none, us_average]
"""


async def test_the_app_on_a_study_browses_its_items_under_its_name_with_its_model_labels(tmp_path):
    """A new user's find: `--study` browsed the whole item bank and the header said "session study".
    Now the screens browse the study's items, the header names the study, the gauge's tracks its model."""
    from probe_tui.app import ProbeApp
    from probe_tui.screens.dialogs import InstrumentPicker
    from probe_tui.study.session import study_app
    from test_app import probe_screen, wait_for

    path = write(tmp_path, SMALL)
    done = probe_tui("study", "run", str(path))
    assert done.returncode == 0, done.stderr[-2000:]
    backend, store, session, instrument, study = study_app(path)
    assert study.name == "three moral items" and set(study.models.values()) == {"smol-study"}
    app = ProbeApp(backend, instrument=instrument, session=session, store=store, study=study)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await probe_screen(app, pilot)
            await wait_for(pilot, app.model_ready, 60)
            await pilot.pause(0.3)
            assert "study three moral items" in app.title and "session study" not in app.sub_title
            assert app.sub_title.startswith("SmolLM2") and "three moral items" not in app.sub_title  # once is enough
            assert [item.code for item in screen.items] == ["4", "5", "6"]
            assert "item 1/3 · official no. 4" in str(screen.query_one("#item-header").render())
            for _ in range(4):
                await pilot.press("n")
            assert screen.item.code == "6" and "item 3/3" in str(screen.query_one("#item-header").render())
            await pilot.press("a")
            await wait_for(pilot, lambda: type(app.screen).__name__ == "AnswersScreen", 10)
            table = app.screen.query_one("DataTable")
            assert table.row_count == 3 * 2  # the study's items × its personas, nothing asked beyond them
            assert {str(table.get_row_at(n)[0]) for n in range(table.row_count)} == {"4", "5", "6"}
            await pilot.press("escape")
            await pilot.press("g")
            await wait_for(pilot, lambda: type(app.screen).__name__ == "GaugeScreen" and len(app.screen.tracks()) == 2, 60)
            tracks = [app.screen.label(track) for track in app.screen.tracks()]
            assert sorted(tracks) == ["EN · Average person from the United States · smol-study", "EN · No persona · smol-study"], tracks  # a track per persona, each naming the study's model
            await pilot.press("escape")
            app.action_pick_instrument()
            await wait_for(pilot, lambda: isinstance(app.screen, InstrumentPicker) and hasattr(app.screen, "keys"), 10)
            assert app.screen.keys == ["mfq2"]  # only the study's instruments, with the study's share of each
            assert "(3 of 36 items in the study)" in str(app.screen.query_one("OptionList").get_option_at_index(0).prompt)
    finally:
        backend.close()


TWO_MODELS = """\
name: two models
models:
  - name: smol-study
    model: smollm2-135m-instruct
    n_ctx: 2048
  - name: gemma-study
    model: gemma3-270m
    n_ctx: 2048
instruments:
  - key: mfq2
    items: 4-5
"""


async def test_the_answers_table_of_a_study_tells_its_models_apart_and_opens_only_the_shown_models(tmp_path):
    """A new user's find: with two study models the answers table had no model column, and Enter on
    the other model's row opened the item screen with the shown model's answer. Now each row names its
    model, and Enter on another model's answer says so and stays."""
    from probe_tui.app import ProbeApp
    from probe_tui.study.session import study_app
    from test_app import probe_screen, wait_for

    path = write(tmp_path, TWO_MODELS, "two.yaml")
    done = probe_tui("study", "run", str(path))
    assert done.returncode == 0, done.stderr[-2000:]
    backend, store, session, instrument, study = study_app(path)
    app = ProbeApp(backend, instrument=instrument, session=session, store=store, study=study)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await probe_screen(app, pilot)
            await wait_for(pilot, app.model_ready, 60)
            await pilot.press("a")
            await wait_for(pilot, lambda: type(app.screen).__name__ == "AnswersScreen", 10)
            table = app.screen.query_one("DataTable")
            assert [str(column.label) for column in table.columns.values()][:2] == ["item", "model"]
            models = [str(table.get_row_at(n)[1]) for n in range(table.row_count)]
            assert sorted(models) == ["gemma-study", "gemma-study", "smol-study", "smol-study"]
            table.move_cursor(row=models.index("gemma-study"))
            await pilot.press("enter")
            await pilot.pause(0.3)
            assert type(app.screen).__name__ == "AnswersScreen"  # not opened under the wrong model
            assert any("gemma-study's; the item screen shows smol-study's" in str(n.message) for n in app._notifications)
            table.move_cursor(row=models.index("smol-study"))
            await pilot.press("enter")
            await wait_for(pilot, lambda: type(app.screen).__name__ == "ProbeScreen", 10)
    finally:
        backend.close()
