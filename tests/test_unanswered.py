"""An answer that carries no information (#19.3, #19.11): every option missing from the top-k list,
or no sampled answer naming an option. It is kept, with its method and raw answers, shown as such,
and never counted in the gauge or the scores as a uniform answer of 3."""

from __future__ import annotations

import json
import math
from http.server import BaseHTTPRequestHandler

import pandas as pd

from loopback import _Server
from probe_tui.backends.remote import EndpointConfig, make_remote_backend
from probe_tui.cli import main
from probe_tui.core.session import Condition, ProbeSession, ask
from probe_tui.core.store import SessionStore
from probe_tui.export import session_frame

NO_OPTION = "I would rather not say."


NO_OPTION_TOP = [{"token": "I", "logprob": math.log(0.6)}, {"token": "As", "logprob": math.log(0.3)}]


class _NoOptionHandler(BaseHTTPRequestHandler):
    """A chat API that names no option: its top-k list holds no option token, and its text answers
    name none for the prompts that contain the server's `silent_on` text (all prompts when empty).
    A real server cannot be made to do this reliably. The server's `tops` replace the top-k list,
    one per request, the last one repeated (e.g. impossible logprobs: NaN is sent as JSON's NaN)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self._reply({"object": "list", "data": [{"id": "m", "object": "model"}]})

    def do_POST(self):
        server = self.server.owner
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        server.requests.append(request)
        if request.get("logprobs"):
            asked = sum(1 for earlier in server.requests if earlier.get("logprobs"))
            top = server.tops[min(asked, len(server.tops)) - 1]
            return self._reply({"choices": [{"index": 0, "message": {"role": "assistant", "content": "I"},
                                             "logprobs": {"content": [{"token": "I", "logprob": math.log(0.6), "top_logprobs": top}]}}]})
        silent = server.silent_on in json.dumps(request["messages"], ensure_ascii=False)
        self._reply({"choices": [{"index": 0, "message": {"role": "assistant", "content": NO_OPTION if silent else "3"}}]})

    def _reply(self, payload):
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class NoOptionServer(_Server):
    def __init__(self, silent_on: str = "", tops=(NO_OPTION_TOP,)):
        self.silent_on, self.requests, self.tops = silent_on, [], list(tops)
        super().__init__(_NoOptionHandler)
        self.url = f"http://127.0.0.1:{self.port}/v1"


def test_all_floored_top_k_is_stored_as_no_information_not_uniform(tmp_path, mfq2, personas):
    server = NoOptionServer()
    try:
        backend = make_remote_backend(EndpointConfig(kind="openai", base_url=server.url, model="m", mode="logprobs"))
        backend.start()
        condition = Condition(backend.identity, "mfq2", "en", "none")
        answer = ask(backend, mfq2, mfq2.items[0], condition, personas["none"])
    finally:
        server.stop()
    d = answer.distribution
    assert all(math.isnan(p) for p in d.probs.values()) and math.isnan(d.expected) and d.answer == ""  # not 0.2 each, not 3
    assert d.method == "logprobs-topk-floored(5)" and "none of the 5 options" in d.unanswered

    session = ProbeSession(mfq2)
    session.record(answer)
    assert session.gauge(condition) is None  # never counted as an answer of 3
    assert session.answer_for(answer.item, condition) is answer  # but shown as what it is
    session.record_score(condition, answer.item, answer.score)
    assert session.gauge(condition) is None

    store = SessionStore(tmp_path / "sessions.sqlite")
    store.add("s", answer, {"model": condition.model})
    again = store.answers("s", mfq2)[0].distribution
    assert again.unanswered == d.unanswered and all(math.isnan(p) for p in again.probs.values())
    row = session_frame(store, "s").iloc[0]
    assert row["unanswered"] == d.unanswered and row["method"] == "logprobs-topk-floored(5)" and math.isnan(row["expected"])
    assert [token for token, _ in json.loads(row["top_tokens"])] == ["I", "As"]


def test_a_remote_sweep_records_an_item_whose_samples_name_no_option_and_goes_on(tmp_path, mfq2, capsys):
    silent_item = mfq2.items[1]
    server = NoOptionServer(silent_on=silent_item.text_in("en"))
    out = tmp_path / "run.csv"
    command = ["run", "--backend", "openai", "--base-url", server.url, "--model", "m", "--mode", "sampled", "--samples", "3",
               "--limit", "3", "--output", str(out)]
    try:
        code = main(command)
        first = capsys.readouterr()
        asked = len(server.requests)
        resumed = main([*command, "--resume"])
    finally:
        server.stop()
    assert code == 0, first.err
    frame = pd.read_csv(out, keep_default_na=False)
    assert frame["item_id"].tolist() == [item.id for item in mfq2.items[:3]]  # went on past the silent item
    row = frame.set_index("item_id").loc[silent_item.id]
    assert row["method"] == "sampled(n=3,T=0.7)" and row["unanswered"] == "none of the 3 sampled answers named an option"
    assert [text for text, _ in json.loads(row["top_tokens"])] == [NO_OPTION] * 3  # the raw answers
    assert row["expected"] == "" and row["answer"] == ""
    assert (frame.set_index("item_id").drop(silent_item.id)["unanswered"] == "").all()
    assert "1 of 3 item(s) unanswered" in first.err and silent_item.id in first.err
    assert "over 2 item(s)" in first.out  # the gauge counts the answered items only
    assert resumed == 0 and len(server.requests) == asked  # --resume finds nothing left to ask


async def test_the_screen_shows_an_unanswered_item_as_such(mfq2, personas):
    from textual.app import App

    from probe_tui.widgets.distribution import DistributionView

    server = NoOptionServer()
    try:
        backend = make_remote_backend(EndpointConfig(kind="openai", base_url=server.url, model="m", mode="logprobs"))
        backend.start()
        answer = ask(backend, mfq2, mfq2.items[0], Condition(backend.identity, "mfq2", "en", "none"), personas["none"])
    finally:
        server.stop()

    class Host(App):
        def compose(self):
            yield DistributionView()

    async with Host().run_test(size=(80, 24)) as pilot:
        view = pilot.app.query_one(DistributionView)
        view.show(answer.distribution, mfq2.scale.anchors_in("en"))
        await pilot.pause()
        shown = str(view.render())
    assert "no answer: none of the 5 options is in the top-k list" in shown and "its top next tokens: 'I', 'As'" in shown
    assert "%" not in shown and "E[x]" not in shown  # no bars, no figures
