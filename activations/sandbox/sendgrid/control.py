"""The person's action in SendGrid (sandbox control API) and the state summary
the control API and the page show."""

from __future__ import annotations

import uuid
from typing import Any

from activations.sandbox.core import Sandbox, Webhook
from activations.sandbox.sendgrid.model import custom_fields
from activations.sandbox.sendgrid.wire import NAME

SUPPRESSION_KINDS = {"unsubscribe": "global", "bounce": "bounce", "spam": "spam"}
WEBHOOK_EVENTS = {"unsubscribe": "unsubscribe", "bounce": "bounce", "spam": "spamreport",
                  "open": "open", "click": "click"}


def act(sb: Sandbox, action: str, email: str, list_id: str | None) -> Webhook | None:
    now = sb.now()
    event: dict[str, Any] = {"email": email, "timestamp": int(now),
                             "event": WEBHOOK_EVENTS[action], "sg_event_id": uuid.uuid4().hex,
                             "sg_message_id": "sandbox"}
    if action in SUPPRESSION_KINDS:
        reason = "550 5.1.1 mailbox unavailable" if action == "bounce" else ""
        sb.store.add_suppression(NAME, email, SUPPRESSION_KINDS[action], now, reason=reason)
    if action == "bounce":
        event.update({"type": "bounce", "reason": "550 5.1.1 mailbox unavailable",
                      "status": "5.1.1"})
    contact = sb.store.find_contact(NAME, email=email)
    sb.store.add_event(NAME, contact.id if contact else None, WEBHOOK_EVENTS[action],
                       event, now)
    return Webhook([event])


def summarize(sb: Sandbox, limit: int) -> dict[str, Any]:
    suppressions = sb.store.suppressions(NAME)
    by_email: dict[str, list[str]] = {}
    for s in suppressions:
        by_email.setdefault(s["email"], []).append(s["kind"])
    fields = custom_fields(sb)
    lists = []
    for row in sb.store.lists(NAME):
        ids = sb.store.member_ids(NAME, row.id)
        members = []
        for c in sb.store.contacts(NAME, ids=ids[:limit]):
            attributes = {k: v for k, v in c.attributes.items()
                          if k not in ("custom_fields",) and v is not None}
            attributes.update({fields[k]["name"]: v
                               for k, v in c.attributes.get("custom_fields", {}).items()
                               if k in fields})
            if c.external_id:
                attributes["external_id"] = c.external_id
            kinds = by_email.get(c.email or "", [])
            members.append({"id": c.id, "email": c.email, "attributes": attributes,
                            "consent": ("suppressed: " + ", ".join(kinds)) if kinds
                            else "not suppressed", "subscribed": not kinds})
        lists.append({"id": row.id, "name": row.name, "kind": row.kind,
                      "auto_created": row.auto_created, "member_count": len(ids),
                      "members": members})
    return {"lists": lists, "contacts": sb.store.count_contacts(NAME),
            "suppressions": [{"email": s["email"], "kind": s["kind"], "list_id": s["list_id"],
                              "created_at": s["created_at"]} for s in suppressions],
            "events": sb.store.count_events(NAME)}
