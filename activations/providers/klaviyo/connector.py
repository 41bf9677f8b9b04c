"""Klaviyo (JSON:API, revisioned): profile bulk import jobs, list membership, events.

Mapping:
- the sync's person key is Klaviyo's ``external_id``; the email is ``email``;
- fields named like Klaviyo's standard profile attributes (``first_name``,
  ``last_name``, ``phone_number``, ``organization``, ``locale``, ``title``,
  ``image``, ``location``) go to ``attributes``; every other mapped field goes
  to ``attributes.properties`` as it is (nested cart items included);
- the destination is a list, named by id or by name (created by name with
  ``POST /api/lists`` when no list has that id or name).

Consent rule: a sync changes membership, never consent.
- ``upsert`` is one ``POST /api/profile-bulk-import-jobs`` with
  ``relationships.lists`` naming the list: the import adds list members and
  never grants or clears marketing consent;
- ``remove`` is ``DELETE /api/lists/{id}/relationships/profiles`` (membership
  only), with profile ids from state or ``GET /api/profiles?filter=equals(email,...)``;
- the subscribe job (``/api/profile-subscription-bulk-create-jobs``) is never
  called from a sync: it clears UNSUBSCRIBE / SPAM_REPORT suppressions, i.e. it
  would re-subscribe someone who opted out. Nor is the unsubscribe job (which
  unsubscribes globally when the profile is not in the list).

Events: ``POST /api/event-bulk-create-jobs`` (at most 1,000 events a job) with
``unique_id`` = a deterministic id of (event name, record key, record hash),
so a retried batch is deduplicated by Klaviyo.

Async jobs are polled with ``ApiClient.poll_job``; records listed in the
job's ``import-errors`` become rejected outcomes with Klaviyo's own detail, the
others are confirmed when the job is ``complete``. A 429 carries
``Retry-After`` (seconds).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from activations.contract.records import (
    DeliveryReport,
    Limits,
    Outcome,
    ProviderSettings,
    Record,
    TransientError,
)
from activations.providers.connector_helpers import chunks, id_or_name, known_ids, unremovable
from activations.providers.http import (
    ApiClient,
    encode_json,
    json_size,
    plain,
    retry_after_seconds,
)

REVISION = "2026-07-15"
JSONAPI = "application/vnd.api+json"
STANDARD_ATTRIBUTES = frozenset(
    {
        "email",
        "phone_number",
        "external_id",
        "first_name",
        "last_name",
        "organization",
        "locale",
        "title",
        "image",
        "location",
    }
)
MAX_IMPORT = 10_000
MAX_LIST_CHANGE = 1_000
MAX_EVENTS_JOB = 1_000
MAX_BODY = 5 * 1024 * 1024
MAX_PROFILE = 100 * 1024


def import_body(profiles: list[dict[str, Any]], list_id: str) -> dict[str, Any]:
    return {
        "data": {
            "type": "profile-bulk-import-job",
            "attributes": {"profiles": {"data": profiles}},
            "relationships": {"lists": {"data": [{"type": "list", "id": list_id}]}},
        }
    }


IMPORT_ENVELOPE = len(encode_json(import_body([], "XXXXXX")))
_POINTER = re.compile(r"/profiles/data/(\d+)")


class KlaviyoProvider:
    name = "klaviyo"
    # bulk import: 10/s burst, 150/min steady; 5 MB (5 * 1024 * 1024 bytes) a request and
    # 100 KB a profile, on the compact JSON sent. record_size() is a profile plus its comma,
    # so a batch of exactly max_bytes is a body of exactly 5 MB with its envelope (for
    # Klaviyo's 6-character list ids).
    limits = Limits(
        max_records=MAX_IMPORT,
        max_bytes=MAX_BODY - IMPORT_ENVELOPE + 1,
        max_record_bytes=MAX_PROFILE + 1,
        requests_per_second=2.5,
        burst=10,
        concurrency=2,
        remove_max_records=MAX_LIST_CHANGE,
    )

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self.report = DeliveryReport()
        self.http = ApiClient(
            "klaviyo",
            settings,
            headers={
                "authorization": f"Klaviyo-API-Key {settings.api_key}",
                "revision": str(settings.options.get("revision", REVISION)),
                "accept": JSONAPI,
            },
            retry_after=retry_after_seconds,
            report=self.report,
        )
        self._list_ids: dict[str, str] = {}
        self._lists_lock = threading.Lock()

    # encoding --------------------------------------------------------------------------
    def profile(self, record: Record) -> dict[str, Any]:
        attributes: dict[str, Any] = {"external_id": record.key}
        properties: dict[str, Any] = {}
        for name, value in record.fields.items():
            if name in STANDARD_ATTRIBUTES:
                attributes[name] = plain(value)
            elif name not in ("subscriptions",):
                properties[name] = plain(value)
        if record.email:
            attributes["email"] = record.email
        if properties:
            attributes["properties"] = properties
        return {"type": "profile", "attributes": attributes}

    def record_size(self, record: Record) -> int:
        return json_size(self.profile(record)) + 1

    def _request(self, method: str, path: str, **kwargs: Any):
        return self.http.request(method, path, content_type=JSONAPI, **kwargs)

    # lists -----------------------------------------------------------------------------
    def _pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        url: str | None = path
        while url:
            answer = self.http.json(self._request("GET", url, params=params))
            yield from answer.get("data") or []
            url = (answer.get("links") or {}).get("next")
            params = None

    def list_id(self, destination: str) -> str:
        """The id of the list named ``destination`` (by id or by name), created when missing."""
        with self._lists_lock:
            if destination not in self._list_ids:
                self._list_ids[destination] = self._find_or_create_list(destination)
            return self._list_ids[destination]

    def _find_or_create_list(self, destination: str) -> str:
        found = id_or_name(
            self._pages("/api/lists"),
            destination,
            lambda item: (item.get("attributes") or {}).get("name"),
        )
        if found is None:
            body = {"data": {"type": "list", "attributes": {"name": destination}}}
            found = self.http.json(self._request("POST", "/api/lists", body=body))["data"]["id"]
        return str(found)

    # calls -----------------------------------------------------------------------------
    def upsert(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        if not batch:
            return []
        list_id = self.list_id(destination)
        body = import_body([self.profile(r) for r in batch], list_id)
        job = self.http.json(self._request("POST", "/api/profile-bulk-import-jobs", body=body))[
            "data"
        ]
        job_id = job["id"]
        self.report.job_ids.append(job_id)
        final = self.http.poll_job(
            f"/api/profile-bulk-import-jobs/{job_id}",
            lambda a: (
                (a["data"].get("attributes") or {}).get("status") in ("complete", "cancelled")
            ),
            what=f"klaviyo import job {job_id}",
        )["data"]
        attributes = final.get("attributes") or {}
        if attributes.get("status") == "cancelled":
            raise TransientError(f"klaviyo import job {job_id} was cancelled")
        rejected: dict[int, str] = {}
        if attributes.get("failed_count", 1):
            rejected = self._import_errors(job_id, batch)
        return [
            Outcome(r.key, "rejected", reason=rejected[i])
            if i in rejected
            else Outcome(r.key, "confirmed")
            for i, r in enumerate(batch)
        ]

    def _import_errors(self, job_id: str, batch: Sequence[Record]) -> dict[int, str]:
        by_email = {r.email: i for i, r in enumerate(batch) if r.email}
        by_key = {r.key: i for i, r in enumerate(batch)}
        rejected: dict[int, str] = {}
        path = f"/api/profile-bulk-import-jobs/{job_id}/import-errors"
        for item in self._pages(path, {"page[size]": 100}):
            attrs = item.get("attributes") or {}
            reason = (
                ": ".join(str(p) for p in (attrs.get("title"), attrs.get("detail")) if p)
                or "import error"
            )
            payload = attrs.get("original_payload") or {}
            payload = payload.get("attributes", payload) if isinstance(payload, dict) else {}
            index = by_key.get(payload.get("external_id")) if payload.get("external_id") else None
            if index is None and payload.get("email"):
                index = by_email.get(str(payload["email"]).strip().lower())
            if index is None:
                match = _POINTER.search(str((attrs.get("source") or {}).get("pointer") or ""))
                if match and int(match.group(1)) < len(batch):
                    index = int(match.group(1))
            if index is not None:
                rejected[index] = reason
        return rejected

    def profile_ids(self, batch: Sequence[Record]) -> dict[str, str]:
        """Record key -> Klaviyo profile id: from state, else looked up by email
        (``GET /api/profiles?filter=any(email,[...])``, 100 emails a call)."""
        ids, pending = known_ids(batch)
        for chunk in chunks(pending, 100):
            emails = ",".join('"' + (r.email or "").replace('"', '\\"') + '"' for r in chunk)
            by_email = {r.email: r.key for r in chunk}
            params = {"filter": f"any(email,[{emails}])", "page[size]": 100}
            for item in self._pages("/api/profiles", params):
                email = str((item.get("attributes") or {}).get("email") or "").lower()
                if email in by_email and item.get("id"):
                    ids[by_email[email]] = str(item["id"])
        return ids

    def remove(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        if not batch:
            return []
        list_id = self.list_id(destination)
        ids = self.profile_ids(batch)
        data = [{"type": "profile", "id": pid} for pid in dict.fromkeys(ids.values())]
        if data:
            self._request(
                "DELETE", f"/api/lists/{list_id}/relationships/profiles", body={"data": data}
            )
        # a record with no Klaviyo profile is not a member: its removal is done; one
        # with neither a profile id nor an email could not be looked up: not done
        missing = unremovable(batch, ids)
        return [
            Outcome(r.key, "rejected", reason=missing[r.key])
            if r.key in missing
            else Outcome(r.key, "confirmed", destination_id=ids.get(r.key))
            for r in batch
        ]

    def event_id(self, destination: str, record: Record) -> str:
        """The event's ``unique_id``: the record's idempotency key from the planner,
        else a hash of (event name, key, field hash); the same record, the same id."""
        if record.idempotency_key:
            return record.idempotency_key
        seed = f"{destination}\x1f{record.key}\x1f{record.hash}"
        return hashlib.sha256(seed.encode()).hexdigest()[:32]

    def event(self, destination: str, record: Record) -> dict[str, Any]:
        fields = dict(record.fields)
        time = (
            fields.pop("time", None)
            or fields.pop("occurred_at", None)
            or fields.pop("entered_at", None)
        )
        value = fields.pop("value", None)
        attributes: dict[str, Any] = {
            "properties": plain(fields),
            "unique_id": self.event_id(destination, record),
            "metric": {"data": {"type": "metric", "attributes": {"name": destination}}},
        }
        if time is not None:
            attributes["time"] = plain(time)
        if value is not None:
            attributes["value"] = plain(value)
        return {"type": "event", "attributes": attributes}

    def send_events(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        for chunk in chunks(batch, MAX_EVENTS_JOB):
            entries = []
            for r in chunk:
                profile: dict[str, Any] = {"external_id": r.key}
                if r.email:
                    profile["email"] = r.email
                entries.append(
                    {
                        "type": "event-bulk-create",
                        "attributes": {
                            "profile": {"data": {"type": "profile", "attributes": profile}},
                            "events": {"data": [self.event(destination, r)]},
                        },
                    }
                )
            body = {
                "data": {
                    "type": "event-bulk-create-job",
                    "attributes": {"events-bulk-create": {"data": entries}},
                }
            }
            answer = self.http.json(self._request("POST", "/api/event-bulk-create-jobs", body=body))
            job_id = (answer.get("data") or {}).get("id")
            if job_id:
                self.report.job_ids.append(job_id)
        return [Outcome(r.key, "confirmed") for r in batch]

    def close(self) -> None:
        self.http.close()
