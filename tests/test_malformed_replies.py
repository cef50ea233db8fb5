"""#21.20 and the fuzz test of #21: a 200 reply without the fields an answer is read from is asked for
again, as the README says, then the item fails in one line; random JSON never gives another exception."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faultserver import FaultServer, send_json
from probe_tui.backends.remote import EndpointConfig, make_remote_backend
from probe_tui.core.errors import ProbeError
from probe_tui.core.prompts import COMPLETION, MESSAGES
from probe_tui.core.scoring import OptionLogprobs

GOOD_CHAT = {"choices": [{"message": {"content": "2"}, "logprobs": {"content": [
    {"token": "2", "logprob": math.log(0.6), "top_logprobs": [{"token": "2", "logprob": math.log(0.6)}, {"token": "3", "logprob": math.log(0.3)}]}]}}]}
MALFORMED = {
    "no choices": {"id": "x"},
    "empty choices": {"choices": []},
    "a list": [1, 2, 3],
    "choices not a list": {"choices": "2"},
    "logprobs content not a list": {"choices": [{"logprobs": {"content": "2"}}]},
}


class Replies:
    """Answers each request with the next payload in turn; the last one repeats."""

    def __init__(self, *payloads):
        self.payloads = list(payloads)

    def __call__(self, handler, request):
        send_json(handler, self.payloads.pop(0) if len(self.payloads) > 1 else self.payloads[0])


def backend_for(server, kind="openai", mode="logprobs", retries=2):
    return make_remote_backend(EndpointConfig(kind=kind, base_url=server.url if kind != "anthropic" else server.root, model="m",
                                              mode=mode, max_retries=retries, backoff=0.01, samples=2))


def prompt_for(instrument, personas, style=MESSAGES):
    return instrument.build_prompt(instrument.items[0], "en", personas["none"], None, style=style)


@pytest.mark.parametrize("case", list(MALFORMED))
@pytest.mark.parametrize("mode", ["logprobs", "auto"])
def test_a_malformed_reply_is_asked_again_then_fails_the_item_in_one_line(case, mode, mfq2, personas):
    with FaultServer(Replies(MALFORMED[case])) as server:
        with pytest.raises(ProbeError, match=r"malformed reply from .*/chat/completions after 2 retries"):
            backend_for(server, mode=mode).score(prompt_for(mfq2, personas))
        assert len(server.requests) == 3  # never a silent fall-back to sampling


def test_a_good_reply_after_a_malformed_one_is_used(mfq2, personas):
    with FaultServer(Replies(MALFORMED["no choices"], GOOD_CHAT)) as server:
        result = backend_for(server).score(prompt_for(mfq2, personas))
    assert len(server.requests) == 2
    assert result.method.startswith("logprobs") and math.isclose(math.exp(result.logprobs["2"]), 0.6, rel_tol=1e-9)


@pytest.mark.parametrize("kind", ["openai", "openai-completions", "anthropic"])
def test_a_malformed_sampled_answer_is_asked_again_then_fails(kind, mfq2, personas):
    with FaultServer(Replies({"choices": [{"message": {"content": 7}, "text": 7}], "content": [{"type": "text", "text": 7}]})) as server:
        style = COMPLETION if kind == "openai-completions" else MESSAGES
        with pytest.raises(ProbeError, match="malformed reply .* after 2 retries: .* is not text"):
            backend_for(server, kind=kind, mode="sampled").score(prompt_for(mfq2, personas, style))
        assert len(server.requests) == 2 * 3  # each of the 2 samples, asked 3 times


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=5),
                    lambda children: st.lists(children, max_size=3) | st.dictionaries(
                        st.sampled_from(["choices", "logprobs", "content", "top_logprobs", "token", "logprob", "message", "text", "type"]),
                        children, max_size=4), max_leaves=12)


@pytest.mark.parametrize(("kind", "mode"), [("openai", "auto"), ("openai-completions", "auto"), ("anthropic", "sampled")])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=JSON)
def test_random_json_gives_an_answer_or_one_line(kind, mode, payload, mfq2, personas):
    with FaultServer(Replies(json.loads(json.dumps(payload)))) as server:
        style = COMPLETION if kind == "openai-completions" else MESSAGES
        try:
            result = backend_for(server, kind=kind, mode=mode, retries=0).score(prompt_for(mfq2, personas, style))
        except ProbeError as exc:
            assert "\n" not in str(exc)
        else:
            assert isinstance(result, OptionLogprobs)
