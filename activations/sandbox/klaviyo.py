"""Klaviyo (JSON:API, revisioned): lists, profile bulk import jobs, list
membership, profiles, events, subscribe and unsubscribe jobs.

Consent is faithful to Klaviyo, including its dangers: a subscribe job clears
UNSUBSCRIBE, SPAM_REPORT and USER_SUPPRESSED suppressions; an unsubscribe job
for a profile not in the given list unsubscribes it globally; bulk import and
list adds never change consent.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response

from activations.sandbox import validation
from activations.sandbox.common import (
    Reply,
    body_reader,
    iso,
    next_link,
    page_params,
    parse_time,
    profile_id,
    token,
    valid_email,
)
from activations.sandbox.core import ProviderSpec, Sandbox, Webhook
from activations.sandbox.limits import Decision, throttled_headers
from activations.sandbox.store import Contact, ListRow

T = TypeVar("T")

NAME = "klaviyo"
MEDIA = "application/vnd.api+json"
MAX_IMPORT = 10_000
MAX_LIST_CHANGE = 1_000
MAX_SUBSCRIBE = 1_000
MAX_UNSUBSCRIBE = 100
MAX_EVENTS = 1_000
MAX_BODY = 5 * 1024 * 1024
MAX_PROFILE_BYTES = 100 * 1024
PHONE_RE = re.compile(r"^\+[1-9]\d{6,14}$")
STANDARD = ("first_name", "last_name", "organization", "locale", "title", "image", "location")
CLEARED_BY_SUBSCRIBE = {"UNSUBSCRIBE", "SPAM_REPORT", "USER_SUPPRESSED"}
WEBHOOK_METRICS = {
    "unsubscribe": "Unsubscribed from Email Marketing",
    "bounce": "Bounced Email",
    "spam": "Marked Email as Spam",
    "open": "Opened Email",
    "click": "Clicked Email",
}


def error(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    pointer: str | None = None,
    parameter: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    source: dict[str, str] = {}
    if pointer is not None:
        source["pointer"] = pointer
    if parameter is not None:
        source["parameter"] = parameter
    body = {
        "errors": [
            {
                "id": str(uuid.uuid4()),
                "status": status,
                "code": code,
                "title": title,
                "detail": detail,
                "source": source,
            }
        ]
    }
    return JSONResponse(body, status_code=status, media_type=MEDIA, headers=headers)


def invalid(detail: str, *, pointer: str | None = None, parameter: str | None = None) -> Reply:
    return Reply(
        error(400, "invalid", "Invalid input.", detail, pointer=pointer, parameter=parameter)
    )


def not_found(detail: str) -> Reply:
    return Reply(error(404, "not_found", "Not found.", detail))


def authenticate(headers: Headers, key: str) -> str | None:
    value = headers.get("authorization", "")
    prefix = "Klaviyo-API-Key "
    presented = value[len(prefix) :].strip() if value.startswith(prefix) else ""
    return presented if presented and presented == key else None


def unauthorized() -> Response:
    return error(
        401,
        "not_authenticated",
        "Authentication credentials were not provided.",
        "Missing or invalid private key.",
        pointer="/data/",
    )


def throttled(decision: Decision) -> Response:
    seconds = max(1, int(decision.reset_in or 1))
    return error(
        429,
        "throttled",
        "Request was throttled.",
        f"Request was throttled. Expected available in {seconds} second"
        f"{'s' if seconds != 1 else ''}.",
        headers=throttled_headers(NAME, decision),
    )


def server_error(status: int) -> Response:
    return error(
        status,
        "server_error" if status == 500 else "service_unavailable",
        "A server error occurred.",
        "Sandbox fault: the server failed; retry later.",
    )


def too_large(size: int) -> Response:
    return error(
        413,
        "request_too_large",
        "Request entity too large.",
        f"The payload is {size} bytes; the maximum is {MAX_BODY} bytes (5 MB).",
    )


def count_records(method: str, path: str, body: Any) -> int | None:
    data = body.get("data")
    if isinstance(data, list):
        return len(data)
    attributes = data.get("attributes", {}) if isinstance(data, dict) else {}
    for key in ("profiles", "events-bulk-create"):
        if isinstance(attributes.get(key), dict):
            return len(attributes[key].get("data", []))
    return 1 if data else None


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
        "links": {"self": f"{_base(request)}/api/profiles/{contact.id}/"},
    }


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/" + NAME


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
        "links": {"self": f"{_base(request)}/api/lists/{row.id}/"},
    }


def collection(
    request: Request,
    items: Sequence[T],
    render: Callable[[Sequence[T]], list[Any]],
    *,
    default: int = 20,
    maximum: int = 100,
) -> JSONResponse:
    """The page of ``items`` the request asks for (``page[cursor]``, ``page[size]``),
    rendered, with its JSON:API links."""
    offset, size = page_params(request, default=default, maximum=maximum)
    return JSONResponse(
        {
            "data": render(items[offset : offset + size]),
            "links": {
                "self": str(request.url),
                "next": next_link(request, offset, size, len(items)),
                "prev": None,
            },
        },
        media_type=MEDIA,
    )


def profile_identifiers(ids: Sequence[str]) -> list[dict[str, str]]:
    return [{"type": "profile", "id": i} for i in ids]


def ensure_list(sb: Sandbox, list_id: str) -> ListRow:
    row = sb.store.get_list(NAME, list_id)
    if row is None:
        row = sb.store.add_list(
            ListRow(NAME, list_id, list_id, "list", auto_created=True, created_at=sb.now())
        )
    return row


# -- jobs -------------------------------------------------------------------------------
def job_resource(request: Request, job: dict[str, Any]) -> dict[str, Any]:
    result = job["result"]
    base = f"{_base(request)}/api/profile-bulk-import-jobs/{job['id']}"
    return {
        "type": "profile-bulk-import-job",
        "id": job["id"],
        "attributes": {
            "status": job["status"],
            "created_at": iso(job["created_at"]),
            "total_count": job["payload"]["total"],
            "completed_count": result.get("completed", 0),
            "failed_count": result.get("failed", 0),
            "completed_at": iso(job["finished_at"]),
            "started_at": iso(job["started_at"]),
            "expires_at": iso(job["created_at"] + 7 * 86400),
        },
        "relationships": {
            "lists": {
                "data": [{"type": "list", "id": i} for i in job["payload"]["lists"]],
                "links": {"self": f"{base}/relationships/lists/", "related": f"{base}/lists/"},
            },
            "profiles": {
                "links": {"self": f"{base}/relationships/profiles/", "related": f"{base}/profiles/"}
            },
            "import-errors": {
                "links": {
                    "self": f"{base}/relationships/import-errors/",
                    "related": f"{base}/import-errors/",
                }
            },
        },
        "links": {"self": f"{base}/"},
    }


def complete_import(sb: Sandbox, job: dict[str, Any]) -> None:
    payload = job["payload"]
    ids: list[str] = []
    for attrs in payload.pop("profiles"):
        contact, _ = upsert_profile(sb, attrs, profile_id_=attrs.get("id"))
        ids.append(contact.id)
    for list_id in payload["lists"]:
        ensure_list(sb, list_id)
        sb.store.add_members(NAME, list_id, ids, sb.now())
    job["result"] = {
        "profile_ids": list(dict.fromkeys(ids)),
        "completed": len(ids),
        "failed": len(payload["errors"]),
    }
    job["status"] = "complete"


# -- the person's action in Klaviyo (sandbox control) -----------------------------------
def act(sb: Sandbox, action: str, email: str, list_id: str | None) -> Webhook | None:
    contact = sb.store.find_contact(NAME, email=email)
    if contact is None:
        contact, _ = upsert_profile(sb, {"email": email})
    if action == "unsubscribe":
        set_unsubscribed(sb, contact, "UNSUBSCRIBE", "EMAIL_UNSUBSCRIBE")
    elif action == "spam":
        set_unsubscribed(sb, contact, "SPAM_REPORT", "SPAM_COMPLAINT")
    elif action == "bounce":
        set_unsubscribed(sb, contact, "HARD_BOUNCE", "BOUNCE")
    now = sb.now()
    metric = WEBHOOK_METRICS[action]
    sb.store.add_event(NAME, contact.id, metric, {"list_id": list_id}, now)
    return Webhook(
        {
            "data": [
                {
                    "type": "event",
                    "id": uuid.uuid4().hex,
                    "attributes": {
                        "metric": {"name": metric},
                        "datetime": iso(now),
                        "timestamp": int(now),
                        "profile": {"id": contact.id, "email": contact.email},
                        "event_properties": {"list_id": list_id},
                    },
                }
            ]
        }
    )


def summarize(sb: Sandbox, limit: int) -> dict[str, Any]:
    lists = []
    for row in sb.store.lists(NAME):
        ids = sb.store.member_ids(NAME, row.id)
        members = sb.store.contacts(NAME, ids=ids[:limit])
        lists.append(
            {
                "id": row.id,
                "name": row.name,
                "kind": row.kind,
                "auto_created": row.auto_created,
                "member_count": len(ids),
                "members": [member_view(c) for c in members],
            }
        )
    suppressions = []
    for contact in sb.store.contacts(NAME):
        for s in consent_of(contact)["suppression"]:
            suppressions.append(
                {
                    "email": contact.email,
                    "kind": s["reason"],
                    "list_id": "",
                    "created_at": s["timestamp"],
                }
            )
    return {
        "lists": lists,
        "contacts": sb.store.count_contacts(NAME),
        "suppressions": suppressions,
        "events": sb.store.count_events(NAME),
    }


def member_view(contact: Contact) -> dict[str, Any]:
    consent = consent_of(contact)
    label = consent["consent"]
    if consent["suppression"]:
        label += " (suppressed: " + ", ".join(s["reason"] for s in consent["suppression"]) + ")"
    attributes = {k: v for k, v in contact.attributes.items() if k != "properties"}
    attributes.update(contact.attributes.get("properties", {}))
    if contact.external_id:
        attributes["external_id"] = contact.external_id
    return {
        "id": contact.id,
        "email": contact.email,
        "attributes": attributes,
        "consent": label,
        "subscribed": None if label == "NEVER_SUBSCRIBED" else can_receive(contact),
    }


# -- the router ---------------------------------------------------------------------------
def build(sb: Sandbox) -> ProviderSpec:
    sb.jobs.on_complete(NAME, "profile-bulk-import", lambda job: complete_import(sb, job))

    async def guard(request: Request) -> None:
        problem = validation.check_revision(request.headers)
        if problem is not None:
            raise invalid(problem.message, parameter=problem.parameter)
        body = await request.body()
        path = request.url.path[len("/" + NAME) :]
        violations = validation.validate(
            NAME, request.method, path, request.query_params.multi_items(), request.headers, body
        )
        if violations:
            first = violations[0]
            raise invalid(
                first.message,
                pointer=first.pointer if first.parameter is None else None,
                parameter=first.parameter,
            )

    router = APIRouter(dependencies=[Depends(guard)])

    body_of = body_reader(lambda text: invalid(text, pointer="/"))

    @router.get("/api/lists")
    async def get_lists(request: Request) -> JSONResponse:
        rows = sb.store.lists(NAME, kind="list")
        match = re.fullmatch(r'equals\(name,"(.*)"\)', request.query_params.get("filter", ""))
        if match:
            rows = [r for r in rows if r.name == match.group(1)]
        return collection(
            request,
            rows,
            lambda page: [list_resource(request, r) for r in page],
            default=10,
            maximum=10,
        )

    @router.post("/api/lists")
    async def create_list(request: Request) -> JSONResponse:
        body = await body_of(request)
        name = str(body["data"]["attributes"]["name"])
        row = sb.store.add_list(ListRow(NAME, token(6), name, "list", created_at=sb.now()))
        return JSONResponse(
            {"data": list_resource(request, row)}, status_code=201, media_type=MEDIA
        )

    @router.get("/api/lists/{list_id}")
    async def get_list(request: Request, list_id: str) -> JSONResponse:
        row = sb.store.get_list(NAME, list_id)
        if row is None:
            raise not_found(f"A list with id {list_id} does not exist.")
        return JSONResponse({"data": list_resource(request, row)}, media_type=MEDIA)

    @router.get("/api/lists/{list_id}/profiles")
    async def list_profiles(request: Request, list_id: str) -> JSONResponse:
        if sb.store.get_list(NAME, list_id) is None:
            raise not_found(f"A list with id {list_id} does not exist.")
        subs = "subscriptions" in request.query_params.get("additional-fields[profile]", "")
        return collection(
            request,
            sb.store.member_ids(NAME, list_id),
            lambda page: [
                profile_resource(request, c, subscriptions=subs)
                for c in sb.store.contacts(NAME, ids=page)
            ],
        )

    @router.get("/api/lists/{list_id}/relationships/profiles")
    async def list_profile_ids(request: Request, list_id: str) -> JSONResponse:
        if sb.store.get_list(NAME, list_id) is None:
            raise not_found(f"A list with id {list_id} does not exist.")
        ids = sb.store.member_ids(NAME, list_id)
        offset, size = page_params(request, default=20, maximum=1000)
        return JSONResponse(
            {
                "data": profile_identifiers(ids[offset : offset + size]),
                "links": {
                    "self": str(request.url),
                    "next": next_link(request, offset, size, len(ids)),
                },
            },
            media_type=MEDIA,
        )

    async def membership(request: Request, list_id: str, add: bool) -> Response:
        body = await body_of(request)
        data = body.get("data") or []
        if len(data) > MAX_LIST_CHANGE:
            raise invalid(
                f"At most {MAX_LIST_CHANGE} profiles per request; got {len(data)}.", pointer="/data"
            )
        ids = [str(item.get("id")) for item in data]
        known = {c.id for c in sb.store.contacts(NAME, ids=ids)}
        for index, profile in enumerate(ids):
            if profile not in known:
                raise invalid(f"Profile {profile} does not exist.", pointer=f"/data/{index}/id")
        if add:
            ensure_list(sb, list_id)
            sb.store.add_members(NAME, list_id, ids, sb.now())
        elif sb.store.get_list(NAME, list_id) is not None:
            sb.store.remove_members(NAME, list_id, ids)
        return Response(status_code=204)

    @router.post("/api/lists/{list_id}/relationships/profiles")
    async def add_to_list(request: Request, list_id: str) -> Response:
        return await membership(request, list_id, add=True)

    @router.delete("/api/lists/{list_id}/relationships/profiles")
    async def remove_from_list(request: Request, list_id: str) -> Response:
        return await membership(request, list_id, add=False)

    @router.post("/api/profile-bulk-import-jobs")
    async def bulk_import(request: Request) -> JSONResponse:
        body = await body_of(request)
        data = body["data"]
        profiles = data["attributes"]["profiles"]["data"]
        if len(profiles) > MAX_IMPORT:
            raise invalid(
                f"A bulk import job takes at most {MAX_IMPORT} profiles; got {len(profiles)}.",
                pointer="/data/attributes/profiles/data",
            )
        lists = [
            item["id"]
            for item in ((data.get("relationships") or {}).get("lists") or {}).get("data") or []
        ]
        good: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for index, profile in enumerate(profiles):
            attrs = dict(profile.get("attributes") or {})
            if profile.get("id"):
                attrs.setdefault("id", profile["id"])
            problem = profile_problem(attrs)
            as_sent = json.dumps(profile, separators=(",", ":"), ensure_ascii=False).encode()
            if problem is None and len(as_sent) > MAX_PROFILE_BYTES:
                problem = ("", "The profile is larger than 100 KB.")
            if problem is not None:
                field, detail = problem
                errors.append(
                    {
                        "type": "import-error",
                        "id": uuid.uuid4().hex,
                        "attributes": {
                            "code": "invalid",
                            "title": "Invalid input.",
                            "detail": detail,
                            "source": {
                                "pointer": f"/data/attributes/profiles/data/{index}/attributes"
                                + (f"/{field}" if field else "")
                            },
                            "original_payload": attrs,
                        },
                    }
                )
            else:
                good.append(attrs)
        job = sb.jobs.create(
            NAME,
            "profile-bulk-import",
            ["queued", "processing", "complete"],
            {"profiles": good, "errors": errors, "lists": lists, "total": len(profiles)},
        )
        return JSONResponse({"data": job_resource(request, job)}, status_code=202, media_type=MEDIA)

    @router.get("/api/profile-bulk-import-jobs/{job_id}")
    async def import_job(request: Request, job_id: str) -> JSONResponse:
        job = sb.jobs.poll(NAME, job_id)
        if job is None:
            raise not_found(f"A profile bulk import job with id {job_id} does not exist.")
        return JSONResponse({"data": job_resource(request, job)}, media_type=MEDIA)

    def finished_job(job_id: str) -> dict[str, Any]:
        job = sb.jobs.get(NAME, job_id)
        if job is None:
            raise not_found(f"A profile bulk import job with id {job_id} does not exist.")
        return job

    @router.get("/api/profile-bulk-import-jobs/{job_id}/import-errors")
    async def import_errors(request: Request, job_id: str) -> JSONResponse:
        job = finished_job(job_id)
        errors = job["payload"]["errors"] if job["done"] else []
        return collection(request, errors, list)

    @router.get("/api/profile-bulk-import-jobs/{job_id}/relationships/profiles")
    async def import_profile_ids(request: Request, job_id: str) -> JSONResponse:
        job = finished_job(job_id)
        ids = job["result"].get("profile_ids", []) if job["done"] else []
        return collection(request, ids, profile_identifiers)

    @router.get("/api/profiles")
    async def get_profiles(request: Request) -> JSONResponse:
        raw_filter = request.query_params.get("filter")
        if raw_filter:
            column, values = parse_filter(raw_filter)
            contacts = sb.store.contacts_where(NAME, column, values)
        else:
            contacts = sb.store.contacts(NAME)
        subs = "subscriptions" in request.query_params.get("additional-fields[profile]", "")
        return collection(
            request,
            contacts,
            lambda page: [profile_resource(request, c, subscriptions=subs) for c in page],
        )

    @router.post("/api/events")
    async def create_event(request: Request) -> Response:
        body = await body_of(request)
        record_event(sb, body["data"]["attributes"], "/data/attributes")
        return Response(status_code=202)

    @router.post("/api/event-bulk-create-jobs")
    async def bulk_events(request: Request) -> Response:
        body = await body_of(request)
        entries = body["data"]["attributes"]["events-bulk-create"]["data"]
        total = sum(len(e["attributes"]["events"]["data"]) for e in entries)
        if total > MAX_EVENTS:
            raise invalid(
                f"An event bulk create job takes at most {MAX_EVENTS} events; got {total}.",
                pointer="/data/attributes/events-bulk-create/data",
            )
        for i, entry in enumerate(entries):
            profile = entry["attributes"]["profile"]
            for j, event in enumerate(entry["attributes"]["events"]["data"]):
                record_event(
                    sb,
                    {**event["attributes"], "profile": profile},
                    f"/data/attributes/events-bulk-create/data/{i}/attributes/events"
                    f"/data/{j}/attributes",
                )
        return Response(status_code=202)

    @router.post("/api/profile-subscription-bulk-create-jobs")
    async def subscribe(request: Request) -> Response:
        body = await body_of(request)
        data = body["data"]
        profiles = data["attributes"]["profiles"]["data"]
        if len(profiles) > MAX_SUBSCRIBE:
            raise invalid(
                f"At most {MAX_SUBSCRIBE} profiles per subscribe job; got {len(profiles)}.",
                pointer="/data/attributes/profiles/data",
            )
        historical = bool(data["attributes"].get("historical_import"))
        list_ref = ((data.get("relationships") or {}).get("list") or {}).get("data")
        for index, profile in enumerate(profiles):
            attrs = profile.get("attributes") or {}
            pointer = f"/data/attributes/profiles/data/{index}/attributes"
            problem = profile_problem(attrs)
            if problem is not None:
                raise invalid(problem[1], pointer=f"{pointer}/{problem[0]}")
            marketing = ((attrs.get("subscriptions") or {}).get("email") or {}).get(
                "marketing"
            ) or {}
            consented_at = parse_time(marketing.get("consented_at"))
            if historical and (consented_at is None or consented_at > sb.now()):
                raise invalid(
                    "historical_import requires a consented_at in the past.",
                    pointer=f"{pointer}/subscriptions/email/marketing/consented_at",
                )
        for profile in profiles:
            attrs = profile["attributes"]
            contact, _ = upsert_profile(
                sb, {k: attrs[k] for k in ("email", "phone_number", "external_id") if k in attrs}
            )
            marketing = (attrs.get("subscriptions") or {}).get("email", {}).get("marketing")
            if marketing:
                consent = consent_of(contact)
                consent["consent"] = "SUBSCRIBED"
                consent["consent_timestamp"] = parse_time(marketing.get("consented_at")) or sb.now()
                consent["method"] = data["attributes"].get("custom_source") or "API"
                # Klaviyo's documented danger: subscribing clears these suppressions
                consent["suppression"] = [
                    s for s in consent["suppression"] if s["reason"] not in CLEARED_BY_SUBSCRIBE
                ]
                contact.updated_at = sb.now()
                sb.store.save_contact(contact)
            if list_ref:
                ensure_list(sb, list_ref["id"])
                sb.store.add_members(NAME, list_ref["id"], [contact.id], sb.now())
        return Response(status_code=202)

    @router.post("/api/profile-subscription-bulk-delete-jobs")
    async def unsubscribe(request: Request) -> Response:
        body = await body_of(request)
        data = body["data"]
        profiles = data["attributes"]["profiles"]["data"]
        if len(profiles) > MAX_UNSUBSCRIBE:
            raise invalid(
                f"At most {MAX_UNSUBSCRIBE} profiles per unsubscribe job; got {len(profiles)}.",
                pointer="/data/attributes/profiles/data",
            )
        list_ref = ((data.get("relationships") or {}).get("list") or {}).get("data")
        for profile in profiles:
            attrs = profile.get("attributes") or {}
            contact, _ = upsert_profile(
                sb, {k: attrs[k] for k in ("email", "phone_number") if k in attrs}
            )
            if list_ref and sb.store.is_member(NAME, list_ref["id"], contact.id):
                sb.store.remove_members(NAME, list_ref["id"], [contact.id])
                consent_of(contact)["list_suppressions"].append(
                    {"list_id": list_ref["id"], "reason": "USER_SUPPRESSED", "timestamp": sb.now()}
                )
                sb.store.save_contact(contact)
            else:
                # "Profiles not in the specified list will be globally unsubscribed."
                set_unsubscribed(sb, contact, "UNSUBSCRIBE", "API")
        return Response(status_code=202)

    return ProviderSpec(
        name=NAME,
        router=router,
        authenticate=authenticate,
        unauthorized=unauthorized,
        throttled=throttled,
        server_error=server_error,
        count_records=count_records,
        act=act,
        summarize=summarize,
        max_body_bytes=MAX_BODY,
        too_large=too_large,
        bad_request=lambda message: error(400, "invalid", "Invalid input.", message, pointer="/"),
    )


FILTER_COLUMNS = {"email": "email", "external_id": "external_id", "phone_number": "phone",
                  "id": "id"}


def parse_filter(raw: str) -> tuple[str, list[str]]:
    """``equals(field,"v")`` or ``any(field,["a","b"])`` -> (store column, values)."""
    equals = re.fullmatch(r'equals\((\w+),"(.*)"\)', raw.strip())
    any_of = re.fullmatch(r"any\((\w+),\[(.*)\]\)", raw.strip())
    field, values = None, []
    if equals:
        field, values = equals.group(1), [equals.group(2)]
    elif any_of:
        field = any_of.group(1)
        values = [v.strip().strip('"') for v in any_of.group(2).split(",") if v.strip()]
    if field not in FILTER_COLUMNS:
        raise invalid(f"Unsupported filter {raw!r}: the sandbox supports equals(field,\"value\") "
                      "and any(field,[\"a\",\"b\"]) on email, external_id, phone_number, id.",
                      parameter="filter")
    if field == "email":
        values = [v.lower() for v in values]
    return FILTER_COLUMNS[field], values


def record_event(sb: Sandbox, attrs: dict[str, Any], pointer: str) -> None:
    profile_attrs = dict((attrs.get("profile") or {}).get("data", {}).get("attributes") or {})
    problem = profile_problem(profile_attrs)
    if problem is not None:
        raise invalid(problem[1], pointer=f"{pointer}/profile/data/attributes/{problem[0]}")
    metric = attrs["metric"]["data"]["attributes"]["name"]
    when = parse_time(attrs.get("time")) or sb.now()
    contact, _ = upsert_profile(sb, profile_attrs)
    unique = attrs.get("unique_id") or str(int(when))
    sb.store.add_event(
        NAME,
        contact.id,
        metric,
        {"properties": attrs.get("properties", {}), "value": attrs.get("value"), "time": when},
        sb.now(),
        dedupe_key=f"{contact.id}|{metric}|{unique}",
    )
