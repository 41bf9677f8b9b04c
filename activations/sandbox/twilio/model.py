"""Segment profiles: a message applied (identify merges traits, track records an
event), deduplicated on ``messageId``; a dropped message or a phone Engage cannot
text goes to the debugger (events named ``$dropped`` / ``$warning``)."""

from __future__ import annotations

from typing import Any

from activations.sandbox.common import norm_email
from activations.sandbox.core import Sandbox
from activations.sandbox.sms import set_membership, valid_e164
from activations.sandbox.store import Contact
from activations.sandbox.twilio.wire import NAME

TYPES = ("identify", "track", "page", "screen", "group", "alias")


def _note(sb: Sandbox, kind: str, who: str | None, reason: str, message: Any) -> None:
    kept = {k: message.get(k) for k in ("type", "userId", "messageId")} \
        if isinstance(message, dict) else {}
    sb.store.add_event(NAME, who, f"${kind}", {"reason": reason, "message": kept}, sb.now())


def profile(sb: Sandbox, user_id: str) -> Contact:
    contact = sb.store.get_contact(NAME, user_id)
    if contact is None:
        now = sb.now()
        contact = Contact(provider=NAME, id=user_id, external_id=user_id, created_at=now,
                          updated_at=now)
    return contact


def _phone(sb: Sandbox, contact: Contact, phone: Any, message: Any) -> None:
    if phone in (None, ""):
        return
    if not valid_e164(phone):
        _note(sb, "warning", contact.id, f"phone {phone!r} is not E.164: Engage cannot "
              "text this profile", message)
    contact.phone = str(phone)


def apply(sb: Sandbox, message: Any) -> None:
    """One message as Segment takes it: applied, deduplicated, or dropped (noted)."""
    if not isinstance(message, dict) or message.get("type") not in TYPES:
        _note(sb, "dropped", None, "not a message of a known type", message)
        return
    user_id = message.get("userId") or message.get("anonymousId")
    if not isinstance(user_id, str | int) or user_id == "":
        _note(sb, "dropped", None, "Identifier is not present: userId or anonymousId",
              message)
        return
    if message["type"] == "track" and not message.get("event"):
        _note(sb, "dropped", str(user_id), "Track event is missing name", message)
        return
    message_id = message.get("messageId")
    contact = profile(sb, str(user_id))
    payload = {"event": message.get("event"), "properties": message.get("properties") or {}}
    name = str(message["event"]) if message["type"] == "track" else f"${message['type']}"
    if not sb.store.add_event(NAME, contact.id, name, payload, sb.now(),
                              dedupe_key=str(message_id) if message_id else None):
        return  # this messageId was seen already: Segment drops the duplicate
    if message["type"] == "identify":
        traits = message.get("traits") or {}
        for key, value in traits.items():
            if key == "phone":
                _phone(sb, contact, value, message)
            elif key == "email":
                contact.email = norm_email(value)
            if isinstance(value, bool):
                set_membership(sb, NAME, key, "audience", contact.id, value)
            if value is None:
                contact.attributes.pop(key, None)
            else:
                contact.attributes[key] = value
        sb.count_write(NAME, contact.id, traits)
    elif message["type"] == "track":
        context_traits = (message.get("context") or {}).get("traits") or {}
        _phone(sb, contact, context_traits.get("phone"), message)
        sb.count_write(NAME, contact.id, payload)
    contact.updated_at = sb.now()
    sb.store.save_contact(contact)
