"""The person's action in Mailchimp (sandbox control API) and the state summary
the control API and the page show."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from activations.sandbox.common import md5_email
from activations.sandbox.core import Sandbox, Webhook
from activations.sandbox.mailchimp.model import (
    LOCKED,
    ensure_list,
    member_id,
    tags_of,
    write_member,
)
from activations.sandbox.mailchimp.wire import NAME


def act(sb: Sandbox, action: str, email: str, list_id: str | None) -> Webhook | None:
    if list_id is not None:
        ensure_list(sb, list_id)
        lists = [list_id]
    else:
        lists = [row.id for row in sb.store.lists(NAME, kind="list")
                 if sb.store.get_contact(NAME, member_id(row.id, email))]
    new_status = {"unsubscribe": "unsubscribed", "bounce": "cleaned", "spam": "cleaned"}
    for target in lists:
        if action in new_status:
            existing = sb.store.get_contact(NAME, member_id(target, email))
            write_member(sb, target, {"email_address": email}, existing, new_status[action])
        sb.store.add_event(NAME, member_id(target, email), action, {"list_id": target}, sb.now())
    if action not in new_status:
        return None  # Mailchimp has no open/click webhooks
    fired = datetime.fromtimestamp(sb.now(), UTC).strftime("%Y-%m-%d %H:%M:%S")
    first = lists[0] if lists else ""
    data = {"data[id]": md5_email(email), "data[list_id]": first, "data[email]": email,
            "data[email_type]": "html"}
    if action == "unsubscribe":
        payload = {"type": "unsubscribe", "fired_at": fired, "data[action]": "unsub",
                   "data[reason]": "manual", **data, "data[merges][EMAIL]": email}
    else:
        payload = {"type": "cleaned", "fired_at": fired, "data[campaign_id]": "",
                   "data[reason]": "hard" if action == "bounce" else "abuse", **data}
    return Webhook(payload, form=True)


def summarize(sb: Sandbox, limit: int) -> dict[str, Any]:
    lists = []
    for row in sb.store.lists(NAME):
        ids = sb.store.member_ids(NAME, row.id)
        members = []
        for c in sb.store.contacts(NAME, ids=ids[:limit]):
            attributes = dict(c.attributes.get("merge_fields", {}))
            if row.kind == "list":
                attributes["tags"] = ", ".join(t.name for t in tags_of(sb, c))
            status = c.consent.get("status")
            members.append({"id": c.id, "email": c.email, "attributes": attributes,
                            "consent": status, "subscribed": status == "subscribed"})
        name = row.name
        if row.kind == "tag":
            parent = sb.store.get_list(NAME, row.parent_id)
            name = f"{parent.name if parent else row.parent_id} › {row.name}"
        lists.append({"id": row.id, "name": name, "kind": row.kind,
                      "auto_created": row.auto_created, "member_count": len(ids),
                      "members": members})
    suppressions = [{"email": c.email, "kind": c.consent.get("status"),
                     "list_id": c.id.split(":", 1)[0], "created_at": c.updated_at}
                    for c in sb.store.contacts(NAME) if c.consent.get("status") in LOCKED]
    return {"lists": lists, "contacts": sb.store.count_contacts(NAME),
            "suppressions": suppressions, "events": sb.store.count_events(NAME)}
