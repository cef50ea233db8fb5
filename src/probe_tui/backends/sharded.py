"""One model served by several endpoints (llama.cpp or vLLM servers, say): score() calls fanned over them.

- Routing: each prompt goes to the endpoint with the fewest requests in flight (ties: the one asked
  least), at most `per_endpoint` in flight on each; `max_concurrency` is per_endpoint × the endpoints
  up, so the job runner keeps them all busy.
- Failover: an endpoint that fails with a transport or server error (no connection, a timeout, 5xx
  or 429 after its own retries, a malformed or impossible reply, a refused key, a model it does not
  serve) is taken out for the rest of the run, that is until close(): a server that went down
  mid-run is not asked again and again. The prompt is asked again on another endpoint (each
  endpoint once per prompt). A refusal of the prompt itself (HTTP 400, 413 or 422: a context
  overflow, say) is raised as it is: another endpoint of the same model would refuse it too.
- Start: every endpoint is reached at once; one that is down is reported (`on_notice`, and in
  `left_out`) and left out, unless none is up. Endpoints that name different models, ask with
  different scoring parameters or describe their model differently are refused.
- Provenance: each result's `endpoint` is the base URL of the endpoint that answered.
- The response cache: `identity` names the model, not the endpoints ("sharded#MODEL"), so one
  CachedBackend over this backend shares its answers across the shards; `cache_params` are the
  endpoints' own (backend kind, mode, top_logprobs, samples, temperature, max_tokens, seed), which
  every endpoint must share.
- Free text (generate) goes to one endpoint, and to another only if the first failed before any text.
"""

from __future__ import annotations

import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from ..core.errors import ProbeError
from ..core.prompts import Prompt
from ..core.scoring import OptionLogprobs
from .base import MAX_FREE_TEXT_TOKENS, Generation, ModelInfo

log = logging.getLogger(__name__)

# A server's refusal of the prompt itself (remote.py words it "request refused at URL (HTTP 400)");
# "returned no logprobs" is the server's way of scoring, the same on every endpoint of the model.
_PROMPT_REFUSED = re.compile(r"\(HTTP (400|413|422)\)|returned no logprobs")
_FINGERPRINT = ("root", "parent", "max_model_len", "meta", "owned_by")  # /models fields that describe the model itself


def prompt_refused(error: ProbeError) -> bool:
    """True when the error is about the prompt or the scoring settings, not the endpoint."""
    return bool(_PROMPT_REFUSED.search(str(error)))


@dataclass(eq=False)
class _Shard:
    backend: object  # a RemoteBackend
    url: str
    in_flight: int = 0
    asked: int = 0
    failure: str = ""  # why it was taken out ("" while up)


