"""Reproduce the seed studies from their recorded outputs in ../shared/external (never copied here)."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

# beside the repository, as the README's commands expect; PROBE_TUI_EXTERNAL points elsewhere (e.g. from a worktree)
EXTERNAL = Path(os.environ.get("PROBE_TUI_EXTERNAL", Path(__file__).resolve().parents[2] / "shared" / "external"))
needs_external = pytest.mark.skipif(not EXTERNAL.is_dir(), reason=f"the seed studies' recorded outputs are not at {EXTERNAL}")


SEED_000_MAP = "LLM=model,item=item_id,response=response_raw,llm_response=response"  # response: the raw text; llm_response: the mean


def score(*args):
    result = subprocess.run([sys.executable, "-m", "probe_tui", "score", *args], capture_output=True, text=True, timeout=600, env=os.environ.copy())
    assert result.returncode == 0, result.stderr
    return result


def profile_r_leans_us_everywhere(stdout: str) -> bool:
    """Seed 000's finding, as `score` prints it: on every line r(US) > r(CN). (The lean those lines
    also give is the gauge's, by RMSE with its interval, and names its measure: it may differ.)"""
    pairs = re.findall(r"r\(US\) ([+-][\d.]+)  r\(CN\) ([+-][\d.]+)", stdout)
    # printed to 2 decimals, so a line may show a tie: the scores table's exact figures are checked for >
    return bool(pairs) and all(float(us) >= float(cn) for us, cn in pairs) and "leans CN by profile r" not in stdout


def likert_scores(tmp_path, instrument, name):
    out = tmp_path / f"{name}.scores.csv"
    result = score("--instrument", instrument, "--responses", str(EXTERNAL / name), "--map", SEED_000_MAP,
                   "--bootstrap", "200", "--output", str(out))
    return pd.read_csv(out), result.stdout


@needs_external
@pytest.mark.parametrize("instrument,name,conditions", [
    ("mfq2", "haslett2025_llm_mfq2_responses.csv", 120),
    ("wvs", "haslett2025_llm_wvs_responses.csv", None),
    ("wvs", "haslett2025_llm_wvs_persona_responses.csv", None),
])
def test_seed_000_every_model_leans_american(tmp_path, instrument, name, conditions):
    scores, stdout = likert_scores(tmp_path, instrument, name)
    r = scores[scores["metric"] == "profile_r"].pivot_table(index=["model", "language", "persona"], columns="target", values="value")
    if conditions:
        assert len(r) == conditions  # 20 models x 2 languages x 3 personas
    assert (r["United States"] > r["China"]).all(), r[r["United States"] <= r["China"]]
    skew = scores[scores["metric"] == "skew_profile_r"]
    assert (skew["value"] > 0).all() and skew["ci95"].notna().all()
    assert profile_r_leans_us_everywhere(stdout)


@needs_external
def test_seed_002_favourability_base_vs_chat(tmp_path):
    combined = {}
    for model in ("qwen2.5-7b-inst", "qwen2.5-7b"):
        out = tmp_path / f"{model}.csv"
        result = score("--instrument", "country-pairs", "--responses", str(EXTERNAL / f"bladon2026_{model}_raw_logodds.csv"),
                       "--map", "bias=logodds", "--set", f"model={model},language=en,persona=none", "--output", str(out))
        frame = pd.read_csv(out)
        combined[model] = frame[(frame["question"] == "combined")].set_index("target")
        assert "combined preference" in result.stdout
    chat, base = combined["qwen2.5-7b-inst"].loc["China"], combined["qwen2.5-7b"].loc["China"]
    assert chat["value"] > 2.0 and chat["p_adjusted"] < 0.001  # large and positive after post-training
    assert abs(base["value"]) < 0.2 and base["p_adjusted"] > 0.05  # near 0 in the base model
    assert chat["value"] - chat["ci95"] > base["value"] + base["ci95"]
    assert len(combined["qwen2.5-7b-inst"]) == 8  # every country has a combined preference


