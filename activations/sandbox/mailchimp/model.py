"""Mailchimp's audiences (lists), members, tags (static segments) and merge
fields, as the routes and the control API share them."""

from __future__ import annotations

from typing import Any

from activations.sandbox.common import iso, md5_email
from activations.sandbox.core import Sandbox
from activations.sandbox.mailchimp.wire import NAME
from activations.sandbox.store import Contact, ListRow

STATUSES = ("subscribed", "unsubscribed", "cleaned", "pending", "transactional")
LOCKED = ("unsubscribed", "cleaned")  # compliance state: cannot be set to subscribed
DEFAULT_MERGE_FIELDS = (("FNAME", "First Name", "text"), ("LNAME", "Last Name", "text"),
                        ("ADDRESS", "Address", "address"), ("PHONE", "Phone Number", "phone"),
                        ("BIRTHDAY", "Birthday", "birthday"))


def ensure_list(sb: Sandbox, list_id: str, name: str | None = None,
                auto: bool = True) -> ListRow:
    row = sb.store.get_list(NAME, list_id)
    if row is None:
        row = sb.store.add_list(ListRow(NAME, list_id, name or list_id, "list",
                                        auto_created=auto, created_at=sb.now()))
        for number, (tag, label, type_) in enumerate(DEFAULT_MERGE_FIELDS, start=1):
            sb.store.add_field(NAME, list_id, str(number), tag, f"{type_}|{label}")
    return row


def member_id(list_id: str, email: str) -> str:
    return f"{list_id}:{md5_email(email)}"


def get_member(sb: Sandbox, list_id: str, subscriber_hash: str) -> Contact | None:
    return sb.store.get_contact(NAME, f"{list_id}:{subscriber_hash.lower()}")


def tags_of(sb: Sandbox, contact: Contact) -> list[ListRow]:
    ids = set(sb.store.lists_of(NAME, contact.id))
    list_id = contact.id.split(":", 1)[0]
    return [row for row in sb.store.lists(NAME, kind="tag", parent_id=list_id) if row.id in ids]


def member_view(sb: Sandbox, contact: Contact) -> dict[str, Any]:
    list_id, subscriber_hash = contact.id.split(":", 1)
    tags = [{"id": int(t.id), "name": t.name} for t in tags_of(sb, contact)]
    return {
        "id": subscriber_hash, "email_address": contact.email,
        "unique_email_id": subscriber_hash[:10], "contact_id": subscriber_hash,
        "email_type": contact.attributes.get("email_type", "html"),
        "status": contact.consent.get("status"),
        "merge_fields": contact.attributes.get("merge_fields", {}),
        "interests": contact.attributes.get("interests", {}),
        "language": contact.attributes.get("language", ""),
        "vip": contact.attributes.get("vip", False),
        "timestamp_opt": contact.attributes.get("timestamp_opt", ""),
        "last_changed": iso(contact.updated_at), "source": "API - Generic",
        "tags_count": len(tags), "tags": tags, "list_id": list_id,
    }


def merge_fields(sb: Sandbox, list_id: str) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in sb.store.fields(NAME, list_id)}


def merge_problem(sb: Sandbox, list_id: str, values: Any) -> tuple[str, str] | None:
    if values is None:
        return None
    if not isinstance(values, dict):
        return "merge_fields", "merge_fields must be an object"
    known = merge_fields(sb, list_id)
    for tag, value in values.items():
        if tag not in known:
            return (f"merge_fields.{tag}",
                    f"Your merge fields were invalid: unknown merge tag {tag}.")
        if known[tag]["type"].startswith("number|") and value not in ("", None) \
                and not isinstance(value, int | float):
            return f"merge_fields.{tag}", f"Please enter a number for merge field {tag}."
    return None


def write_member(sb: Sandbox, list_id: str, body: dict[str, Any], existing: Contact | None,
                 status: str | None) -> Contact:
    now = sb.now()
    email = str(body["email_address"]).strip().lower()
    contact = existing or Contact(provider=NAME, id=member_id(list_id, email), email=email,
                                  created_at=now)
    if status is not None:
        contact.consent["status"] = status
    for key in ("email_type", "language", "vip", "interests", "timestamp_opt"):
        if key in body:
            contact.attributes[key] = body[key]
    if isinstance(body.get("merge_fields"), dict):
        contact.attributes.setdefault("merge_fields", {}).update(body["merge_fields"])
    contact.updated_at = now
    sb.store.save_contact(contact)
    sb.store.add_members(NAME, list_id, [contact.id], now)
    sb.count_write(NAME, email, body)
    return contact


def tag_row(sb: Sandbox, list_id: str, name: str, create: bool) -> ListRow | None:
    for row in sb.store.lists(NAME, kind="tag", parent_id=list_id):
        if row.name == name:
            return row
    if not create:
        return None
    number = str(sb.store.next_counter("mailchimp-segment"))
    return sb.store.add_list(ListRow(NAME, number, name, "tag", parent_id=list_id,
                                     created_at=sb.now()))


def set_tags(sb: Sandbox, contact: Contact, list_id: str, names: list[str],
             replace: bool) -> None:
    if replace:
        for row in tags_of(sb, contact):
            if row.name not in names:
                sb.store.remove_members(NAME, row.id, [contact.id])
    for name in names:
        row = tag_row(sb, list_id, name, create=True)
        assert row is not None
        sb.store.add_members(NAME, row.id, [contact.id], sb.now())


def segment_view(sb: Sandbox, row: ListRow) -> dict[str, Any]:
    return {"id": int(row.id), "name": row.name,
            "member_count": sb.store.count_members(NAME, row.id), "type": "static",
            "created_at": iso(row.created_at), "updated_at": iso(row.created_at),
            "list_id": row.parent_id}


def list_view(sb: Sandbox, row: ListRow) -> dict[str, Any]:
    statuses = [c.consent.get("status") for c in
                sb.store.contacts(NAME, ids=sb.store.member_ids(NAME, row.id))]
    return {"id": row.id, "web_id": int(md5_email(row.id)[:5], 16), "name": row.name,
            "date_created": iso(row.created_at),
            "stats": {"member_count": statuses.count("subscribed"),
                      "total_contacts": len(statuses),
                      "unsubscribe_count": statuses.count("unsubscribed"),
                      "cleaned_count": statuses.count("cleaned")}}


def merge_view(list_id: str, field: dict[str, Any]) -> dict[str, Any]:
    type_, _, label = field["type"].partition("|")
    return {"merge_id": int(field["id"]), "tag": field["name"], "name": label, "type": type_,
            "required": False, "list_id": list_id}
