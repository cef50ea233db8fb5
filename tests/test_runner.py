"""The one job runner (core/runner.py): answers in job order under concurrency, each recorded before
the next; progress counts; the cancel token; a failure keeps what was done; Ctrl-C closes the backend."""

from __future__ import annotations

import random
import threading
import time

import pytest

from probe_tui.backends.remote import EndpointConfig, make_remote_backend
from probe_tui.core.conditions import country_jobs, single_condition_jobs, target_countries
from probe_tui.core.errors import ProbeError
from probe_tui.core.instruments import get_instrument
from probe_tui.core.personas import get_persona
from probe_tui.core.runner import run_jobs
from probe_tui.core.session import ask

from scripted import ScriptedBackend


class SlowBackend(ScriptedBackend):
    """The scripted backend, answering after a random delay, several at once; it counts what is in flight."""

    max_concurrency = 4

    def __init__(self, fail_on: str | None = None):
        super().__init__()
        self.fail_on = fail_on
        self.in_flight = self.most_in_flight = 0
        self.lock = threading.Lock()
        self.delays = random.Random(7)
        self.closed = False
        self.asked: list[str] = []

    def score(self, prompt):
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            delay = self.delays.uniform(0.0, 0.03)
            self.asked.append(prompt.text)
        try:
            time.sleep(delay)
            if self.fail_on and self.fail_on in prompt.text:
                raise ProbeError("the endpoint refused the request")
            return super().score(prompt)
        finally:
            with self.lock:
                self.in_flight -= 1

    def close(self):
        self.closed = True


def mfq2_jobs(backend, count=None):
    mfq2 = get_instrument("mfq2")
    return mfq2, single_condition_jobs(mfq2, mfq2.items[:count], backend.identity, "en", get_persona("none"))


def test_answers_come_back_in_job_order_under_concurrency_and_each_is_recorded_before_the_next():
    backend = SlowBackend()
    mfq2, jobs = mfq2_jobs(backend)
    recorded, steps = [], []
    answers = run_jobs(jobs, backend, mfq2, concurrency=8, on_progress=steps.append,
                       record=lambda index, job, answer: recorded.append((index, job.key, answer.item.id)))
    assert backend.starts == 1 and 1 < backend.most_in_flight <= backend.max_concurrency  # bounded by the backend, not by --concurrency
    assert recorded == [(i, job.key, job.item.id) for i, job in enumerate(jobs)]
    assert [a.item.id for a in answers] == [job.item.id for job in jobs]
    # each answer is the one its own prompt gets alone
    alone = ScriptedBackend()
    alone.start()
    for job, answer in zip(jobs, answers):
        assert answer.distribution.probs == ask(alone, mfq2, job.item, job.condition, job.persona).distribution.probs
    answered = [s for s in steps if s.answered]
    assert [s.done for s in answered] == list(range(1, len(jobs) + 1)) and {s.total for s in steps} == {len(jobs)}
    assert sorted(s.job.key for s in steps if not s.answered) == sorted(job.key for job in jobs)  # every job was handed on once


def test_concurrency_one_asks_one_at_a_time():
    backend = SlowBackend()
    mfq2, jobs = mfq2_jobs(backend, 6)
    run_jobs(jobs, backend, mfq2, concurrency=1)
    assert backend.most_in_flight == 1 and backend.calls == 6


def test_the_cancel_token_stops_the_run_and_the_item_in_flight_is_kept():
    backend = SlowBackend()
    mfq2, jobs = mfq2_jobs(backend)
    cancel = threading.Event()

    def record(index, job, answer):
        if index == 2:
            cancel.set()

    answers = run_jobs(jobs, backend, mfq2, record=record, cancel=cancel)
    assert 3 <= len(answers) <= 4 < len(jobs)  # the third answer, and the one in flight when it came
    assert backend.calls == len(answers)  # nothing asked is thrown away, nothing more is asked
    assert [a.item.id for a in answers] == [job.item.id for job in jobs[: len(answers)]]
    assert not backend.closed  # a pause leaves the model loaded
    assert run_jobs(jobs, backend, mfq2, cancel=cancel) == [] and backend.calls == len(answers)  # set before: nothing is asked


def test_a_failure_keeps_the_answers_before_it_and_asks_no_further():
    mfq2 = get_instrument("mfq2")
    backend = SlowBackend(fail_on=mfq2.items[4].text_in("en"))
    _, jobs = mfq2_jobs(backend)
    recorded = []
    with pytest.raises(ProbeError, match="refused"):
        run_jobs(jobs, backend, mfq2, concurrency=2, record=lambda index, job, answer: recorded.append(job.key))
    assert recorded == [job.key for job in jobs[:4]]
    assert len(backend.asked) <= 4 + 1 + backend.max_concurrency  # the jobs not begun are dropped


def test_ctrl_c_closes_the_backend_to_end_the_requests_in_flight():
    backend = SlowBackend()
    mfq2, jobs = mfq2_jobs(backend)

    def record(index, job, answer):
        if index == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_jobs(jobs, backend, mfq2, concurrency=4, record=record)
    assert backend.closed and backend.calls < len(jobs)


def test_country_jobs_give_each_country_its_language_and_national_persona():
    vsm = get_instrument("vsm2013")
    countries = target_countries(vsm)
    jobs = country_jobs(vsm, vsm.items[:2], "scripted://test", countries, "aligned")
    assert len(jobs) == 2 * len(countries) and len({job.key for job in jobs}) == len(jobs)
    china = [job for job in jobs if job.country == "China"]
    assert {job.condition.language for job in china} == {"zh"} and {job.persona.key for job in china} == {"cn_average"}
    assert {job.condition.language for job in country_jobs(vsm, vsm.items[:1], "m", countries, "en")} == {"en"}


def test_the_runner_on_the_real_model_gives_what_ask_gives(backend, mfq2, personas):
    persona = personas["cn_average"]
    jobs = single_condition_jobs(mfq2, mfq2.items[:3], backend.identity, "zh", persona)
    steps = []
    answers = run_jobs(jobs, backend, mfq2, on_progress=steps.append)
    assert [s.done for s in steps if s.answered] == [1, 2, 3]
    for job, answer in zip(jobs, answers):
        alone = ask(backend, mfq2, job.item, job.condition, persona)
        assert answer.distribution.method == "logprobs" and answer.prompt.text == alone.prompt.text
        assert answer.distribution.probs == pytest.approx(alone.distribution.probs, abs=1e-6)
        assert sum(answer.distribution.probs.values()) == pytest.approx(1.0)


def test_the_runner_against_a_server_keeps_the_order_with_requests_in_flight(llama_server, mfq2, personas):
    remote = make_remote_backend(EndpointConfig(kind="openai", base_url=llama_server.url, model="smollm2"))
    jobs = single_condition_jobs(mfq2, mfq2.items[:6], remote.identity, "en", personas["none"])
    try:
        together = run_jobs(jobs, remote, mfq2, concurrency=3)
        one_by_one = [ask(remote, mfq2, job.item, job.condition, job.persona) for job in jobs]
    finally:
        remote.close()
    assert [a.item.id for a in together] == [job.item.id for job in jobs]
    for mine, alone in zip(together, one_by_one):
        assert mine.prompt.text == alone.prompt.text
        assert mine.distribution.probs == pytest.approx(alone.distribution.probs, abs=1e-3)
