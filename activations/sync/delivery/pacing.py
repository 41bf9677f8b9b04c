"""Client-side pacing: one token bucket per provider API key, shared by every
thread and every sync in the process.

A connector that reads a server's wait (``activations.providers.http``) passes it
as ``TransientError(retry_after=...)``; the framework then pauses every request
on that key for that long.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class TokenBucket:
    """``rate`` requests per second on average, at most ``burst`` at once.

    ``acquire`` blocks until a token is free; ``pause(seconds)`` makes every
    caller wait at least that long (an API said "retry after").
    Thread-safe; clock and sleep are injectable for tests.
    """

    def __init__(
        self,
        rate: float | None,
        burst: int = 1,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ):
        self.rate = rate
        self.burst = max(1, burst)
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(self.burst)
        self._updated = clock()
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def _wait_time(self) -> float:
        now = self._clock()
        if self.rate is None:
            return 0.0
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        # reserve the token now (the balance may go negative): the caller sleeps
        # off the debt, and later callers queue behind it in order
        self._tokens -= 1
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def acquire(self) -> float:
        """Take one token, sleeping as needed; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                paused = self._paused_until - self._clock()
                wait = paused if paused > 0 else self._wait_time()
            if wait <= 0:
                return waited
            self._sleep(wait)
            waited += wait
            if paused <= 0:  # the token is reserved; the debt is slept off
                return waited

    def pause(self, seconds: float) -> None:
        """Hold every caller for ``seconds`` from now (Retry-After)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))
            self._tokens = 0.0
            self._updated = self._clock()


_buckets: dict[tuple[str, str], TokenBucket] = {}
_buckets_lock = threading.Lock()


def key_fingerprint(api_key: str) -> str:
    """A stable, non-reversible id for an API key (never the key itself)."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


def limiter_for(provider: str, api_key: str, rate: float | None, burst: int = 1) -> TokenBucket:
    """The process-wide bucket of one provider API key (created on first use)."""
    ident = (provider, key_fingerprint(api_key))
    with _buckets_lock:
        bucket = _buckets.get(ident)
        if bucket is None:
            bucket = _buckets[ident] = TokenBucket(rate, burst)
        return bucket
