"""Remote backends over HTTP: OpenAI-compatible chat and completions, and Anthropic's Messages API.

Every result says how it was obtained: `logprobs`, `logprobs-topk-floored(k)` (k options were missing
from the top-k list and got a floor), `sampled(n=N,T=T)` (N answers drawn and parsed), or `parsed`
(one greedy answer, parsed). A result with no information (no option in the top-k list, or no
sampled answer naming one) is marked unanswered, with its raw answers, and never made uniform.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import httpcore
import httpx
import platformdirs
import pydantic
import tomli_w
from dotenv import dotenv_values
from httpx_retries import Retry, RetryTransport

from ..core.errors import ProbeError
from ..core.parsing import parse_answer
from ..core.prompts import CHAT, COMPLETION, MESSAGES, ChatTemplate, Prompt
from ..core.scoring import OptionLogprobs, logprobs_from_samples, distinct_spellings, logprobs_from_top_k, option_logprobs_from_spellings
from ..core.settings import DEFAULTS
from .base import MAX_FREE_TEXT_TOKENS, Capabilities, Generation, ModelInfo
from .llamaserver import LlamaServerScorer, is_llama_server, server_root
from .replies import ImpossibleLogprobs, MalformedReply, checked_top_k

log = logging.getLogger(__name__)
logging.getLogger("httpx").setLevel(logging.WARNING)

KINDS = ("openai", "openai-completions", "anthropic")
MODES = ("auto", "logprobs", "sampled", "parsed")
RETRY_STATUSES = (429, 500, 502, 503, 504)
ANTHROPIC_VERSION = "2023-06-01"
MAX_RESPONSE_BYTES = 8 * 1024 * 1024  # decompressed; an answer is a few kB
MAX_RETRY_AFTER = 60.0  # seconds: a server asking to wait longer fails the endpoint at once


@dataclass(frozen=True)
class EndpointConfig:
    kind: str  # one of KINDS
    base_url: str  # OpenAI: ".../v1"; Anthropic: "https://api.anthropic.com"
    model: str
    name: str = ""
    api_key_env: str = ""  # default: OPENAI_API_KEY or ANTHROPIC_API_KEY by kind
    mode: str = "auto"  # auto: logprobs when offered, else sampled
    top_logprobs: int = 20
    samples: int = 10
    temperature: float = 0.7
    max_tokens: int = 16  # for free-text answers
    seed: int | None = None  # sampled answers: sample i asks with seed + i (OpenAI-compatible APIs)
    exact: bool = True  # completions: options outside the top-k scored exactly (prompt echo, llama-server's API) where offered
    timeout: float = DEFAULTS.timeout
    max_retries: int = 5
    backoff: float = 0.5  # seconds, doubled each retry, with jitter
    api_key: str = field(default="", repr=False)  # only from a 0600 endpoints.toml; prefer api_key_env

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ProbeError(f"unknown backend {self.kind!r}; choose one of: {', '.join(KINDS)}")
        if self.mode not in MODES:
            raise ProbeError(f"unknown mode {self.mode!r}; choose one of: {', '.join(MODES)}")
        if not 1 <= self.top_logprobs <= 20:
            raise ProbeError("top_logprobs must be between 1 and 20")

    @property
    def key_variable(self) -> str:
        return self.api_key_env or ("ANTHROPIC_API_KEY" if self.kind == "anthropic" else "OPENAI_API_KEY")


_ENDPOINT_SCHEMA = pydantic.TypeAdapter(EndpointConfig)  # each setting checked for its type


def config_file() -> Path:
    return Path(platformdirs.user_config_dir("probe-tui")) / "endpoints.toml"


def load_endpoints(path: Path | None = None) -> dict[str, EndpointConfig]:
    """Endpoints from the TOML config: one [endpoints.NAME] table each."""
    path = path or config_file()
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as exc:
        raise ProbeError(f"{path}: not a valid TOML file ({' '.join(str(exc).split())})") from None
    tables = data.get("endpoints", {})
    if not isinstance(tables, dict) or not all(isinstance(t, dict) for t in tables.values()):
        raise ProbeError(f"{path}: endpoints: expected one table per endpoint, e.g. [endpoints.local]")
    holds_key = any(t.get("api_key") for t in tables.values())
    if holds_key and path.stat().st_mode & 0o077:
        raise ProbeError(f"{path} holds an API key but other users can read it; run: chmod 600 {path}")
    known = {f.name for f in fields(EndpointConfig)}
    endpoints = {}
    for name, table in tables.items():
        unknown = set(table) - known - {"backend"}
        if unknown:
            raise ProbeError(f"{path}: endpoints.{name}: unknown setting(s) {', '.join(sorted(unknown))}")
        settings = {k: v for k, v in table.items() if k in known}
        kind = table.get("backend", settings.pop("kind", "openai"))
        try:
            endpoints[name] = _ENDPOINT_SCHEMA.validate_python({"kind": kind, "name": name, **settings})
        except pydantic.ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(map(str, error["loc"])).replace("kind", "backend")  # the file says backend
            raise ProbeError(f"{path}: endpoints.{name}.{where}: {error['msg']}") from None
        except ProbeError as exc:  # a value the config refuses (an unknown mode...)
            raise ProbeError(f"{path}: endpoints.{name}: {exc}") from None
    return endpoints


def api_key(config: EndpointConfig) -> str | None:
    """From the config file, else the environment, else ./.env; None when none has it (fine for local servers).
    A key with a line break, space or other control character is refused, without showing it."""
    key = config.api_key or os.environ.get(config.key_variable) or dotenv_values(".env").get(config.key_variable) or None
    if key and (not key.isprintable() or any(c.isspace() for c in key)):
        where = "endpoints.toml" if config.api_key else f"${config.key_variable}"
        raise ProbeError(f"the API key in {where} contains a line break, space or other control character; "
                         "set it again without them (it is not shown here)")
    return key


def save_endpoint(config: EndpointConfig, path: Path | None = None) -> Path:
    """Add or replace one endpoint in endpoints.toml."""
    path = path or config_file()
    endpoints = load_endpoints(path)
    endpoints[config.name] = config
    return _write_endpoints(endpoints, path)


def remove_endpoint(name: str, path: Path | None = None) -> Path:
    path = path or config_file()
    endpoints = load_endpoints(path)
    if name not in endpoints:
        raise ProbeError(f"no endpoint {name!r} in {path}; saved: {', '.join(sorted(endpoints)) or 'none'}")
    del endpoints[name]
    return _write_endpoints(endpoints, path)


def endpoint_summary(config: EndpointConfig) -> str:
    """One line: what the endpoint asks, and how (never the key)."""
    how = f"mode {config.mode}, {config.samples} samples at T={config.temperature:g}" + (f", seed {config.seed}" if config.seed is not None else "")
    key = "key stored in the file" if config.api_key else f"key from {config.key_variable}"
    return f"{config.kind} {config.model} @ {config.base_url} ({how}; {key})"


def _write_endpoints(endpoints: dict[str, EndpointConfig], path: Path) -> Path:
    """The whole file, settings that differ from the defaults only, written with mode 0600 (it may hold
    a key) and swapped in whole."""
    defaults = {f.name: f.default for f in fields(EndpointConfig)}
    tables = {name: {"backend": endpoint.kind} | {f.name: getattr(endpoint, f.name) for f in fields(EndpointConfig)
                                                   if f.name not in ("kind", "name") and getattr(endpoint, f.name) != defaults[f.name]}
              for name, endpoint in endpoints.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        tomli_w.dump({"endpoints": tables}, handle)
    os.replace(partial, path)
    return path


class MalformedResponse(Exception):
    """A 2xx response whose body is not JSON: retried like a network error."""


def _first_choice(data) -> dict:
    """An OpenAI-style reply's first choice."""
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise MalformedReply("no choices")
    return choices[0]


