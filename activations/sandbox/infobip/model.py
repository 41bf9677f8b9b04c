"""Infobip people: lookup by identifier, validation of a person object, and the
bulk upsert's effect (attributes replaced key by key, tags appended, the phone
unique to one person)."""

from __future__ import annotations

from typing import Any

from activations.sandbox.common import norm_email, valid_email
from activations.sandbox.core import Sandbox
from activations.sandbox.infobip.wire import NAME
from activations.sandbox.sms import set_membership, valid_e164
from activations.sandbox.store import Contact

MAX_TEXT = 256
STANDARD = ("firstName", "lastName", "middleName", "gender", "birthDate", "city", "country",
            "address", "preferredLanguage", "profilePicture")
TYPES = ("ID", "EXTERNAL_ID", "PHONE", "EMAIL")


def as_e164(number: Any) -> str | None:
    """An Infobip number (digits, ``+`` optional) as E.164, or None when it is not one."""
    if not isinstance(number, str | int) or isinstance(number, bool):
        return None
    text = str(number).strip()
    text = text if text.startswith("+") else "+" + text
    return text if valid_e164(text) else None


def find(sb: Sandbox, kind: Any, identifier: Any) -> Contact | None:
    if not isinstance(identifier, str | int) or kind not in TYPES:
        return None
    value = str(identifier)
    if kind in ("ID", "EXTERNAL_ID"):
        return sb.store.get_contact(NAME, value)
    if kind == "PHONE":
        phone = as_e164(value)
        return sb.store.find_contact(NAME, phone=phone) if phone else None
    return sb.store.find_contact(NAME, email=norm_email(value))


def problem(person: Any) -> str | None:
    """Why Infobip refuses this person object, in its words, or None."""
    if not isinstance(person, dict):
        return "A person must be an object"
    external = person.get("externalId")
    if not isinstance(external, str) or not external or len(external) > MAX_TEXT:
        return f"externalId is required (1 to {MAX_TEXT} characters)"
    contact = person.get("contactInformation") or {}
    if not isinstance(contact, dict):
        return "contactInformation must be an object"
    for phone in contact.get("phone") or []:
        if as_e164((phone or {}).get("number")) is None:
            return f"Invalid phone number: {(phone or {}).get('number')!r}"
    for email in contact.get("email") or []:
        if not valid_email(norm_email((email or {}).get("address"))):
            return f"Invalid email address: {(email or {}).get('address')!r}"
    custom = person.get("customAttributes") or {}
    if not isinstance(custom, dict):
        return "customAttributes must be an object"
    for key, value in custom.items():
        if isinstance(value, dict | list):
            return f"Custom attribute {key!r} must be a string, number, boolean or date"
    tags = person.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) and 0 < len(t) <= MAX_TEXT
                                             for t in tags):
        return f"tags must be names of 1 to {MAX_TEXT} characters"
    return None


def upsert(sb: Sandbox, person: dict[str, Any]) -> str | None:
    """Create or update one person (already valid); Infobip's refusal text, or None."""
    external = person["externalId"]
    contact = sb.store.get_contact(NAME, external)
    phones = [as_e164(p.get("number")) for p in (person.get("contactInformation") or {})
              .get("phone") or []]
    for phone in phones:
        owner = sb.store.find_contact(NAME, phone=phone)
        if owner is not None and owner.id != external:
            return f"Phone number {phone.lstrip('+')} already belongs to another person"
    now = sb.now()
    if contact is None:
        contact = Contact(provider=NAME, id=external, external_id=external, created_at=now)
    for key in STANDARD:
        if key in person:
            contact.attributes[key] = person[key]
    for key, value in (person.get("customAttributes") or {}).items():
        if value is None:
            contact.attributes.pop(key, None)
        else:
            contact.attributes[key] = value
    if phones:
        contact.phone = phones[-1]
    emails = (person.get("contactInformation") or {}).get("email") or []
    if emails:
        contact.email = norm_email(emails[-1].get("address"))
    contact.updated_at = now
    sb.store.save_contact(contact)
    for tag in person.get("tags") or []:
        set_membership(sb, NAME, tag, "tag", contact.id, True)
    sb.count_write(NAME, external, person)
    return None
