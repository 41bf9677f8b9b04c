"""What every ESP connector shares: one ``httpx.Client`` per provider, JSON
encoding of warehouse values, and the mapping of HTTP answers to the
framework's ``TransientError`` / ``PermanentError``.

The API key is a secret: every message built here passes through ``redact``,
which removes the key (and its parts, and its Basic-auth encoding) from the
text, so a provider that echoes the key back in an error body cannot leak it
into logs or the warehouse.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import json
import math
import time
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

import httpx

from activations.contract.records import (
    DeliveryReport,
    PermanentError,
    ProviderSettings,
    TransientError,
)
from activations.sync.delivery.jobs import poll_until

RetryAfter = Callable[[httpx.Response], float | None]

_MAX_ERROR_TEXT = 300


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
    return sorted(variants, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date), else ``None``."""
    raw = response.headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


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


class ApiClient:
    """One provider's HTTP client. ``request`` returns the answer for 2xx (and any
    status listed in ``passthrough``) and raises the framework's errors otherwise;
    ``poll_job`` waits for an asynchronous job (options ``poll_interval``, ``job_timeout``)."""

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
    ) -> None:
        if not settings.api_key:
            raise PermanentError(f"{provider}: no API key configured")
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
        content_type: str = "application/json",
        passthrough: Iterable[int] = (),
    ) -> httpx.Response:
        content = None
        send_headers = dict(headers or {})
        if body is not None:
            content = encode_json(body)
            send_headers.setdefault("content-type", content_type)
        where = f"{method} {path}"
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
        if status < 400 or status in set(passthrough):
            return response
        detail = self.error_text(response)
        message = f"{self.provider} {where} answered {status}: {detail}"
        if status == 429:
            raise TransientError(message, retry_after=self._retry_after(response), status=status)
        if status >= 500 or status == 408:
            # a rate-limit reset says nothing about an outage: only a Retry-After counts
            raise TransientError(message, retry_after=retry_after_seconds(response), status=status)
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
        text = response.text.strip().replace("\n", " ")
        if len(text) > _MAX_ERROR_TEXT:
            text = text[:_MAX_ERROR_TEXT] + "…"
        return self.redact(text or response.reason_phrase)

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
                    f"is not JSON: {response.text[:120]!r}"
                ),
                status=response.status_code,
            ) from None
