"""What the SMS providers' sandboxes (Infobip, Twilio/Segment) share: the E.164
check, a person's action (SMS has no unsubscribe to post back: consent is
decided in the warehouse), and the state summary the control API and the
page show: tags or audiences with their members, each shown by phone."""

from __future__ import annotations

import re
from typing import Any

from activations.sandbox.core import Sandbox, Webhook, list_summaries
from activations.sandbox.store import Contact, ListRow

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
#: what the page shows in the consent column: nothing of it lives in the provider
CONSENT = "decided in the warehouse"


def valid_e164(value: Any) -> bool:
    return isinstance(value, str) and bool(E164.match(value))


def act(name: str) -> Any:
    """The person's action in an SMS provider: noted as an event on the profile found
    by email (an email-only action such as a bounce has no SMS meaning), no webhook."""

    def action(sb: Sandbox, action: str, email: str, list_id: str | None) -> Webhook | None:
        contact = sb.store.find_contact(name, email=email)
        sb.store.add_event(name, contact.id if contact else None, f"${action}",
                           {"email": email, "list": list_id}, sb.now())
        return None

    return action


def member_view(contact: Contact) -> dict[str, Any]:
    attributes = {k: v for k, v in contact.attributes.items() if k not in ("phone", "email")}
    return {"id": contact.id, "email": contact.email, "phone": contact.phone,
            "attributes": attributes, "consent": CONSENT, "subscribed": None}


def summarize(sb: Sandbox, name: str, limit: int) -> dict[str, Any]:
    """Tags (Infobip) or audiences (Twilio) with members; events the flows/journeys saw
    (the sandbox's own notes, named ``$...``, are not events)."""
    lists = list_summaries(sb, name, limit, member_view)
    events = [e for e in sb.store.events(name) if not e["name"].startswith("$")]
    return {"lists": lists, "contacts": sb.store.count_contacts(name), "suppressions": [],
            "events": len(events),
            "recent_events": [{"name": e["name"], "person": e["contact_id"]}
                              for e in events[-limit:]]}


def set_membership(sb: Sandbox, name: str, list_name: str, kind: str, contact_id: str,
                   member: bool) -> None:
    """``contact_id`` joins (or leaves) the tag/audience ``list_name``, made on first use."""
    if member:
        sb.store.add_list(ListRow(provider=name, id=list_name, name=list_name, kind=kind,
                                  auto_created=True, created_at=sb.now()))
        sb.store.add_members(name, list_name, [contact_id], sb.now())
    else:
        sb.store.remove_members(name, list_name, [contact_id])
