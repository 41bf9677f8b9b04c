"""The contract between the sync engine and every destination.

A provider knows one API: how to authenticate, how to encode a batch, how to
read per-record outcomes from the answer, and how that API signals "slow
down" or "try again". The delivery framework (``activations.sync.delivery``) owns
everything that is the same for all of them: cutting batches to ``Limits``,
pacing, retries with backoff, concurrency and committing outcomes.

Rules every provider follows:
- ``upsert``/``remove``/``send_events`` return exactly one ``Outcome`` per
  input record, in any order, keyed by ``Record.key``. A record is
  ``confirmed`` only when the provider's answer says it was accepted (for an
  async import: when the job finished and did not list it as an error).
- A failure of the whole request that may pass on retry (429, 5xx, timeout,
  dropped connection) raises ``TransientError`` with the wait the provider
  asked for (``Retry-After``, a rate-limit reset header), or ``None``.
- A failure no retry can fix (401, 403, a 400 for the whole request) raises
  ``PermanentError``; the message must never contain the API key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

OutcomeStatus = Literal["confirmed", "rejected"]


@dataclass(frozen=True)
class Record:
    """One audience member as the destination should see it."""

    key: str  # the sync's identity key value (person key), stable across runs
    email: str | None  # normalised: trimmed, lower-cased
    fields: Mapping[str, Any]  # mapped attributes: destination field name -> value
    hash: str = ""  # hash of the mapped fields, set by the planner
    destination_id: str | None = None  # the provider's id for this record, when known from state
    # deterministic per sync, key and hash (32 hex chars): send it as the event's
    # idempotency key (Klaviyo unique_id, Customer.io id via ``as_ulid``) so a batch
    # resent after a crash is deduplicated by the destination
    idempotency_key: str = ""
    # E.164 (``+4915112345678``), normalised in staging; set for SMS providers
    # (``ProviderEntry.channel == "sms"``), where it is the address instead of ``email``
    phone: str | None = None


@dataclass(frozen=True)
class Outcome:
    key: str
    status: OutcomeStatus
    destination_id: str | None = None  # provider id to keep in state (e.g. Klaviyo profile id)
    reason: str | None = None  # the provider's own words for a rejection
    retryable: bool = True  # a rejected record may be retried on a later run


@dataclass(frozen=True)
class Limits:
    """What one request and one API key may carry, from the provider's contract."""

    max_records: int  # records per request
    max_bytes: int | None = None  # encoded payload bytes per request
    max_record_bytes: int | None = None  # encoded bytes per record
    requests_per_second: float | None = None  # steady client-side pace per API key
    burst: int = 1  # requests allowed at once above the steady pace
    concurrency: int = 1  # requests in flight at once per API key
    remove_max_records: int | None = None  # when removal has a different cap


@dataclass
class DeliveryReport:
    """What a provider call did beyond outcomes (job ids, request counts) for run metadata."""

    job_ids: list[str] = field(default_factory=list)
    requests: int = 0


class TransientError(Exception):
    """The whole request failed in a way a later retry may fix."""

    def __init__(self, message: str, retry_after: float | None = None, status: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


class PermanentError(Exception):
    """The whole request failed in a way no retry fixes (auth, malformed request)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


@runtime_checkable
class Provider(Protocol):
    name: str
    limits: Limits
    report: DeliveryReport

    def record_size(self, record: Record) -> int:
        """Encoded bytes this record adds to a request body (for byte-bounded batching)."""
        ...

    def upsert(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        """Create or update the records and make them members of ``destination``."""
        ...

    def remove(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        """Take the records out of ``destination`` (membership only, never consent)."""
        ...

    def send_events(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        """Send each record once as an event named ``destination`` (mode ``events``)."""
        ...


@dataclass(frozen=True)
class ProviderSettings:
    """How to reach one provider account. Built by the engine from a sync
    declaration and the environment; ``api_key`` is a secret and must never be
    logged, put in an error message or written to the warehouse."""

    base_url: str  # e.g. https://a.klaviyo.com, or the local ESP sandbox
    # webhook: the HMAC signing secret; customerio: "site_id:api_key"
    api_key: str = field(repr=False)
    # provider-specific settings (revision, data center, list ids, limits...)
    options: Mapping[str, Any] = field(default_factory=dict)
    timeout: float = 30.0


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def as_ulid(hex_key: str) -> str:
    """A 26-character ULID-shaped id derived from a 32-hex-digit key (e.g.
    ``Record.idempotency_key``): same key, same id, for APIs that dedupe on a ULID."""
    number = int(hex_key[:32].ljust(32, "0"), 16) & ((1 << 128) - 1)
    number &= ~(0b111 << 125)  # a ULID's first character is 0-7
    return "".join(_CROCKFORD[(number >> (5 * i)) & 31] for i in reversed(range(26)))
