"""Braze: ``POST /users/track`` for attributes, membership and events.

Mapping:
- the sync's person key is Braze's ``external_id``; the email goes in ``email``;
- mapped fields become custom attributes as they are (Braze stores nested
  objects and arrays of objects, so cart items travel as they are);
- audience membership is a custom array attribute (option
  ``membership_attribute``, default ``audiences``): joining is
  ``{"add": [audience]}``, leaving is ``{"remove": [audience]}`` with
  ``_update_existing_only`` (a removal never creates a profile). The
  destination is that audience name, never a subscription group;
- mode ``events``: one custom event per record, named after the destination.

Consent rule (Braze does not protect an unsubscribed user from an API write,
the last write wins, so the protection is ours): a sync never sends
``email_subscribe``, ``push_subscribe`` or ``subscription_groups``. Those keys
are dropped from every attribute object whatever the declaration maps, so a
stale warehouse value can never re-subscribe someone who unsubscribed in Braze.
Nor does the connector ever call ``/v2/subscription/status/set`` or
``/email/status``.

Limits: 75 objects per array per request (76 gets ``400 Max Input Length
Exceeded``); no byte limit is documented. A 429 carries ``X-RateLimit-Reset``
(epoch seconds) and no ``Retry-After``. Non-fatal errors come back in a 201 as
``errors[{type, input_array, index}]`` and become rejected outcomes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from activations.contract.records import (
    DeliveryReport,
    Limits,
    Outcome,
    ProviderSettings,
    Record,
)
from activations.providers.http import ApiClient, json_size, plain, reset_epoch_seconds

#: attributes a sync must never write (consent lives in Braze, not in a warehouse copy)
CONSENT_ATTRIBUTES = frozenset(
    {"email_subscribe", "push_subscribe", "subscription_groups", "sms_subscribe"}
)
MAX_OBJECTS = 75


class BrazeProvider:
    name = "braze"
    limits = Limits(max_records=MAX_OBJECTS, requests_per_second=900.0, burst=50, concurrency=4)

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self.report = DeliveryReport()
        self.membership_attribute: str = settings.options.get("membership_attribute", "audiences")
        self.http = ApiClient(
            "braze",
            settings,
            headers={"authorization": f"Bearer {settings.api_key}"},
            retry_after=reset_epoch_seconds("x-ratelimit-reset"),
            report=self.report,
        )

    # encoding --------------------------------------------------------------------------
    def attribute_object(
        self, record: Record, membership: dict[str, list[str]] | None
    ) -> dict[str, Any]:
        obj: dict[str, Any] = {"external_id": record.key}
        for name, value in record.fields.items():
            if name in CONSENT_ATTRIBUTES or name in ("external_id", self.membership_attribute):
                continue
            obj[name] = plain(value)
        if record.email:
            obj["email"] = record.email
        if membership is not None:
            obj[self.membership_attribute] = membership
        return obj

    def event_object(self, event_name: str, record: Record) -> dict[str, Any]:
        fields = dict(record.fields)
        time = (
            fields.pop("time", None)
            or fields.pop("occurred_at", None)
            or fields.pop("entered_at", None)
        )
        obj: dict[str, Any] = {
            "external_id": record.key,
            "name": event_name,
            "properties": plain(fields),
        }
        obj["time"] = plain(time) if time is not None else _now()
        return obj

    def record_size(self, record: Record) -> int:
        return json_size(self.attribute_object(record, {"add": ["x" * 32]})) + 1

    # calls -----------------------------------------------------------------------------
    def upsert(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        objects = [self.attribute_object(r, {"add": [destination]}) for r in batch]
        return self._track(batch, {"attributes": objects}, "attributes")

    def remove(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        # membership only, and never a new profile for someone Braze does not know
        objects = [
            {
                "external_id": r.key,
                "_update_existing_only": True,
                self.membership_attribute: {"remove": [destination]},
            }
            for r in batch
        ]
        return self._track(batch, {"attributes": objects}, "attributes")

    def send_events(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        objects = [self.event_object(destination, r) for r in batch]
        return self._track(batch, {"events": objects}, "events")

    def _track(self, batch: Sequence[Record], body: dict[str, Any], array: str) -> list[Outcome]:
        if not batch:
            return []
        response = self.http.request("POST", "/users/track", body=body)
        answer = self.http.json(response)
        rejected: dict[int, str] = {}
        for error in answer.get("errors") or []:
            if error.get("input_array", array) != array:
                continue
            index = error.get("index")
            if isinstance(index, int) and 0 <= index < len(batch):
                rejected[index] = str(
                    error.get("type") or error.get("message") or "rejected by Braze"
                )
        return [
            Outcome(r.key, "rejected", reason=rejected[i])
            if i in rejected
            else Outcome(r.key, "confirmed", r.key)
            for i, r in enumerate(batch)
        ]

    def close(self) -> None:
        self.http.close()


def _now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
