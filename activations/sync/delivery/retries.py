"""Retry policy for whole requests: timeouts, dropped connections, 429 and 5xx
are retried with exponential backoff and jitter (tenacity); a wait the server
asked for (``TransientError.retry_after``) is honoured instead, and pauses the
API key's bucket so parallel requests wait too. ``PermanentError`` is never
retried.

Connector authors: raise ``TransientError``/``PermanentError`` from your
request code; ``activations.providers.http.ApiClient`` is the one place that
maps HTTP answers, timeouts and dropped connections to them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from activations.contract.records import TransientError
from activations.sync.delivery.pacing import Sleep, TokenBucket

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # tries per request, the first included
    initial: float = 0.5  # first backoff in seconds
    max_wait: float = 30.0  # cap of one backoff
    jitter: float = 0.5  # random seconds added to each backoff
    max_retry_after: float = 300.0  # a server asking for longer than this ends the run


DEFAULT_POLICY = RetryPolicy()


class RetriesExhausted(TransientError):
    """A request kept failing transiently; the message says how and how often."""


def call_with_retries(
    fn: Callable[[], T],
    *,
    policy: RetryPolicy = DEFAULT_POLICY,
    limiter: TokenBucket | None = None,
    sleep: Sleep = time.sleep,
    on_retry: Callable[[int, TransientError, float], None] | None = None,
) -> T:
    """Call ``fn`` (one whole request) until it succeeds, raises a
    ``PermanentError``, or ``policy.attempts`` transient failures pass (then
    ``RetriesExhausted``). Each try first takes a token from ``limiter``."""
    backoff = wait_exponential_jitter(
        multiplier=policy.initial, max=policy.max_wait, jitter=policy.jitter
    )

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TransientError) and exc.retry_after is not None:
            if exc.retry_after > policy.max_retry_after:
                raise RetriesExhausted(
                    f"the server asked to wait {exc.retry_after:.0f}s, more than "
                    f"{policy.max_retry_after:.0f}s: {exc}",
                    retry_after=exc.retry_after,
                    status=exc.status,
                )
            seconds = exc.retry_after
            if limiter is not None:
                limiter.pause(seconds)
        else:
            seconds = backoff(state)
        if on_retry is not None and isinstance(exc, TransientError):
            on_retry(state.attempt_number, exc, seconds)
        return seconds

    def attempt() -> T:
        if limiter is not None:
            limiter.acquire()
        return fn()

    retrying = Retrying(
        retry=retry_if_exception_type(TransientError),
        stop=stop_after_attempt(policy.attempts),
        wait=wait,
        sleep=sleep,
        reraise=True,
    )
    try:
        return retrying(attempt)
    except RetriesExhausted:
        raise
    except TransientError as exc:
        raise RetriesExhausted(
            f"gave up after {policy.attempts} attempts: {exc}",
            retry_after=exc.retry_after,
            status=exc.status,
        ) from exc
