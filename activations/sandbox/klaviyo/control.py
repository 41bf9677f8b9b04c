"""The person's action in Klaviyo (sandbox control API) and the state summary
the control API and the page show."""

from __future__ import annotations

import uuid
from typing import Any

from activations.sandbox.common import iso
from activations.sandbox.core import Sandbox, Webhook
from activations.sandbox.klaviyo.model import (
    can_receive,
    consent_of,
    set_unsubscribed,
    upsert_profile,
)
from activations.sandbox.klaviyo.wire import NAME
from activations.sandbox.store import Contact

WEBHOOK_METRICS = {
    "unsubscribe": "Unsubscribed from Email Marketing",
    "bounce": "Bounced Email",
    "spam": "Marked Email as Spam",
    "open": "Opened Email",
    "click": "Clicked Email",
}


def act(sb: Sandbox, action: str, email: str, list_id: str | None) -> Webhook | None:
    contact = sb.store.find_contact(NAME, email=email)
    if contact is None:
        contact, _ = upsert_profile(sb, {"email": email})
    if action == "unsubscribe":
        set_unsubscribed(sb, contact, "UNSUBSCRIBE", "EMAIL_UNSUBSCRIBE")
    elif action == "spam":
        set_unsubscribed(sb, contact, "SPAM_REPORT", "SPAM_COMPLAINT")
    elif action == "bounce":
        set_unsubscribed(sb, contact, "HARD_BOUNCE", "BOUNCE")
    now = sb.now()
    metric = WEBHOOK_METRICS[action]
    sb.store.add_event(NAME, contact.id, metric, {"list_id": list_id}, now)
    return Webhook(
        {
            "data": [
                {
                    "type": "event",
                    "id": uuid.uuid4().hex,
                    "attributes": {
                        "metric": {"name": metric},
                        "datetime": iso(now),
                        "timestamp": int(now),
                        "profile": {"id": contact.id, "email": contact.email},
                        "event_properties": {"list_id": list_id},
                    },
                }
            ]
        }
    )


def summarize(sb: Sandbox, limit: int) -> dict[str, Any]:
    lists = []
    for row in sb.store.lists(NAME):
        ids = sb.store.member_ids(NAME, row.id)
        members = sb.store.contacts(NAME, ids=ids[:limit])
        lists.append(
            {
                "id": row.id,
                "name": row.name,
                "kind": row.kind,
                "auto_created": row.auto_created,
                "member_count": len(ids),
                "members": [member_view(c) for c in members],
            }
        )
    suppressions = []
    for contact in sb.store.contacts(NAME):
        for s in consent_of(contact)["suppression"]:
            suppressions.append(
                {
                    "email": contact.email,
                    "kind": s["reason"],
                    "list_id": "",
                    "created_at": s["timestamp"],
                }
            )
    return {
        "lists": lists,
        "contacts": sb.store.count_contacts(NAME),
        "suppressions": suppressions,
        "events": sb.store.count_events(NAME),
    }


def member_view(contact: Contact) -> dict[str, Any]:
    consent = consent_of(contact)
    label = consent["consent"]
    if consent["suppression"]:
        label += " (suppressed: " + ", ".join(s["reason"] for s in consent["suppression"]) + ")"
    attributes = {k: v for k, v in contact.attributes.items() if k != "properties"}
    attributes.update(contact.attributes.get("properties", {}))
    if contact.external_id:
        attributes["external_id"] = contact.external_id
    return {
        "id": contact.id,
        "email": contact.email,
        "attributes": attributes,
        "consent": label,
        "subscribed": None if label == "NEVER_SUBSCRIBED" else can_receive(contact),
    }
