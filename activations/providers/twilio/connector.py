"""Twilio Engage through Segment's HTTP Tracking API (``POST /v1/batch``), for SMS.

Why Segment's identify/track and not Twilio's Messaging API: an audience sync
keeps profiles and their traits in step with the warehouse and starts
journeys; it never sends a message itself. The Messaging API
(``/2010-04-01/Accounts/{sid}/Messages.json``) sends one SMS per call, so a
sync through it would text people on every run, resend on every retry and
bypass the journeys, quiet hours and frequency caps Twilio Engage applies.
Identify (profile traits, audience membership) and track (the event a journey
is triggered by) are what Engage reads, and Engage sends the SMS.

Mapping:
- the sync's person key is the ``userId``; the address is the ``phone`` trait
  (``Record.phone``, E.164, as Engage's SMS channel wants it); an email, when
  the record has one, is the ``email`` trait;
- mapped fields are traits as they are (Segment stores nested JSON);
- audience membership is a boolean trait named after the destination, the
  way Segment's own audiences reach a destination: joining is an identify
  with ``{destination: true}``, leaving (mirror mode) an identify with
  ``{destination: false}`` (needs only the person key);
- mode ``events``: one ``track`` per record, ``event`` = the destination,
  ``properties`` = the mapped fields, the phone in ``context.traits``. Its
  ``messageId`` is derived from ``Record.idempotency_key``: Segment
  deduplicates on ``messageId``, so a batch resent after a crash starts no
  journey twice. An identify gets a fresh ``messageId`` (setting the same
  traits again changes nothing, and a person who leaves and comes back with
  the same data must not be deduplicated away).

A record without a phone, or with one that is not E.164, is rejected with
the reason before any request: Segment answers 200 for a message it then
drops, so nothing would tell us later.

Consent rule: SMS consent is decided in the warehouse; a sync never writes it.
Any trait or property whose name speaks of consent, subscription or
opt-in/out is dropped whatever the declaration maps, and the connector never
sends ``context.messaging_subscriptions`` (Engage's subscription states).

Limits (Segment's HTTP Tracking API docs, segment.com/docs/connections/
sources/catalog/libraries/server/http-api, "Max request size" and "Errors"):
- at most 500 KB per batch request and 32 KB per message; above either,
  the whole request is a ``400 Bad Request``. Measured on the compact JSON
  sent (``{"batch":[...]}``, a message with its comma): ``Limits.max_bytes``
  and ``max_record_bytes``; a message over 32 KB is rejected here, never sent;
- no record count is documented: ``max_records=1000`` is ours (a batch of
  1,000 typical identifies stays far below 500 KB);
- "no hard rate limit"; Segment asks to be told above 500 requests per second:
  ``requests_per_second=500``, 4 in flight;
- a 429 carries ``X-RateLimit-Reset`` in seconds (the header Segment's own
  client, analytics-next, waits on); 401/403 (a wrong write key) are
  permanent. There are no per-message errors in an answer: a 200 confirms
  the batch.

Auth: HTTP Basic with the source's write key as the user name and no password.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from activations.contract.records import (
    DeliveryReport,
    Limits,
    Outcome,
    ProviderSettings,
    Record,
)
from activations.errors import UserError
from activations.providers.connector_helpers import outcomes, unreachable_by_sms, without_consent
from activations.providers.http import ApiClient, json_size, plain, reset_epoch_seconds

MAX_BATCH_BYTES = 500 * 1024
MAX_MESSAGE_BYTES = 32 * 1024
ENVELOPE = len(b'{"batch":[]}')
#: trait names the connector sets itself; a mapped field never overrides them
RESERVED_TRAITS = frozenset({"phone", "email", "userId"})


class TwilioProvider:
    name = "twilio"
    # record_size() is a message's bytes plus its comma and a body is {"batch":[...]}:
    # messages of at most 32 KB and a body of at most 500 KB are exactly these limits
    limits = Limits(
        max_records=1_000,
        max_bytes=MAX_BATCH_BYTES - ENVELOPE + 1,
        max_record_bytes=MAX_MESSAGE_BYTES + 1,
        requests_per_second=500.0,
        burst=20,
        concurrency=4,
    )

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self.report = DeliveryReport()
        self.http = ApiClient(
            "twilio",
            settings,
            auth=(settings.api_key, ""),
            retry_after=reset_epoch_seconds("x-ratelimit-reset"),
            report=self.report,
        )

    # encoding --------------------------------------------------------------------------
    def identify(self, record: Record, membership: dict[str, bool]) -> dict[str, Any]:
        traits = {
            n: plain(v)
            for n, v in without_consent(record.fields, RESERVED_TRAITS).items()
            if n not in membership
        }
        if record.phone:
            traits["phone"] = record.phone
        if record.email:
            traits["email"] = record.email
        traits.update(membership)
        return {
            "type": "identify",
            "userId": record.key,
            "messageId": str(uuid.uuid4()),
            "traits": traits,
        }

    def track(self, event: str, record: Record) -> dict[str, Any]:
        seed = (
            record.idempotency_key
            or hashlib.sha256(f"{event}\x1f{record.key}\x1f{record.hash}".encode()).hexdigest()[:32]
        )
        return {
            "type": "track",
            "userId": record.key,
            "event": event,
            "messageId": f"act-{seed}",
            "properties": plain(without_consent(record.fields)),
            "context": {"traits": {"phone": record.phone}},
        }

    def record_size(self, record: Record) -> int:
        return json_size(self.identify(record, {"x" * 32: True})) + 1

    # calls -----------------------------------------------------------------------------
    def _batch(
        self,
        batch: Sequence[Record],
        encode: Callable[[Record], dict[str, Any]],
        rejected: dict[str, str],
    ) -> list[Outcome]:
        """One message per record of ``batch`` not ``rejected`` already, sent in one
        request but for those over 32 KB (rejected too: Segment would refuse the batch)."""
        rejected = dict(rejected)
        fitting = []
        for record in batch:
            if record.key in rejected:
                continue
            message = encode(record)
            if json_size(message) > MAX_MESSAGE_BYTES:
                rejected[record.key] = "a message is at most 32 KB (Segment refuses the batch)"
            else:
                fitting.append(message)
        if fitting:
            self.http.request("POST", "/v1/batch", body={"batch": fitting})
        return outcomes(batch, rejected, lambda r: r.key)

    def upsert(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        _check_destination(destination)
        join = {destination: True}
        return self._batch(batch, lambda r: self.identify(r, join), unreachable_by_sms(batch))

    def remove(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        _check_destination(destination)  # leaving needs only the person key
        return self._batch(batch, lambda r: _leave(r, destination), {})

    def send_events(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        _check_destination(destination)
        return self._batch(batch, lambda r: self.track(destination, r), unreachable_by_sms(batch))

    def close(self) -> None:
        self.http.close()


def _leave(record: Record, audience: str) -> dict[str, Any]:
    return {
        "type": "identify",
        "userId": record.key,
        "messageId": str(uuid.uuid4()),
        "traits": {audience: False},
    }


def _check_destination(destination: str) -> None:
    if not destination.strip() or destination in RESERVED_TRAITS:
        raise UserError(
            f"twilio destination {destination!r} cannot be an audience trait or event name",
            hint="name the audience (a trait) or the event, not phone/email/userId",
        )
