"""Mailchimp Marketing API 3.0: audiences (lists), batch subscribe/update,
members, tags (static segments), events, segments and merge fields.

Consent is faithful to Mailchimp: subscribing an ``unsubscribed`` or
``cleaned`` member through ``status`` fails with "Member In Compliance State"
and leaves the member unchanged; ``status_if_new`` only applies to new members.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response

from activations.sandbox import mailchimp_batches
from activations.sandbox.common import Reply, basic, bearer, body_reader, iso, md5_email
from activations.sandbox.common import valid_email as email_ok
from activations.sandbox.core import ProviderSpec, Sandbox, Webhook
from activations.sandbox.limits import Decision
from activations.sandbox.store import Contact, ListRow

T = TypeVar("T")
NAME = "mailchimp"
PROBLEM = "application/problem+json"
MAX_MEMBERS = 500
STATUSES = ("subscribed", "unsubscribed", "cleaned", "pending", "transactional")
LOCKED = ("unsubscribed", "cleaned")  # compliance state: cannot be set to subscribed
DEFAULT_MERGE_FIELDS = (("FNAME", "First Name", "text"), ("LNAME", "Last Name", "text"),
                        ("ADDRESS", "Address", "address"), ("PHONE", "Phone Number", "phone"),
                        ("BIRTHDAY", "Birthday", "birthday"))
EVENT_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{2,30}$")
ERRORS_DOC = "https://mailchimp.com/developer/marketing/docs/errors/"


def problem(status: int, title: str, detail: str,
            errors: list[dict[str, str]] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"type": ERRORS_DOC, "title": title, "status": status,
                            "detail": detail, "instance": str(uuid.uuid4())}
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def invalid(detail: str, field: str | None = None, message: str | None = None) -> Reply:
    errors = [{"field": field, "message": message or detail}] if field else None
    return Reply(problem(400, "Invalid Resource", detail, errors))


def missing(what: str) -> Reply:
    return Reply(problem(404, "Resource Not Found",
                         f"The requested resource could not be found: {what}."))


def compliance(email: str) -> str:
    return (f"{email} is in a compliance state due to unsubscribe, bounce, or compliance "
            "review and cannot be subscribed.")


def authenticate(headers: Headers, key: str) -> str | None:
    credentials = basic(headers)
    presented = credentials[1] if credentials else bearer(headers)
    return presented if presented and presented == key else None


def unauthorized() -> Response:
    return problem(401, "API Key Invalid", "Your API key may be invalid, or you've attempted "
                   "to access the wrong datacenter.")


def throttled(decision: Decision) -> Response:
    detail = ("You have exceeded the limit of 10 simultaneous connections."
              if decision.limit == 10 else "You have exceeded the request limit.")
    return problem(429, "Too Many Requests", detail)


def server_error(status: int) -> Response:
    return problem(status, "Internal Server Error" if status == 500 else "Service Unavailable",
                   "Sandbox fault: the server failed; retry later.")


def count_records(method: str, path: str, body: Any) -> int | None:
    for key in ("members", "members_to_add", "tags"):
        if isinstance(body.get(key), list):
            return len(body[key]) + len(body.get("members_to_remove") or [])
    return 1 if body else None


# -- model -------------------------------------------------------------------------
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


# -- the person's action in Mailchimp ------------------------------------------------
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


# -- the router -----------------------------------------------------------------------
def build(sb: Sandbox) -> ProviderSpec:
    router = APIRouter(prefix="/3.0")

    body_of = body_reader(lambda text: invalid(f"The request body could not be parsed: {text}"))

    def count_offset(request: Request, default: int = 10) -> tuple[int, int]:
        try:
            count = min(1000, max(1, int(request.query_params.get("count", default))))
            offset = max(0, int(request.query_params.get("offset", 0)))
        except ValueError as exc:
            raise invalid("count and offset must be integers") from exc
        return count, offset

    def collection(request: Request, key: str, rows: Sequence[T], view: Callable[[T], Any],
                   **extra: Any) -> JSONResponse:
        """The page of ``rows`` the request asks for (``count``, ``offset``), viewed,
        with ``extra`` fields and the total."""
        count, offset = count_offset(request)
        return JSONResponse({key: [view(r) for r in rows[offset:offset + count]], **extra,
                             "total_items": len(rows)})

    @router.get("/lists")
    async def get_lists(request: Request) -> JSONResponse:
        rows = sb.store.lists(NAME, kind="list")
        return collection(request, "lists", rows, lambda r: list_view(sb, r))

    @router.post("/lists")
    async def create_list(request: Request) -> JSONResponse:
        body = await body_of(request)
        name = str(body.get("name") or "").strip()
        if not name:
            raise invalid("The resource submitted could not be validated.", "name",
                          "This value should not be blank.")
        row = ensure_list(sb, uuid.uuid4().hex[:10], name, auto=False)
        return JSONResponse(list_view(sb, row))

    @router.get("/lists/{list_id}")
    async def get_list(list_id: str) -> JSONResponse:
        row = sb.store.get_list(NAME, list_id)
        if row is None or row.kind != "list":
            raise missing(f"list {list_id}")
        return JSONResponse(list_view(sb, row))

    @router.post("/lists/{list_id}")
    async def batch(request: Request, list_id: str) -> JSONResponse:
        body = await body_of(request)
        members = body.get("members")
        if not isinstance(members, list):
            raise invalid("The resource submitted could not be validated.", "members",
                          "Required property members was not present.")
        if len(members) > MAX_MEMBERS:
            raise invalid("The resource submitted could not be validated. For field-specific "
                          "details, see the 'errors' array.", "members",
                          f"Schema describes array with at most {MAX_MEMBERS} items, "
                          f"{len(members)} given.")
        ensure_list(sb, list_id)
        update_existing = bool(body.get("update_existing", False))
        sync_tags = bool(body.get("sync_tags", False))
        created: list[dict[str, Any]] = []
        updated: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []

        def fail(email: Any, message: str, code: str = "ERROR_GENERIC", field: str = "",
                 field_message: str = "") -> None:
            errors.append({"email_address": email, "error": message, "error_code": code,
                           "field": field, "field_message": field_message or message})

        with sb.store.tx():  # one commit for the whole batch
            for member in members:
                email = member.get("email_address") if isinstance(member, dict) else None
                if not email_ok(email):
                    fail(email, f"{email} looks fake or invalid, please enter a real email "
                         "address.", field="email_address")
                    continue
                trouble = merge_problem(sb, list_id, member.get("merge_fields"))
                if trouble is not None:
                    fail(email, trouble[1], field=trouble[0])
                    continue
                status, status_if_new = member.get("status"), member.get("status_if_new")
                for value in (status, status_if_new):
                    if value is not None and value not in STATUSES:
                        fail(email, f"Invalid status {value!r}.", field="status")
                        break
                else:
                    existing = sb.store.get_contact(NAME, member_id(list_id, email))
                    if existing is not None:
                        if not update_existing:
                            fail(email, f"{email} is already a list member. Use PUT to insert or "
                                 "update list members.", code="ERROR_CONTACT_EXISTS")
                            continue
                        current = existing.consent.get("status")
                        if status in ("subscribed", "pending") and current in LOCKED and not (
                                status == "pending" and current == "unsubscribed"):
                            fail(email, compliance(email), field="status",
                                 field_message="Member In Compliance State")
                            continue
                        contact = write_member(sb, list_id, member, existing, status)
                        target = updated
                    else:
                        chosen = status_if_new or status
                        if chosen is None:
                            fail(email, "status or status_if_new is required for a new member.",
                                 field="status")
                            continue
                        contact = write_member(sb, list_id, member, None, chosen)
                        target = created
                    tags = member.get("tags")
                    if isinstance(tags, list):
                        set_tags(sb, contact, list_id, [str(t) for t in tags], replace=sync_tags)
                    target.append(member_view(sb, contact))
        return JSONResponse({"new_members": created, "updated_members": updated,
                             "errors": errors, "total_created": len(created),
                             "total_updated": len(updated), "error_count": len(errors),
                             "_links": []})

    @router.get("/lists/{list_id}/members")
    async def get_members(request: Request, list_id: str) -> JSONResponse:
        if sb.store.get_list(NAME, list_id) is None:
            raise missing(f"list {list_id}")
        wanted = request.query_params.get("status")
        contacts = sb.store.contacts(NAME, ids=sb.store.member_ids(NAME, list_id))
        contacts.sort(key=lambda c: (c.created_at, c.id))
        if wanted:
            contacts = [c for c in contacts if c.consent.get("status") == wanted]
        return collection(request, "members", contacts, lambda c: member_view(sb, c),
                          list_id=list_id)

    @router.get("/lists/{list_id}/members/{subscriber_hash}")
    async def get_one(list_id: str, subscriber_hash: str) -> JSONResponse:
        contact = get_member(sb, list_id, subscriber_hash)
        if contact is None:
            raise missing(f"member {subscriber_hash} in list {list_id}")
        return JSONResponse(member_view(sb, contact))

    async def member_write(request: Request, list_id: str, subscriber_hash: str,
                           put: bool) -> JSONResponse:
        body = await body_of(request)
        existing = get_member(sb, list_id, subscriber_hash)
        if not put and existing is None:
            raise missing(f"member {subscriber_hash} in list {list_id}")
        email = body.get("email_address", existing.email if existing else None)
        if put and not body.get("email_address"):
            raise invalid("The resource submitted could not be validated.", "email_address",
                          "This value should not be blank.")
        if not email_ok(email):
            raise invalid(f"{email} looks fake or invalid, please enter a real email address.",
                          "email_address")
        if md5_email(str(email)) != subscriber_hash.lower():
            raise invalid("The subscriber hash in the path does not match email_address.",
                          "email_address")
        if put and not body.get("status_if_new"):
            raise invalid("The resource submitted could not be validated.", "status_if_new",
                          "This value should not be blank.")
        status = body.get("status")
        for value in (status, body.get("status_if_new")):
            if value is not None and value not in STATUSES:
                raise invalid(f"Invalid status {value!r}.", "status")
        trouble = merge_problem(sb, list_id, body.get("merge_fields"))
        if trouble is not None:
            raise invalid(trouble[1], trouble[0])
        if existing is not None and status == "subscribed" and \
                existing.consent.get("status") in LOCKED:
            raise Reply(problem(400, "Member In Compliance State", compliance(str(email))))
        ensure_list(sb, list_id)
        chosen = status if existing is not None else (body.get("status_if_new") or status)
        contact = write_member(sb, list_id, {**body, "email_address": email}, existing, chosen)
        return JSONResponse(member_view(sb, contact))

    @router.put("/lists/{list_id}/members/{subscriber_hash}")
    async def put_member(request: Request, list_id: str, subscriber_hash: str) -> JSONResponse:
        return await member_write(request, list_id, subscriber_hash, put=True)

    @router.patch("/lists/{list_id}/members/{subscriber_hash}")
    async def patch_member(request: Request, list_id: str, subscriber_hash: str) -> JSONResponse:
        return await member_write(request, list_id, subscriber_hash, put=False)

    @router.post("/lists/{list_id}/members/{subscriber_hash}/tags")
    async def member_tags(request: Request, list_id: str, subscriber_hash: str) -> Response:
        body = await body_of(request)
        contact = get_member(sb, list_id, subscriber_hash)
        if contact is None:
            raise missing(f"member {subscriber_hash} in list {list_id}")
        for tag in body.get("tags") or []:
            name, status = str(tag.get("name", "")), tag.get("status")
            if not name or status not in ("active", "inactive"):
                raise invalid("Each tag needs a name and a status of active or inactive.",
                              "tags")
            row = tag_row(sb, list_id, name, create=status == "active")
            if row is None:
                continue
            if status == "active":
                sb.store.add_members(NAME, row.id, [contact.id], sb.now())
            else:
                sb.store.remove_members(NAME, row.id, [contact.id])
        return Response(status_code=204)

    @router.post("/lists/{list_id}/members/{subscriber_hash}/events")
    async def member_event(request: Request, list_id: str, subscriber_hash: str) -> Response:
        body = await body_of(request)
        contact = get_member(sb, list_id, subscriber_hash)
        if contact is None:
            raise missing(f"member {subscriber_hash} in list {list_id}")
        name = str(body.get("name", ""))
        if not EVENT_NAME_RE.match(name):
            raise invalid("Event names are 2 to 30 letters, digits, dashes or underscores.",
                          "name")
        sb.store.add_event(NAME, contact.id, name, body, sb.now())
        return Response(status_code=204)

    @router.get("/lists/{list_id}/segments")
    async def get_segments(request: Request, list_id: str) -> JSONResponse:
        ensure_list(sb, list_id)
        kind = request.query_params.get("type")
        rows = sb.store.lists(NAME, kind="tag", parent_id=list_id)
        if kind not in (None, "static"):
            rows = []
        return collection(request, "segments", rows, lambda r: segment_view(sb, r),
                          list_id=list_id)

    @router.post("/lists/{list_id}/segments")
    async def create_segment(request: Request, list_id: str) -> JSONResponse:
        body = await body_of(request)
        ensure_list(sb, list_id)
        name = str(body.get("name") or "").strip()
        if not name:
            raise invalid("The resource submitted could not be validated.", "name",
                          "This value should not be blank.")
        if tag_row(sb, list_id, name, create=False) is not None:
            raise invalid(f"A segment or tag named {name!r} already exists.", "name")
        row = tag_row(sb, list_id, name, create=True)
        assert row is not None
        emails = [str(e).lower() for e in body.get("static_segment") or []]
        ids = [member_id(list_id, e) for e in emails]
        known = [c.id for c in sb.store.contacts(NAME, ids=ids)]
        sb.store.add_members(NAME, row.id, known, sb.now())
        return JSONResponse(segment_view(sb, row))

    @router.post("/lists/{list_id}/segments/{segment_id}")
    async def segment_members(request: Request, list_id: str, segment_id: str) -> JSONResponse:
        body = await body_of(request)
        row = sb.store.get_list(NAME, segment_id)
        if row is None or row.parent_id != list_id:
            raise missing(f"segment {segment_id} in list {list_id}")
        to_add = [str(e) for e in body.get("members_to_add") or []]
        to_remove = [str(e) for e in body.get("members_to_remove") or []]
        for field, items in (("members_to_add", to_add), ("members_to_remove", to_remove)):
            if len(items) > MAX_MEMBERS:
                raise invalid("The resource submitted could not be validated.", field,
                              f"Schema describes array with at most {MAX_MEMBERS} items, "
                              f"{len(items)} given.")
        added, removed, not_found = [], [], []
        for email in to_add:
            contact = sb.store.get_contact(NAME, member_id(list_id, email))
            if contact is None:
                not_found.append(email)
                continue
            sb.store.add_members(NAME, row.id, [contact.id], sb.now())
            added.append(member_view(sb, contact))
        for email in to_remove:
            contact = sb.store.get_contact(NAME, member_id(list_id, email))
            if contact is None:
                not_found.append(email)
                continue
            sb.store.remove_members(NAME, row.id, [contact.id])
            removed.append(member_view(sb, contact))
        errors = ([{"email_addresses": not_found, "error": "Email addresses not found in list"}]
                  if not_found else [])
        return JSONResponse({"members_added": added, "members_removed": removed,
                             "errors": errors, "total_added": len(added),
                             "total_removed": len(removed), "error_count": len(not_found)})

    @router.get("/lists/{list_id}/merge-fields")
    async def get_merge_fields(request: Request, list_id: str) -> JSONResponse:
        ensure_list(sb, list_id)
        fields = sb.store.fields(NAME, list_id)
        return collection(request, "merge_fields", fields, lambda f: merge_view(list_id, f),
                          list_id=list_id)

    @router.post("/lists/{list_id}/merge-fields")
    async def create_merge_field(request: Request, list_id: str) -> JSONResponse:
        body = await body_of(request)
        ensure_list(sb, list_id)
        name = str(body.get("name") or "").strip()
        type_ = str(body.get("type") or "")
        if not name or type_ not in ("text", "number", "date", "birthday", "address", "phone",
                                     "url", "imageurl", "zip", "dropdown", "radio"):
            raise invalid("The resource submitted could not be validated.",
                          "type" if name else "name",
                          "A merge field needs a name and a valid type.")
        tag = str(body.get("tag") or re.sub(r"[^A-Z0-9_]", "", name.upper()))[:10].upper()
        if tag in merge_fields(sb, list_id):
            raise invalid(f'A Merge Field with the tag "{tag}" already exists for this list.',
                          "tag")
        merge_id = str(len(sb.store.fields(NAME, list_id)) + 1)
        sb.store.add_field(NAME, list_id, merge_id, tag, f"{type_}|{name}")
        return JSONResponse(merge_view(list_id, {"id": merge_id, "name": tag,
                                                 "type": f"{type_}|{name}"}))

    mailchimp_batches.add_routes(router, sb, problem)

    return ProviderSpec(
        name=NAME, router=router, authenticate=authenticate, unauthorized=unauthorized,
        throttled=throttled, server_error=server_error, count_records=count_records,
        act=act, summarize=summarize,
        bad_request=lambda message: problem(400, "Invalid Resource", message),
        public_prefixes=(mailchimp_batches.RESULTS_PATH,))


def merge_view(list_id: str, field: dict[str, Any]) -> dict[str, Any]:
    type_, _, label = field["type"].partition("|")
    return {"merge_id": int(field["id"]), "tag": field["name"], "name": label, "type": type_,
            "required": False, "list_id": list_id}
