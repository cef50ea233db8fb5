"""The probabilities we show are llama.cpp's own: checked against create_completion(logprobs=20)."""

import math

import numpy as np
import pytest
from scipy.special import logsumexp

from probe_tui.backends.llama_scorer import LlamaScorer
from probe_tui.core.prompts import ChatTemplate
from probe_tui.core.scoring import distribution_from_logprobs


@pytest.fixture(scope="module")
def reference_llm(smollm2_path):
    from llama_cpp import Llama

    return Llama(model_path=str(smollm2_path), logits_all=True, n_ctx=2048, verbose=False)


def _reference_top_logprobs(llm, tokens) -> dict[str, float]:
    llm.reset()  # a cold evaluation of the whole prompt
    out = llm.create_completion(tokens, max_tokens=1, logprobs=20, temperature=0.0)
    return out["choices"][0]["logprobs"]["top_logprobs"][0]


def _reference_sequence_logprob(llm, tokens, continuation) -> float:
    """log P(continuation | tokens): for each continuation token, llama-cpp-python's own logits_all
    scores after a cold evaluation of everything before it, as create_completion computes them."""
    from llama_cpp import Llama

    total = 0.0
    for i, token in enumerate(continuation):
        sequence = list(tokens) + list(continuation[:i])
        llm.reset()
        llm.eval(sequence)
        total += float(Llama.logits_to_logprobs(llm.scores[len(sequence) - 1])[token])
    return total


@pytest.mark.parametrize("language,persona", [("en", "none"), ("zh", "cn_average"), ("fr", "us_average")])
def test_option_logprobs_match_llama_cpp(scorer, reference_llm, mfq2, personas, language, persona):
    info = scorer.describe()
    template = ChatTemplate(info["chat_template"], info["bos_token"], info["eos_token"])
    prompt = mfq2.build_prompt(mfq2.items[0], language, personas[persona], template)
    raw = scorer.score(prompt.text, prompt.labels)
    tokens = scorer.prompt_tokens(prompt.text)
    for label in prompt.labels:
        variants = scorer.label_variants(label)
        assert len(variants) == 2  # "1" and " 1" (a space token, then the digit, for SmolLM2)
        reference = logsumexp([_reference_sequence_logprob(reference_llm, tokens, v) for v in variants])
        assert raw.logprobs[label] == pytest.approx(float(reference), abs=1e-3)
    # The most likely next tokens agree with create_completion(max_tokens=1, logprobs=20).
    top = _reference_top_logprobs(reference_llm, tokens)
    compared = [(lp, top[text]) for text, lp in raw.top_tokens[:5] if text in top]
    assert compared, "no top token in common with create_completion"
    for ours, theirs in compared:
        assert ours == pytest.approx(theirs, abs=1e-3)


def test_distribution_is_a_distribution(scorer, mfq2, personas):
    info = scorer.describe()
    template = ChatTemplate(info["chat_template"], info["bos_token"], info["eos_token"])
    prompt = mfq2.build_prompt(mfq2.items[1], "en", personas["none"], template)
    d = distribution_from_logprobs(scorer.score(prompt.text, prompt.labels), prompt.labels)
    assert sum(d.probs.values()) == pytest.approx(1.0)
    assert 0.0 < d.valid_mass <= 1.0
    assert 1.0 <= d.expected <= 5.0
    assert d.method == "logprobs"


def test_a_probability_does_not_depend_on_what_was_asked_before(scorer, mfq2, personas):
    info = scorer.describe()
    template = ChatTemplate(info["chat_template"], info["bos_token"], info["eos_token"])
    first = mfq2.build_prompt(mfq2.items[0], "en", personas["none"], template)
    before = scorer.score(first.text, first.labels).logprobs
    for item, lang, persona in [(mfq2.items[1], "en", "none"), (mfq2.items[1], "zh", "cn_average"), (mfq2.items[2], "fr", "none")]:
        other = mfq2.build_prompt(item, lang, personas[persona], template)
        scorer.score(other.text, other.labels)
    assert scorer.score(first.text, first.labels).logprobs == before


