"""The person's action in Braze (sandbox control API) and the state summary the
control API and the page show (one "list" per ``audiences`` value)."""

from __future__ import annotations

import uuid
from typing import Any

from activations.sandbox.braze.model import AUDIENCE_ATTRIBUTE, set_email_subscribe
from activations.sandbox.braze.wire import NAME
from activations.sandbox.core import Sandbox, Webhook
from activations.sandbox.store import Contact

WEBHOOK_TYPES = {"unsubscribe": "Unsubscribe", "bounce": "Bounce", "spam": "MarkAsSpam",
                 "open": "Open", "click": "Click"}


def act(sb: Sandbox, action: str, email: str, list_id: str | None) -> Webhook | None:
    now = sb.now()
    users = [c for c in sb.store.contacts(NAME) if c.email == email]
    if action in ("unsubscribe", "spam"):
        for contact in users:
            set_email_subscribe(sb, contact, "unsubscribed")
            sb.store.save_contact(contact)
        if not users:
            sb.store.add_suppression(NAME, email, "email_state", now, reason="unsubscribed")
    if action == "bounce":
        sb.store.add_suppression(NAME, email, "bounce", now)
    user = users[0] if users else None
    event_type = f"users.messages.email.{WEBHOOK_TYPES[action]}"
    sb.store.add_event(NAME, user.id if user else None, event_type, {"email": email}, now)
    return Webhook({"events": [{
        "id": uuid.uuid4().hex, "event_type": event_type, "time": int(now),
        "user": {"user_id": user.id if user else None,
                 "external_user_id": user.external_id if user else None,
                 "email_address": email},
        "properties": {"list": list_id} if list_id else {}}]})


def summarize(sb: Sandbox, limit: int) -> dict[str, Any]:
    contacts = sb.store.contacts(NAME)
    audiences: dict[str, list[Contact]] = {}
    groups: dict[str, list[Contact]] = {}
    for contact in contacts:
        values = contact.attributes.get(AUDIENCE_ATTRIBUTE)
        for value in values if isinstance(values, list) else []:
            audiences.setdefault(str(value), []).append(contact)
        for gid, state in contact.consent.get("subscription_groups", {}).items():
            if state == "subscribed":
                groups.setdefault(gid, []).append(contact)
    lists = [{"id": name, "name": name, "kind": f"attribute {AUDIENCE_ATTRIBUTE}",
              "auto_created": False, "member_count": len(members),
              "members": [member_view(c) for c in members[:limit]]}
             for name, members in sorted(audiences.items())]
    lists += [{"id": gid, "name": gid, "kind": "subscription group", "auto_created": False,
               "member_count": len(members), "members": [member_view(c) for c in members[:limit]]}
              for gid, members in sorted(groups.items())]
    suppressions = [{"email": c.email, "kind": "unsubscribed", "list_id": "",
                     "created_at": c.consent.get("email_subscribe_at")}
                    for c in contacts if c.consent.get("email_subscribe") == "unsubscribed"]
    suppressions += [{"email": s["email"], "kind": s["kind"], "list_id": "",
                      "created_at": s["created_at"]} for s in sb.store.suppressions(NAME)]
    return {"lists": lists, "contacts": len(contacts), "suppressions": suppressions,
            "events": sb.store.count_events(NAME)}


def member_view(contact: Contact) -> dict[str, Any]:
    attributes = {k: (", ".join(map(str, v)) if isinstance(v, list) else v)
                  for k, v in contact.attributes.items()
                  if not k.startswith("_") and k != AUDIENCE_ATTRIBUTE}
    if contact.external_id:
        attributes = {"external_id": contact.external_id, **attributes}
    state = contact.consent.get("email_subscribe")
    return {"id": contact.id, "email": contact.email, "attributes": attributes,
            "consent": state, "subscribed": state in ("subscribed", "opted_in")}