def test_score_reads_probe_tuis_own_runs(tmp_path):
    run = tmp_path / "pairs.csv"
    subprocess.run([sys.executable, "-m", "probe_tui", "run", "--instrument", "country-pairs", "--pairs", "USA-China,France-China",
                    "--scenarios", "2", "--output", str(run)], check=True, capture_output=True, timeout=900)
    out = tmp_path / "scored.csv"
    result = score("--instrument", "country-pairs", "--responses", str(run), "--output", str(out))
    frame = pd.read_csv(out)
    favour = frame[frame["metric"] == "favourability"]
    assert set(favour["target"]) == {"USA", "China", "France"} and set(favour["question"]) == {"justified", "unjustified", "combined"}
    # role-balanced and order-averaged log-odds, recomputed by hand for USA-China in scenario 1
    rows = pd.read_csv(run)
    usa_china = rows[(rows["pair"] == "USA-China") & (rows["scenario"] == "airspace-1") & (rows["polarity"] == "more")]
    diff = usa_china.apply(lambda r: r["log_odds_ab"] if r["option_a"] == "USA" else -r["log_odds_ab"], axis=1)
    by_role = diff.groupby(usa_china["initiator"]).mean()
    from probe_tui.core.instruments.pairs import pairs_from_run

    balanced = pairs_from_run(rows)
    mine = balanced[(balanced["country_1"] == "USA") & (balanced["scenario"] == "airspace-1") & (balanced["question"] == "justified")]
    assert mine["logodds"].iloc[0] == pytest.approx(by_role.mean())
    position = frame[frame["metric"] == "position_bias"]["value"].iloc[0]
    assert position == pytest.approx(rows["log_odds_ab"].mean())
    assert "position bias" in result.stdout


def test_map_refuses_to_overwrite_a_column(tmp_path):
    responses = tmp_path / "study.csv"
    pd.DataFrame({"LLM": ["m"], "language": ["en"], "persona": ["none"], "item": ["1"], "response": ["4: agree"],
                  "llm_response": [3.9]}).to_csv(responses, index=False)
    args = ["--instrument", "mfq2", "--responses", str(responses), "--output", str(tmp_path / "s.csv"), "--bootstrap", "0"]
    refused = subprocess.run([sys.executable, "-m", "probe_tui", "score", *args, "--map", "LLM=model,item=item_id,llm_response=response"],
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and refused.stderr.strip().splitlines() == [
        f"probe-tui: error: {responses}: --map llm_response=response would overwrite its column 'response'; "
        "rename that one too, e.g. --map response=response_raw,llm_response=response"]
    score(*args, "--map", SEED_000_MAP)  # renaming both is fine
    assert pd.read_csv(tmp_path / "s.csv").query("metric == 'rmse'")["value"].notna().all()


def readme_seed_commands() -> list[list[str]]:
    """The `probe-tui score` commands of the README's seed section, each as its arguments."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Scoring recorded responses")[1].split("\n## ")[0]
    commands = re.sub(r"\\\n\s*", " ", section)
    return [shlex.split(line)[2:] for line in commands.splitlines() if line.startswith("probe-tui score ")]


@needs_external
def test_the_readme_seed_commands_run(tmp_path):
    commands = readme_seed_commands()
    wvs = [c for c in commands if c[c.index("--instrument") + 1] == "wvs"]
    assert {Path(c[c.index("--responses") + 1]).name for c in wvs} == {
        "haslett2025_llm_wvs_responses.csv", "haslett2025_llm_wvs_persona_responses.csv"}
    for number, args in enumerate(commands):
        args = [a.replace("../shared/external", str(EXTERNAL)) for a in args]
        args[args.index("--output") + 1] = str(tmp_path / f"{number}.csv")
        result = score(*args, "--bootstrap", "50")
        assert len(pd.read_csv(tmp_path / f"{number}.csv"))
        if args[args.index("--instrument") + 1] in ("mfq2", "wvs"):
            assert profile_r_leans_us_everywhere(result.stdout), result.stdout