def test_base_model_completion_prompt_and_multi_token_labels(gemma_path, mfq2, personas):
    gemma = LlamaScorer(gemma_path, n_ctx=2048)
    info = gemma.describe()
    assert not info["chat_template"], "Gemma-3-270M here is the base model: no chat template"
    prompt = mfq2.build_prompt(mfq2.items[0], "en", personas["none"], None)
    assert prompt.text.endswith("Answer:")
    raw = gemma.score(prompt.text, prompt.labels)
    d = distribution_from_logprobs(raw, prompt.labels)
    assert sum(d.probs.values()) == pytest.approx(1.0)
    # A label spanning two tokens scores as the sum of its tokens' log-probabilities (lm-eval's
    # semantics); checked against llama.cpp's own echoed logprobs for prompt + continuation.
    tokens = gemma.prompt_tokens(prompt.text)
    continuation = gemma.llm.tokenize(b" 1 =", add_bos=False, special=False)
    assert len(continuation) >= 2
    ours = sum(float(gemma._evaluate(tokens + continuation[:i])[continuation[i]]) for i in range(len(continuation)))
    from llama_cpp import Llama

    reference = Llama(model_path=str(gemma_path), logits_all=True, n_ctx=2048, verbose=False)
    assert ours == pytest.approx(_reference_sequence_logprob(reference, tokens, continuation), abs=1e-3)
    assert math.isfinite(ours)


@pytest.mark.parametrize("instrument_key, code, language", [
    ("mfq2", "1", "en"), ("mfq2", "7", "zh"), ("mfq2", "20", "fr"), ("wvs", "Q182", "en"), ("vsm2013", "VSM17", "ar"),
])
def test_one_pass_per_prefix_chain_gives_the_numbers_of_one_pass_per_prefix(scorer, personas, instrument_key, code, language):
    """Reading the logits after the prompt and after its continuation prefixes from one pass must not
    change any probability beyond 1e-4 against a cold pass per prefix (on this build: not at all)."""
    from probe_tui.core.instruments import get_instrument

    instrument = get_instrument(instrument_key)
    item = instrument.find_item(code)
    info = scorer.describe()
    template = ChatTemplate(info["chat_template"], info["bos_token"], info["eos_token"])
    text = instrument.build_prompt(item, language, personas["none"], template, "chat").text
    tokens = scorer.prompt_tokens(text)
    prefixes = {v[:i] for label in item.scale.labels for v in scorer.label_variants(label) for i in range(len(v))}
    assert len(prefixes) > 1  # SmolLM2 spells " 1" as a space, then the digit: a second position is read
    shared = scorer.next_logprobs_after(tokens, prefixes)
    for prefix in prefixes:
        cold = scorer._evaluate(tokens + list(prefix))
        assert np.abs(np.exp(shared[prefix]) - np.exp(cold)).max() <= 1e-4


@pytest.mark.parametrize("model", ["smollm2", "gemma"])
def test_prefix_reuse_changes_no_probability(model, smollm2_path, gemma_path, mfq2, personas):
    """Consecutive prompts keep their common prefix in the KV cache; every option log-probability
    must equal a cold evaluation's (the issue allows 1e-4; reuse is kept only where it gives 0)."""
    from probe_tui.core.instruments import get_instrument
    from probe_tui.core.personas import get_persona

    path = smollm2_path if model == "smollm2" else gemma_path
    reusing = LlamaScorer(path, n_ctx=2048)
    cold = LlamaScorer(path, n_ctx=2048)
    cold.prefix_reuse = False
    described = reusing.describe()
    template = ChatTemplate(described["chat_template"], described["bos_token"], described["eos_token"]) if described["chat_template"] else None
    wvs = get_instrument("wvs")
    prompts = [instrument.build_prompt(item, language, get_persona(persona, personas), template)
               for instrument in (mfq2, wvs) for language, persona in (("en", "none"), ("zh", "cn_average"))
               for item in instrument.items[:8]]
    for prompt in prompts:
        mine, theirs = reusing.score(prompt.text, prompt.labels).logprobs, cold.score(prompt.text, prompt.labels).logprobs
        for label in prompt.labels:
            assert mine[label] == pytest.approx(theirs[label], abs=1e-4), (prompt.text[-80:], label)
    assert reusing.prefix_reuse is True and cold.reused_tokens == 0
    assert reusing.reused_tokens > sum(len(reusing.prompt_tokens(p.text)) for p in prompts) / 3  # most of the work was reused
