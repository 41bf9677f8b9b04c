"""Customer.io Track API: v2 batch identify and events, v1 manual segments.

Mapping:
- each v2 entry carries exactly one identifier: ``id`` = the sync's person
  key (option ``identifier: email`` uses the email instead, for workspaces
  identified by email); the email also travels as the ``email`` attribute;
- mapped fields become person attributes as they are (nested cart items
  included: v2 attributes are JSON);
- audience membership is a manual segment: the destination is the segment id
  and membership is ``POST /api/v1/segments/{id}/add_customers`` /
  ``remove_customers`` with ``{"ids": [...]}``;
- mode ``events``: one ``event`` entry per record, named after the destination,
  with a deterministic ULID-shaped ``id`` (time of the event + a hash of the
  record), which Customer.io uses to drop duplicates on a retried batch.

Consent rule: Customer.io sets ``unsubscribed`` itself when the person clicks
unsubscribe, so a warehouse copy is stale by nature. A sync never sends
``unsubscribed`` nor any ``cio_subscription_preferences`` value: those keys
are dropped from every identify, whatever the declaration maps. Removal only
takes the person out of the segment.

Limits: at most 500 KB per batch (``Limits.max_bytes``, the request envelope
included) and 32 KB per entry (``Limits.max_record_bytes``, its comma included),
measured on the compact JSON actually sent. A ``207`` lists
per-entry errors by ``batch_index``: those records are rejected with the
reason, the others are confirmed. A 429 carries no header (the framework
backs off).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from activations.contract.records import (
    DeliveryReport,
    Limits,
    Outcome,
    ProviderSettings,
    Record,
    as_ulid,
)
from activations.errors import UserError
from activations.providers.connector_helpers import chunks, outcomes
from activations.providers.http import ApiClient, json_size, no_retry_after, plain

MAX_BATCH_BYTES = 500 * 1024
MAX_ENTRY_BYTES = 32 * 1024
ENVELOPE = len(b'{"batch":[]}')
MAX_SEGMENT_IDS = 1_000
CONSENT_ATTRIBUTES = ("unsubscribed", "cio_subscription_preferences")
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid_like(when: dt.datetime | None, seed: str) -> str:
    """A 26-character ULID whose time part is ``when`` and whose random part is a
    hash of ``seed``: the same record always gets the same event id."""
    millis = int(when.replace(tzinfo=when.tzinfo or dt.UTC).timestamp() * 1000) if when else 0
    value = (millis & ((1 << 48) - 1)) << 80 | int.from_bytes(
        hashlib.sha256(seed.encode()).digest()[:10], "big"
    )
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def _as_datetime(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def _is_consent(name: str) -> bool:
    return any(name == c or name.startswith(c + ".") for c in CONSENT_ATTRIBUTES)


class CustomerIoProvider:
    name = "customerio"
    # record_size() is an entry's bytes plus its separating comma, and a body is
    # {"batch":[...]}: entries of at most 32 KB and a body of at most 500 KB
    # (500 * 1024 bytes, as the ESP counts them) are exactly these limits.
    limits = Limits(
        max_records=MAX_SEGMENT_IDS,
        max_bytes=MAX_BATCH_BYTES - ENVELOPE + 1,
        max_record_bytes=MAX_ENTRY_BYTES + 1,
        requests_per_second=90.0,
        burst=10,
        concurrency=4,
        remove_max_records=MAX_SEGMENT_IDS,
    )

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self.report = DeliveryReport()
        site_id = settings.options.get("site_id")
        api_key = settings.api_key
        if not site_id:
            site_id, sep, api_key = settings.api_key.partition(":")
            if not sep:
                raise UserError(
                    "customerio credentials must be `site_id:api_key`",
                    hint="use <site id>:<track api key> as the key, or the option site_id",
                )
        self.identifier: str = settings.options.get("identifier", "id")
        if self.identifier not in ("id", "email"):
            raise UserError(
                f"customerio option identifier={self.identifier!r}", hint="use id or email"
            )
        self.http = ApiClient(
            "customerio",
            settings,
            auth=(str(site_id), api_key),
            retry_after=no_retry_after,
            report=self.report,
        )

    # encoding --------------------------------------------------------------------------
    def identifiers(self, record: Record) -> dict[str, str]:
        if self.identifier == "email":
            return {"email": record.email or ""}
        return {"id": record.key}

    def person_id(self, record: Record) -> str:
        return (record.email or "") if self.identifier == "email" else record.key

    def identify_entry(self, record: Record) -> dict[str, Any]:
        attributes = {n: plain(v) for n, v in record.fields.items() if not _is_consent(n)}
        if record.email:
            attributes["email"] = record.email
        return {
            "type": "person",
            "identifiers": self.identifiers(record),
            "action": "identify",
            "attributes": attributes,
        }

    def event_entry(self, destination: str, record: Record) -> dict[str, Any]:
        fields = dict(record.fields)
        when = _as_datetime(
            fields.pop("timestamp", None)
            or fields.pop("occurred_at", None)
            or fields.pop("time", None)
            or fields.pop("entered_at", None)
        )
        entry: dict[str, Any] = {
            "type": "person",
            "identifiers": self.identifiers(record),
            "action": "event",
            "id": as_ulid(record.idempotency_key)
            if record.idempotency_key
            else ulid_like(when, f"{destination}\x1f{record.key}\x1f{record.hash}"),
            "name": destination,
            "attributes": plain(fields),
        }
        if when is not None:
            entry["timestamp"] = int(when.replace(tzinfo=when.tzinfo or dt.UTC).timestamp())
        return entry

    def record_size(self, record: Record) -> int:
        return json_size(self.identify_entry(record)) + 1

    # calls -----------------------------------------------------------------------------
    def _batch(self, batch: Sequence[Record], entries: list[dict[str, Any]]) -> dict[str, str]:
        body = {"batch": entries}
        answer = self.http.json(self.http.request("POST", "/api/v2/batch", body=body))
        rejected: dict[str, str] = {}
        for error in answer.get("errors") or []:
            index = error.get("batch_index")
            if isinstance(index, int) and 0 <= index < len(batch):
                parts = [error.get("reason"), error.get("field"), error.get("message")]
                rejected[batch[index].key] = (
                    ": ".join(str(p) for p in parts if p) or "rejected by Customer.io"
                )
        return rejected

    def upsert(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        if not batch:
            return []
        rejected: dict[str, str] = {}
        if self.identifier == "email":
            rejected.update({r.key: "no email address" for r in batch if not r.email})
        ready = [r for r in batch if r.key not in rejected]
        if ready:
            rejected.update(self._batch(ready, [self.identify_entry(r) for r in ready]))
            accepted = [r for r in ready if r.key not in rejected]
            self._segment(destination, accepted, "add_customers")
        return outcomes(batch, rejected, self.person_id)

    def remove(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        if not batch:
            return []
        self._segment(destination, batch, "remove_customers")
        return outcomes(batch, {}, self.person_id)

    def _segment(self, destination: str, records: Sequence[Record], action: str) -> None:
        if not destination.strip() or destination.strip(".") == "":
            raise UserError(
                f"customerio destination {destination!r} is no segment id",
                hint="set it to the manual segment id",
            )
        segment = quote(destination, safe="")  # one path segment: '../' reaches nothing else
        for chunk in chunks(records, MAX_SEGMENT_IDS):
            ids = [self.person_id(r) for r in chunk]
            if ids:
                body: dict[str, Any] = {"ids": ids}
                params = {"id_type": "email"} if self.identifier == "email" else None
                self.http.request(
                    "POST", f"/api/v1/segments/{segment}/{action}", body=body, params=params
                )

    def send_events(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        if not batch:
            return []
        rejected = self._batch(batch, [self.event_entry(destination, r) for r in batch])
        return outcomes(batch, rejected, self.person_id)

    def close(self) -> None:
        self.http.close()
