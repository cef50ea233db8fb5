"""Numbers no model can give (#21.7, #21.8): a server's NaN, +inf or positive logprobs are asked
for again, then the item fails in one line; -inf on every option is an answer with no mass on them."""

from __future__ import annotations

import math

import pytest

from probe_tui.backends.remote import EndpointConfig, make_remote_backend
from probe_tui.cli import main
from probe_tui.core.errors import ProbeError
from probe_tui.core.prompts import MESSAGES
from probe_tui.core.scoring import distribution_from_logprobs
from test_unanswered import NoOptionServer

GOOD = [{"token": "2", "logprob": math.log(0.5)}, {"token": "1", "logprob": math.log(0.3)}]
IMPOSSIBLE = {
    "nan": [{"token": "1", "logprob": math.nan}, *GOOD[:1]],
    "+inf": [{"token": "1", "logprob": math.inf}, *GOOD[:1]],
    "+5": [{"token": "1", "logprob": 5.0}, *GOOD[:1]],
    "null": [{"token": "1", "logprob": None}, *GOOD[:1]],
    "text": [{"token": "1", "logprob": "-0.5"}, *GOOD[:1]],
    "no token": [{"logprob": -0.5}],
    "mass over 1": [{"token": "1", "logprob": math.log(0.8)}, {"token": "2", "logprob": math.log(0.7)}],
}


def _score(server, mfq2, personas, mode="logprobs"):
    config = EndpointConfig(kind="openai", base_url=server.url, model="m", mode=mode, max_retries=2, backoff=0.01)
    backend = make_remote_backend(config)
    prompt = mfq2.build_prompt(mfq2.items[0], "en", personas["none"], None, style=MESSAGES)
    return backend.score(prompt), prompt


@pytest.mark.parametrize("mode", ["logprobs", "auto"])
@pytest.mark.parametrize("case", list(IMPOSSIBLE))
def test_impossible_logprobs_are_asked_again_then_fail_the_item(case, mode, mfq2, personas):
    server = NoOptionServer(tops=[IMPOSSIBLE[case]])
    try:
        with pytest.raises(ProbeError, match=r"impossible logprobs from .*/chat/completions after 2 retries") as failed:
            _score(server, mfq2, personas, mode)
    finally:
        server.stop()
    assert len(server.requests) == 3 and all(request.get("logprobs") for request in server.requests)  # never sampled instead
    assert "\n" not in str(failed.value)


def test_a_good_reply_after_an_impossible_one_is_used(mfq2, personas):
    server = NoOptionServer(tops=[IMPOSSIBLE["nan"], GOOD])
    try:
        raw, prompt = _score(server, mfq2, personas)
    finally:
        server.stop()
    d = distribution_from_logprobs(raw, prompt.labels)
    assert len(server.requests) == 2 and d.answer == "2" and d.probs["2"] > d.probs["1"] > 0
    assert all(math.isfinite(p) for p in d.probs.values()) and 0 < d.valid_mass <= 1


def test_the_cli_fails_the_item_in_one_line(tmp_path, capsys):
    server = NoOptionServer(tops=[IMPOSSIBLE["+inf"]])
    try:
        code = main(["run", "--backend", "openai", "--base-url", server.url, "--model", "m", "--mode", "logprobs",
                     "--limit", "1", "--output", str(tmp_path / "run.csv")])
    finally:
        server.stop()
    err = capsys.readouterr().err
    assert code == 2
    errors = [line for line in err.splitlines() if line.startswith("probe-tui: error:")]
    assert len(errors) == 1 and "impossible logprobs" in errors[0] and "a logprob of inf" in errors[0]
    assert "Traceback" not in err and "nan" not in err.replace("a logprob of inf", "")


def test_minus_infinity_on_every_option_is_an_answer_with_no_mass(mfq2, personas):
    """#21.8 from a real socket: a model certain of a non-option token; -inf is probability 0, not impossible."""
    certain = [{"token": "I", "logprob": 0.0}, *({"token": label, "logprob": -math.inf} for label in "12345")]
    server = NoOptionServer(tops=[certain])
    try:
        raw, prompt = _score(server, mfq2, personas)
    finally:
        server.stop()
    d = distribution_from_logprobs(raw, prompt.labels)
    assert len(server.requests) == 1 and d.unanswered and d.answer == "" and math.isnan(d.expected)
