"""Customer.io people: lookup by identifier, identify (attributes, last write
wins), events (deduplicated on id)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from activations.sandbox.common import norm_email, valid_email
from activations.sandbox.core import Sandbox
from activations.sandbox.customerio.wire import NAME
from activations.sandbox.store import Contact

MAX_ATTRIBUTES = 300
MAX_NAME_BYTES = 150
MAX_VALUE_BYTES = 1000
IDENTIFIERS = ("id", "email", "cio_id", "phone")


def find(sb: Sandbox, identifiers: dict[str, Any]) -> Contact | None:
    if identifiers.get("id") is not None:
        return sb.store.get_contact(NAME, str(identifiers["id"]))
    if identifiers.get("cio_id"):
        return sb.store.get_contact(NAME, f"cio_{identifiers['cio_id']}")
    if identifiers.get("email"):
        return sb.store.find_contact(NAME, email=norm_email(identifiers["email"]))
    if identifiers.get("phone"):
        return sb.store.find_contact(NAME, phone=str(identifiers["phone"]))
    return None


def person(sb: Sandbox, identifiers: dict[str, Any], create: bool = True) -> Contact | None:
    contact = find(sb, identifiers)
    if contact is not None or not create:
        return contact
    now = sb.now()
    cid = str(identifiers["id"]) if identifiers.get("id") is not None else \
        f"cio_{identifiers.get('cio_id') or uuid.uuid4().hex[:20]}"
    contact = Contact(provider=NAME, id=cid, created_at=now, updated_at=now)
    if identifiers.get("email"):
        contact.email = norm_email(identifiers["email"])
    if identifiers.get("phone"):
        contact.phone = str(identifiers["phone"])
    return contact


def attributes_problem(attributes: Any) -> tuple[str, str] | None:
    if not isinstance(attributes, dict):
        return "attributes", "attributes must be an object"
    if len(attributes) > MAX_ATTRIBUTES:
        return "attributes", f"at most {MAX_ATTRIBUTES} attributes; got {len(attributes)}"
    for key, value in attributes.items():
        if len(key.encode()) > MAX_NAME_BYTES:
            return f"attributes.{key[:20]}", f"attribute names are at most {MAX_NAME_BYTES} bytes"
        encoded = value if isinstance(value, str) else json.dumps(value)
        if len(encoded.encode()) > MAX_VALUE_BYTES:
            return f"attributes.{key}", f"attribute values are at most {MAX_VALUE_BYTES} bytes"
    email = attributes.get("email")
    if email not in (None, "") and not valid_email(email):
        return "attributes.email", f"{email!r} is not a valid email address"
    return None


def identify(sb: Sandbox, contact: Contact, attributes: dict[str, Any]) -> None:
    for key, value in attributes.items():
        if key.startswith("_"):
            continue
        if key == "email":
            contact.email = norm_email(value)
        if value is None or value == "":
            contact.attributes.pop(key, None)
        else:
            contact.attributes[key] = value
    contact.updated_at = sb.now()
    sb.store.save_contact(contact)
    sb.count_write(NAME, contact.id, attributes)


def set_unsubscribed(sb: Sandbox, contact: Contact) -> None:
    contact.attributes["unsubscribed"] = True
    contact.updated_at = sb.now()
    sb.store.save_contact(contact)


def event(sb: Sandbox, contact: Contact, name: Any, data: Any, event_id: Any,
          timestamp: Any) -> str | None:
    if not isinstance(name, str) or not name or len(name.encode()) > 100:
        return "an event needs a name of 1 to 100 bytes"
    if len(json.dumps(data or {}).encode()) > 100 * 1024:
        return "event data is at most 100 KB"
    sb.store.save_contact(contact)
    sb.store.add_event(NAME, contact.id, name, {"data": data or {}, "timestamp": timestamp},
                       sb.now(), dedupe_key=str(event_id) if event_id else None)
    return None
