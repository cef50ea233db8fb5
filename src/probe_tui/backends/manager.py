"""The models an app holds: the primary one that every instrument screen asks, and the side ones
(compare's B, the pairs screen's base-vs-chat model). The manager loads any of them in a thread of its
own, reports progress, readiness and failure through callbacks (called from that thread), and is the
one place that closes them. No UI here: the app turns the callbacks into Messages."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from ..core.errors import ProbeError
from . import choice

log = logging.getLogger(__name__)
LOADING, READY, FAILED = "loading", "ready", "failed"


@dataclass(frozen=True)
class ModelStatus:
    """Where one model's load stands, as the app shows it."""

    name: str
    phase: str  # LOADING, READY or FAILED
    progress: float = 0.0  # 0..1 while loading
    error: str | None = None


class ModelManager:
    def __init__(self, primary, on_progress: Callable | None = None, on_ready: Callable | None = None,
                 on_failed: Callable | None = None):
        """on_progress(backend, fraction), on_ready(backend, info), on_failed(backend, message):
        called from the loading thread."""
        self.primary = primary
        self.side: dict[str, object] = {}  # identity -> backend, loaded beside the primary one
        self.on_progress = on_progress or (lambda backend, fraction: None)
        self.on_ready = on_ready or (lambda backend, info: None)
        self.on_failed = on_failed or (lambda backend, message: None)
        self._loading: dict[int, threading.Thread] = {}
        self._lock = threading.Lock()

    # --- which models ---------------------------------------------------------------------------
    def held(self) -> list:
        return [self.primary, *(b for b in self.side.values() if b is not self.primary)]

    def find(self, identity: str):
        """The held backend whose answers are under this identity, or None."""
        return next((backend for backend in self.held() if backend.identity == identity), None)

    def choose(self, kind: str, spec: str):
        """The backend for a model picked in the app (set up like the primary one); the held one when
        it is that model already, loaded or loading (one whose load failed is tried afresh). A
        ProbeError when there is no such model."""
        backend = choice.backend_for(kind, spec, like=self.primary)
        held = self.find(backend.identity)
        return held if held is not None and (held.info is not None or self.is_loading(held)) else backend

    def add_side(self, backend):
        """Hold a model beside the primary one (the held one if it is that model already)."""
        held = self.find(backend.identity)
        if held is not None and held is not backend and (held.info is not None or self.is_loading(held)):
            return held
        if held is not None and held is not self.primary:
            self.close(held)  # its load failed: this one replaces it
        if backend is not self.primary:
            self.side[backend.identity] = backend
        return backend

    def set_primary(self, backend):
        """The model every screen asks from now on; the previous one is closed (unless it is also a
        side model) and returned."""
        old, self.primary = self.primary, backend
        self.side.pop(backend.identity, None)
        if old is not backend and old not in self.side.values():
            if self.is_loading(old):
                self.cancel(old)
            self.close(old)
        return old

    # --- loading --------------------------------------------------------------------------------
    def is_loading(self, backend) -> bool:
        with self._lock:
            return id(backend) in self._loading

    def is_ready(self, backend) -> bool:
        return backend.info is not None and not self.is_loading(backend)

    def load(self, backend) -> None:
        """Start the model in a thread of its own; on_ready right away (from that thread too) if it is
        started already. Nothing happens while it is loading."""
        with self._lock:
            if id(backend) in self._loading:
                return
            thread = threading.Thread(target=self._load, args=(backend,), name=f"load {backend.display_name}", daemon=True)
            self._loading[id(backend)] = thread
        thread.start()

    def _load(self, backend) -> None:
        try:
            info = backend.info or backend.start(on_progress=lambda fraction: self.on_progress(backend, fraction))
        except ProbeError as exc:
            log.exception("model load failed")
            self._done(backend)
            self.on_failed(backend, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - a backend's bug is a failed load, not a dead thread
            log.exception("model load failed")
            self._done(backend)
            self.on_failed(backend, f"{type(exc).__name__}: {exc}")
            return
        self._done(backend)
        self.on_ready(backend, info)

    def _done(self, backend) -> None:
        with self._lock:
            self._loading.pop(id(backend), None)

    def can_cancel(self, backend) -> bool:
        return hasattr(backend, "cancel_load")

    def cancel(self, backend) -> bool:
        """Stop a load in progress (it ends in on_failed); False when the backend cannot be stopped
        (it gives up after its own timeout)."""
        if not self.can_cancel(backend):
            return False
        backend.cancel_load()
        return True

    # --- closing --------------------------------------------------------------------------------
    def close(self, backend) -> None:
        """Close one model, in a thread (a worker process takes a moment to stop)."""
        threading.Thread(target=self._close, args=(backend,), name=f"close {backend.display_name}", daemon=True).start()

    @staticmethod
    def _close(backend) -> None:
        try:
            backend.close()
        except Exception:  # noqa: BLE001 - closing one model must not keep the others open
            log.exception("closing %s failed", backend.display_name)

    def close_all(self) -> None:
        """Close every held model, and wait for them (the app is ending)."""
        for backend in self.held():
            if self.is_loading(backend):
                self.cancel(backend)
            self._close(backend)
        self.side.clear()
