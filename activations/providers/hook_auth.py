"""Checking that a reporting webhook comes from the ESP it names: the pieces the
providers' own schemes share (each scheme is in ``providers/<name>/hooks.py``,
function ``verify``, named in the provider registry).

A verifier gets the ``Delivery`` as it arrived (raw body, headers, query), the
secret configured for that provider and the receiver's clock, and either raises
``Unverified`` (the receiver answers 401) or returns a replay key: for schemes
that sign a timestamp, the signature, which the receiver remembers while the
timestamp is inside the tolerance window and refuses to take twice; ``None``
for schemes without one (a bearer token, a secret in the URL), whose replays
only ever land nothing new (landing is idempotent).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field

#: how far a signed timestamp may be from the receiver's clock, either way (seconds)
TOLERANCE_SECONDS = 300


class Unverified(Exception):
    """The delivery does not prove it comes from the ESP (answered 401)."""


@dataclass(frozen=True)
class Delivery:
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)  # case-insensitive, or lower-case
    query: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str:
        return self.headers.get(name) or self.headers.get(name.lower()) or ""


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison of two secrets, whatever characters they hold."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def hmac_sha256_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signed_time(text: str, now: float, *, name: str) -> float:
    """The signed timestamp header ``name`` (epoch seconds, or ISO 8601) as epoch
    seconds; ``Unverified`` when missing, unreadable or outside the tolerance window
    (an old delivery replayed, or a clock far off)."""
    text = text.strip()
    if not text:
        raise Unverified(f"no {name} header")
    try:
        if text.replace(".", "", 1).isdigit():
            moment = float(text)
            if moment > 1e12:  # milliseconds
                moment /= 1000.0
        else:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=dt.UTC)
            moment = parsed.timestamp()
    except (ValueError, OverflowError):
        raise Unverified(f"{name} header is not a time") from None
    if abs(moment - now) > TOLERANCE_SECONDS:
        raise Unverified(
            f"{name} is {int(now - moment)} s from now (more than {TOLERANCE_SECONDS} s): "
            "a replayed or stale delivery"
        )
    return moment


def bearer(delivery: Delivery) -> str:
    value = delivery.header("Authorization").strip()
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""
