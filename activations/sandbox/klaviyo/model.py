"""Klaviyo's profiles (with their email marketing consent) and lists, as the
routes and the control API share them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from fastapi import Request

from activations.sandbox.common import iso, profile_id, valid_email
from activations.sandbox.core import Sandbox
from activations.sandbox.klaviyo.wire import NAME, base_url
from activations.sandbox.store import Contact, ListRow

PHONE_RE = re.compile(r"^\+[1-9]\d{6,14}$")
STANDARD = ("first_name", "last_name", "organization", "locale", "title", "image", "location")


# -- profiles and consent -------------------------------------------------------
def blank_consent() -> dict[str, Any]:
    return {
        "consent": "NEVER_SUBSCRIBED",
        "consent_timestamp": None,
        "method": None,
        "suppression": [],
        "list_suppressions": [],
    }


def consent_of(contact: Contact) -> dict[str, Any]:
    return contact.consent.setdefault("email_marketing", blank_consent())


def can_receive(contact: Contact) -> bool:
    consent = consent_of(contact)
    return consent["consent"] == "SUBSCRIBED" and not consent["suppression"]


def find_profile(sb: Sandbox, attrs: dict[str, Any]) -> Contact | None:
    email = attrs.get("email")
    return sb.store.find_contact(
        NAME,
        email=email.lower() if isinstance(email, str) else None,
        external_id=attrs.get("external_id"),
        phone=attrs.get("phone_number"),
    )


def upsert_profile(
    sb: Sandbox, attrs: dict[str, Any], *, profile_id_: str | None = None
) -> tuple[Contact, bool]:
    """Create or update a profile: omitted fields are kept, ``null`` clears."""
    now = sb.now()
    contact = sb.store.get_contact(NAME, profile_id_) if profile_id_ else None
    contact = contact or find_profile(sb, attrs)
    created = contact is None
    if contact is None:
        contact = Contact(
            provider=NAME,
            id=profile_id(),
            created_at=now,
            consent={"email_marketing": blank_consent()},
        )
    if "email" in attrs:
        contact.email = attrs["email"].lower() if isinstance(attrs["email"], str) else None
    if "external_id" in attrs:
        contact.external_id = attrs["external_id"]
    if "phone_number" in attrs:
        contact.phone = attrs["phone_number"]
    for key in STANDARD:
        if key in attrs:
            if attrs[key] is None:
                contact.attributes.pop(key, None)
            else:
                contact.attributes[key] = attrs[key]
    if isinstance(attrs.get("properties"), dict):
        properties = contact.attributes.setdefault("properties", {})
        for key, value in attrs["properties"].items():
            if value is None:
                properties.pop(key, None)
            else:
                properties[key] = value
    contact.updated_at = now
    sb.store.save_contact(contact)
    return contact, created


def profile_problem(attrs: dict[str, Any]) -> tuple[str, str] | None:
    """(field, detail) of the first reason Klaviyo would reject this profile."""
    if not any(attrs.get(k) for k in ("email", "phone_number", "external_id", "_kx")):
        return "email", "One of email, phone_number, external_id or _kx is required."
    if attrs.get("email") is not None and not valid_email(attrs.get("email")):
        return "email", f"Invalid email address: {attrs.get('email')!r}."
    if attrs.get("phone_number") is not None and not PHONE_RE.match(str(attrs["phone_number"])):
        return "phone_number", "Invalid phone number: expected E.164, e.g. +15005550006."
    return None


def profile_resource(request: Request, contact: Contact, *, subscriptions: bool) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "email": contact.email,
        "phone_number": contact.phone,
        "external_id": contact.external_id,
        **{k: contact.attributes.get(k) for k in STANDARD},
        "created": iso(contact.created_at),
        "updated": iso(contact.updated_at),
        "properties": contact.attributes.get("properties", {}),
    }
    if subscriptions:
        consent = consent_of(contact)
        attributes["subscriptions"] = {
            "email": {
                "marketing": {
                    "can_receive_email_marketing": can_receive(contact),
                    "consent": consent["consent"],
                    "consent_timestamp": iso(consent["consent_timestamp"]),
                    "last_updated": iso(contact.updated_at),
                    "method": consent.get("method"),
                    "suppression": [
                        {"reason": s["reason"], "timestamp": iso(s["timestamp"])}
                        for s in consent["suppression"]
                    ],
                    "list_suppressions": [
                        {
                            "list_id": s["list_id"],
                            "reason": s["reason"],
                            "timestamp": iso(s["timestamp"]),
                        }
                        for s in consent["list_suppressions"]
                    ],
                }
            }
        }
    return {
        "type": "profile",
        "id": contact.id,
        "attributes": attributes,
        "links": {"self": f"{base_url(request)}/api/profiles/{contact.id}/"},
    }


def set_unsubscribed(sb: Sandbox, contact: Contact, reason: str, method: str) -> None:
    consent = consent_of(contact)
    if reason != "HARD_BOUNCE":
        consent["consent"] = "UNSUBSCRIBED"
        consent["consent_timestamp"] = sb.now()
        consent["method"] = method
    if all(s["reason"] != reason for s in consent["suppression"]):
        consent["suppression"].append({"reason": reason, "timestamp": sb.now()})
    contact.updated_at = sb.now()
    sb.store.save_contact(contact)


# -- lists ----------------------------------------------------------------------------
def list_resource(request: Request, row: ListRow) -> dict[str, Any]:
    return {
        "type": "list",
        "id": row.id,
        "attributes": {
            "name": row.name,
            "created": iso(row.created_at),
            "updated": iso(row.created_at),
            "opt_in_process": "single_opt_in",
        },
        "links": {"self": f"{base_url(request)}/api/lists/{row.id}/"},
    }


def profile_identifiers(ids: Sequence[str]) -> list[dict[str, str]]:
    return [{"type": "profile", "id": i} for i in ids]


def ensure_list(sb: Sandbox, list_id: str) -> ListRow:
    row = sb.store.get_list(NAME, list_id)
    if row is None:
        row = sb.store.add_list(
            ListRow(NAME, list_id, list_id, "list", auto_created=True, created_at=sb.now())
        )
    return row
