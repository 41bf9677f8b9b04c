"""SendGrid Marketing Campaigns: contact upserts with list ids (async job),
removal from a list, custom field mapping.

Mapping:
- the sync's person key is SendGrid's ``external_id``; the email is ``email``
  (both identifiers are always sent, so an update names every identifier the
  contact has);
- fields named like SendGrid's reserved fields (``first_name``, ``last_name``,
  ``address_line_1``, ``city``, ``country``, ``postal_code``, ...) go at the
  top level; every other field goes to ``custom_fields`` keyed by the
  **field id**, looked up with ``GET /v3/marketing/field_definitions`` and
  created (``Text``/``Number``/``Date``) when missing. Custom fields hold
  scalars, so nested values (cart items) travel as JSON text;
- the destination is a marketing list, by id or by name (created by name).

Upsert: ``PUT /v3/marketing/contacts`` answers ``202 {job_id}``; the job is
polled at ``GET /v3/marketing/contacts/imports/{id}`` until ``completed``,
``errored`` or ``failed``. ``completed`` confirms every record; ``failed``
("all rows errored, or the job could not be processed") rejects the rows its
error file lists, each with its reason; when the file lists none, the job could
not be processed: a ``TransientError``, so the whole request is retried (a
failure of the job is never charged to its records as rejections); ``errored``
(row errors only in a file) is settled by looking the batch up with
``POST /v3/marketing/contacts/search/identifiers/email``: a contact that is
there is confirmed (with its contact id), one that is not is rejected and
retried next run.

Removal: contact ids come from state (the upsert outcome's ``destination_id``)
or from the identifier search; then ``DELETE /v3/marketing/lists/{id}/contacts``
(membership only).

Consent rule: unsubscribes, bounces and spam reports live in SendGrid's
suppression lists, independent of contacts. A sync never calls any suppression
endpoint (no ``/v3/asm`` or ``/v3/suppression`` write, no DELETE of a
suppression): re-upserting a contact or adding it to a list leaves its
suppression in place, so an unsubscribed person is never re-subscribed. The
pull-back only reads those lists.

SendGrid Marketing has no custom-event API: ``send_events`` refuses.
A 429 carries ``X-RateLimit-Reset`` (epoch seconds).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import threading
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from activations.contract.records import (
    DeliveryReport,
    Limits,
    Outcome,
    PermanentError,
    ProviderSettings,
    Record,
    TransientError,
)
from activations.providers.connector_helpers import chunks, id_or_name, known_ids, unremovable
from activations.providers.http import (
    ApiClient,
    encode_json,
    flat_value,
    json_size,
    plain,
    reset_epoch_seconds,
)

MAX_CONTACTS = 30_000
MAX_IDENTIFIERS = 100
MAX_BODY = 6 * 1024 * 1024


def upsert_body(contacts: list[dict[str, Any]], list_id: str) -> dict[str, Any]:
    return {"list_ids": [list_id], "contacts": contacts}


UPSERT_ENVELOPE = len(encode_json(upsert_body([], "6c6f9a55-64b6-4b8f-9f4c-5a1d1c6f0c0e")))
RESERVED_FIELDS = frozenset(
    {
        "first_name",
        "last_name",
        "address_line_1",
        "address_line_2",
        "city",
        "state_province_region",
        "postal_code",
        "country",
        "alternate_emails",
        "phone_number_id",
        "anonymous_id",
        "unique_name",
        "whatsapp",
        "line",
        "facebook",
    }
)
_NOT_NAME = re.compile(r"[^A-Za-z0-9_]")


def field_name(name: str) -> str:
    """A SendGrid custom field name: alphanumeric or ``_``, not starting with a digit."""
    clean = _NOT_NAME.sub("_", name)
    return f"f_{clean}" if not clean or clean[0].isdigit() else clean


def _field_type(value: Any) -> str:
    if isinstance(value, bool):
        return "Text"
    if isinstance(value, (int, float, Decimal)):
        return "Number"
    if isinstance(value, (dt.date, dt.datetime)):
        return "Date"
    return "Text"


class SendGridProvider:
    name = "sendgrid"
    # 30,000 contacts or 6 MB (6 * 1024 * 1024 bytes) a request, on the compact JSON sent;
    # record_size() is a contact plus its comma, so a batch of exactly max_bytes is a
    # body of exactly 6 MB with its envelope (one list id, a UUID)
    limits = Limits(
        max_records=MAX_CONTACTS,
        max_bytes=MAX_BODY - UPSERT_ENVELOPE + 1,
        requests_per_second=3.0,
        burst=3,
        concurrency=2,
        remove_max_records=MAX_IDENTIFIERS,
    )

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self.report = DeliveryReport()
        self.http = ApiClient(
            "sendgrid",
            settings,
            headers={"authorization": f"Bearer {settings.api_key}"},
            retry_after=reset_epoch_seconds("x-ratelimit-reset"),
            report=self.report,
        )
        self._lock = threading.Lock()
        self._lists: dict[str, str] = {}
        self._fields: dict[str, str] | None = None  # custom field name -> id

    # lists and fields ------------------------------------------------------------------
    def list_id(self, destination: str) -> str:
        with self._lock:
            if destination not in self._lists:
                self._lists[destination] = self._find_or_create_list(destination)
            return self._lists[destination]

    def _lists_pages(self) -> Iterator[dict[str, Any]]:
        params: dict[str, Any] | None = {"page_size": 1000}
        path: str | None = "/v3/marketing/lists"
        while path:
            page = self.http.json(self.http.request("GET", path, params=params))
            yield from page.get("result") or []
            path = (page.get("_metadata") or {}).get("next")
            params = None

    def _find_or_create_list(self, destination: str) -> str:
        found = id_or_name(self._lists_pages(), destination, lambda item: item.get("name"))
        if found:
            return found
        created = self.http.json(
            self.http.request("POST", "/v3/marketing/lists", body={"name": destination})
        )
        return str(created["id"])

    def field_ids(self, batch: Sequence[Record]) -> dict[str, str]:
        wanted: dict[str, Any] = {}
        for record in batch:
            for name, value in record.fields.items():
                if (
                    name not in RESERVED_FIELDS
                    and name not in ("email", "external_id")
                    and value is not None
                ):
                    wanted.setdefault(field_name(name), value)
        with self._lock:
            if self._fields is None:
                answer = self.http.json(self.http.request("GET", "/v3/marketing/field_definitions"))
                self._fields = {
                    str(f["name"]): str(f["id"]) for f in answer.get("custom_fields") or []
                }
            for name, value in wanted.items():
                if name not in self._fields:
                    body = {"name": name, "field_type": _field_type(value)}
                    created = self.http.json(
                        self.http.request("POST", "/v3/marketing/field_definitions", body=body)
                    )
                    self._fields[name] = str(created["id"])
            return dict(self._fields)

    # encoding --------------------------------------------------------------------------
    def contact(self, record: Record, fields: dict[str, str] | None = None) -> dict[str, Any]:
        contact: dict[str, Any] = {"external_id": record.key}
        if record.email:
            contact["email"] = record.email
        custom: dict[str, Any] = {}
        for name, value in record.fields.items():
            if name in ("email", "external_id"):
                continue
            if name in RESERVED_FIELDS:
                contact[name] = plain(value)
            elif value is not None:
                key = field_name(name)
                custom[(fields or {}).get(key, key)] = flat_value(value)
        if custom:
            contact["custom_fields"] = custom
        return contact

    def record_size(self, record: Record) -> int:
        """Bytes of the contact as sent, plus its comma. Custom fields are counted by
        id once the ids are known, by name before (names are longer: a safe estimate)."""
        return json_size(self.contact(record, self._fields)) + 1

    # calls -----------------------------------------------------------------------------
    def upsert(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        if not batch:
            return []
        list_id = self.list_id(destination)
        fields = self.field_ids(batch)
        body = upsert_body([self.contact(r, fields) for r in batch], list_id)
        job_id = str(
            self.http.json(self.http.request("PUT", "/v3/marketing/contacts", body=body))["job_id"]
        )
        self.report.job_ids.append(job_id)
        job = self.http.poll_job(
            f"/v3/marketing/contacts/imports/{job_id}",
            lambda j: j.get("status") in ("completed", "errored", "failed"),
            what=f"sendgrid import job {job_id}",
        )
        status = job.get("status")
        if status == "completed":
            return [Outcome(r.key, "confirmed") for r in batch]
        results = job.get("results") or {}
        errors = self._job_errors(results.get("errors_url"))
        if status == "failed":
            if errors:  # all rows errored: each with its own reason
                reason = f"sendgrid import job {job_id} failed"
                return [
                    Outcome(r.key, "rejected", reason=reason)
                    if o.status == "confirmed"  # a row the file does not name
                    else o
                    for r, o in zip(batch, self._match_errors(batch, errors), strict=True)
                ]
            raise TransientError(
                f"sendgrid import job {job_id} failed and listed no row errors "
                f"({results.get('errored_count', '?')} of {len(batch)} counted): "
                "the job could not be processed"
            )
        if errors is not None:
            return self._match_errors(batch, errors)
        found = self.contact_ids(batch)
        reason = (
            f"not in SendGrid after import job {job_id} "
            f"({results.get('errored_count', '?')} rows errored)"
        )
        return [
            Outcome(r.key, "confirmed", destination_id=found[r.key])
            if r.key in found
            else Outcome(r.key, "rejected", reason=reason)
            for r in batch
        ]

    def _job_errors(self, url: str | None) -> dict[str, str] | None:
        """The job's row errors (CSV ``email,external_id,error``) keyed by external id
        or email, or ``None`` when the file is not available."""
        if not url:
            return None
        try:
            response = self.http.request("GET", url)
        except TransientError:
            return None
        errors: dict[str, str] = {}
        for row in csv.DictReader(io.StringIO(response.text)):
            reason = (row.get("error") or "").strip() or "row errored in the import job"
            for ident in (row.get("external_id"), row.get("email")):
                if ident:
                    errors[ident.strip()] = reason
        return errors

    def _match_errors(self, batch: Sequence[Record], errors: dict[str, str]) -> list[Outcome]:
        outcomes = []
        for r in batch:
            reason = errors.get(r.key) or (errors.get(r.email) if r.email else None)
            if reason is None and r.email:
                reason = errors.get(r.email.lower())
            outcomes.append(
                Outcome(r.key, "rejected", reason=reason) if reason else Outcome(r.key, "confirmed")
            )
        return outcomes

    def contact_ids(self, batch: Sequence[Record]) -> dict[str, str]:
        """Record key -> SendGrid contact id, by state or by email search (100 a call)."""
        ids, pending = known_ids(batch)
        for chunk in chunks(pending, MAX_IDENTIFIERS):
            response = self.http.request(
                "POST",
                "/v3/marketing/contacts/search/identifiers/email",
                body={"identifiers": [r.email for r in chunk]},
                passthrough=(404,),
            )
            if response.status_code == 404:  # none of them exists
                continue
            result = self.http.json(response).get("result") or {}
            lowered = {str(k).lower(): v for k, v in result.items()}
            for r in chunk:
                contact = (lowered.get(r.email or "") or {}).get("contact") or {}
                if contact.get("id"):
                    ids[r.key] = str(contact["id"])
        return ids

    def remove(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        if not batch:
            return []
        list_id = self.list_id(destination)
        ids = self.contact_ids(batch)
        for part in chunks(batch, MAX_IDENTIFIERS):
            chunk = [ids[r.key] for r in part if r.key in ids]
            if chunk:
                answer = self.http.json(
                    self.http.request(
                        "DELETE",
                        f"/v3/marketing/lists/{list_id}/contacts",
                        params={"contact_ids": ",".join(chunk)},
                    )
                )
                if answer.get("job_id"):
                    self.report.job_ids.append(str(answer["job_id"]))
        # a record with no SendGrid contact is not a member: its removal is done; one
        # with neither a contact id nor an email could not be looked up: not done
        missing = unremovable(batch, ids)
        return [
            Outcome(r.key, "rejected", reason=missing[r.key])
            if r.key in missing
            else Outcome(r.key, "confirmed", destination_id=ids.get(r.key))
            for r in batch
        ]

    def send_events(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        raise PermanentError(
            "sendgrid: Marketing Campaigns has no custom-event API; "
            "declare this sync with mode upsert or mirror"
        )

    def close(self) -> None:
        self.http.close()
