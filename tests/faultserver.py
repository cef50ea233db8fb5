"""A loopback HTTP server on a real socket that misbehaves on purpose (respx cannot drip bytes, cut
a stream or send a gzip bomb): each request is answered by `reply(handler, request)`, which writes
the raw response itself. Helpers below write the usual faults."""

from __future__ import annotations

import functools
import gzip
import json
import time
from http.server import BaseHTTPRequestHandler

from loopback import _Server


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        send_json(self, {"object": "list", "data": [{"id": "m", "object": "model"}]})

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        server = self.server.owner
        server.requests.append((time.monotonic(), self.path, dict(self.headers)))
        try:
            server.reply(self, json.loads(body or b"{}"))
        except (BrokenPipeError, ConnectionResetError):  # the client gave up, as it should
            pass


class FaultServer(_Server):
    def __init__(self, reply):
        self.reply, self.requests = reply, []
        super().__init__(_Handler)
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.root = f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def send_json(handler, payload, status: int = 200, headers: dict | None = None):
    send_bytes(handler, json.dumps(payload).encode(), status, headers)


def send_bytes(handler, body: bytes, status: int = 200, headers: dict | None = None):
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.end_headers()
    handler.wfile.write(body)
    handler.wfile.flush()


def send_events(handler, events: list[str]):
    """Server-sent events, each `data: ...` line as given."""
    send_bytes(handler, "".join(f"data: {event}\n\n" for event in events).encode(), headers={"Content-Type": "text/event-stream"})


def drip(handler, every: float, total: int = 1000):
    """A valid-looking 200 response, one byte every `every` seconds."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % total
    for byte in head + b" " * total:
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()
        time.sleep(every)


def gzip_bomb(handler, decompressed: int):
    """A small gzip body that inflates to `decompressed` bytes of JSON whitespace."""
    send_bytes(handler, _compressed_spaces(decompressed), headers={"Content-Encoding": "gzip"})


@functools.cache
def _compressed_spaces(size: int) -> bytes:
    return gzip.compress(b" " * size, compresslevel=9)
