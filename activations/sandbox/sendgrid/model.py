"""SendGrid contacts and custom fields, as the routes and the control API share
them."""

from __future__ import annotations

from typing import Any

from activations.sandbox.common import iso
from activations.sandbox.core import Sandbox
from activations.sandbox.sendgrid.wire import NAME
from activations.sandbox.store import Contact

RESERVED = ("first_name", "last_name", "address_line_1", "address_line_2", "city",
            "state_province_region", "postal_code", "country", "alternate_emails",
            "unique_name")
IDENTIFIERS = {"email": "email", "external_id": "external_id",
               "phone_number_id": "phone", "anonymous_id": "anonymous_id"}


def custom_fields(sb: Sandbox) -> dict[str, dict[str, Any]]:
    return {f["id"]: f for f in sb.store.fields(NAME, "")}


def contact_view(sb: Sandbox, contact: Contact) -> dict[str, Any]:
    fields = custom_fields(sb)
    custom = {fields[k]["name"]: v for k, v in contact.attributes.get("custom_fields", {}).items()
              if k in fields}
    return {
        "id": contact.id, "email": contact.email, "external_id": contact.external_id,
        "phone_number_id": contact.phone, "anonymous_id": contact.attributes.get("anonymous_id"),
        **{k: contact.attributes.get(k) for k in RESERVED},
        "list_ids": sb.store.lists_of(NAME, contact.id),
        "custom_fields": custom,
        "created_at": iso(contact.created_at), "updated_at": iso(contact.updated_at),
    }


def find(sb: Sandbox, record: dict[str, Any]) -> Contact | None:
    email = record.get("email")
    return sb.store.find_contact(
        NAME, email=email.lower() if isinstance(email, str) else None,
        external_id=record.get("external_id"), phone=record.get("phone_number_id"))
