"""Braze users: lookup by identifier, attribute writes (last write wins, no
consent protection), email subscription state, the export view."""

from __future__ import annotations

import uuid
from typing import Any

from activations.sandbox.braze.wire import NAME
from activations.sandbox.common import iso, norm_email, valid_email
from activations.sandbox.core import Sandbox
from activations.sandbox.store import Contact

AUDIENCE_ATTRIBUTE = "audiences"
SUBSCRIBE_STATES = ("opted_in", "subscribed", "unsubscribed")
IDENTIFIER_ERROR = "'external_id', 'braze_id', 'user_alias', 'email' or 'phone' is required"
IDENTIFIER_KEYS = ("external_id", "braze_id", "user_alias", "email", "phone")
NOT_ATTRIBUTES = ("external_id", "braze_id", "user_alias", "_update_existing_only",
                  "email", "phone", "email_subscribe", "subscription_groups")
STANDARD = ("first_name", "last_name", "country", "city", "home_city", "language", "gender",
            "dob", "time_zone")


def alias_key(alias: Any) -> str | None:
    if isinstance(alias, dict) and alias.get("alias_name") and alias.get("alias_label"):
        return f"{alias['alias_label']}:{alias['alias_name']}"
    return None


def find_user(sb: Sandbox, obj: dict[str, Any]) -> Contact | None:
    if obj.get("external_id"):
        return sb.store.find_contact(NAME, external_id=str(obj["external_id"]))
    if obj.get("braze_id"):
        return sb.store.get_contact(NAME, str(obj["braze_id"]))
    if obj.get("user_alias"):
        key = alias_key(obj["user_alias"])
        for contact in sb.store.contacts(NAME):
            if contact.attributes.get("_alias") == key:
                return contact
        return None
    if obj.get("email"):  # email wins over phone
        return sb.store.find_contact(NAME, email=norm_email(obj["email"]))
    if obj.get("phone"):
        return sb.store.find_contact(NAME, phone=str(obj["phone"]))
    return None


def has_identifier(obj: Any) -> bool:
    return isinstance(obj, dict) and any(
        alias_key(obj[k]) if k == "user_alias" else obj.get(k)
        for k in IDENTIFIER_KEYS if k in obj)


def user_for(sb: Sandbox, obj: dict[str, Any], create: bool) -> Contact | None:
    contact = find_user(sb, obj)
    if contact is not None or not create:
        return contact
    now = sb.now()
    contact = Contact(provider=NAME, id=uuid.uuid4().hex[:24], created_at=now, updated_at=now,
                      consent={"email_subscribe": "subscribed", "subscription_groups": {}})
    if obj.get("external_id"):
        contact.external_id = str(obj["external_id"])
    if obj.get("user_alias"):
        contact.attributes["_alias"] = alias_key(obj["user_alias"])
    if obj.get("email"):
        contact.email = norm_email(obj["email"])
    if obj.get("phone"):
        contact.phone = str(obj["phone"])
    apply_pending_email_state(sb, contact)
    return contact


def apply_pending_email_state(sb: Sandbox, contact: Contact) -> None:
    """``/email/status`` for an email not yet on a profile applies when it appears."""
    if not contact.email:
        return
    for row in sb.store.suppressions(NAME, "email_state"):
        if row["email"] == contact.email:
            contact.consent["email_subscribe"] = row["reason"]


def set_email_subscribe(sb: Sandbox, contact: Contact, state: str) -> None:
    contact.consent["email_subscribe"] = state
    contact.consent["email_subscribe_at"] = sb.now()


def apply_attributes(sb: Sandbox, contact: Contact, obj: dict[str, Any]) -> None:
    if obj.get("email"):
        contact.email = norm_email(obj["email"])
        apply_pending_email_state(sb, contact)
    if obj.get("phone"):
        contact.phone = str(obj["phone"])
    if obj.get("email_subscribe"):
        set_email_subscribe(sb, contact, obj["email_subscribe"])
    for group in obj.get("subscription_groups") or []:
        contact.consent.setdefault("subscription_groups", {})[
            str(group.get("subscription_group_id"))] = group.get("subscription_state")
    for key, value in obj.items():
        if key in NOT_ATTRIBUTES:
            continue
        if value is None:
            contact.attributes.pop(key, None)
        elif isinstance(value, dict) and ("add" in value or "remove" in value):
            current = contact.attributes.get(key)
            items = list(current) if isinstance(current, list) else []
            for item in value.get("add") or []:
                if item not in items:
                    items.append(item)
            items = [i for i in items if i not in (value.get("remove") or [])]
            contact.attributes[key] = items
        elif isinstance(value, dict) and "inc" in value:
            contact.attributes[key] = (contact.attributes.get(key) or 0) + value["inc"]
        else:
            contact.attributes[key] = value
    contact.updated_at = sb.now()
    sb.store.save_contact(contact)


def attribute_problem(obj: dict[str, Any]) -> str | None:
    if obj.get("email") is not None and not valid_email(obj["email"]):
        return "Invalid email address"
    if obj.get("email_subscribe") is not None and obj["email_subscribe"] not in SUBSCRIBE_STATES:
        return "Invalid email_subscribe value; expected opted_in, subscribed or unsubscribed"
    for group in obj.get("subscription_groups") or []:
        if not isinstance(group, dict) or group.get("subscription_state") not in (
                "subscribed", "unsubscribed"):
            return "Invalid subscription_groups entry"
    return None


def export_view(sb: Sandbox, contact: Contact) -> dict[str, Any]:
    custom = {k: v for k, v in contact.attributes.items()
              if not k.startswith("_") and k not in STANDARD}
    view: dict[str, Any] = {
        "braze_id": contact.id, "external_id": contact.external_id, "email": contact.email,
        "phone": contact.phone, "email_subscribe": contact.consent.get("email_subscribe"),
        "email_unsubscribed_at": iso(contact.consent.get("email_subscribe_at"))
        if contact.consent.get("email_subscribe") == "unsubscribed" else None,
        "subscription_groups": [
            {"id": gid, "status": "Subscribed" if state == "subscribed" else "Unsubscribed"}
            for gid, state in contact.consent.get("subscription_groups", {}).items()],
        "custom_attributes": custom,
        "created_at": iso(contact.created_at),
    }
    view.update({k: contact.attributes[k] for k in STANDARD if k in contact.attributes})
    return view
