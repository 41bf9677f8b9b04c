"""The person's action in Customer.io (sandbox control API) and the state
summary the control API and the page show."""

from __future__ import annotations

import uuid
from typing import Any

from activations.sandbox.core import Sandbox, Webhook, list_summaries
from activations.sandbox.customerio.model import identify, person, set_unsubscribed
from activations.sandbox.customerio.wire import NAME, truthy
from activations.sandbox.store import Contact

WEBHOOK_METRICS = {"unsubscribe": "unsubscribed", "bounce": "bounced", "spam": "spammed",
                   "open": "opened", "click": "clicked"}


def act(sb: Sandbox, action: str, email: str, list_id: str | None) -> Webhook | None:
    now = sb.now()
    contact = sb.store.find_contact(NAME, email=email)
    if contact is None:
        contact = person(sb, {"email": email})
        assert contact is not None
        identify(sb, contact, {"email": email})
    if action in ("unsubscribe", "spam"):
        set_unsubscribed(sb, contact)
    if action in ("bounce", "spam"):
        sb.store.add_suppression(NAME, email, action, now)
    metric = WEBHOOK_METRICS[action]
    sb.store.add_event(NAME, contact.id, metric, {"email": email}, now)
    identifiers: dict[str, Any] = {"email": email, "cio_id": contact.id}
    if not contact.id.startswith("cio_"):
        identifiers["id"] = contact.id
    return Webhook({"event_id": uuid.uuid4().hex.upper()[:26], "object_type": "email",
                    "metric": metric, "timestamp": int(now),
                    "data": {"customer_id": contact.id if "id" in identifiers else "",
                             "identifiers": identifiers, "email_address": email,
                             "delivery_id": uuid.uuid4().hex}})


def member_view(contact: Contact) -> dict[str, Any]:
    attributes = {k: v for k, v in contact.attributes.items() if k not in ("email",)}
    unsubscribed = truthy(contact.attributes.get("unsubscribed"))
    return {"id": contact.id, "email": contact.email, "attributes": attributes,
            "consent": "unsubscribed" if unsubscribed else "subscribed",
            "subscribed": not unsubscribed}


def summarize(sb: Sandbox, limit: int) -> dict[str, Any]:
    lists = list_summaries(sb, NAME, limit, member_view)
    contacts = sb.store.contacts(NAME)
    suppressions = [{"email": c.email, "kind": "unsubscribed", "list_id": "",
                     "created_at": c.updated_at}
                    for c in contacts if truthy(c.attributes.get("unsubscribed"))]
    suppressions += [{"email": s["email"], "kind": s["kind"], "list_id": "",
                      "created_at": s["created_at"]} for s in sb.store.suppressions(NAME)]
    return {"lists": lists, "contacts": len(contacts), "suppressions": suppressions,
            "events": sb.store.count_events(NAME)}
