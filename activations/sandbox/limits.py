"""Per-key rate limits and each provider's way of saying "slow down".

Fixed windows per provider and API key (the key is only kept as a hash), an
optional cap on requests in flight (Mailchimp's 10 connections), and the
headers each provider sends: Braze and SendGrid ``X-RateLimit-*`` on every
response (Reset = epoch seconds); Klaviyo ``RateLimit-*`` on non-429
responses (Reset = seconds) and ``Retry-After`` on a 429; Infobip
``Retry-After`` on a 429; Twilio (Segment) ``X-RateLimit-Reset`` in seconds on
a 429; Mailchimp and Customer.io no headers at all.
"""

from __future__ import annotations

import hashlib
import math
import threading
from dataclasses import dataclass

from activations.sandbox.settings import ProviderLimits


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int | None = None  # of the tightest window
    remaining: int | None = None
    reset_in: float | None = None  # seconds until that window resets
    reset_at: float | None = None  # epoch seconds of that reset


def key_fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


class RateLimiter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str, int], tuple[float, int]] = {}
        self._in_flight: dict[tuple[str, str], int] = {}

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()
            self._in_flight.clear()

    def check(self, provider: str, key: str, limits: ProviderLimits, now: float) -> Decision:
        """Count one request against every window; refuse if any window is full."""
        with self._lock:
            tightest: Decision | None = None
            states = []
            for index, window in enumerate(limits.windows):
                aligned = math.floor(now / window.seconds) * window.seconds
                start, count = self._windows.get((provider, key, index), (aligned, 0))
                if now - start >= window.seconds:
                    start, count = aligned, 0
                states.append((index, window, start, count))
            blocked = [s for s in states if s[3] >= s[1].limit]
            if blocked:
                _, window, start, count = max(blocked, key=lambda s: s[2] + s[1].seconds)
                reset_at = start + window.seconds
                return Decision(False, window.limit, 0, max(0.0, reset_at - now), reset_at)
            for index, window, start, count in states:
                self._windows[(provider, key, index)] = (start, count + 1)
                reset_at = start + window.seconds
                decision = Decision(True, window.limit, window.limit - count - 1,
                                    max(0.0, reset_at - now), reset_at)
                if tightest is None or (decision.remaining or 0) < (tightest.remaining or 0):
                    tightest = decision
            return tightest or Decision(True)

    def enter(self, provider: str, key: str, limits: ProviderLimits) -> bool:
        """Take one in-flight slot; False when the concurrency cap is reached."""
        if limits.concurrency is None:
            return True
        with self._lock:
            current = self._in_flight.get((provider, key), 0)
            if current >= limits.concurrency:
                return False
            self._in_flight[(provider, key)] = current + 1
            return True

    def leave(self, provider: str, key: str, limits: ProviderLimits) -> None:
        if limits.concurrency is None:
            return
        with self._lock:
            self._in_flight[(provider, key)] = max(0, self._in_flight.get((provider, key), 1) - 1)


def rate_headers(provider: str, decision: Decision) -> dict[str, str]:
    """Headers for an answered (non-429) request, as the provider sends them."""
    if decision.limit is None or decision.reset_at is None or decision.reset_in is None:
        return {}
    if provider in ("braze", "sendgrid"):
        return {"X-RateLimit-Limit": str(decision.limit),
                "X-RateLimit-Remaining": str(max(0, decision.remaining or 0)),
                "X-RateLimit-Reset": str(math.ceil(decision.reset_at))}
    if provider == "klaviyo":
        return {"RateLimit-Limit": str(decision.limit),
                "RateLimit-Remaining": str(max(0, decision.remaining or 0)),
                "RateLimit-Reset": str(math.ceil(decision.reset_in))}
    return {}


def throttled_headers(provider: str, decision: Decision) -> dict[str, str]:
    """Headers on the provider's 429."""
    if provider in ("braze", "sendgrid"):
        return rate_headers(provider, Decision(True, decision.limit, 0, decision.reset_in,
                                               decision.reset_at))
    if provider in ("klaviyo", "infobip"):
        return {"Retry-After": str(max(1, math.ceil(decision.reset_in or 1)))}
    if provider == "twilio":  # Segment: seconds to wait, on the 429 only
        return {"X-RateLimit-Reset": str(max(1, math.ceil(decision.reset_in or 1)))}
    return {}


class PacingWatch:
    """What each provider announced on its 429s (``Retry-After`` seconds, or a
    ``X-RateLimit-Reset`` epoch) per API key, and every later request of that key
    that came before the announced time: a client that did not wait as told.

    A request already on its way when the 429 went out is not the client's fault:
    only requests arriving more than ``grace`` seconds after the announcement count.
    """

    def __init__(self, grace: float = 0.1) -> None:
        self.grace = grace
        self._lock = threading.Lock()
        self._waits: dict[tuple[str, str], tuple[float, float]] = {}  # (announced at, until)
        self._announced: dict[str, int] = {}
        self._early: dict[str, list[dict[str, float | str]]] = {}

    def reset(self) -> None:
        with self._lock:
            self._waits.clear()
            self._announced.clear()
            self._early.clear()

    def arrived(self, provider: str, key: str, at: float, path: str = "") -> None:
        """A request of ``key`` arrived at ``at`` (before its body was read)."""
        with self._lock:
            wait = self._waits.get((provider, key))
            if wait is None:
                return
            announced, until = wait
            if announced + self.grace < at < until:
                self._early.setdefault(provider, []).append(
                    {"at": at, "announced_at": announced, "not_before": until, "path": path})

    def announced(self, provider: str, key: str, at: float,
                  headers: dict[str, str]) -> float | None:
        """A 429 went out at ``at`` with ``headers``: note the time it told the client to
        wait until (``None`` when it said nothing: Mailchimp, Customer.io)."""
        lower = {k.lower(): v for k, v in headers.items()}
        until: float | None = None
        try:
            if "retry-after" in lower:
                until = at + float(lower["retry-after"])
            elif "x-ratelimit-reset" in lower:
                value = float(lower["x-ratelimit-reset"])
                until = value if value > 1_000_000_000 else at + value
        except ValueError:
            return None
        if until is None:
            return None
        with self._lock:
            self._announced[provider] = self._announced.get(provider, 0) + 1
            previous = self._waits.get((provider, key))
            if previous is None or until >= previous[1]:
                self._waits[(provider, key)] = (at, until)
        return until

    def report(self) -> dict[str, dict[str, object]]:
        with self._lock:
            names = sorted(set(self._announced) | set(self._early))
            return {name: {"announced": self._announced.get(name, 0),
                           "early": len(self._early.get(name, [])),
                           "early_requests": list(self._early.get(name, []))}
                    for name in names}