def _text(value, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedReply(f"{what} is not text")
    return value


class ResponseTooLarge(Exception):
    pass


class RetryAfterTooLong(Exception):
    pass


class Cancelled(Exception):
    """The backend was closed (Ctrl+C, quit) while a request or its retry wait was under way."""


def _require_json(response: httpx.Response) -> None:
    if response.is_success:
        try:
            json.loads(response.read())
        except ValueError as exc:
            raise MalformedResponse(f"body is not JSON ({exc})") from None


_attempt = threading.local()  # `deadline`: when this thread's request attempt must be over (time.monotonic)


def _time_left(timeout: float | None) -> float | None:
    deadline = getattr(_attempt, "deadline", None)
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("the overall deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket whose reads end at the attempt's overall deadline (httpx's timeout is per read: a
    server dripping a byte at a time never trips it), and within a quarter second of closing."""

    def __init__(self, stream: httpcore.NetworkStream, closing: threading.Event):
        self._stream, self._closing = stream, closing

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        while True:
            if self._closing.is_set():
                raise httpcore.ReadError("cancelled")
            try:
                return self._stream.read(max_bytes, min(_time_left(timeout) or 0.25, 0.25))
            except httpcore.ReadTimeout:
                _time_left(timeout)  # raises once the deadline has passed; else read on

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _time_left(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, _time_left(timeout)), self._closing)

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


class _DeadlineNetwork(httpcore.SyncBackend):
    def __init__(self, closing: threading.Event):
        self._closing = closing

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        return _DeadlineStream(super().connect_tcp(host, port, _time_left(timeout), local_address, socket_options), self._closing)


class _Transport(httpx.HTTPTransport):
    """One attempt, over by the backend's timeout as a whole. Unless streaming, it reads the whole
    body here: decompressed, bounded, and redacted before anything else sees it."""

    def __init__(self, backend: RemoteBackend, read_body: bool = True):
        super().__init__()
        self._pool._network_backend = _DeadlineNetwork(backend._closing)  # httpx offers no public hook
        self._backend, self._read_body = backend, read_body

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        _attempt.deadline = time.monotonic() + self._backend.config.timeout
        response = super().handle_request(request)
        if not self._read_body:
            return response
        try:
            body = b"".join(_bounded(response.iter_bytes()))
        finally:
            response.close()
        text = self._backend._redact(body.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")]
        return httpx.Response(response.status_code, headers=headers, content=text, extensions=response.extensions)


def _bounded(chunks):
    received = 0
    for chunk in chunks:
        received += len(chunk)
        if received > MAX_RESPONSE_BYTES:
            raise ResponseTooLarge()
        yield chunk


class _Retry(Retry):
    """Retry waits that end at once when the backend closes; a Retry-After over MAX_RETRY_AFTER
    fails at once rather than being capped and retried."""

    closing: threading.Event

    def copy_with(self, **changes) -> _Retry:
        copy = super().copy_with(**changes)
        copy.closing = self.closing
        return copy

    def sleep(self, response: httpx.Response | Exception) -> None:
        headers = response.headers if isinstance(response, httpx.Response) else {}
        try:
            asked = self.parse_retry_after(headers.get("Retry-After", "")) if headers.get("Retry-After") else 0.0
        except ValueError:
            asked = 0.0
        if asked > MAX_RETRY_AFTER:
            raise RetryAfterTooLong(response.status_code, asked)
        seconds = self._calculate_sleep(headers)
        if self.closing.wait(seconds):
            raise Cancelled()
        self.elapsed_sleep += seconds


class RemoteBackend:
    """Shared HTTP plumbing: retries with backoff and jitter, Retry-After, timeouts, clear errors."""

    capabilities = Capabilities(logprobs=True, cancel=True, stream=True)

    def __init__(self, config: EndpointConfig):
        self.config = config
        self._key = api_key(config)
        self.info: ModelInfo | None = None
        self.max_concurrency = 64
        self._closing = threading.Event()  # set by close(): requests in flight and retry waits end now
        retry = _Retry(
            total=config.max_retries,
            allowed_methods=["GET", "POST"],
            status_forcelist=RETRY_STATUSES,
            retry_on_exceptions=[httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError, MalformedResponse],
            backoff_factor=config.backoff,
            respect_retry_after_header=True,
            max_backoff_wait=60.0,
            validate_response=_require_json,
        )
        retry.closing = self._closing
        self._client = self._http_client(RetryTransport(transport=_Transport(self), retry=retry))
        self._once = self._http_client(_Transport(self))  # no retries: the model check
        self._streaming = self._http_client(_Transport(self, read_body=False))  # a stream is not retried once begun

    def _http_client(self, transport: httpx.BaseTransport) -> httpx.Client:
        return httpx.Client(base_url=self.config.base_url.rstrip("/"), headers=self._headers(),
                            timeout=httpx.Timeout(self.config.timeout), transport=transport)

    @property
    def display_name(self) -> str:
        return f"{self.config.model} @ {self.config.base_url}"

    @property
    def cache_params(self) -> dict:
        """What besides the model and the prompt decides the numbers, for the response cache (never the key)."""
        c = self.config
        return {"backend": c.kind, "mode": c.mode, "top_logprobs": c.top_logprobs, "samples": c.samples,
                "temperature": c.temperature, "max_tokens": c.max_tokens, **({"seed": c.seed} if c.seed is not None else {}),
                **({"exact": c.exact} if c.kind == "openai-completions" else {})}

    @property
    def identity(self) -> str:
        """Endpoint and model id: what a result was obtained from (never the key). The completions
        endpoint is named: its raw prompts are another condition than the chat API's messages."""
        path = "/completions" if self.config.kind == "openai-completions" else ""
        return f"{self.config.base_url.rstrip('/')}{path}#{self.config.model}"

    def _headers(self) -> dict:
        return {"Authorization": f"Bearer {self._key}"} if self._key else {}

    def _redact(self, text: str) -> str:
        """The one redaction point: every response body (in _Transport), streamed line and error
        text passes here before it is parsed, cut, shown or stored."""
        return text.replace(self._key, "***") if self._key else text

    def post(self, path: str, body: dict) -> dict:
        return self._request("POST", path, json=body)

    def _url(self, path: str) -> str:
        """A path under the base URL, or a whole URL (llama-server's native API lives at its root)."""
        return path if "://" in path else f"{self.config.base_url.rstrip('/')}{path}"

    def _request(self, method: str, path: str, **kwargs) -> dict:
        url = self._url(path)
        try:
            response = self._client.request(method, path, **kwargs)
        except (httpx.HTTPError, MalformedResponse, ResponseTooLarge, RetryAfterTooLong, Cancelled) as exc:
            raise self._failure(exc, url) from None
        if response.is_success:
            try:
                return response.json()
            except ValueError:  # the retry layer hands back the last response as it is
                raise ProbeError(f"malformed response from {url} after {self.config.max_retries} retries: body is not JSON") from None
        raise ProbeError(self._redact(self._http_error(response, url)))

    def _failure(self, exc: Exception, url: str) -> ProbeError:
        """A transport failure as a one-line error."""
        if isinstance(exc, ResponseTooLarge):
            return ProbeError(f"response from {url} is over {MAX_RESPONSE_BYTES // 2**20} MiB (decompressed); refused")
        if isinstance(exc, RetryAfterTooLong):
            status, seconds = exc.args
            return ProbeError(f"{'rate limited' if status == 429 else 'unavailable'} at {url} (HTTP {status}): the server asks to wait "
                              f"{seconds:g}s, over {MAX_RETRY_AFTER:g}s; try again later")
        if isinstance(exc, Cancelled):
            return ProbeError(f"request to {url} cancelled")
        if isinstance(exc, httpx.TimeoutException):
            return ProbeError(f"no answer from {url} within {self.config.timeout:g}s (after {self.config.max_retries} retries)")
        if isinstance(exc, httpx.ConnectError):
            reason = "connection refused" if "refused" in str(exc).lower() else self._redact(str(exc))
            return ProbeError(f"cannot connect to {url}: {reason}")
        if isinstance(exc, MalformedResponse):
            return ProbeError(f"malformed response from {url} after {self.config.max_retries} retries: {exc}")
        return ProbeError(f"request to {url} failed: {self._redact(type(exc).__name__ + ': ' + str(exc))}")

    def stream(self, path: str, body: dict, read_event, on_text, cancel) -> Generation:
        """POST with stream=true and read the server-sent events. read_event(event) gives
        (text piece, finish reason or None). Closing the stream is the cancel: no more is read."""
        url = f"{self.config.base_url.rstrip('/')}{path}"
        pieces, finish = [], "stop"
        try:
            with self._streaming.stream("POST", path, json={**body, "stream": True}) as response:
                if not response.is_success:
                    raise ProbeError(self._http_error(self._read_error(response), url))
                for line in self._lines(response):
                    if cancel.is_set():
                        return Generation("".join(pieces), "cancelled")
                    data = line[len("data:"):].strip() if line.startswith("data:") else ""
                    if not data:
                        continue
                    if data == "[DONE]":
                        break
                    try:
                        piece, reason = read_event(json.loads(data))
                    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
                        raise ProbeError(f"malformed event in the stream from {url}: {data[:80]}") from None
                    if piece:
                        pieces.append(piece)
                        on_text(piece)
                    finish = reason or finish
        except (httpx.HTTPError, ResponseTooLarge, Cancelled) as exc:
            raise self._failure(exc, url) from None
        return Generation("".join(pieces), finish)

    def _lines(self, response: httpx.Response):
        """The stream's lines, redacted, within MAX_RESPONSE_BYTES in all."""
        rest = ""
        for chunk in _bounded(response.iter_text()):
            *lines, rest = (rest + chunk).split("\n")
            yield from (self._redact(line.rstrip("\r")) for line in lines)
        yield self._redact(rest)

    def _read_error(self, response: httpx.Response) -> httpx.Response:
        """A streamed error response, read whole (bounded) and redacted, for _http_error."""
        return httpx.Response(response.status_code, text="\n".join(self._lines(response)),
                              headers={"Content-Type": response.headers.get("Content-Type", "")})

    def _http_error(self, response: httpx.Response, url: str) -> str:
        status = response.status_code
        detail = _error_detail(response)
        if status in (401, 403):
            return f"authentication failed at {url} (HTTP {status}): check {self.config.key_variable}"
        if status == 404:
            return f"not found at {url} (HTTP 404): check --base-url and the model id {self.config.model!r}{detail}"
        if status == 429:
            return f"rate limited at {url} (HTTP 429) after {self.config.max_retries} retries{detail}"
        if status >= 500:
            return f"server error at {url} (HTTP {status}) after {self.config.max_retries} retries{detail}"
        return f"request refused at {url} (HTTP {status}){detail}"

    def start(self, on_progress=None) -> ModelInfo:
        """Check the endpoint answers, then describe it."""
        self.info = ModelInfo(
            name=self.config.model,
            identity=self.identity,
            chat_template=None,
            details={"summary": f"{self.config.kind} endpoint {self.config.base_url}, mode {self.config.mode}", "kind": self.config.kind},
            prompt_style=COMPLETION if self.config.kind == "openai-completions" else MESSAGES,
        )
        self._check_model()
        if on_progress:
            on_progress(1.0)
        return self.info

    def _read_reply(self, path: str, body: dict, read):
        """POST and read(reply). A reply that read() finds malformed, or whose numbers are impossible,
        is asked for again (max_retries times); then the item fails in one line."""
        for attempt in range(self.config.max_retries + 1):
            if attempt and self._closing.wait(self.config.backoff):
                raise ProbeError(f"request to {self._url(path)} cancelled")
            try:
                return read(self.post(path, body))
            except (MalformedReply, ImpossibleLogprobs) as exc:
                failure = exc
                log.warning("%s from %s%s (attempt %d): %s", type(exc).__name__, self.config.base_url, path, attempt + 1, exc)
        what = "impossible logprobs" if isinstance(failure, ImpossibleLogprobs) else "malformed reply"
        raise type(failure)(f"{what} from {self._url(path)} after {self.config.max_retries} retries: {failure}")

    def _top_k(self, path: str, body: dict, read) -> list[tuple[str, float]] | None:
        """POST for a top-k list, read(reply) -> (token, logprob) pairs, or None when it has none."""
        def checked(data):
            pairs = read(data)
            return None if pairs is None else checked_top_k(pairs)

        return self._read_reply(path, body, checked)

    def _check_model(self) -> None:
        """Fail fast, without retries, if the endpoint is down; if it lists its models, the
        configured one must be among them."""
        url = f"{self.config.base_url.rstrip('/')}{'/models' if self.config.kind != 'anthropic' else '/v1/models'}"
        try:
            response = self._once.get(url, timeout=min(self.config.timeout, 10.0))
        except httpx.ConnectError as exc:
            reason = "connection refused" if "refused" in str(exc).lower() else self._redact(" ".join(str(exc).split()))
            raise ProbeError(f"cannot connect to {url}: {reason}") from None
        except (httpx.HTTPError, ResponseTooLarge, Cancelled) as exc:
            raise self._failure(exc, url) from None
        if response.status_code in (401, 403):
            raise ProbeError(self._redact(self._http_error(response, self.config.base_url)))
        if not response.is_success:
            return  # some servers have no model list; the first request will tell
        try:
            ids = {entry["id"] for entry in response.json().get("data", [])}
        except (ValueError, KeyError, TypeError, AttributeError):
            return
        if ids and self.config.model not in ids:
            raise ProbeError(f"model {self.config.model!r} is not served at {self.config.base_url}; it serves: {', '.join(sorted(ids))}")

    # --- sampling fallback, shared ------------------------------------------------------------
    def _one_answer(self, prompt: Prompt, temperature: float, sample: int = 0) -> str:
        """One free-text answer (the sample-th of a set)."""
        raise NotImplementedError

    def _seeded(self, sample: int) -> dict:
        return {} if self.config.seed is None else {"seed": self.config.seed + sample}

    def _sample_answers(self, prompt: Prompt, n: int, temperature: float) -> list[str]:
        """n answers; a study's repeat (prompt.draw) takes the next n sample numbers, so seeded draws never repeat."""
        first = prompt.draw * n
        with ThreadPoolExecutor(max_workers=min(n, 8)) as pool:
            return list(pool.map(lambda sample: self._one_answer(prompt, temperature, sample), range(first, first + n)))

    def _score_sampled(self, prompt: Prompt) -> OptionLogprobs:
        n, temperature = self.config.samples, self.config.temperature
        texts = self._sample_answers(prompt, n, temperature)
        answers = [parse_answer(t, prompt.labels, prompt.anchors, prompt.language) for t in texts]
        return _sampled_result(answers, prompt, f"sampled(n={n},T={temperature:g})", texts)

    def _score_parsed(self, prompt: Prompt) -> OptionLogprobs:
        text = self._sample_answers(prompt, 1, 0.0)[0]
        answer = parse_answer(text, prompt.labels, prompt.anchors, prompt.language)
        return _sampled_result([answer], prompt, "parsed", [text])

    def close(self) -> None:
        self._closing.set()
        for client in (self._client, self._once, self._streaming):
            client.close()


def _sampled_result(answers, prompt, method, texts) -> OptionLogprobs:
    """Shares of the parsed answers, with every raw answer kept (in top_tokens, logprob 0): when none
    named an option, the result is marked unanswered and the sweep goes on."""
    result = logprobs_from_samples(answers, prompt.labels, method)
    return replace(result, top_tokens=tuple((text, 0.0) for text in texts))


def _error_detail(response: httpx.Response) -> str:
    try:
        body = response.json()
        message = body.get("error", {}).get("message") if isinstance(body.get("error"), dict) else body.get("error") or body.get("detail")
    except (ValueError, AttributeError):
        message = response.text
    message = " ".join(str(message or "").split())[:160]
    return f": {message}" if message else ""


def _logprobs_refused(response_error: ProbeError) -> bool:
    if isinstance(response_error, (ImpossibleLogprobs, MalformedReply)):  # a broken reply is no refusal: never a reason to sample
        return False
    text = str(response_error).lower()
    return "http 400" in text or "http 422" in text or "logprob" in text


class OpenAIChatBackend(RemoteBackend):
    """POST /chat/completions with max_tokens=1, logprobs=true and top_logprobs."""

    def __init__(self, config: EndpointConfig):
        super().__init__(config)
        self._logprobs_offered = config.mode in ("auto", "logprobs")

    def score(self, prompt: Prompt) -> OptionLogprobs:
        if self.config.mode == "parsed":
            return self._score_parsed(prompt)
        if self._logprobs_offered:
            try:
                top = self._top_logprobs(prompt)
            except ProbeError as exc:
                if self.config.mode == "logprobs" or not _logprobs_refused(exc):
                    raise
                top = None
            if top is not None:
                return logprobs_from_top_k(top, prompt.labels)
            if self.config.mode == "logprobs":
                raise ProbeError(f"{self.display_name} returned no logprobs; use --mode sampled")
            log.info("%s gives no logprobs; falling back to sampling", self.display_name)
            self._logprobs_offered = False
        return self._score_sampled(prompt)

    def _body(self, prompt: Prompt, **extra) -> dict:
        return {"model": self.config.model, "messages": list(prompt.messages), **extra}

    def _top_logprobs(self, prompt: Prompt) -> list[tuple[str, float]] | None:
        def read(data):
            content = _first_choice(data).get("logprobs") or {}
            try:
                first = (content.get("content") or [None])[0]
                entries = first.get("top_logprobs") if first else None
            except (IndexError, TypeError, AttributeError, KeyError):
                raise MalformedReply("logprobs without a list of tokens") from None
            if not entries:
                return None
            # an entry that is not {"token": text, "logprob": number} is impossible, and asked again
            return [(e.get("token"), e.get("logprob")) if isinstance(e, dict) else (None, None) for e in (entries if isinstance(entries, list) else [entries])]

        body = self._body(prompt, max_tokens=1, temperature=0.0, logprobs=True, top_logprobs=self.config.top_logprobs)
        return self._top_k("/chat/completions", body, read)

    def _one_answer(self, prompt: Prompt, temperature: float, sample: int = 0) -> str:
        def read(data):
            message = _first_choice(data).get("message")
            if not isinstance(message, dict):
                raise MalformedReply("a choice without a message")
            return _text(message.get("content"), "the message content")

        return self._read_reply("/chat/completions", self._body(prompt, max_tokens=self.config.max_tokens, temperature=temperature,
                                                                **self._seeded(sample)), read)

    def generate(self, prompt: Prompt, on_text, cancel, max_tokens: int = MAX_FREE_TEXT_TOKENS) -> Generation:
        def read(event):
            choice = event["choices"][0] if event.get("choices") else {}
            return (choice.get("delta") or {}).get("content") or "", choice.get("finish_reason")

        return self.stream("/chat/completions", self._body(prompt, max_tokens=max_tokens, temperature=0.0), read, on_text, cancel)


class OpenAICompletionsBackend(RemoteBackend):
    """POST /completions with the raw prompt (ending in the answer prefix) and logprobs=k: for base
    models, and chat models whose template the server names (the prompt is then the chat, rendered).

    Exact where the endpoint allows (config.exact): a llama-server (found from /props) is read through
    its native API (llamaserver.py: every option's probability, method `logprobs`); elsewhere, when
    the top-k list floors an option, every option is scored as a continuation through prompt echo, as
    lm-eval does (method `logprobs-echo`). Whether the endpoint echoes is found out once, on the first
    item that needs it; where it does not, the floors stay, and the method label says so."""

    def __init__(self, config: EndpointConfig):
        super().__init__(config)
        self.native: LlamaServerScorer | None = None
        self.echo: bool | None = None  # None: not yet asked; then whether the endpoint echoes prompt logprobs

    def start(self, on_progress=None) -> ModelInfo:
        info = super().start(on_progress)
        if self.config.exact and self.config.mode in ("auto", "logprobs"):
            self.native = self._find_llama_server()
        if self.native is not None:
            template = self.native.chat_template()
            details = {**info.details, "server": "llama-server", "slots": self.native.slots,
                       "summary": info.details["summary"] + f", llama-server, {self.native.slots} slots, exact option probabilities"}
            if template is not None:
                details["template_check"] = self._template_check(template)
            self.info = replace(info, chat_template=template, prompt_style=CHAT if template is not None else COMPLETION, details=details)
            self.max_concurrency = max(1, 2 * self.native.slots)
        return self.info

    def _find_llama_server(self) -> LlamaServerScorer | None:
        """A llama-server answers GET /props at its root (while it loads a model, 503 is waited out)."""
        root = server_root(self.config.base_url)
        try:
            props = self._request("GET", f"{root}/props")
        except ProbeError as exc:
            log.info("%s: no llama-server API at %s (%s)", self.display_name, root, exc)
            return None
        if not is_llama_server(props):
            return None
        n_vocab = 0
        try:
            models = self._request("GET", f"{root}/v1/models").get("data") or []
            n_vocab = int(((models[0] if models else {}).get("meta") or {}).get("n_vocab") or 0)
        except (ProbeError, AttributeError, TypeError, ValueError):
            pass
        return LlamaServerScorer(self, root, props, n_vocab or 1 << 20)

    def _template_check(self, template: ChatTemplate) -> str:
        """The server's own rendering (/apply-template) of a short chat against ours from the same
        template: the prompts scored (and exported) are ours, so they must be the chat the server sees."""
        messages = [{"role": "system", "content": "You answer surveys."}, {"role": "user", "content": "Pick 1 or 2."}]
        try:
            theirs = self.native.rendered_by_server(messages)
            ours = template.render(messages)
        except ProbeError as exc:
            return f"not checked ({exc})"
        if theirs != ours:
            log.warning("%s renders the chat template differently from probe-tui: %r vs %r", self.display_name, theirs, ours)
            return "differs from the server's own rendering"
        return "same as the server's own rendering"

    def score(self, prompt: Prompt) -> OptionLogprobs:
        if self.config.mode == "parsed":
            return self._score_parsed(prompt)
        if self.config.mode == "sampled":
            return self._score_sampled(prompt)
        if self.native is not None:
            return self.native.score(prompt.text, prompt.labels)
        top = self._top_k("/completions", self._logprobs_body(prompt.text, self.config.top_logprobs), _read_first_top_k)
        if top is None:
            if self.config.mode == "logprobs":
                raise ProbeError(f"{self.display_name} returned no logprobs; use --mode sampled")
            return self._score_sampled(prompt)
        result = logprobs_from_top_k(sorted(top, key=lambda kv: -kv[1]), prompt.labels)
        if result.floored and self.config.exact and self.echo is not False:
            echoed = self._score_echoed(prompt, top)
            if echoed is not None:
                return replace(echoed, top_tokens=result.top_tokens)
        return result

    def _logprobs_body(self, text: str, logprobs: int, **extra) -> dict:
        return {"model": self.config.model, "prompt": text, "max_tokens": 1, "temperature": 0.0, "logprobs": logprobs, **extra}

    # --- prompt echo ---------------------------------------------------------------------------
    def _echoed(self, text: str, logprobs: int = 1) -> tuple[list[str], list[float | None], list] | None:
        """The tokens of text (and one generated), each one's echoed log-probability and top-k
        entry, or None when the endpoint does not echo the prompt's."""
        def read(data):
            logprobs = _first_choice(data).get("logprobs")
            tokens = logprobs.get("tokens") if isinstance(logprobs, dict) else None
            values = logprobs.get("token_logprobs") if isinstance(logprobs, dict) else None
            tops = logprobs.get("top_logprobs") if isinstance(logprobs, dict) else None
            if not isinstance(tokens, list) or not isinstance(values, list) or len(tokens) != len(values) or len(tokens) < 2:
                return None  # e.g. llama-server's /v1/completions: only the generated token
            checked = [checked_top_k([(t, v)])[0][1] for t, v in zip(tokens[1:], values[1:])]  # each a logprob; the first has none
            return tokens, [None] + checked, tops if isinstance(tops, list) and len(tops) == len(tokens) else []

        return self._read_reply("/completions", self._logprobs_body(text, logprobs, echo=True), read)

    def _echo_aligned(self, base, top: list[tuple[str, float]]) -> bool:
        """Whether the echoed log-probability of token i is P(token i | those before it), as in
        OpenAI's API and vLLM: the last echoed token is then the greedy one, with the plain top-k list's logprob. (In
        llama-cpp-python's server they are one token late unless the prompt starts with a BOS.)"""
        tokens, values, _ = base
        best, best_logprob = max(top, key=lambda pair: pair[1])
        return tokens[-1] == best and values[-1] is not None and abs(values[-1] - best_logprob) < 1e-3  # the greedy token, last

    def _score_echoed(self, prompt: Prompt, top: list[tuple[str, float]]) -> OptionLogprobs | None:
        """Every option as a continuation of the prompt: each spelling ("1", " 1") appended, its
        tokens' echoed log-probabilities summed, the spellings combined as the local backend does.
        None when the endpoint does not echo (remembered) or a spelling does not start on a token
        boundary of the prompt (then the top-k reading stays, floors and all)."""
        base = self._echoed(prompt.text, self.config.top_logprobs)  # the prompt's own tokens, and whether they are aligned
        if base is None:
            if self.echo:
                raise MalformedReply("an echo without the prompt's tokens, from an endpoint that echoed them before")
            log.info("%s does not echo prompt logprobs: options outside the top-k keep a floor", self.display_name)
            self.echo = False
            return None
        self.echo = True
        if not self._echo_aligned(base, top):  # checked on every prompt: llama-cpp-python's are aligned only after a BOS
            log.info("%s echoes this prompt's logprobs one token late: its options outside the top-k keep a floor", self.display_name)
            return None
        prompt_tokens = base[0][:-1]  # less the one generated token
        spellings = [(label, spelling) for label in prompt.labels for spelling in (label, " " + label)]
        with ThreadPoolExecutor(max_workers=min(len(spellings), 8)) as pool:
            replies = list(pool.map(lambda pair: self._echoed(prompt.text + pair[1]), spellings))
        by_label: dict[str, dict[tuple[str, ...], float]] = {}
        for (label, spelling), reply in zip(spellings, replies):
            if reply is None:
                return None
            tokens, values = reply[0][:-1], reply[1][:-1]  # less the generated token
            if tokens[: len(prompt_tokens)] != prompt_tokens or "".join(tokens[len(prompt_tokens):]) != spelling:
                # the tokenizer merges it with the prompt's end (" 1" after a newline): no text gives
                # that continuation, so it is left out (see the README on how little it holds)
                log.debug("%s: %r does not continue the prompt on a token boundary; left out", self.display_name, spelling)
                continue
            by_label.setdefault(label, {})[tuple(tokens[len(prompt_tokens):])] = sum(values[len(prompt_tokens):])
        if set(by_label) != set(prompt.labels):
            log.info("%s: an option has no spelling that continues the prompt on a token boundary; keeping the top-k reading", self.display_name)
            return None
        spelled = {(label, variant): found[variant] for label, found in by_label.items() for variant in distinct_spellings(list(found))}
        return OptionLogprobs(logprobs=option_logprobs_from_spellings(prompt.labels, spelled), method="logprobs-echo",
                              prompt_tokens=len(prompt_tokens))

    def _one_answer(self, prompt: Prompt, temperature: float, sample: int = 0) -> str:
        body = {"model": self.config.model, "prompt": prompt.text, "max_tokens": self.config.max_tokens, "temperature": temperature,
                **self._seeded(sample)}
        return self._read_reply("/completions", body, lambda data: _text(_first_choice(data).get("text"), "the completion text"))

    def generate(self, prompt: Prompt, on_text, cancel, max_tokens: int = MAX_FREE_TEXT_TOKENS) -> Generation:
        def read(event):
            choice = event["choices"][0] if event.get("choices") else {}
            return choice.get("text") or "", choice.get("finish_reason")

        body = {"model": self.config.model, "prompt": prompt.text, "max_tokens": max_tokens, "temperature": 0.0}
        return self.stream("/completions", body, read, on_text, cancel)


class AnthropicBackend(RemoteBackend):
    """Anthropic's Messages API has no logprobs: answers are sampled and parsed."""

    capabilities = Capabilities(logprobs=False, cancel=True, stream=True)

    def _headers(self) -> dict:
        headers = {"anthropic-version": ANTHROPIC_VERSION}
        if self._key:
            headers["x-api-key"] = self._key
        return headers

    def score(self, prompt: Prompt) -> OptionLogprobs:
        if self.config.mode == "logprobs":
            raise ProbeError("the Anthropic API gives no logprobs; use --mode sampled or parsed")
        return self._score_parsed(prompt) if self.config.mode == "parsed" else self._score_sampled(prompt)

    def _messages_body(self, prompt: Prompt, max_tokens: int, temperature: float) -> dict:
        system = [m["content"] for m in prompt.messages if m["role"] == "system"]
        messages = [m for m in prompt.messages if m["role"] != "system"]
        body = {"model": self.config.model, "max_tokens": max_tokens, "temperature": temperature, "messages": messages}
        if system:
            body["system"] = "\n\n".join(system)
        return body

    def generate(self, prompt: Prompt, on_text, cancel, max_tokens: int = MAX_FREE_TEXT_TOKENS) -> Generation:
        def read(event):
            if event.get("type") == "content_block_delta":
                return event["delta"].get("text") or "", None
            if event.get("type") == "message_delta":
                reason = event["delta"].get("stop_reason")
                return "", {"max_tokens": "length"}.get(reason, "stop") if reason else None
            if event.get("type") == "error":
                raise ProbeError(f"the Messages API stream failed: {event.get('error', {}).get('message', event)}")
            return "", None

        return self.stream("/v1/messages", self._messages_body(prompt, max_tokens, 0.0), read, on_text, cancel)

    def _one_answer(self, prompt: Prompt, temperature: float, sample: int = 0) -> str:
        # the Messages API takes no seed: its samples do not repeat
        def read(data):
            blocks = data.get("content") if isinstance(data, dict) else None
            if not isinstance(blocks, list) or not all(isinstance(block, dict) for block in blocks):
                raise MalformedReply("no content blocks")
            return "".join(_text(block.get("text"), "a text block") for block in blocks if block.get("type") == "text")

        return self._read_reply("/v1/messages", self._messages_body(prompt, self.config.max_tokens, temperature), read)


def _read_first_top_k(data):
    """The first generated token's top-k list from a /completions reply, or None when it has none."""
    logprobs = _first_choice(data).get("logprobs")
    if logprobs is not None and not isinstance(logprobs, dict):
        raise MalformedReply("logprobs that are not a mapping")
    tops = (logprobs or {}).get("top_logprobs")
    if not isinstance(tops, (list, type(None))):
        raise MalformedReply("top_logprobs that are not a list")
    first = tops[0] if tops else None
    if first is None:
        return None  # the server gives none for this token
    if not isinstance(first, dict):
        raise MalformedReply("a top_logprobs entry that is not a mapping")
    return list(first.items())


def make_remote_backend(config: EndpointConfig) -> RemoteBackend:
    return {"openai": OpenAIChatBackend, "openai-completions": OpenAICompletionsBackend, "anthropic": AnthropicBackend}[config.kind](config)