class ShardedBackend:
    def __init__(self, backends, per_endpoint: int = 4, on_notice=None):
        """backends: RemoteBackends (started or not) serving the same model. on_notice(line): told
        of an endpoint left out at start or taken out mid-run (default: the log)."""
        if not backends:
            raise ProbeError("a sharded model needs at least one endpoint")
        if per_endpoint < 1:
            raise ProbeError("the concurrency per endpoint must be at least 1")
        self.per_endpoint = per_endpoint
        self._notice = on_notice or log.warning
        self._shards = [_Shard(backend, backend.config.base_url.rstrip("/")) for backend in backends]
        urls = [shard.url for shard in self._shards]
        if len(set(urls)) < len(urls):
            raise ProbeError(f"an endpoint is named twice: {', '.join(sorted({u for u in urls if urls.count(u) > 1}))}")
        models = {backend.config.model for backend in backends}
        if len(models) > 1:
            raise ProbeError(f"the endpoints serve different models ({', '.join(sorted(models))}); shard only endpoints of one model")
        params = [backend.cache_params for backend in backends]
        for shard, other in zip(self._shards[1:], params[1:]):
            if other != params[0]:
                differ = sorted(k for k in set(other) | set(params[0]) if other.get(k) != params[0].get(k))
                raise ProbeError(f"{shard.url} scores with other settings than {self._shards[0].url} ({', '.join(differ)}); "
                                 "the endpoints of one model must share them")
        self.model = models.pop()
        self._params = params[0]
        self.capabilities = backends[0].capabilities
        self.info: ModelInfo | None = None
        self.left_out: dict[str, str] = {}  # url -> why it is not asked
        self._changed = threading.Condition()
        self._closing = False

    # --- the protocol -------------------------------------------------------------------------
    @property
    def identity(self) -> str:
        """The model, never the endpoints: what answers under it are cached and recorded as."""
        kind = self._params.get("backend")
        return f"sharded{'/completions' if kind == 'openai-completions' else ''}#{self.model}"

    @property
    def display_name(self) -> str:
        return f"{self.model} @ {len(self._shards)} endpoints"

    @property
    def cache_params(self) -> dict:
        return dict(self._params)

    @property
    def endpoints(self) -> list[str]:
        return [shard.url for shard in self._shards]

    @property
    def max_concurrency(self) -> int:
        up = [shard for shard in self._shards if not shard.failure]
        return self.per_endpoint * max(1, len(up))

    def start(self, on_progress=None) -> ModelInfo:
        """Reach every endpoint at once; leave out those that are down, unless all are."""
        done = []

        def reach(shard: _Shard):
            try:
                info = shard.backend.info or shard.backend.start()
                return info, _fingerprint(shard.backend)
            finally:
                done.append(shard)
                if on_progress:
                    on_progress(len(done) / len(self._shards))

        with ThreadPoolExecutor(max_workers=len(self._shards)) as pool:
            futures = [(shard, pool.submit(reach, shard)) for shard in self._shards]
        up, reasons = [], {}
        for shard, future in futures:
            try:
                up.append((shard, *future.result()))
            except ProbeError as exc:
                reasons[shard.url] = str(exc)
        if not up:
            raise ProbeError(f"none of the {len(self._shards)} endpoints of {self.model} can be asked: "
                             + "; ".join(f"{url}: {why}" for url, why in reasons.items()))
        first_shard, first, first_print = up[0]
        for shard, _, printed in up[1:]:
            if printed != first_print:
                raise ProbeError(f"{shard.url} and {first_shard.url} both call their model {self.model!r}, but describe it differently "
                                 f"({printed or 'nothing'} vs {first_print or 'nothing'}); shard only endpoints of one model")
        for shard, _ in futures:
            if shard.url in reasons:
                self._take_out(shard, reasons[shard.url], at_start=True)
        urls = [shard.url for shard, *_ in up]
        details = {**first.details, "summary": f"{first.details.get('kind', '')} model {self.model} sharded over {len(urls)} endpoint(s): "
                   f"{', '.join(urls)}", "endpoints": urls, **({"left_out": dict(self.left_out)} if self.left_out else {})}
        self.info = replace(first, identity=self.identity, details=details)
        return self.info

    def score(self, prompt: Prompt) -> OptionLogprobs:
        tried: set[_Shard] = set()
        while True:
            shard = self._acquire(tried)
            try:
                result = shard.backend.score(prompt)
            except ProbeError as exc:
                if self._closing or prompt_refused(exc):
                    raise
                tried.add(shard)
                self._take_out(shard, str(exc))
                continue
            finally:
                self._release(shard)
            return replace(result, endpoint=shard.url)

    def generate(self, prompt: Prompt, on_text, cancel, max_tokens: int = MAX_FREE_TEXT_TOKENS) -> Generation:
        """On one endpoint; on another only if it failed before writing anything."""
        tried: set[_Shard] = set()
        while True:
            shard, written = self._acquire(tried), []

            def forward(piece):
                written.append(piece)
                on_text(piece)

            try:
                return shard.backend.generate(prompt, forward, cancel, max_tokens=max_tokens)
            except ProbeError as exc:
                if self._closing or written or prompt_refused(exc):
                    raise
                tried.add(shard)
                self._take_out(shard, str(exc))
            finally:
                self._release(shard)

    def close(self) -> None:
        with self._changed:
            self._closing = True
            self._changed.notify_all()
        for shard in self._shards:
            shard.backend.close()

    # --- routing ------------------------------------------------------------------------------
    def _acquire(self, tried: set[_Shard]) -> _Shard:
        """The endpoint up, not tried for this prompt, with a free slot and the fewest in flight; waits for a slot."""
        with self._changed:
            while True:
                if self._closing:
                    raise ProbeError(f"requests to {self.display_name} cancelled")
                candidates = [shard for shard in self._shards if not shard.failure and shard not in tried]
                if not candidates:
                    raise ProbeError(f"every endpoint of {self.model} failed: "
                                     + "; ".join(f"{shard.url}: {shard.failure}" for shard in self._shards if shard.failure))
                free = [shard for shard in candidates if shard.in_flight < self.per_endpoint]
                if free:
                    shard = min(free, key=lambda s: (s.in_flight, s.asked))
                    shard.in_flight += 1
                    shard.asked += 1
                    return shard
                self._changed.wait()

    def _release(self, shard: _Shard) -> None:
        with self._changed:
            shard.in_flight -= 1
            self._changed.notify_all()

    def _take_out(self, shard: _Shard, why: str, at_start: bool = False) -> None:
        with self._changed:
            if shard.failure:
                return  # another prompt in flight there found it first
            shard.failure = why
            self.left_out[shard.url] = why
            up = sum(not s.failure for s in self._shards)
            self._changed.notify_all()  # prompts waiting for a slot there look elsewhere
        when = "is down at start" if at_start else "failed"
        rest = f"{up} other endpoint(s) go on" if up else "no endpoint is left"
        self._notice(f"endpoint {shard.url} {when} and is left out for this run ({why}); {rest}")


def _fingerprint(backend) -> dict:
    """What the endpoint's model list says of the model beyond its id (vLLM: root and max_model_len;
    llama.cpp's C++ server: meta), to tell apart two endpoints that give different models one name.
    {} when the server lists nothing more."""
    url = f"{backend.config.base_url.rstrip('/')}{'/models' if backend.config.kind != 'anthropic' else '/v1/models'}"
    try:
        response = backend._once.get(url, timeout=min(backend.config.timeout, 10.0))  # the backend's own client: its key, no retries
        entries = response.json().get("data", []) if response.is_success else []
        entry = next((e for e in entries if isinstance(e, dict) and e.get("id") == backend.config.model), {})
    except Exception:  # noqa: BLE001 - a model list that cannot be read tells nothing: the first request will
        return {}
    return {key: entry[key] for key in _FINGERPRINT if key in entry}
