"""What every HTTP destination shares: one ``httpx.Client`` per provider, JSON
encoding of warehouse values, and the one mapping of HTTP answers to the
framework's ``TransientError`` / ``PermanentError``: which statuses are worth a
retry (``TRANSIENT_STATUS``), how long the server asked us to wait
(``Retry-After`` and the rate-limit reset headers), and polling of an
asynchronous job to its end (``poll_until``).

The API key is a secret: every message built here passes through ``redact``,
which removes the key (and its parts, and its Basic-auth encoding) from the
text, so a provider that echoes the key back in an error body cannot leak it
into logs or the warehouse. Text is redacted before it is cut to length, so a
key straddling the cut cannot leave its prefix behind.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import json
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

import httpx

from activations.contract.records import (
    DeliveryReport,
    PermanentError,
    ProviderSettings,
    TransientError,
)

T = TypeVar("T")
RetryAfter = Callable[[httpx.Response], float | None]
Clock = Callable[[], float]
Sleep = Callable[[float], None]

_MAX_ERROR_TEXT = 300

#: statuses a later retry may fix; every other status >= 300 fails for good (a 501
#: "not implemented" or a 3xx redirect answers the same next time)
TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return value.strftime("%Y-%m-%dT%H:%M:%SZ")
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if hasattr(value, "tolist"):  # numpy scalars and arrays from data frames
        return value.tolist()
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def plain(value: Any) -> Any:
    """A warehouse value as plain JSON types (Decimal -> number, datetime -> ISO 8601 UTC)."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    return plain(_default(value))


def encode_json(payload: Any) -> bytes:
    """Compact UTF-8 JSON, the exact bytes sent (so byte limits are measured on them)."""
    return json.dumps(plain(payload), separators=(",", ":"), ensure_ascii=False).encode()


def json_size(payload: Any) -> int:
    return len(encode_json(payload))


