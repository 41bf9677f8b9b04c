"""Mailchimp Marketing API v3: batch subscribe/update on one list (Mailchimp
calls it an audience), membership as a tag, merge fields for attributes.

Mapping:
- the Mailchimp list is option ``list`` (an id or a name; a name is looked up,
  and created with option ``list_defaults`` when missing); the destination is
  the tag that marks audience membership. A destination ``<list>/<tag>``
  names both; a bare destination with no ``list`` option is a list of its own
  whose tag of the same name marks the current members;
- a member is addressed by email; mapped fields become merge fields
  (``first_name`` -> ``FNAME``, ``last_name`` -> ``LNAME``, ``phone`` ->
  ``PHONE``, any other name -> its upper-cased tag of at most 10 characters),
  created as ``text``/``number``/``date`` merge fields when missing. Merge
  fields hold scalars, so nested values (cart items) travel as JSON text;
- a tag is a static segment: membership is ``POST /lists/{id}/segments/{tag}``
  with ``members_to_add`` / ``members_to_remove`` (500 per call).

Consent rule: the batch ``POST /lists/{id}`` is sent with
``update_existing: true`` and ``status_if_new`` only (option
``status_if_new``, default ``subscribed``; ``pending`` for double opt-in),
never ``status``. So a member who unsubscribed or was cleaned in Mailchimp
keeps that status: the sync updates their merge fields and tag, and never
re-subscribes them. Removal only takes the tag away; it never unsubscribes or
archives.

Limits: 500 members per batch call; 10 connections per API key (so
``Limits.concurrency`` = 10); a 429 has no rate-limit headers (the framework
backs off). A 200 can still carry ``errors[]``: those members are rejected
with Mailchimp's ``error`` text.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import threading
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from activations.contract.records import (
    DeliveryReport,
    Limits,
    Outcome,
    ProviderSettings,
    Record,
)
from activations.errors import UserError
from activations.providers.connector_helpers import id_or_name, outcomes, unremovable
from activations.providers.http import ApiClient, flat_value, json_size, no_retry_after, plain

MAX_MEMBERS = 500
STANDARD_TAGS = {
    "first_name": "FNAME",
    "last_name": "LNAME",
    "phone": "PHONE",
    "address": "ADDRESS",
    "birthday": "BIRTHDAY",
}
_NOT_TAG = re.compile(r"[^A-Z0-9_]")


def subscriber_hash(email: str) -> str:
    return hashlib.md5(email.strip().lower().encode()).hexdigest()  # noqa: S324 - Mailchimp's own id scheme


def api_root(base_url: str, api_key: str) -> str:
    """The ``.../3.0`` root: added when the base URL stops at the host, and the
    data center taken from the key's ``-us6`` suffix for Mailchimp's own hosts."""
    root = base_url.rstrip("/")
    parts = urlsplit(root)
    host = parts.netloc
    if host.endswith(".api.mailchimp.com") and "-" in api_key:
        host = f"{api_key.rsplit('-', 1)[-1]}.api.mailchimp.com"
    path = parts.path if parts.path.endswith("/3.0") else parts.path + "/3.0"
    return urlunsplit((parts.scheme, host, path, "", ""))


def merge_tag(name: str) -> str:
    if name in STANDARD_TAGS:
        return STANDARD_TAGS[name]
    tag = _NOT_TAG.sub("", name.upper())[:10]
    return tag or "FIELD"


def _merge_type(value: Any) -> str:
    import datetime as dt
    from decimal import Decimal

    if isinstance(value, bool):
        return "text"
    if isinstance(value, (int, float, Decimal)):
        return "number"
    if isinstance(value, (dt.date, dt.datetime)):
        return "date"
    return "text"


class MailchimpProvider:
    name = "mailchimp"
    limits = Limits(max_records=MAX_MEMBERS, concurrency=10, remove_max_records=MAX_MEMBERS)

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self.report = DeliveryReport()
        self.status_if_new: str = settings.options.get("status_if_new", "subscribed")
        if self.status_if_new not in ("subscribed", "pending", "transactional", "unsubscribed"):
            raise UserError(
                f"mailchimp option status_if_new={self.status_if_new!r} is not a Mailchimp status",
                hint="use subscribed, pending (double opt-in) or transactional",
            )
        settings = dataclasses.replace(
            settings, base_url=api_root(settings.base_url, settings.api_key)
        )
        self.http = ApiClient(
            "mailchimp",
            settings,
            auth=("activations", settings.api_key),
            retry_after=no_retry_after,
            max_connections=10,
            report=self.report,
        )
        self._lock = threading.Lock()
        self._lists: dict[str, str] = {}
        self._segments: dict[tuple[str, str], int] = {}
        self._merge_fields: dict[str, set[str]] = {}

    # names -----------------------------------------------------------------------------
    def split_destination(self, destination: str) -> tuple[str, str]:
        """(list, tag): option ``list`` names the list and the destination the tag;
        ``<list>/<tag>`` names both; a bare destination is a list of its own, with
        the tag of the same name marking who is in the audience now."""
        list_ref = self.settings.options.get("list") or self.settings.options.get("list_id")
        if list_ref:
            return str(list_ref), destination
        if "/" in destination:
            list_ref, tag = destination.split("/", 1)
            return list_ref, tag
        if not destination.strip():
            raise UserError(
                "mailchimp destination is empty",
                hint="name the tag (with the option `list`), or <list>/<tag>, or a list",
            )
        return destination, destination

    def _pages(
        self, path: str, key: str, params: dict[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            page = self.http.json(
                self.http.request(
                    "GET", path, params={**(params or {}), "count": 1000, "offset": offset}
                )
            )
            items = page.get(key) or []
            yield from items
            offset += len(items)
            if not items or offset >= int(page.get("total_items", 0)):
                return

    def list_id(self, list_ref: str) -> str:
        with self._lock:
            if list_ref not in self._lists:
                found = id_or_name(
                    self._pages("/lists", "lists"), list_ref, lambda item: item.get("name")
                )
                if found is None:
                    found = self._create_list(list_ref)
                self._lists[list_ref] = str(found)
            return self._lists[list_ref]

    def _create_list(self, name: str) -> str:
        defaults = dict(self.settings.options.get("list_defaults") or {})
        body = {
            "name": name,
            "contact": defaults.get("contact")
            or {
                "company": "Shop",
                "address1": "1 Main St",
                "city": "Town",
                "state": "",
                "zip": "00000",
                "country": "US",
            },
            "permission_reminder": defaults.get(
                "permission_reminder", "You signed up on our shop."
            ),
            "campaign_defaults": defaults.get("campaign_defaults")
            or {
                "from_name": "Shop",
                "from_email": "news@example.com",
                "subject": "",
                "language": "en",
            },
            "email_type_option": False,
        }
        return self.http.json(self.http.request("POST", "/lists", body=body))["id"]

    def segment_id(self, list_id: str, tag: str) -> int:
        with self._lock:
            if (list_id, tag) not in self._segments:
                found = None
                for item in self._pages(
                    f"/lists/{list_id}/segments", "segments", {"type": "static"}
                ):
                    if item.get("name") == tag:
                        found = item["id"]
                        break
                if found is None:
                    body = {"name": tag, "static_segment": []}
                    found = self.http.json(
                        self.http.request("POST", f"/lists/{list_id}/segments", body=body)
                    )["id"]
                self._segments[(list_id, tag)] = int(found)
            return self._segments[(list_id, tag)]

    def ensure_merge_fields(self, list_id: str, batch: Sequence[Record]) -> None:
        wanted: dict[str, tuple[str, Any]] = {}
        for record in batch:
            for name, value in record.fields.items():
                if value is not None:
                    wanted.setdefault(merge_tag(name), (name, value))
        with self._lock:
            if list_id not in self._merge_fields:
                self._merge_fields[list_id] = {
                    str(f.get("tag"))
                    for f in self._pages(f"/lists/{list_id}/merge-fields", "merge_fields")
                }
            known = self._merge_fields[list_id]
            for tag, (name, value) in wanted.items():
                if tag in known:
                    continue
                body = {
                    "tag": tag,
                    "name": name[:100],
                    "type": _merge_type(value),
                    "required": False,
                }
                self.http.request("POST", f"/lists/{list_id}/merge-fields", body=body)
                known.add(tag)

    # encoding --------------------------------------------------------------------------
    def member(self, record: Record) -> dict[str, Any]:
        merge = {merge_tag(n): flat_value(v) for n, v in record.fields.items() if v is not None}
        body: dict[str, Any] = {
            "email_address": record.email or "",
            "status_if_new": self.status_if_new,
        }
        if merge:
            body["merge_fields"] = merge
        return body

    def record_size(self, record: Record) -> int:
        return json_size(self.member(record)) + 1

    # calls -----------------------------------------------------------------------------
    def upsert(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        if not batch:
            return []
        list_ref, tag = self.split_destination(destination)
        list_id = self.list_id(list_ref)
        rejected = {r.key: "no email address" for r in batch if not r.email}
        sendable = [r for r in batch if r.email]
        if sendable:
            self.ensure_merge_fields(list_id, sendable)
            body = {
                "members": [self.member(r) for r in sendable],
                "update_existing": True,
                "sync_tags": False,
            }
            answer = self.http.json(self.http.request("POST", f"/lists/{list_id}", body=body))
            by_email = {r.email: r.key for r in sendable}
            for error in answer.get("errors") or []:
                key = by_email.get(str(error.get("email_address", "")).strip().lower())
                if key:
                    rejected[key] = _error_text(error)
            accepted = [r for r in sendable if r.key not in rejected]
            rejected.update(self._segment_change(list_id, tag, accepted, "members_to_add"))
        return outcomes(batch, rejected, _member_id)

    def remove(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        if not batch:
            return []
        list_ref, tag = self.split_destination(destination)
        list_id = self.list_id(list_ref)
        with_email = [r for r in batch if r.email]
        rejected = self._segment_change(
            list_id, tag, with_email, "members_to_remove", tolerate_absent=True
        )
        # no email, no member to untag: never reported as removed
        rejected.update(unremovable(batch))
        return outcomes(batch, rejected, _member_id)

    def _segment_change(
        self,
        list_id: str,
        tag: str,
        records: Sequence[Record],
        action: str,
        *,
        tolerate_absent: bool = False,
    ) -> dict[str, str]:
        if not records:
            return {}
        segment = self.segment_id(list_id, tag)
        body = {action: [r.email for r in records]}
        answer = self.http.json(
            self.http.request("POST", f"/lists/{list_id}/segments/{segment}", body=body)
        )
        by_email = {r.email: r.key for r in records}
        rejected: dict[str, str] = {}
        for error in answer.get("errors") or []:
            text = str(error.get("error") or "segment change failed")
            if tolerate_absent and _means_absent(text):
                continue  # removing someone who is not there is done
            for email in error.get("email_addresses") or (
                [error["email_address"]] if "email_address" in error else []
            ):
                key = by_email.get(str(email).strip().lower())
                if key:
                    rejected[key] = text
        return rejected

    def send_events(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        if not batch:
            return []
        list_ref, name = self.split_destination(destination)
        list_id = self.list_id(list_ref)
        rejected: dict[str, str] = {}
        for record in batch:
            if not record.email:
                rejected[record.key] = "no email address"
                continue
            fields = dict(record.fields)
            when = fields.pop("occurred_at", None) or fields.pop("time", None)
            body: dict[str, Any] = {
                "name": name[:30],
                "properties": {k: str(flat_value(v)) for k, v in fields.items() if v is not None},
                "is_syncing": True,
            }
            if when is not None:
                body["occurred_at"] = plain(when)
            response = self.http.request(
                "POST",
                f"/lists/{list_id}/members/{subscriber_hash(record.email)}/events",
                body=body,
                passthrough=(400, 404),
            )
            if response.status_code >= 400:
                rejected[record.key] = _error_text(self.http.json(response))
        return outcomes(batch, rejected, _member_id)

    def close(self) -> None:
        self.http.close()


def _means_absent(text: str) -> bool:
    lowered = text.lower()
    return "not found" in lowered or (
        "not" in lowered and ("exist" in lowered or "member" in lowered)
    )


def _error_text(error: dict[str, Any]) -> str:
    parts = [error.get("error") or error.get("title") or error.get("detail")]
    if error.get("field"):
        parts.append(f"field {error['field']}: {error.get('field_message') or ''}".strip())
    if error.get("error_code"):
        parts.append(str(error["error_code"]))
    return "; ".join(str(p) for p in parts if p) or "rejected by Mailchimp"


def _member_id(record: Record) -> str | None:
    """Mailchimp's member id: the MD5 of the lowercased email."""
    return subscriber_hash(record.email) if record.email else None
