"""The app's model manager (backends/manager.py, no textual): loads in a thread of its own with
progress, ready and failed reported through callbacks, cancel, the primary and side models, and the
one place that closes them. On the real embedded model and on a slow backend of the test's own."""

import threading
import time

import pytest

from probe_tui.backends.llama_cpp import LlamaCppBackend
from probe_tui.backends.manager import ModelManager
from probe_tui.core.errors import ProbeError
from scripted import ScriptedBackend


class Events:
    """What the manager reported, and from which thread."""

    def __init__(self):
        self.progress, self.ready, self.failed, self.threads = [], [], [], set()
        self.done = threading.Event()

    def manager(self, primary) -> ModelManager:
        return ModelManager(primary, on_progress=self.on_progress, on_ready=self.on_ready, on_failed=self.on_failed)

    def on_progress(self, backend, fraction):
        self.threads.add(threading.current_thread().name)
        self.progress.append((backend, fraction))

    def on_ready(self, backend, info):
        self.ready.append((backend, info))
        self.done.set()

    def on_failed(self, backend, message):
        self.failed.append((backend, message))
        self.done.set()


class SlowToStart(ScriptedBackend):
    """Loads in ten steps of a tenth of a second; cancel_load stops it between steps."""

    def __init__(self, identity="scripted://slow"):
        super().__init__()
        self.identity = identity
        self.stop = threading.Event()
        self.closed = 0

    def start(self, on_progress=None):
        for step in range(1, 11):
            if self.stop.wait(0.1):
                raise ProbeError("cancelled while loading the model")
            on_progress(step / 10)
        return super().start()

    def cancel_load(self):
        self.stop.set()

    def close(self):
        self.closed += 1


def test_a_load_reports_its_progress_then_ready_from_its_own_thread():
    events, backend = Events(), SlowToStart()
    manager = events.manager(backend)
    manager.load(backend)
    assert manager.is_loading(backend) and not manager.is_ready(backend)
    manager.load(backend)  # a second ask while it loads starts nothing
    assert events.done.wait(5)
    assert [fraction for _, fraction in events.progress] == [step / 10 for step in range(1, 11)]
    assert events.ready == [(backend, backend.info)] and backend.starts == 1 and not events.failed
    assert threading.current_thread().name not in events.threads
    assert manager.is_ready(backend) and not manager.is_loading(backend)


def test_cancel_stops_a_load_and_reports_it_failed():
    events, backend = Events(), SlowToStart()
    manager = events.manager(backend)
    manager.load(backend)
    while not events.progress:
        time.sleep(0.01)
    assert manager.cancel(backend)
    assert events.done.wait(5)
    assert events.failed == [(backend, "cancelled while loading the model")] and not events.ready
    assert len(events.progress) < 10 and not manager.is_loading(backend)


def test_a_backend_without_cancel_says_so():
    events, backend = Events(), ScriptedBackend()
    manager = events.manager(backend)
    assert not manager.can_cancel(backend) and not manager.cancel(backend)


def test_side_models_are_held_once_and_close_all_closes_every_one():
    events, primary = Events(), SlowToStart("scripted://a")
    manager = events.manager(primary)
    failed = manager.add_side(SlowToStart("scripted://b"))  # never started, as after a failed load
    side = manager.add_side(SlowToStart("scripted://b"))
    assert side is not failed and manager.find("scripted://b") is side  # tried afresh; the failed one is closed
    side.start(lambda fraction: None)
    primary.start(lambda fraction: None)
    assert manager.add_side(SlowToStart("scripted://b")) is side  # a loaded model is held once
    assert manager.add_side(SlowToStart("scripted://a")) is primary
    assert manager.find("scripted://none") is None
    manager.close_all()
    time.sleep(0.2)
    assert (primary.closed, side.closed, failed.closed) == (1, 1, 1) and manager.held() == [primary]


def test_a_new_primary_closes_the_old_one_unless_it_is_a_side_model_too():
    events, first = Events(), SlowToStart("scripted://a")
    manager = events.manager(first)
    second = SlowToStart("scripted://b")
    assert manager.set_primary(second) is first
    deadline = time.monotonic() + 5
    while not first.closed and time.monotonic() < deadline:
        time.sleep(0.01)
    assert first.closed == 1 and manager.primary is second
    manager.add_side(first_again := SlowToStart("scripted://c"))
    manager.set_primary(first_again)  # a side model becomes the primary one: it is not closed
    time.sleep(0.2)
    assert first_again.closed == 0 and manager.find("scripted://b") is None


def test_the_real_embedded_model_loads_with_progress_and_a_load_can_be_cancelled(smollm2_path):
    events, backend = Events(), LlamaCppBackend(smollm2_path, n_ctx=2048)
    manager = events.manager(backend)
    manager.load(backend)
    assert events.done.wait(60)
    assert events.ready and events.ready[0][1].name and not events.failed
    fractions = [fraction for _, fraction in events.progress]
    assert fractions and fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert manager.choose("file", str(smollm2_path)) is backend  # picked again in the app: the loaded one

    other, stopped = Events(), LlamaCppBackend(smollm2_path, n_ctx=2048)
    manager = other.manager(stopped)
    manager.load(stopped)
    while not other.progress and not other.done.is_set():  # the worker process is up and loading
        time.sleep(0.001)
    assert manager.cancel(stopped)
    assert other.done.wait(30)
    if other.failed:  # cancelled in time: the load says so and the worker is gone
        assert "cancelled" in other.failed[0][1] and stopped._process.wait(timeout=5) is not None
    else:  # the load won the race: the model is up, and close_all closes it
        assert other.ready
    manager.close_all()
    events.manager(backend).close_all()
    assert backend._process is None and stopped._process is None
