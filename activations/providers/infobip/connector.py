"""Infobip People API (profiles and tags) and People events (flows), for SMS.

Mapping:
- the sync's person key is the person's ``externalId`` (identifier type
  ``EXTERNAL_ID`` everywhere); the address is ``Record.phone`` (E.164), sent
  as Infobip writes numbers: the digits without the ``+``
  (``contactInformation.phone[].number``); an email, when the record has one,
  goes to ``contactInformation.email[].address``;
- mapped fields named like an Infobip standard attribute (``firstName``,
  ``lastName``, ``city``, ...) are standard attributes, every other field is a
  custom attribute (``customAttributes``; a nested value travels as JSON text,
  custom attributes are scalars);
- audience membership is a **tag**: the destination is the tag name. Joining
  is the person's ``tags: [destination]`` in the bulk upsert (tags in an update
  are appended, never replaced); leaving (mirror mode) is
  ``DELETE /people/2/tags/{tag}/persons`` (untag, the default) or, with option
  ``removal: delete``, ``DELETE /people/2/persons`` (the person is gone);
- mode ``events``: the destination is the event definition id (created in
  the Infobip portal beforehand). Infobip takes an event only for an existing
  person, so the batch first upserts the people (no tag), then sends one
  ``POST /peopleevents/2/persons/{key}/definitions/{id}/events`` per record
  with the mapped fields as ``properties``. A throttled or failed request
  after some events of the batch went through does not raise (a retry of the
  whole batch would send those again): the rest come back rejected, retryable.

A record without a phone (or with one that is not E.164) is rejected, with
the reason, before any request; a removal needs only the person key.

Consent rule: SMS consent is decided in the warehouse (the audience's channel
decision); a sync never writes consent to Infobip. Any field whose name speaks
of consent, subscription or opt-in/out is dropped whatever the declaration
maps, and the connector never calls the subscription-management API.

Limits (Infobip's API reference, "Add tag to people batch" and "Send Event",
infobip.com/docs/api/customer-engagement/people, read 2026-12, per account):
- 1,000 people per batch request (the documented cap of the tag batches; the
  bulk person upsert is held to the same), ``Limits.max_records`` and
  ``remove_max_records``; no byte limit is documented (``max_bytes`` None);
- 5 requests per second per account for the tag batch endpoints, 10 for
  person writes, 250 for events: ``requests_per_second=5`` (the tightest call
  a batch makes), 2 in flight; event requests are spaced 1/250 s apart;
- a 429 ``TOO_MANY_REQUESTS`` carries ``Retry-After`` (seconds; Infobip's
  integration best practices); errors are
  ``{"requestError": {"serviceException": {"messageId", "text"}}}``; 401/403
  are permanent.
- The bulk answer lists per-person problems as
  ``errors[{index, requestError}]`` (a 200 for the rest): those records are
  rejected with Infobip's text, the others confirmed.

Not verified (the reference pages for the bulk person endpoint were not
readable offline; check against the account's API reference before
production): that ``POST /people/2/persons/batch`` creates or updates by
``externalId`` with update semantics as "partial person update" (attributes
replaced key by key, tags and contacts appended), and the per-index shape of
its answer, which the sandbox models on Infobip's documented error object.
The 5, 10 and 250 requests/s come from the ``x-throttling-info`` of Infobip's
OpenAPI (tag batches, "create a new person", "Send Event").

The base URL is per account in reality (``https://<id>.api.infobip.com``,
shown in the portal); ``https://api.infobip.com`` is the registry default.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from activations.contract.records import (
    DeliveryReport,
    Limits,
    Outcome,
    PermanentError,
    ProviderSettings,
    Record,
    TransientError,
)
from activations.errors import UserError
from activations.providers.connector_helpers import (
    outcomes,
    reachable_by_sms,
    without_consent,
)
from activations.providers.http import ApiClient, flat_value, json_size, plain

MAX_PEOPLE = 1_000
EVENTS_PER_SECOND = 250.0
STANDARD_ATTRIBUTES = frozenset(
    {
        "firstName",
        "lastName",
        "middleName",
        "gender",
        "birthDate",
        "city",
        "country",
        "address",
        "preferredLanguage",
        "profilePicture",
    }
)
#: keys of the person object a mapped field may never set
RESERVED = frozenset({"externalId", "contactInformation", "customAttributes", "tags", "type"})


def _problem_text(error: Any) -> str:
    exception = ((error or {}).get("requestError") or {}).get("serviceException") or {}
    parts = [exception.get("messageId"), exception.get("text")]
    return ": ".join(str(p) for p in parts if p) or "rejected by Infobip"


class InfobipProvider:
    name = "infobip"
    limits = Limits(
        max_records=MAX_PEOPLE,
        requests_per_second=5.0,
        burst=5,
        concurrency=2,
        remove_max_records=MAX_PEOPLE,
    )

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self.report = DeliveryReport()
        self.removal: str = settings.options.get("removal", "untag")
        if self.removal not in ("untag", "delete"):
            raise UserError(f"infobip option removal={self.removal!r}", hint="use untag or delete")
        self.http = ApiClient(
            "infobip",
            settings,
            headers={"authorization": f"App {settings.api_key}", "accept": "application/json"},
            report=self.report,
        )

    # encoding --------------------------------------------------------------------------
    def person(self, record: Record, tag: str | None) -> dict[str, Any]:
        fields = without_consent(record.fields, RESERVED)
        body: dict[str, Any] = {"externalId": record.key}
        body.update({n: plain(v) for n, v in fields.items() if n in STANDARD_ATTRIBUTES})
        custom = {n: flat_value(v) for n, v in fields.items() if n not in STANDARD_ATTRIBUTES}
        if custom:
            body["customAttributes"] = custom
        contact: dict[str, Any] = {"phone": [{"number": (record.phone or "").lstrip("+")}]}
        if record.email:
            contact["email"] = [{"address": record.email}]
        body["contactInformation"] = contact
        if tag is not None:
            body["tags"] = [tag]
        return body

    def record_size(self, record: Record) -> int:
        return json_size(self.person(record, "x" * 32)) + 1

    @staticmethod
    def _query(record: Record) -> dict[str, Any]:
        return {"query": {"type": "EXTERNAL_ID", "identifier": record.key}}

    # calls -----------------------------------------------------------------------------
    def _upsert_people(self, batch: Sequence[Record], tag: str | None) -> dict[str, str]:
        """Create or update ``batch`` (all reachable); key -> Infobip's reason per failure."""
        body = {"people": [self.person(r, tag) for r in batch]}
        answer = self.http.json(self.http.request("POST", "/people/2/persons/batch", body=body))
        return _indexed_errors(answer, batch)

    def upsert(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        if not batch:
            return []
        _check_destination(destination, "tag")
        ready, rejected = reachable_by_sms(batch)
        if ready:
            rejected.update(self._upsert_people(ready, destination))
        return outcomes(batch, rejected, lambda r: r.key)

    def remove(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        if not batch:
            return []
        _check_destination(destination, "tag")
        rejected: dict[str, str] = {}
        if self.removal == "delete":
            for record in batch:
                # 404: the person is gone already, which is what a removal wants
                self.http.request(
                    "DELETE",
                    "/people/2/persons",
                    params={"type": "EXTERNAL_ID", "identifier": record.key},
                    passthrough=(404,),
                )
            return outcomes(batch, rejected, lambda r: r.key)
        tag = quote(destination, safe="")
        body = {"people": [self._query(r) for r in batch]}
        answer = self.http.json(
            self.http.request(
                "DELETE", f"/people/2/tags/{tag}/persons", body=body, passthrough=(404,)
            )
        )
        # NOT_FOUND: not a person (any more), so not tagged, as a removal wants
        problems = _indexed_errors(answer, batch)
        rejected = {k: v for k, v in problems.items() if not v.startswith("NOT_FOUND")}
        return outcomes(batch, rejected, lambda r: r.key)

    def send_events(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        if not batch:
            return []
        _check_destination(destination, "event definition id")
        ready, rejected = reachable_by_sms(batch)
        if ready:
            rejected.update(self._upsert_people(ready, None))
        definition = quote(destination, safe="")
        sent = 0
        for index, record in enumerate(ready):
            if record.key in rejected:
                continue
            path = (
                f"/peopleevents/2/persons/{quote(record.key, safe='')}"
                f"/definitions/{definition}/events"
            )
            body = {"properties": plain(without_consent(record.fields))}
            try:
                response = self.http.request(
                    "POST",
                    path,
                    body=body,
                    params={"identifierType": "EXTERNAL_ID"},
                    passthrough=(400, 404),
                )
            except (TransientError, PermanentError) as exc:
                if sent == 0 or (isinstance(exc, PermanentError) and exc.status in (401, 403)):
                    raise  # nothing went through: the whole batch may be retried as it is
                for rest in ready[index:]:
                    rejected.setdefault(rest.key, f"not sent, Infobip stopped the batch: {exc}")
                break
            self.http.hold(1.0 / EVENTS_PER_SECOND)
            if response.status_code >= 400:
                rejected[record.key] = _problem_text(self.http.json(response))
            else:
                sent += 1
        return outcomes(batch, rejected, lambda r: r.key)

    def close(self) -> None:
        self.http.close()


def _indexed_errors(answer: Any, batch: Sequence[Record]) -> dict[str, str]:
    """A batch answer's ``errors[{index, requestError}]``: record key -> Infobip's words."""
    found: dict[str, str] = {}
    for error in (answer.get("errors") if isinstance(answer, dict) else None) or []:
        index = error.get("index")
        if isinstance(index, int) and 0 <= index < len(batch):
            found[batch[index].key] = _problem_text(error)
    return found


def _check_destination(destination: str, what: str) -> None:
    if not destination.strip() or len(destination) > 256:
        raise UserError(
            f"infobip destination {destination!r} is no {what}",
            hint=f"set it to the {what} (1 to 256 characters)",
        )
