"""Customer.io Track API: v2 batch, v1 identify and events, manual segments,
plus a sandbox-only read of unsubscribed people (the stand-in for Customer.io's
reporting webhooks / App API, since Track has no read API).

Consent is faithful to Customer.io: ``unsubscribed`` is a plain attribute that
the ESP also sets itself when a person clicks unsubscribe; an API write of
``unsubscribed: false`` overwrites it (last write wins).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response

from activations.sandbox.common import Reply, basic, body_reader, norm_email, valid_email
from activations.sandbox.core import ProviderSpec, Sandbox, Webhook
from activations.sandbox.limits import Decision
from activations.sandbox.store import Contact, ListRow

NAME = "customerio"
MAX_BATCH_BYTES = 500 * 1024
MAX_ENTRY_BYTES = 32 * 1024
MAX_ATTRIBUTES = 300
MAX_NAME_BYTES = 150
MAX_VALUE_BYTES = 1000
IDENTIFIERS = ("id", "email", "cio_id", "phone")
WEBHOOK_METRICS = {"unsubscribe": "unsubscribed", "bounce": "bounced", "spam": "spammed",
                   "open": "opened", "click": "clicked"}


def meta_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"meta": {"error": message}}, status_code=status)


def authenticate(headers: Headers, key: str) -> str | None:
    credentials = basic(headers)
    if credentials is None:
        return None
    presented = f"{credentials[0]}:{credentials[1]}"
    return presented if presented == key else None


def unauthorized() -> Response:
    return meta_error(401, "Unauthorized request")


def throttled(decision: Decision) -> Response:
    return meta_error(429, "rate limit exceeded")


def server_error(status: int) -> Response:
    return meta_error(status, "internal server error (sandbox fault); retry later")


def too_large(size: int) -> Response:
    return JSONResponse({"errors": [{"reason": "too_large", "message":
                                     f"batch of {size} bytes exceeds the 500 KB limit"}]},
                        status_code=400)


def count_records(method: str, path: str, body: Any) -> int | None:
    for key in ("batch", "ids"):
        if isinstance(body.get(key), list):
            return len(body[key])
    return 1 if body else None


def truthy(value: Any) -> bool:
    return value is True or value == 1 or (isinstance(value, str) and value.lower() in
                                           ("true", "1"))


# -- people --------------------------------------------------------------------------
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


def set_unsubscribed(sb: Sandbox, contact: Contact) -> None:
    contact.attributes["unsubscribed"] = True
    contact.updated_at = sb.now()
    sb.store.save_contact(contact)


# -- the person's action in Customer.io -----------------------------------------------------
def act(sb: Sandbox, action: str, email: str, list_id: str | None) -> Webhook | None:
    now = sb.now()
    contact = sb.store.find_contact(NAME, email=email)
    if contact is None:
        contact = person(sb, {"email": email})
        assert contact is not None
        identify(sb, contact, {"email": email})
    if action in ("unsubscribe", "spam"):
        set_unsubscribed(sb, contact)
    if action in ("bounce", "spam"):
        sb.store.add_suppression(NAME, email, action, now)
    metric = WEBHOOK_METRICS[action]
    sb.store.add_event(NAME, contact.id, metric, {"email": email}, now)
    identifiers: dict[str, Any] = {"email": email, "cio_id": contact.id}
    if not contact.id.startswith("cio_"):
        identifiers["id"] = contact.id
    return Webhook({"event_id": uuid.uuid4().hex.upper()[:26], "object_type": "email",
                    "metric": metric, "timestamp": int(now),
                    "data": {"customer_id": contact.id if "id" in identifiers else "",
                             "identifiers": identifiers, "email_address": email,
                             "delivery_id": uuid.uuid4().hex}})


def member_view(contact: Contact) -> dict[str, Any]:
    attributes = {k: v for k, v in contact.attributes.items() if k not in ("email",)}
    unsubscribed = truthy(contact.attributes.get("unsubscribed"))
    return {"id": contact.id, "email": contact.email, "attributes": attributes,
            "consent": "unsubscribed" if unsubscribed else "subscribed",
            "subscribed": not unsubscribed}


def summarize(sb: Sandbox, limit: int) -> dict[str, Any]:
    lists = []
    for row in sb.store.lists(NAME):
        ids = sb.store.member_ids(NAME, row.id)
        shown = sb.store.contacts(NAME, ids=ids[:limit])
        lists.append({"id": row.id, "name": row.name, "kind": row.kind,
                      "auto_created": row.auto_created, "member_count": len(ids),
                      "members": [member_view(c) for c in shown]})
    contacts = sb.store.contacts(NAME)
    suppressions = [{"email": c.email, "kind": "unsubscribed", "list_id": "",
                     "created_at": c.updated_at}
                    for c in contacts if truthy(c.attributes.get("unsubscribed"))]
    suppressions += [{"email": s["email"], "kind": s["kind"], "list_id": "",
                      "created_at": s["created_at"]} for s in sb.store.suppressions(NAME)]
    return {"lists": lists, "contacts": len(contacts), "suppressions": suppressions,
            "events": sb.store.count_events(NAME)}


# -- the router -----------------------------------------------------------------------------
def build(sb: Sandbox) -> ProviderSpec:
    router = APIRouter()

    body_of = body_reader(lambda text: Reply(meta_error(400, text)))

    def event(contact: Contact, name: Any, data: Any, event_id: Any, timestamp: Any) -> str | None:
        if not isinstance(name, str) or not name or len(name.encode()) > 100:
            return "an event needs a name of 1 to 100 bytes"
        if len(json.dumps(data or {}).encode()) > 100 * 1024:
            return "event data is at most 100 KB"
        sb.store.save_contact(contact)
        sb.store.add_event(NAME, contact.id, name, {"data": data or {}, "timestamp": timestamp},
                           sb.now(), dedupe_key=str(event_id) if event_id else None)
        return None

    @router.post("/api/v2/batch")
    async def batch(request: Request) -> Response:
        body = await body_of(request)
        entries = body.get("batch")
        if not isinstance(entries, list) or not entries:
            return JSONResponse({"errors": [{"reason": "invalid", "field": "batch",
                                             "message": "batch must be a non-empty array"}]},
                                status_code=400)
        errors: list[dict[str, Any]] = []

        def fail(index: int, reason: str, field: str, message: str) -> None:
            errors.append({"batch_index": index, "reason": reason, "field": field,
                           "message": message})

        with sb.store.tx():  # one commit for the whole batch
            for index, entry in enumerate(entries):
                if not isinstance(entry, dict):
                    fail(index, "invalid", "", "each entry must be an object")
                    continue
                as_sent = json.dumps(entry, separators=(",", ":"), ensure_ascii=False)
                if len(as_sent.encode()) > MAX_ENTRY_BYTES:
                    fail(index, "too_large", "", "an entry is at most 32 KB")
                    continue
                if entry.get("type") != "person":
                    continue  # objects and deliveries are accepted and not modelled
                identifiers = entry.get("identifiers")
                given = [k for k in IDENTIFIERS if isinstance(identifiers, dict)
                         and identifiers.get(k) not in (None, "")]
                if len(given) != 1:
                    fail(index, "invalid", "identifiers", "exactly one identifier is required")
                    continue
                action = entry.get("action")
                attributes = entry.get("attributes") or {}
                if action == "identify":
                    problem = attributes_problem(attributes)
                    if problem is not None:
                        fail(index, "invalid", *problem)
                        continue
                    contact = person(sb, identifiers)
                    assert contact is not None
                    identify(sb, contact, attributes)
                elif action == "event":
                    contact = person(sb, identifiers)
                    assert contact is not None
                    problem_text = event(contact, entry.get("name"), attributes, entry.get("id"),
                                         entry.get("timestamp"))
                    if problem_text:
                        fail(index, "invalid", "name", problem_text)
                elif action in ("delete", "suppress"):
                    contact = find(sb, identifiers)
                    if contact is not None:
                        sb.store.delete_contact(NAME, contact.id)
                    if action == "suppress":
                        sb.store.add_suppression(NAME, str(identifiers[given[0]]), "suppress",
                                                 sb.now())
                elif action == "unsuppress":
                    sb.store.remove_suppression(NAME, str(identifiers[given[0]]), "suppress")
        if errors:
            return JSONResponse({"errors": errors}, status_code=207)
        return JSONResponse({})

    @router.put("/api/v1/customers/{customer_id}")
    async def put_customer(request: Request, customer_id: str) -> JSONResponse:
        if len(customer_id.encode()) > MAX_NAME_BYTES:
            return meta_error(400, f"identifiers are at most {MAX_NAME_BYTES} bytes")
        body = await body_of(request)
        problem = attributes_problem(body)
        if problem is not None:
            return meta_error(400, f"{problem[0]}: {problem[1]}")
        contact = person(sb, {"id": customer_id}, create=not truthy(body.get("_update")))
        if contact is not None:
            identify(sb, contact, body)
        return JSONResponse({})

    @router.post("/api/v1/customers/{customer_id}/events")
    async def customer_event(request: Request, customer_id: str) -> JSONResponse:
        body = await body_of(request)
        contact = person(sb, {"id": customer_id})
        assert contact is not None
        problem = event(contact, body.get("name"), body.get("data"), body.get("id"),
                        body.get("timestamp"))
        if problem:
            return meta_error(400, problem)
        return JSONResponse({})

    async def segment_change(request: Request, segment_id: str, add: bool) -> JSONResponse:
        body = await body_of(request)
        ids = body.get("ids")
        if not isinstance(ids, list):
            return meta_error(400, "ids must be an array of customer ids")
        if sb.store.get_list(NAME, segment_id) is None:
            if not add:
                return JSONResponse({})
            sb.store.add_list(ListRow(NAME, segment_id, f"segment {segment_id}", "segment",
                                      auto_created=True, created_at=sb.now()))
        known = [c.id for c in sb.store.contacts(NAME, ids=[str(i) for i in ids])]
        if add:
            sb.store.add_members(NAME, segment_id, known, sb.now())
        else:
            sb.store.remove_members(NAME, segment_id, known)
        return JSONResponse({})

    @router.post("/api/v1/segments/{segment_id}/add_customers")
    async def add_customers(request: Request, segment_id: str) -> JSONResponse:
        return await segment_change(request, segment_id, add=True)

    @router.post("/api/v1/segments/{segment_id}/remove_customers")
    async def remove_customers(request: Request, segment_id: str) -> JSONResponse:
        return await segment_change(request, segment_id, add=False)

    @router.get("/api/v1/customers")
    async def customers(request: Request) -> JSONResponse:
        """Sandbox-only read: stands in for reporting webhooks / the App API."""
        contacts = sb.store.contacts(NAME)
        if truthy(request.query_params.get("unsubscribed", "")):
            contacts = [c for c in contacts if truthy(c.attributes.get("unsubscribed"))]
        email = norm_email(request.query_params.get("email"))
        if email:
            contacts = [c for c in contacts if c.email == email]
        return JSONResponse({"customers": [
            {"id": None if c.id.startswith("cio_") else c.id, "cio_id": c.id,
             "email": c.email, "unsubscribed": truthy(c.attributes.get("unsubscribed")),
             "updated_at": int(c.updated_at)} for c in contacts]})

    return ProviderSpec(
        name=NAME, router=router, authenticate=authenticate, unauthorized=unauthorized,
        throttled=throttled, server_error=server_error, count_records=count_records,
        act=act, summarize=summarize, max_body_bytes=MAX_BATCH_BYTES, too_large=too_large,
        bad_request=lambda message: meta_error(400, message))