def flat_value(value: Any) -> str | int | float | bool | None:
    """A value for an ESP that only stores scalars: nested lists/objects become JSON text."""
    value = plain(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return value


def secret_variants(secret: str) -> list[str]:
    """The secret, its ``site:key`` parts and its Basic-auth encodings: everything to redact."""
    if not secret:
        return []
    variants = {secret}
    if ":" in secret:
        variants.update(part for part in secret.split(":") if len(part) >= 6)
    for user in ("", "anystring", "activations"):
        token = f"{user}:{secret}" if ":" not in secret or user else secret
        variants.add(base64.b64encode(token.encode()).decode())
    # the key as the Basic user name with no password (Segment's write key)
    variants.add(base64.b64encode(f"{secret}:".encode()).decode())
    return sorted(variants, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _seconds_from_retry_after(raw: str, now: float) -> float | None:
    """A ``Retry-After`` value (delta-seconds or an HTTP date) as seconds from ``now``."""
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - now)


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date), else ``None``."""
    raw = response.headers.get("retry-after")
    return _seconds_from_retry_after(raw, time.time()) if raw else None


_RESET_HEADERS = (
    "ratelimit-reset",
    "x-ratelimit-reset",
    "x-rate-limit-reset",
    "x-ratelimit-reset-after",
)


def retry_after_from_headers(
    headers: Mapping[str, str], *, now: float | None = None
) -> float | None:
    """Seconds to wait as a generic server asked, or ``None`` when it did not say:
    ``Retry-After``, else the usual reset headers (a small number is seconds from
    now, a large one an epoch timestamp: ``X-RateLimit-Reset: 1700000000``)."""
    lower = {k.lower(): v for k, v in headers.items()}
    wall = time.time() if now is None else now
    if "retry-after" in lower:
        seconds = _seconds_from_retry_after(lower["retry-after"], wall)
        if seconds is not None:
            return seconds
    for name in _RESET_HEADERS:
        value = lower.get(name)
        if value is None:
            continue
        try:
            number = float(value.split(",")[0].strip())
        except ValueError:
            continue
        if number > 1_000_000_000:  # an epoch timestamp
            return max(0.0, number - wall)
        return max(0.0, number)
    return None


def any_retry_after(response: httpx.Response) -> float | None:
    """For a destination of unknown make (the signed webhook): any standard wait header."""
    return retry_after_from_headers(response.headers)


def reset_epoch_seconds(header: str = "x-ratelimit-reset") -> RetryAfter:
    """A reader for a rate-limit reset header holding Unix epoch seconds (Braze, SendGrid).
    A small value is read as seconds to wait, which some gateways send instead."""

    def read(response: httpx.Response) -> float | None:
        raw = response.headers.get(header)
        if not raw:
            return None
        try:
            value = float(raw)
        except ValueError:
            return None
        if value > 1_000_000_000:
            return max(0.0, value - time.time())
        return max(0.0, value)

    return read


def no_retry_after(response: httpx.Response) -> float | None:
    """For ESPs whose 429 carries no signal (Mailchimp, Customer.io): the framework backs off."""
    return None


class JobTimeout(TransientError):
    """The job did not finish in time; nothing it held counts as confirmed."""


def poll_until(
    fetch: Callable[[], T],
    is_done: Callable[[T], bool],
    *,
    timeout: float = 600.0,
    interval: float = 1.0,
    backoff: float = 1.5,
    max_interval: float = 30.0,
    fetch_retries: int = 3,
    clock: Clock = time.monotonic,
    sleep: Sleep = time.sleep,
    what: str = "job",
) -> T:
    """Call ``fetch`` until ``is_done(result)``; return that last result (an
    asynchronous import or batch operation polled to its end).
    Waits ``interval`` seconds, growing by ``backoff`` up to ``max_interval``;
    a ``TransientError.retry_after`` from ``fetch`` sets the next wait, and a
    few transient errors in a row are tolerated (``fetch_retries``). A job still
    running at ``timeout`` raises ``JobTimeout`` (a ``TransientError``): its
    records are not confirmed, so the engine keeps them for the next run."""
    deadline = clock() + timeout
    wait = interval
    failures = 0
    while True:
        try:
            result = fetch()
            failures = 0
            if is_done(result):
                return result
            next_wait = wait
        except TransientError as exc:
            failures += 1
            if failures > fetch_retries:
                raise
            next_wait = exc.retry_after if exc.retry_after is not None else wait
        remaining = deadline - clock()
        if remaining <= 0:
            raise JobTimeout(f"{what} still not finished after {timeout:.0f}s")
        sleep(min(next_wait, remaining))
        wait = min(max_interval, wait * backoff)


def check_key(provider: str, api_key: str) -> None:
    """A key an HTTP header cannot carry (a newline, a carriage return, a non-ASCII
    character pasted with it) is refused before any request, without echoing it."""
    if not api_key:
        raise PermanentError(f"{provider}: no API key configured")
    if not all(32 <= ord(ch) < 127 for ch in api_key):
        raise PermanentError(
            f"{provider}: the API key holds a character an HTTP header cannot carry "
            "(a line break, a control or a non-ASCII character); set the variable "
            "to the key alone"
        )


class ApiClient:
    """One provider's HTTP client. ``request`` returns the answer for 2xx (and any
    status listed in ``passthrough``) and raises the framework's errors otherwise;
    ``poll_job`` waits for an asynchronous job (options ``poll_interval``, ``job_timeout``).

    A wait the server announced (``Retry-After``, a rate-limit reset on a 429) holds
    every request of this client until it has passed, whichever thread asked:
    job polls, list lookups and the other delivery threads wait too, not only
    the request that was answered 429."""

    def __init__(
        self,
        provider: str,
        settings: ProviderSettings,
        *,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        retry_after: RetryAfter = retry_after_seconds,
        max_connections: int = 10,
        report: DeliveryReport | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        check_key(provider, settings.api_key)
        self._clock, self._sleep = clock, sleep
        self._hold_lock = threading.Lock()
        self._not_before = 0.0  # on ``clock``: no request leaves before
        self.provider = provider
        self.report = report if report is not None else DeliveryReport()
        self._retry_after = retry_after
        self._secrets = secret_variants(settings.api_key)
        self.poll_interval = float(settings.options.get("poll_interval", 1.0))
        self.job_timeout = float(settings.options.get("job_timeout", 900.0))
        self.client = httpx.Client(
            base_url=settings.base_url.rstrip("/"),
            headers=dict(headers or {}),
            auth=auth,
            timeout=settings.timeout,
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
        )

    def close(self) -> None:
        self.client.close()

    def hold(self, seconds: float) -> None:
        """No request of this client leaves before ``seconds`` from now."""
        with self._hold_lock:
            self._not_before = max(self._not_before, self._clock() + max(0.0, seconds))

    def _wait_turn(self) -> None:
        while True:
            with self._hold_lock:
                wait = self._not_before - self._clock()
            if wait <= 0:
                return
            self._sleep(wait)

    def redact(self, text: str) -> str:
        return redact(text, self._secrets)

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        content_type: str = "application/json",
        passthrough: Iterable[int] = (),
    ) -> httpx.Response:
        """One request; ``body`` is JSON-encoded, ``content`` is sent as it is.
        Only a 2xx (or a status in ``passthrough``) comes back."""
        send_headers = dict(headers or {})
        if body is not None:
            content = encode_json(body)
        if content is not None:
            send_headers.setdefault("content-type", content_type)
        where = f"{method} {path}"
        self._wait_turn()
        try:
            response = self.client.request(
                method, path, content=content, params=params, headers=send_headers
            )
        except httpx.TimeoutException as exc:
            raise TransientError(
                self.redact(f"{self.provider} {where}: timed out ({type(exc).__name__})")
            ) from None
        except httpx.TransportError as exc:
            raise TransientError(
                self.redact(
                    f"{self.provider} {where}: connection failed ({type(exc).__name__}: {exc})"
                )
            ) from None
        self.report.requests += 1
        status = response.status_code
        if 200 <= status < 300 or status in set(passthrough):
            return response
        detail = self.error_text(response)
        message = f"{self.provider} {where} answered {status}: {detail}"
        if status in TRANSIENT_STATUS:
            # a rate-limit reset says nothing about an outage: only a Retry-After counts
            wait = self._retry_after(response) if status == 429 else retry_after_seconds(response)
            if wait is not None:
                self.hold(wait)
            raise TransientError(message, retry_after=wait, status=status)
        if 300 <= status < 400:
            message += " (a redirect is not a delivery: check the base URL)"
        raise PermanentError(message, status=status)

    def poll_job(self, path: str, is_done: Callable[[Any], bool], what: str) -> Any:
        """``GET path`` (its JSON) until ``is_done(answer)``; that last answer."""
        return poll_until(
            lambda: self.json(self.request("GET", path)),
            is_done,
            interval=self.poll_interval,
            timeout=self.job_timeout,
            what=what,
        )

    def error_text(self, response: httpx.Response) -> str:
        text = self.redact(response.text.strip().replace("\n", " ") or response.reason_phrase)
        return text[:_MAX_ERROR_TEXT] + "…" if len(text) > _MAX_ERROR_TEXT else text

    def json(self, response: httpx.Response) -> Any:
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            raise TransientError(
                self.redact(
                    f"{self.provider}: answer to {response.request.method} "
                    f"{response.request.url.path} "
                    f"is not JSON: {self.redact(response.text)[:120]!r}"
                ),
                status=response.status_code,
            ) from None
